"""Graphs used by the compiler and export tests (real catalog specs)."""

from __future__ import annotations

from studio.graph.catalog import Catalog, default_catalog
from studio.graph.model import Edge, Graph, Node


class Builder:
    """Tiny helper: `b.add("Dense", units=3)`, `b.wire(a, c)`."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.graph = Graph(catalog or default_catalog())

    def add(self, type_id: str, title: str = "", **params) -> str:
        return self.graph.add_node(Node(type=type_id, params=params, title=title)).id

    def input(self, *shape, title: str = "", dtype: str = "float32") -> str:
        return self.add("Input", title=title, batch_shape=[None, *shape], dtype=dtype)

    def wire(self, source: str, target: str, source_port: int = 0, target_port: int = 0) -> None:
        self.graph.connect(Edge(source, target, source_port, target_port))

    def chain(self, *ids: str) -> None:
        for a, b in zip(ids, ids[1:]):
            self.wire(a, b)


def mlp() -> Graph:
    b = Builder()
    x = b.input(8, title="features")
    h = b.add("Dense", units=16, activation="relu", title="hidden")
    o = b.add("Dense", units=3, activation="softmax")
    b.chain(x, h, o)
    return b.graph


def branch_add() -> Graph:
    b = Builder()
    x = b.input(10)
    left = b.add("Dense", units=6, activation="relu")
    right = b.add("Dense", units=6, activation="tanh")
    add = b.add("Add")
    out = b.add("Dense", units=2)
    b.wire(x, left)
    b.wire(x, right)
    b.wire(left, add, target_port=0)
    b.wire(right, add, target_port=1)
    b.wire(add, out)
    return b.graph


def multi_io() -> Graph:
    """Two inputs, a Concatenate, two outputs, one of them an LSTM state port."""
    b = Builder()
    seq = b.input(5, 3, title="sequence")
    vec = b.input(4, title="vector")
    lstm = b.add("LSTM", units=6, return_state=True, title="encoder")
    cat = b.add("Concatenate")
    score = b.add("Dense", units=1, activation="sigmoid", title="score")
    state_head = b.add("Dense", units=2, title="state_head")
    b.wire(seq, lstm)
    b.wire(lstm, cat, source_port=0, target_port=0)
    b.wire(vec, cat, target_port=1)
    b.wire(cat, score)
    b.wire(lstm, state_head, source_port=2)
    return b.graph


def shared_merge() -> Graph:
    """One tensor used twice by the same merge and again by a later merge."""
    b = Builder()
    x = b.input(4, title="x")
    h = b.add("Dense", units=4, title="h")
    twice = b.add("Add", title="sum")
    prod = b.add("Multiply", title="prod")
    b.wire(x, h)
    b.wire(h, twice, target_port=0)
    b.wire(h, twice, target_port=1)
    b.wire(twice, prod, target_port=0)
    b.wire(h, prod, target_port=1)
    return b.graph
