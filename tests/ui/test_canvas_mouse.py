"""The canvas driven with real mouse events on the view's viewport."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt

from studio.graph.edits import AddNode, Batch, Connect
from studio.graph.model import Edge, Node
from tests.ui.conftest import drag, port_pos


def _add(window, *nodes, edges=()):
    window.document.push(Batch([AddNode(n) for n in nodes] + [Connect(e) for e in edges], "setup"))
    window.document.refresh_report()


def test_draw_a_wire_between_two_ports(window, qtbot):
    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    dense = Node("Dense", {"units": 5}, title="d", position=(300, 0))
    _add(window, inp, dense)
    window.view.centerOn(250, 40)
    drag(window.view, port_pos(window, inp.id, True), port_pos(window, dense.id, False))
    assert window.document.graph.edges == [Edge(inp.id, dense.id)]
    qtbot.waitUntil(lambda: window.scene.node_item(dense.id).view.shape == "(None, 5)")
    assert window.scene.edge_item(Edge(inp.id, dense.id)) is not None
    window.document.undo_stack.undo()
    assert window.document.graph.edges == []
    assert window.scene.edge_items() == []
    window.document.undo_stack.redo()
    assert len(window.scene.edge_items()) == 1


def test_forbidden_wire_is_refused_with_the_reason(window, qtbot):
    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    conv = Node("Conv2D", {"filters": 8, "kernel_size": [3, 3]}, title="conv", position=(300, 0))
    dense = Node("Dense", {"units": 2}, title="d", position=(300, 200))
    _add(window, inp, conv, dense)
    window.view.centerOn(250, 100)
    view = window.view
    start = port_pos(window, inp.id, True)
    bad = port_pos(window, conv.id, False)
    # Mid-drag, hovering the Conv2D input: it is marked incompatible and says why.
    from PySide6.QtTest import QTest

    QTest.mouseMove(view.viewport(), start)
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(view.viewport(), start + QPoint(40, 10))
    QTest.mouseMove(view.viewport(), bad)
    from studio.ui.canvas.node_item import PortItem

    assert window.scene.node_item(conv.id).inputs[0].state == PortItem.BAD
    assert window.scene.node_item(dense.id).inputs[0].state == PortItem.OK
    gesture = window.scene.gesture
    assert gesture.bubble.isVisible() and "Conv2D" in gesture.bubble.text
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, bad)
    assert window.document.graph.edges == []
    message = window.statusBar().currentMessage()
    assert message.startswith("Cannot connect: conv cannot take that input"), message  # the why: a callout
    assert window.document.undo_stack.count() == 1  # only the setup
    assert window.scene.node_item(conv.id).inputs[0].state == PortItem.NORMAL


def test_moving_a_group_is_one_undo_step(window, qtbot):
    a = Node("Dense", title="a", position=(0, 0))
    b = Node("Dense", title="b", position=(0, 200))
    _add(window, a, b)
    window.view.centerOn(100, 100)
    window.document.set_selection([a.id, b.id])
    item = window.scene.node_item(a.id)
    start = window.view.mapFromScene(item.mapToScene(QPointF(60, 10)))
    drag(window.view, start, start + QPoint(100, 40))
    graph = window.document.graph
    assert graph.node(a.id).position == (100.0, 40.0)  # moved by the drag, snapped to the grid
    assert graph.node(b.id).position == (100.0, 240.0)
    assert window.document.undo_stack.count() == 2
    window.document.undo_stack.undo()
    assert graph.node(a.id).position == (0.0, 0.0) and graph.node(b.id).position == (0.0, 200.0)
    assert window.scene.node_item(b.id).pos() == QPointF(0, 200)


def test_rubber_band_and_ctrl_click_selection(window, qtbot):
    a = Node("Dense", title="a", position=(0, 0))
    b = Node("Dense", title="b", position=(0, 160))
    c = Node("Dense", title="c", position=(400, 0))
    _add(window, a, b, c)
    window.view.centerOn(250, 100)
    view = window.view
    drag(view, view.mapFromScene(QPointF(-40, -40)), view.mapFromScene(QPointF(250, 300)))
    assert set(window.document.selection) == {a.id, b.id}
    from PySide6.QtTest import QTest

    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     view.mapFromScene(QPointF(450, 10)))
    assert set(window.document.selection) == {a.id, b.id, c.id}
    assert window.inspector.spec.id == "Dense"


def test_select_and_delete_a_wire(window, qtbot):
    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    dense = Node("Dense", title="d", position=(400, 0))
    edge = Edge(inp.id, dense.id)
    _add(window, inp, dense, edges=[edge])
    window.view.centerOn(300, 40)
    item = window.scene.edge_item(edge)
    middle = window.view.mapFromScene(item.path().pointAtPercent(0.5))
    from PySide6.QtTest import QTest

    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, middle)
    assert item.isSelected()
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert window.document.graph.edges == []
    window.document.undo_stack.undo()
    assert window.document.graph.edges == [edge]


def test_drop_node_onto_wire_inserts_it(window, qtbot):
    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    out = Node("Dense", {"units": 3}, title="out", position=(600, 0))
    mid = Node("Dense", {"units": 7}, title="mid", position=(300, 300))
    edge = Edge(inp.id, out.id)
    _add(window, inp, out, mid, edges=[edge])
    window.view.centerOn(400, 150)
    window.document.set_selection([mid.id])
    item = window.scene.node_item(mid.id)
    grab = window.view.mapFromScene(item.mapToScene(QPointF(60, 10)))
    wire_mid = window.scene.edge_item(edge).path().pointAtPercent(0.5)
    target = window.view.mapFromScene(wire_mid - item.body_rect().center() + QPointF(60, 10))
    drag(window.view, grab, target)
    graph = window.document.graph
    assert set(graph.edges) == {Edge(inp.id, mid.id), Edge(mid.id, out.id)}
    assert window.document.undo_stack.undoText().startswith("Insert")
    window.document.undo_stack.undo()
    assert graph.edges == [edge] and graph.node(mid.id).position == (300.0, 300.0)


def test_pick_up_a_wire_and_drop_it_on_empty_canvas(window, qtbot):
    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    dense = Node("Dense", title="d", position=(300, 0))
    edge = Edge(inp.id, dense.id)
    _add(window, inp, dense, edges=[edge])
    window.view.centerOn(250, 40)
    start = port_pos(window, dense.id, False)
    drag(window.view, start, start + QPoint(-60, 200))
    assert window.document.graph.edges == []
    assert window.document.undo_stack.undoText() == "Disconnect"


def test_wheel_zooms_around_the_cursor_and_middle_button_pans(window, qtbot):
    view = window.view
    view.centerOn(0, 0)
    cursor = QPoint(200, 150)
    before = view.mapToScene(cursor)
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    event = QWheelEvent(QPointF(cursor), QPointF(view.viewport().mapToGlobal(cursor)), P(0, 0), P(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom() > 1.2
    after = view.mapToScene(cursor)
    assert abs(after.x() - before.x()) < 2 and abs(after.y() - before.y()) < 2
    center = view.mapToScene(view.viewport().rect().center())
    drag(view, QPoint(300, 300), QPoint(200, 250), button=Qt.MouseButton.MiddleButton)
    moved = view.mapToScene(view.viewport().rect().center()) - center
    assert abs(moved.x() * view.zoom() - 100) < 3 and abs(moved.y() * view.zoom() - 50) < 3


def test_wire_dropped_on_empty_canvas_offers_a_wired_layer(window, qtbot):
    from PySide6.QtTest import QTest

    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    _add(window, inp)
    window.view.centerOn(250, 40)
    start = port_pos(window, inp.id, True)
    drag(window.view, start, start + QPoint(220, 60))
    popup = window.quick_add
    qtbot.waitUntil(popup.isVisible)
    QTest.keyClicks(popup.edit, "Dense")
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    graph = window.document.graph
    (dense,) = [n for n in graph.nodes if n.type == "Dense"]
    assert graph.edges == [Edge(inp.id, dense.id)]
    assert window.document.undo_stack.undoText() == "Add Dense"
    window.document.undo_stack.undo()
    assert len(graph.nodes) == 1 and graph.edges == []


def test_space_drag_pans_and_keys_in_inspector_do_not_edit_the_graph(window, qtbot):
    from PySide6.QtTest import QTest

    dense = Node("Dense", title="d", position=(0, 0))
    _add(window, dense)
    view = window.view
    view.setFocus()
    center = view.mapToScene(view.viewport().rect().center())
    QTest.keyPress(view, Qt.Key.Key_Space)
    drag(view, QPoint(300, 300), QPoint(260, 300))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    moved = view.mapToScene(view.viewport().rect().center()) - center
    assert abs(moved.x() * view.zoom() - 40) < 3
    assert window.document.graph.node(dense.id).position == (0.0, 0.0)  # panned, not moved
    window.document.set_selection([dense.id])
    title = window.inspector.title_edit
    title.setFocus()
    QTest.keyClick(title, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(title, Qt.Key.Key_Delete)
    assert window.document.graph.has_node(dense.id)
    assert title.text() == ""


def test_right_click_menu_freezes_the_node(window, qtbot):
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication

    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    dense = Node("Dense", {"units": 2}, title="d", position=(300, 0))
    _add(window, inp, dense, edges=[Edge(inp.id, dense.id)])
    window.view.centerOn(250, 40)
    pos = window.view.mapFromScene(window.scene.node_item(dense.id).mapToScene(QPointF(90, 50)))
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, window.view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(window.view.viewport(), event)
    assert window.document.selection == [dense.id]
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None)
    menu = QApplication.activePopupWidget()
    (freeze,) = [a for a in menu.actions() if a.text() == "Freeze weights"]
    freeze.trigger()
    menu.close()
    assert not window.document.graph.node(dense.id).trainable
    window.document.refresh_report()
    assert window.document.report.params[dense.id] == (0, 10)
    assert not window.scene.node_item(dense.id).view.trainable
    window.document.undo_stack.undo()
    assert window.document.graph.node(dense.id).trainable
