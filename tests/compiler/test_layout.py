"""`studio import` lays nodes out left to right by depth, readable for 500+ layers (pure)."""

from __future__ import annotations

import itertools

from studio.compiler.from_config import layout
from studio.graph.catalog import default_catalog
from studio.graph.model import Edge, Graph, Node

DX, DY = 240.0, 120.0


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
    layout(graph)
    pos = {n.id: n.position for n in graph.nodes}
    assert [pos[n][0] for n in ("in", "p1", "p2", "merge")] == [0.0, DX, 2 * DX, 3 * DX]
    assert pos["p1"][1] < pos["q1"][1] and pos["p2"][1] < pos["q2"][1]
    assert _crossings(graph) == 0


def test_five_hundred_layers_are_laid_out_readably():
    """A 601-node residual network: every wire runs left to right, no two nodes share a
    place, the main path stays on one row and each skip branch sits beside it."""
    order, edges, current = ["in"], [], "in"
    for i in range(200):
        a, b, add = f"a{i}", f"b{i}", f"add{i}"
        order += [a, b, add]
        edges += [(current, a), (a, b), (b, add), (current, add)]
        current = add
    graph = _graph(edges, order)
    layout(graph)
    pos = {n.id: n.position for n in graph.nodes}
    assert all(pos[e.source][0] < pos[e.target][0] for e in graph.edges)
    assert len(set(pos.values())) == len(pos) == 601
    assert {pos[f"add{i}"][1] for i in range(200)} == {0.0}
    assert max(abs(y) for _, y in pos.values()) <= DY
