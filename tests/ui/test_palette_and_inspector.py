"""Adding layers from the palette and quick-add; editing in the inspector."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.graph.edits import AddNode, Batch, Connect
from studio.graph.model import Edge, Node
from tests.ui.conftest import click, node_pos


def drop_from_palette(window, spec_id: str, pos: QPoint) -> None:
    """Drop the palette's own drag data for `spec_id` at viewport `pos`."""
    item = window.palette.item(spec_id)
    data = window.palette.tree.mimeData([item])
    viewport = window.view.viewport()
    action = Qt.DropAction.CopyAction
    for cls in (QDragEnterEvent, QDragMoveEvent):
        event = cls(pos, action, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, event)
        assert event.isAccepted()
    drop = QDropEvent(QPointF(pos), action, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)


def test_drag_dense_from_palette_then_undo_redo(window, qtbot):
    view = window.view
    view.centerOn(0, 0)
    pos = QPoint(300, 200)
    drop_from_palette(window, "Dense", pos)
    graph = window.document.graph
    (node,) = graph.nodes
    assert node.type == "Dense" and node.title == "dense"
    item = window.scene.node_item(node.id)
    assert item.sceneBoundingRect().contains(view.mapToScene(pos))
    assert window.document.selection == [node.id]
    assert window.inspector.spec.id == "Dense"
    window.document.undo_stack.undo()
    assert graph.nodes == [] and window.scene.node_items() == []
    window.document.undo_stack.redo()
    assert [n.id for n in graph.nodes] == [node.id]


def test_palette_search_and_double_click_adds_after_selection(window, qtbot):
    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    window.document.push(AddNode(inp))
    window.document.set_selection([inp.id])
    QTest.keyClicks(window.palette.search, "dens")
    tree = window.palette.tree
    visible = [window.palette.item(s) for s in ("Dense", "LSTM")]
    assert not visible[0].isHidden() and visible[1].isHidden()
    rect = tree.visualItemRect(visible[0])
    # A real double-click: a click, then the second press arriving as a double-click.
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    graph = window.document.graph
    added = [n for n in graph.nodes if n.type == "Dense"]
    assert len(added) == 1
    assert graph.edges == [Edge(inp.id, added[0].id)]
    assert added[0].position[0] > inp.position[0]
    assert window.document.undo_stack.count() == 2  # add + connect is one step


def test_palette_tooltip_explains_the_layer(window):
    assert "fully connected" in window.palette.item("Dense").toolTip(0)


def test_tab_quick_add_inserts_at_cursor(window, qtbot):
    view = window.view
    view.setFocus()
    QTest.mouseMove(view.viewport(), QPoint(250, 250))
    QTest.keyClick(view, Qt.Key.Key_Tab)
    popup = window.quick_add
    qtbot.waitUntil(popup.isVisible)
    QTest.keyClicks(popup.edit, "Dropout")
    assert popup.list.currentItem().text() == "Dropout"
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    (node,) = window.document.graph.nodes
    assert node.type == "Dropout" and not popup.isVisible()


def test_double_click_on_empty_canvas_opens_quick_add(window, qtbot):
    for send in (QTest.mouseClick, QTest.mouseDClick):
        send(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 300))
    qtbot.waitUntil(window.quick_add.isVisible)
    window.quick_add.hide()


def _mlp(window):
    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    dense = Node("Dense", {"units": 8}, title="hidden", position=(300, 0))
    window.document.push(Batch([AddNode(inp), AddNode(dense), Connect(Edge(inp.id, dense.id))], "setup"))
    window.view.centerOn(250, 40)
    return inp, dense


def test_change_units_in_inspector_updates_node_then_undo_redo(window, qtbot):
    inp, dense = _mlp(window)
    click(window.view, node_pos(window, dense.id))
    assert window.document.selection == [dense.id]
    editor = window.inspector.editors["units"]
    box = editor.box
    item = window.scene.node_item(dense.id)
    qtbot.waitUntil(lambda: item.view.params == "40 params")
    box.setFocus()
    box.selectAll()
    QTest.keyClicks(box, "64")
    QTest.keyClick(box, Qt.Key.Key_Return)
    assert window.document.graph.node(dense.id).params["units"] == 64
    qtbot.waitUntil(lambda: item.view.shape == "(None, 64)")
    assert item.view.params == "320 params"
    assert "64 units" in item.view.key_line
    assert "(None, 64)" in window.inspector.live.text()
    assert window.document.undo_stack.undoText() == "Change units"
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: item.view.shape == "(None, 8)")
    assert box.value() == 8
    window.document.undo_stack.redo()
    qtbot.waitUntil(lambda: item.view.params == "320 params")
    assert box.value() == 64


def test_activation_combo_and_invalid_text_is_not_committed(window, qtbot):
    inp, dense = _mlp(window)
    window.document.set_selection([dense.id])
    combo = window.inspector.editors["activation"].combo
    combo.setFocus()
    index = combo.findText("relu")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert window.document.graph.node(dense.id).params["activation"] == "relu"
    window.document.set_selection([inp.id])
    shape = window.inspector.editors["batch_shape"]
    steps = window.document.undo_stack.count()
    shape.line.setFocus()
    shape.line.selectAll()
    QTest.keyClicks(shape.line, "None, x")
    assert shape.error.isVisibleTo(window.inspector) and "cannot read" in shape.error.text()
    QTest.keyClick(shape.line, Qt.Key.Key_Return)
    assert window.document.undo_stack.count() == steps
    shape.line.selectAll()
    QTest.keyClicks(shape.line, "None, 6")
    assert not shape.error.isVisibleTo(window.inspector)
    QTest.keyClick(shape.line, Qt.Key.Key_Return)
    assert window.document.graph.node(inp.id).params["batch_shape"] == [None, 6]
    window.document.refresh_report()
    assert window.document.report.params[dense.id] == (6 * 8 + 8, 0)


def test_edit_several_nodes_of_one_type_together(window, qtbot):
    a = Node("Dense", {"units": 4}, title="a", position=(0, 0))
    b = Node("Dense", {"units": 9}, title="b", position=(0, 200))
    window.document.push(Batch([AddNode(a), AddNode(b)], "setup"))
    window.document.set_selection([a.id, b.id])
    editor = window.inspector.editors["units"]
    assert editor.mixed
    editor.box.setValue(12)
    graph = window.document.graph
    assert graph.node(a.id).params["units"] == 12 and graph.node(b.id).params["units"] == 12
    assert window.document.undo_stack.count() == 2
    window.document.undo_stack.undo()
    assert graph.node(a.id).params["units"] == 4 and graph.node(b.id).params["units"] == 9


def test_rename_and_diagnostic_shown_on_the_node(window, qtbot):
    dense = Node("Dense", {"units": 3}, title="lonely", position=(0, 0))
    window.document.push(AddNode(dense))
    window.document.set_selection([dense.id])
    item = window.scene.node_item(dense.id)
    qtbot.waitUntil(lambda: item.view.severity == "error")
    assert "has no input" in item.toolTip()
    assert "has no input" in window.inspector.diagnostics.text()
    title = window.inspector.title_edit
    title.setFocus()
    title.selectAll()
    QTest.keyClicks(title, "head")
    QTest.keyClick(title, Qt.Key.Key_Return)
    assert window.document.graph.node(dense.id).title == "head"
    qtbot.waitUntil(lambda: item.view.title == "head")
