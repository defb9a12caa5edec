"""Where a refused wire's note and its fix go: the note stays clear of the two layers the wire
was meant to join (near the drop point, inside the view), and an inserted Reshape or Flatten
lands between them, the target and what follows it moving right when there is no room."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, QSizeF, Qt
from PySide6.QtTest import QTest

from studio.graph.edits import AddNode, Batch, Connect
from studio.graph.layout import NODE_WIDTH
from studio.graph.model import Edge, Node
from studio.ui.canvas.callout import place
from tests.ui.conftest import drag, port_pos


def _push(window, *nodes: Node, edges=()) -> None:
    window.document.push(Batch([AddNode(n) for n in nodes] + [Connect(e) for e in edges], "setup"))
    window.document.refresh_report()


def _shown(window, item) -> QRectF:
    """An item's rect as the user sees it, in viewport pixels."""
    view = window.view
    if item is window.scene.callout:  # drawn at a constant size, whatever the zoom
        return item.deviceTransform(view.viewportTransform()).mapRect(item.boundingRect())
    return QRectF(view.mapFromScene(item.sceneBoundingRect()).boundingRect())


def _in_scene(window, rect: QRectF) -> QRectF:
    return window.view.mapToScene(rect.toRect()).boundingRect()


def _refuse(window, source: Node, target: Node):
    drag(window.view, port_pos(window, source.id, True), port_pos(window, target.id, False))
    callout = window.scene.callout
    assert callout is not None and callout.isVisible()
    return callout


def _clear_of(window, callout, *nodes: Node) -> None:
    note = _in_scene(window, _shown(window, callout))
    for node in nodes:
        body = window.scene.node_item(node.id).sceneBoundingRect()
        assert not note.intersects(body), f"the note covers {node.title}: {note} over {body}"


def test_the_note_leaves_both_ends_of_the_refused_wire_in_sight(window, qtbot):
    # the tour's shot 9: a Dense above right of the input, a Conv2D below it; the drop lands on
    # the Conv2D's input port, where the note used to cover the Conv2D's header
    image = Node("Input", {"batch_shape": [None, 28, 28]}, title="image", position=(0, 80))
    dense = Node("Dense", {"units": 8}, title="dense", position=(320, 0))
    conv = Node("Conv2D", {"filters": 4, "kernel_size": [3, 3]}, title="conv", position=(320, 180))
    _push(window, image, dense, conv, edges=[Edge(image.id, dense.id)])
    window.view.centerOn(250, 150)
    callout = _refuse(window, image, conv)
    assert callout.actions == ["Insert Reshape to (28, 28, 1)"]
    _clear_of(window, callout, image, conv, dense)  # room enough: clear of every layer
    port = QRectF(window.view.viewport().rect())
    shown = _shown(window, callout)
    assert port.contains(shown)  # all of it in sight
    drop = QPointF(port_pos(window, conv.id, False))
    nearest = QPointF(min(max(drop.x(), shown.left()), shown.right()), min(max(drop.y(), shown.top()), shown.bottom()))
    assert (nearest - drop).manhattanLength() < 250  # near where the wire was dropped


def test_the_note_avoids_the_ends_at_the_edge_of_the_view_and_zoomed_in(window, qtbot):
    inp = Node("Input", {"batch_shape": [None, 8, 8, 3]}, title="x", position=(0, 0))
    repeat = Node("RepeatVector", {"n": 3}, title="rv", position=(260, 0))
    _push(window, inp, repeat)
    window.view.set_zoom(1.6 / window.view.zoom())
    # the two layers in the bottom right corner of the view: no room below or right of the drop
    item = window.scene.node_item(repeat.id)
    port = window.view.viewport().rect()
    corner = window.view.mapToScene(QPoint(port.right() - 30, port.bottom() - 30))
    window.view.centerOn(window.view.mapToScene(port.center()) + item.sceneBoundingRect().bottomRight() - corner)
    assert port.contains(port_pos(window, repeat.id, False))
    callout = _refuse(window, inp, repeat)
    _clear_of(window, callout, inp, repeat)
    assert QRectF(port).contains(_shown(window, callout))


def test_place_keeps_off_the_ends_first_and_other_layers_where_it_can():
    port = QRectF(0, 0, 800, 400)
    size = QSizeF(360, 120)
    target = QRectF(400, 150, 212, 100)
    source = QRectF(60, 100, 212, 100)
    spot = place(QPointF(400, 170), size, port, [source, target], [])
    note = QRectF(spot, size)
    assert port.contains(note)
    assert not note.intersects(source) and not note.intersects(target)
    # with another layer where the note would go, it finds the free space instead
    other = QRectF(note.center().x() - 50, note.center().y() - 30, 100, 60)
    moved = QRectF(place(QPointF(400, 170), size, port, [source, target], [other]), size)
    assert not moved.intersects(other) and not moved.intersects(source) and not moved.intersects(target)
    # a view too small to avoid the ends: still inside the view
    tiny = QRectF(0, 0, 380, 150)
    assert tiny.contains(QRectF(place(QPointF(200, 100), size, tiny, [QRectF(0, 0, 380, 150)], []), size))


def _apply_fix(window) -> None:
    callout = window.scene.callout
    to_view = callout.deviceTransform(window.view.viewportTransform())
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     to_view.map(callout.button_rects()[0].center()).toPoint())
    assert window.scene.callout is None


def _box(window, node_id: str) -> QRectF:
    return window.scene.node_item(node_id).sceneBoundingRect()


def test_an_inserted_reshape_goes_between_and_the_downstream_layers_make_room(make_window, qtbot):
    window = make_window(size=(1600, 960))
    image = Node("Input", {"batch_shape": [None, 28, 28]}, title="image", position=(0, 80))
    dense = Node("Dense", {"units": 8}, title="dense", position=(320, 0))
    conv = Node("Conv2D", {"filters": 4, "kernel_size": [3, 3]}, title="conv", position=(320, 180))
    pool = Node("GlobalAveragePooling2D", {}, title="pool", position=(600, 180))
    head = Node("Dense", {"units": 2}, title="head", position=(880, 180))
    _push(window, image, dense, conv, pool, head,
          edges=[Edge(image.id, dense.id), Edge(conv.id, pool.id), Edge(pool.id, head.id)])
    window.view.centerOn(150, 150)
    graph = window.document.graph
    before = {n.id: tuple(n.position[:2]) for n in graph.nodes}
    steps = window.document.undo_stack.count()
    _refuse(window, image, conv)
    _apply_fix(window)
    reshape = next(n for n in graph.nodes if n.type == "Reshape")
    assert set(graph.inputs_of(reshape.id)) == {Edge(image.id, reshape.id)}
    qtbot.waitUntil(lambda: window.scene.node_item(reshape.id) is not None)
    new = _box(window, reshape.id)
    # between the two, left to right: the input, the reshape, the conv, each with room for a wire
    assert _box(window, image.id).right() < new.left() and new.right() < _box(window, conv.id).left()
    # ...vertically between them too, and over no layer
    rows = sorted((_box(window, image.id).center().y(), _box(window, conv.id).center().y()))
    assert rows[0] - 40 <= new.center().y() <= rows[1] + 40
    for node in graph.nodes:
        if node.id != reshape.id:
            assert not new.intersects(_box(window, node.id)), node.title
    # the conv and what follows it moved right by the same amount, the others stayed
    dx = graph.node(conv.id).position[0] - before[conv.id][0]
    assert dx > 0
    for node in (pool, head):
        assert tuple(graph.node(node.id).position[:2]) == (before[node.id][0] + dx, before[node.id][1])
    for node in (image, dense):
        assert tuple(graph.node(node.id).position[:2]) == before[node.id]
    # the view follows: the input, the reshape and the moved conv are all in sight
    port = QRectF(window.view.viewport().rect())
    assert port.width() > 3 * NODE_WIDTH + 2 * 80
    for node_id in (image.id, reshape.id, conv.id):
        assert port.contains(_shown(window, window.scene.node_item(node_id)))
    # one undo step puts everything back
    assert window.document.undo_stack.count() == steps + 1
    window.document.undo_stack.undo()
    assert {n.id: tuple(n.position[:2]) for n in graph.nodes} == before


def test_an_inserted_flatten_with_room_moves_nothing(window, qtbot):
    inp = Node("Input", {"batch_shape": [None, 8, 8, 3]}, title="x", position=(0, 0))
    repeat = Node("RepeatVector", {"n": 3}, title="rv", position=(800, 200))
    _push(window, inp, repeat)
    window.view.centerOn(500, 100)
    graph = window.document.graph
    _refuse(window, inp, repeat)
    _apply_fix(window)
    flatten = next(n for n in graph.nodes if n.type == "Flatten")
    assert tuple(graph.node(repeat.id).position[:2]) == (800, 200)
    x, y = flatten.position[:2]
    assert NODE_WIDTH < x and x + NODE_WIDTH < 800  # in the gap
    assert abs((x + NODE_WIDTH / 2) - (NODE_WIDTH + 800) / 2) <= 20  # midway
    assert 0 < y < 200


def test_a_wire_drawn_backwards_moves_nothing_and_the_new_layer_avoids_the_others():
    from studio.graph.layout import between_spot
    from studio.graph.model import Graph

    graph = Graph()
    a = graph.add_node(Node("Input", {"batch_shape": [None, 4]}, title="a", position=(800, 0)))
    b = graph.add_node(Node("Dense", {"units": 2}, title="b", position=(0, 0)))
    middle = graph.add_node(Node("Dense", {"units": 2}, title="m", position=(400, 0)))
    (x, y), shifts = between_spot(graph, a.id, b.id)
    assert shifts == {}
    assert x == 400 and abs(y) >= 80 + 20  # midway, stepped off the layer already there
    assert middle.position[:2] == (400, 0)


def test_a_layer_added_with_tab_near_the_minimap_is_not_left_under_it(window, qtbot):
    from PySide6.QtCore import QRect

    from studio.graph.layout import free_spot
    from tests.ui.conftest import click, node_pos

    chain = [Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))]
    chain += [Node("Dense", {"units": 4}, title=f"d{i}", position=(280 * i, 0)) for i in range(1, 14)]
    _push(window, *chain, edges=[Edge(a.id, b.id) for a, b in zip(chain, chain[1:])])
    view = window.view
    view.set_zoom(1.0 / view.zoom())
    last = chain[-1]
    spot = free_spot(window.document.graph, last.id)  # where the next layer goes: right of the last
    port = view.viewport().rect()
    # the view ends just left of that spot: the new layer comes in at the view's right edge
    view.centerOn(spot[0] - port.width() / 2 + 60, spot[1] + 40 - port.height() / 2 + 100)
    view.minimap.sync_visibility()
    assert view.minimap.isVisible()
    view.setFocus()
    click(view, node_pos(window, last.id))
    assert window.document.selection == [last.id]
    QTest.keyClick(view.viewport(), Qt.Key.Key_Tab)
    qtbot.waitUntil(window.quick_add.isVisible)
    QTest.keyClicks(window.quick_add.edit, "Dense")
    QTest.keyClick(window.quick_add.edit, Qt.Key.Key_Return)
    graph = window.document.graph
    qtbot.waitUntil(lambda: len(graph.nodes) == 15)
    new = graph.nodes[-1]
    shown = QRect(view.mapFromScene(window.scene.node_item(new.id).sceneBoundingRect()).boundingRect())
    assert port.contains(shown)
    assert view.minimap.isVisible() and not view.minimap.geometry().intersects(shown)


def test_a_view_too_narrow_for_the_three_shows_the_new_layer_whole_between_its_two_ends(make_window, qtbot):
    window = make_window(size=(1280, 800))
    image = Node("Input", {"batch_shape": [None, 28, 28]}, title="image", position=(0, 80))
    conv = Node("Conv2D", {"filters": 4, "kernel_size": [3, 3]}, title="conv", position=(320, 180))
    _push(window, image, conv)
    window.view.centerOn(260, 150)
    _refuse(window, image, conv)
    _apply_fix(window)
    graph = window.document.graph
    reshape = next(n for n in graph.nodes if n.type == "Reshape")
    qtbot.waitUntil(lambda: window.scene.node_item(reshape.id) is not None)
    port = QRectF(window.view.viewport().rect())
    assert port.width() < 3 * NODE_WIDTH + 2 * 80  # the three cannot all be seen
    assert port.contains(_shown(window, window.scene.node_item(reshape.id)))
    for end in (image, conv):  # each end still shows, cut by the view's edge at most
        shown = _shown(window, window.scene.node_item(end.id))
        assert shown.intersected(port).width() >= shown.width() / 2, end.title
