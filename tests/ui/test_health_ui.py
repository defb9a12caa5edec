"""The Health tab and the canvas' health overlay, driven as a user would: train the network built
to explode in the window, read the flagged row, click it, turn on View > Training Health on Nodes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.project.io import load_project
from studio.ui.document import ProjectDocument
from tests.training.test_health import EXPLODE, iris_with
from tests.ui.waiting import HANG_MS

pytest.importorskip("keras")


@pytest.fixture(autouse=True)
def _offline(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "studio-cache"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")


def _row_of(table, label: str) -> int:
    rows = [r for r in range(table.rowCount()) if table.item(r, 0).text() == label]
    assert rows, f"no row for {label}"
    return rows[0]


def test_training_the_exploding_network_flags_its_row_and_badges_its_node(qtbot, make_window, tmp_path):
    path = iris_with(tmp_path, EXPLODE, epochs=2)
    window = make_window(ProjectDocument(load_project(path)), optional_panels=True, size=(1400, 900))
    panel = window.panels["TrainingPanel"]
    scene = window.scene
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_training() and panel.last_result is not None, timeout=HANG_MS)
    assert panel.last_result.status == "completed", panel.last_result.message

    # the Health tab: the row of the layer with the huge initializer says 'exploding'
    bar = panel.tabs.tabBar()
    index = next(i for i in range(panel.tabs.count()) if panel.tabs.tabText(i) == "Health")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert panel.tabs.currentWidget() is panel.health
    table = panel.health.table
    qtbot.waitUntil(lambda: table.rowCount() >= 3, timeout=HANG_MS)
    row = _row_of(table, "boom")
    assert table.item(row, 1).text() == "exploding"
    assert table.item(_row_of(table, "species"), 1).text() == "ok"
    assert "clip" in panel.health.message.text()

    # clicking another row selects that node, clicking the flagged row selects 'boom'
    for label, node in (("hidden", "hidden"), ("boom", "boom")):
        item = table.item(_row_of(table, label), 0)
        QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(item).center())
        assert window.document.selection == [node]

    # the canvas overlay is off by default: no badge; View > Training Health on Nodes turns it on
    boom = scene.node_item("boom")
    window.view.viewport().grab()
    assert boom.health is None and boom.painted_health == ""
    action = panel.health_overlay_action
    assert action in window.menus.view.actions() and not action.isChecked()
    action.trigger()
    window.view.centerOn(boom)
    window.view.viewport().grab()  # paints the items in view
    assert boom.health[0] == "exploding" and boom.painted_health == "exploding"
    assert "clip" in boom.toolTip()
    species = scene.node_item("species")
    assert species.health is not None and species.health[0] == "" and species.painted_health == ""
    action.trigger()
    window.view.viewport().grab()
    assert boom.health is None
