"""The main window as a whole: layouts that persist, themes,
auto-layout, summary, history, minimap, panels docked by others."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from studio.graph.edits import AddNode, Batch, Connect, SetParam
from studio.graph.model import Edge, Node


def _chain(window, n=4):
    nodes = [Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))]
    nodes += [Node("Dense", {"units": 8}, title=f"d{i}", position=(37 * i, 91 * i)) for i in range(1, n)]
    edges = [Edge(a.id, b.id) for a, b in zip(nodes, nodes[1:])]
    window.document.push(Batch([AddNode(x) for x in nodes] + [Connect(e) for e in edges], "setup"))
    return nodes


def test_title_shows_name_and_unsaved_mark(window):
    assert window.windowTitle().startswith("untitled[*]")
    assert not window.isWindowModified()
    _chain(window)
    assert window.isWindowModified()
    window.document.undo_stack.undo()
    assert not window.isWindowModified()


def test_dock_layout_persists(make_window, qtbot):
    first = make_window()
    first.docks["diagnosticsDock"].hide()
    first.docks["historyDock"].show()
    first.save_layout()
    first.files.close()
    second = make_window()
    assert not second.docks["diagnosticsDock"].isVisible()
    assert second.docks["historyDock"].isVisible()


def test_add_panel_docks_a_widget_listed_in_panels_menu(window):
    dock = window.add_panel(QLabel("training goes here"), "Training", "bottom", "TrainingPanelDock")
    assert window.dockWidgetArea(dock) == window.dockWidgetArea(window.docks["diagnosticsDock"])
    assert dock.toggleViewAction() in window.menus.panels.actions()


def test_auto_layout_is_one_undo_step_left_to_right(window):
    nodes = _chain(window)
    steps = window.document.undo_stack.count()
    window.auto_layout()
    assert window.document.undo_stack.count() == steps + 1
    assert window.document.undo_stack.undoText() == "Auto-layout"
    xs = [window.document.graph.node(n.id).position[0] for n in nodes]
    ys = {window.document.graph.node(n.id).position[1] for n in nodes}
    assert xs == sorted(xs) and len(set(xs)) == len(xs) and len(ys) == 1  # a straight chain
    window.document.undo_stack.undo()
    assert window.document.graph.node(nodes[2].id).position == (74.0, 182.0)


def test_summary_and_history_views(window, qtbot):
    nodes = _chain(window, 3)
    window.show_summary()
    table = window._summary.table
    assert table.rowCount() == 3
    assert table.item(1, 0).text() == "d1 (Dense)" and table.item(1, 1).text() == "(None, 8)"
    assert table.item(1, 2).text() == "40" and table.item(2, 3).text() == "d1"
    window.document.push(SetParam(nodes[2].id, "units", 2))
    qtbot.waitUntil(lambda: table.item(2, 1).text() == "(None, 2)")
    window.actions_.history.trigger()
    assert window.docks["historyDock"].isVisible()
    assert window.history.stack().count() == 2
    assert "params" in window.summary_bar.totals.text() and "58" in window.summary_bar.totals.text()


def test_minimap_appears_for_larger_graphs(window, qtbot):
    assert not window.view.minimap.isVisible()
    _chain(window, 14)
    qtbot.waitUntil(window.view.minimap.isVisible)


def test_dark_theme_applies(qapp, window):
    from studio.ui import theme

    manager = theme.ThemeManager(qapp)
    try:
        manager.changed.connect(window.theme_changed)
        _chain(window, 3)
        before = window.grab().toImage().pixelColor(600, 300)
        assert manager.apply(dark=True).dark and theme.current().dark
        after = window.grab().toImage().pixelColor(600, 300)
        assert after.lightness() < 100 < before.lightness()  # the canvas went dark
    finally:
        manager.apply(dark=False)
        qapp.setStyleSheet("")
