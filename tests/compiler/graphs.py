"""Graphs used by the compiler and export tests.

The catalog helpers are still adding layer families; where the default catalog
lacks a layer these tests need (Add, Concatenate, LSTM), a minimal local spec
with the same id, Keras class and config keys stands in, so the tests run
against the real spec as soon as it lands.
"""

from __future__ import annotations

from studio.graph.catalog import Catalog
from studio.graph.layers import all_specs
from studio.graph.layers._shapes import only_input
from studio.graph.model import Edge, Graph, Node
from studio.graph.spec import LayerSpec, ParamSpec, ShapeError


def _merge_shape(params, shapes):
    if any(tuple(s) != tuple(shapes[0]) for s in shapes):
        raise ShapeError("Add needs inputs of the same shape")
    return [tuple(shapes[0])]


def _concat_shape(params, shapes):
    axis = params["axis"]
    first = list(shapes[0])
    total = 0
    for s in shapes:
        if total is not None:
            total = None if s[axis] is None else total + s[axis]
    first[axis] = total
    return [tuple(first)]


def _lstm_shape(params, shapes):
    shape = only_input("LSTM", shapes)
    out = shape[:2] + (params["units"],) if params["return_sequences"] else (shape[0], params["units"])
    if params["return_state"]:
        state = (shape[0], params["units"])
        return [out, state, state]
    return [out]


def _lstm_params(params, shapes):
    u, d = params["units"], shapes[0][-1]
    return (4 * (u * (d + u) + u), 0)


FALLBACK = [
    LayerSpec(id="Add", class_name="Add", category="Merge", description="sum", infer_shape=_merge_shape,
              min_inputs=2, max_inputs=None, is_merge=True),
    LayerSpec(id="Concatenate", class_name="Concatenate", category="Merge", description="concat",
              infer_shape=_concat_shape, params=(ParamSpec("axis", "int", -1),), min_inputs=2,
              max_inputs=None, is_merge=True),
    LayerSpec(id="LSTM", class_name="LSTM", category="Recurrent", description="lstm", infer_shape=_lstm_shape,
              count_params=_lstm_params,
              params=(ParamSpec("units", "int", 8, minimum=1), ParamSpec("return_sequences", "bool", False),
                      ParamSpec("return_state", "bool", False)),
              num_outputs=lambda p: 3 if p.get("return_state") else 1),
]


def compiler_catalog() -> Catalog:
    specs = all_specs()
    have = {s.id for s in specs}
    return Catalog(specs + [s for s in FALLBACK if s.id not in have])


class Builder:
    """Tiny helper: `b.add("Dense", units=3)`, `b.wire(a, c)`."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.graph = Graph(catalog or compiler_catalog())

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
