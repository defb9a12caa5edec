"""Quick-add (Tab) with a layer selected adds the next layer after it: to its right at a free
spot, wired from it when the ports fit, selected, one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.graph.edits import AddNode, Batch, Connect
from studio.graph.model import Edge, Node
from tests.ui.conftest import click, node_pos


def _quick_add(window, qtbot, text: str) -> None:
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_Tab)
    qtbot.waitUntil(window.quick_add.isVisible)
    QTest.keyClicks(window.quick_add.edit, text)
    QTest.keyClick(window.quick_add.edit, Qt.Key.Key_Return)


def test_tab_adds_the_next_layer_right_of_the_selected_one_wired_and_selected(window, qtbot):
    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    # something already sits right of the Input, where the next layer would go
    other = Node("Dense", {"units": 3}, title="other", position=(280, 0))
    window.document.push(Batch([AddNode(inp), AddNode(other), Connect(Edge(inp.id, other.id))], "setup"))
    window.view.centerOn(300, 60)
    window.view.setFocus()
    click(window.view, node_pos(window, inp.id))
    assert window.document.selection == [inp.id]
    steps = window.document.undo_stack.count()

    _quick_add(window, qtbot, "Dense")
    graph = window.document.graph
    qtbot.waitUntil(lambda: len(graph.nodes) == 3)
    new = next(n for n in graph.nodes if n.id not in (inp.id, other.id))
    assert new.type == "Dense"
    assert window.document.selection == [new.id]
    assert Edge(inp.id, new.id) in graph.edges  # wired from the selected layer
    assert window.document.undo_stack.count() == steps + 1
    assert new.position[0] > inp.position[0] + 200  # right of it, not on top
    rect = window.scene.node_item(new.id).sceneBoundingRect()
    for item in window.scene.node_items():
        if item.node_id != new.id:
            assert not rect.intersects(item.sceneBoundingRect()), f"on top of {item.node_id}"

    window.document.undo_stack.undo()  # one step takes it all back
    assert [n.id for n in graph.nodes] == [inp.id, other.id]
    assert graph.edges == [Edge(inp.id, other.id)]


def test_tab_after_a_layer_whose_output_does_not_fit_adds_it_unwired(window, qtbot):
    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    window.document.push(Batch([AddNode(inp)], "setup"))
    window.view.centerOn(200, 40)
    window.view.setFocus()
    click(window.view, node_pos(window, inp.id))
    _quick_add(window, qtbot, "Conv2D")  # Conv2D cannot take (None, 4)
    graph = window.document.graph
    qtbot.waitUntil(lambda: len(graph.nodes) == 2)
    new = graph.nodes[1]
    assert graph.edges == []
    assert window.document.selection == [new.id]
    assert new.position[0] > inp.position[0] + 200 and new.position[1] == inp.position[1]


def test_free_spot_steps_below_every_layer_in_the_way():
    from studio.graph.layout import COLUMN, free_spot
    from studio.graph.model import Graph

    graph = Graph()
    a = graph.add_node(Node("Input", {"batch_shape": [None, 4]}, position=(0, 0)))
    assert free_spot(graph, a.id) == (COLUMN, 0)  # right of it, level with it
    graph.add_node(Node("Dense", {"units": 2}, position=(300, 0)))
    graph.add_node(Node("Dense", {"units": 2}, position=(260, 100)))  # 80 tall each
    x, y = free_spot(graph, a.id)
    assert x == COLUMN and y >= 100 + 80 + 40
    assert free_spot(graph, a.id, height=lambda _n: 150) == (COLUMN, 300)  # taller layers: further down
