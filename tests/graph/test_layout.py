"""The one layout algorithm (`studio.graph.layout`, pure): left to right by depth, readable
for 500+ layers; `studio import` and the canvas' Auto layout both use it."""

from __future__ import annotations

import itertools

from studio.graph.catalog import default_catalog
from studio.graph.layout import COLUMN, apply_layout, layered_positions
from studio.graph.model import Edge, Graph, Node

ROW = 120.0  # a node (80 px) and the gap below it


def _graph(edges: list[tuple[str, str]], order: list[str]) -> Graph:
    graph = Graph(default_catalog())
    for name in order:
        kind = "Input" if name == "in" else "Add" if name.startswith(("merge", "add")) else "Dense"
        graph.add_node(Node(type=kind, id=name, title=name))
    targets: dict[str, int] = {}
    for source, target in edges:
        graph.connect(Edge(source, target, 0, targets.get(target, 0)), check_shapes=False)
        targets[target] = targets.get(target, 0) + 1
    return graph


def _crossings(graph: Graph) -> int:
    pos = {n.id: n.position for n in graph.nodes}
    edges = [(pos[e.source], pos[e.target]) for e in graph.edges]
    count = 0
    for (a0, a1), (b0, b1) in itertools.combinations(edges, 2):
        if a0[0] == b0[0] and a1[0] == b1[0] and (a0[1] - b0[1]) * (a1[1] - b1[1]) < 0:
            count += 1
    return count


def test_parallel_branches_keep_their_order():
    # Added so that the topological order lists the lower branch first in the second column.
    order = ["in", "p1", "q1", "q2", "p2", "merge"]
    edges = [("in", "p1"), ("in", "q1"), ("p1", "p2"), ("q1", "q2"), ("p2", "merge"), ("q2", "merge")]
    graph = _graph(edges, order)
    apply_layout(graph)
    pos = {n.id: n.position for n in graph.nodes}
    assert [pos[n][0] for n in ("in", "p1", "p2", "merge")] == [0.0, COLUMN, 2 * COLUMN, 3 * COLUMN]
    assert pos["p1"][1] < pos["q1"][1] and pos["p2"][1] < pos["q2"][1]
    assert _crossings(graph) == 0


def test_five_hundred_layers_are_laid_out_readably():
    """A 601-node residual network: every wire runs left to right, no two nodes share a
    place, the main path stays on one row and each block hangs just below it (the path
    does not step down block after block)."""
    order, edges, current = ["in"], [], "in"
    for i in range(200):
        a, b, add = f"a{i}", f"b{i}", f"add{i}"
        order += [a, b, add]
        edges += [(current, a), (a, b), (b, add), (current, add)]
        current = add
    graph = _graph(edges, order)
    apply_layout(graph)
    pos = {n.id: n.position for n in graph.nodes}
    assert all(pos[e.source][0] < pos[e.target][0] for e in graph.edges)
    assert len(set(pos.values())) == len(pos) == 601
    assert {pos[f"add{i}"][1] for i in range(200)} == {0.0}
    assert max(abs(y) for _, y in pos.values()) <= ROW


def test_a_chain_is_one_row_and_positions_are_plain_tuples_on_the_grid():
    graph = _graph([("in", "d1"), ("d1", "d2"), ("d2", "d3")], ["in", "d1", "d2", "d3"])
    positions = layered_positions(graph)
    assert positions == {n: (i * COLUMN, 0.0) for i, n in enumerate(["in", "d1", "d2", "d3"])}
    assert all(type(x) is float and type(y) is float for x, y in positions.values())


def test_import_and_auto_layout_place_nodes_the_same_way():
    """`studio import` lays its graph out with this algorithm: re-laying it out moves nothing."""
    from studio.compiler.from_config import graph_from_config

    config = {
        "name": "m", "trainable": True,
        "layers": [
            {"class_name": "InputLayer", "name": "x", "config": {"batch_shape": [None, 4], "name": "x"},
             "inbound_nodes": []},
            {"class_name": "Dense", "name": "a", "config": {"units": 4, "name": "a"},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                          "config": {"keras_history": ["x", 0, 0]}}], "kwargs": {}}]},
            {"class_name": "Dense", "name": "b", "config": {"units": 4, "name": "b"},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                          "config": {"keras_history": ["a", 0, 0]}}], "kwargs": {}}]},
            {"class_name": "Add", "name": "add", "config": {"name": "add"},
             "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__",
                                           "config": {"keras_history": ["b", 0, 0]}},
                                          {"class_name": "__keras_tensor__",
                                           "config": {"keras_history": ["x", 0, 0]}}]], "kwargs": {}}]},
        ],
        "input_layers": [["x", 0, 0]],
        "output_layers": [["add", 0, 0]],
    }
    graph = graph_from_config(config).graph
    placed = {n.id: tuple(n.position) for n in graph.nodes}
    assert placed == layered_positions(graph)
    assert len({y for _, y in placed.values()}) == 2  # the skip on one row, the block below it
