"""The empty-canvas hint and Fit to view on a long chain."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtTest import QTest

from studio.graph.edits import RemoveNode


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
