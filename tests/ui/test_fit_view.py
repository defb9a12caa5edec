"""The empty-canvas hint and Fit to view on a long chain."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRect, QRectF, Qt
from PySide6.QtTest import QTest

from studio.graph.edits import RemoveNode
from studio.ui.canvas.view import READABLE_ZOOM
from tests.ui.waiting import settle


class PaintLog(QObject):
    """The regions the viewport repaints."""

    def __init__(self) -> None:
        super().__init__()
        self.regions = []

    def eventFilter(self, obj, event):  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint:
            self.regions.append(event.region())
        return False

    def covered(self, rect: QRect) -> bool:
        return any(r.contains(rect) for r in self.regions)


def test_empty_canvas_hint_goes_with_the_first_node_and_comes_back(window, qtbot):
    view = window.view
    qtbot.waitUntil(lambda: view._hint_drawn)
    log = PaintLog()
    view.viewport().installEventFilter(log)
    # the hint's lines, centred in the view
    centre = view.viewport().rect().center()
    hint = QRect(centre.x() - 250, centre.y() - 75, 500, 110)
    QTest.keyClick(view.viewport(), Qt.Key.Key_Tab)
    qtbot.waitUntil(window.quick_add.isVisible)
    QTest.keyClicks(window.quick_add.edit, "Input")
    QTest.keyClick(window.quick_add.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.document.graph.nodes) == 1)
    # all of the hint is painted over (not only the new node's rect): no piece stays behind
    qtbot.waitUntil(lambda: log.covered(hint))
    assert not view._hint_drawn
    image = view.viewport().grab().toImage()
    assert image.width() > 0
    log.regions.clear()
    node = window.document.graph.nodes[0]
    window.document.push(RemoveNode(node.id))
    qtbot.waitUntil(lambda: log.covered(hint))
    qtbot.waitUntil(lambda: view._hint_drawn)


EXAMPLES = Path(__file__).resolve().parents[2] / "projects"


def _open(make_window, qtbot, tmp_path, name):
    window = make_window(optional_panels=True, size=(1400, 860))
    path = tmp_path / name
    shutil.copy(EXAMPLES / name, path)
    assert window.files.open(path, ask=False)
    settle(qtbot)
    return window


def _seen(window) -> QRectF:
    view = window.view
    return view.mapToScene(view.viewport().rect()).boundingRect()


def test_fit_to_view_keeps_a_long_chain_readable_with_no_layer_cut_off(make_window, qtbot, tmp_path):
    window = _open(make_window, qtbot, tmp_path, "shapes-cnn.studio.json")  # 12 layers in a row
    view = window.view
    view.set_zoom(0.3 / view.zoom())  # the user zoomed far out, then asks for Fit to view
    view.setFocus()
    QTest.keyClick(view.viewport(), Qt.Key.Key_Home)
    assert view.zoom() >= READABLE_ZOOM >= 0.55
    seen = _seen(window)
    items = window.scene.node_items()
    first = window.scene.node_item(window.document.graph.input_nodes()[0].id)
    assert seen.contains(first.sceneBoundingRect())  # where the network starts
    for item in items:  # each layer wholly in sight or wholly out of it
        rect = item.sceneBoundingRect()
        assert seen.contains(rect) or not seen.intersects(rect), window.document.graph.label(item.node_id)
    assert sum(seen.contains(i.sceneBoundingRect()) for i in items) >= 3
    qtbot.waitUntil(view.minimap.isVisible)  # the minimap shows the rest


def test_the_spirals_example_opens_whole(make_window, qtbot, tmp_path):
    window = _open(make_window, qtbot, tmp_path, "spirals-mlp.studio.json")
    seen = _seen(window)
    assert window.view.zoom() >= READABLE_ZOOM
    for item in window.scene.node_items():
        assert seen.contains(item.sceneBoundingRect()), window.document.graph.label(item.node_id)
