"""Undo/redo: any sequence of edits, undone, gives back the identical graph; redone, the identical result.

A hypothesis rule-based state machine drives `studio.graph.edits.History`
with random edits (add, remove, connect, disconnect, parameters, titles,
moves, freezing, batches); refused edits must leave the graph untouched.
Identity is `Graph.to_dict()` equality: node order, edge order, params,
positions, titles and trainable flags all count.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from studio.core.errors import GraphError
from studio.graph import Edge, Graph, Node
from studio.graph.edits import (
    AddNode,
    Batch,
    Connect,
    Disconnect,
    History,
    MoveNodes,
    RemoveNode,
    SetParam,
    SetTitle,
    SetTrainable,
    remove_nodes,
)

LAYERS = [
    ("Input", {"batch_shape": [None, 4]}),
    ("Input", {"batch_shape": [None, 6]}),
    ("Dense", {"units": 4}),
    ("Dense", {"units": 6, "activation": "relu"}),
    ("Activation", {"activation": "tanh"}),
    ("Add", {}),
    ("Concatenate", {}),
    ("Mystery", {"anything": [1, 2]}),  # an opaque node
]
PARAM_VALUES = [
    ("units", 3),
    ("units", 8.0),
    ("units", "bad"),  # refused by validation
    ("units", 0),  # refused: out of range
    ("activation", "relu"),
    ("use_bias", False),
    ("batch_shape", [None, 4]),
    ("batch_shape", [None, 6]),
    ("unknown_key", {"kept": True}),
    ("units", Graph.ABSENT),
]


def snapshot(graph: Graph) -> dict:
    return copy.deepcopy(graph.to_dict())


class EditSequence(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.graph = Graph()
        seed = self.graph.add_node(Node("Input", {"batch_shape": [None, 4]}, title="seed", id="seed"))
        self.graph.connect(Edge(seed.id, self.graph.add_node(Node("Dense", {"units": 4}, id="d0")).id))
        self.history = History(self.graph)
        self.initial = snapshot(self.graph)
        # snapshots[i] is the graph after i successful pushes.
        self.snapshots = [self.initial]
        self.undone = 0  # how many pushes are currently undone
        self.counter = 0

    # -- helpers ---------------------------------------------------------------------
    def node_ids(self) -> list[str]:
        return [n.id for n in self.graph.nodes]

    def push(self, edit) -> None:
        before = snapshot(self.graph)
        try:
            self.history.push(edit)
        except GraphError:
            assert snapshot(self.graph) == before, "a refused edit changed the graph"
            return
        # A push after undos drops the redo branch.
        del self.snapshots[len(self.snapshots) - self.undone :]
        self.undone = 0
        self.snapshots.append(snapshot(self.graph))

    def pick(self, data, ids=None):
        ids = ids if ids is not None else self.node_ids()
        return data.draw(st.sampled_from(ids))

    # -- rules -----------------------------------------------------------------------
    @rule(layer=st.sampled_from(LAYERS), x=st.integers(-500, 500), at_front=st.booleans())
    def add(self, layer, x, at_front):
        type_id, params = layer
        self.counter += 1
        node = Node(type_id, copy.deepcopy(params), title=f"n{self.counter}", position=(x, 0), id=f"n{self.counter}")
        self.push(AddNode(node, 0 if at_front else None))

    @precondition(lambda self: self.graph.nodes)
    @rule(data=st.data())
    def remove(self, data):
        self.push(RemoveNode(self.pick(data)))

    @precondition(lambda self: len(self.graph.nodes) >= 2)
    @rule(data=st.data(), port=st.sampled_from([0, 0, 0, 1, 2]), shapes=st.booleans())
    def connect(self, data, port, shapes):
        source = self.pick(data)
        target = self.pick(data, [i for i in self.node_ids() if i != source])
        self.push(Connect(Edge(source, target, 0, port), check_shapes=shapes))

    @precondition(lambda self: self.graph.edges)
    @rule(data=st.data())
    def disconnect(self, data):
        self.push(Disconnect(data.draw(st.sampled_from(self.graph.edges))))

    @precondition(lambda self: self.graph.nodes)
    @rule(data=st.data(), change=st.sampled_from(PARAM_VALUES))
    def set_param(self, data, change):
        key, value = change
        self.push(SetParam(self.pick(data), key, copy.deepcopy(value)))

    @precondition(lambda self: self.graph.nodes)
    @rule(data=st.data(), title=st.text(max_size=5))
    def set_title(self, data, title):
        self.push(SetTitle(self.pick(data), title))

    @precondition(lambda self: self.graph.nodes)
    @rule(data=st.data(), trainable=st.booleans())
    def set_trainable(self, data, trainable):
        self.push(SetTrainable(self.pick(data), trainable))

    @precondition(lambda self: self.graph.nodes)
    @rule(data=st.data(), dx=st.floats(-100, 100, allow_nan=False))
    def move_several(self, data, dx):
        ids = data.draw(st.lists(st.sampled_from(self.node_ids()), min_size=1, max_size=3, unique=True))
        self.push(MoveNodes({i: (self.graph.node(i).position[0] + dx, 7.0) for i in ids}))

    @precondition(lambda self: len(self.graph.nodes) >= 2)
    @rule(data=st.data())
    def delete_several(self, data):
        ids = data.draw(st.lists(st.sampled_from(self.node_ids()), min_size=1, max_size=3, unique=True))
        self.push(remove_nodes(ids))

    @precondition(lambda self: len(self.graph.nodes) >= 2)
    @rule(data=st.data())
    def batch_that_may_fail_half_way(self, data):
        a = self.pick(data)
        b = self.pick(data, [i for i in self.node_ids() if i != a])
        self.push(Batch([SetTitle(a, "batched"), MoveNodes({a: (1.0, 2.0)}), Connect(Edge(a, b)), SetParam(b, "units", 5)],
                        "gesture"))

    @precondition(lambda self: len(self.snapshots) - self.undone > 1)
    @rule()
    def undo(self):
        assert self.history.undo()
        self.undone += 1
        assert snapshot(self.graph) == self.snapshots[len(self.snapshots) - 1 - self.undone]

    @precondition(lambda self: self.undone > 0)
    @rule()
    def redo(self):
        assert self.history.redo()
        self.undone -= 1
        assert snapshot(self.graph) == self.snapshots[len(self.snapshots) - 1 - self.undone]

    @invariant()
    def edges_join_existing_nodes(self):
        ids = set(self.node_ids())
        assert all(e.source in ids and e.target in ids for e in self.graph.edges)

    def teardown(self):
        final = self.snapshots[-1]
        while self.history.undo():
            pass
        assert snapshot(self.graph) == self.initial
        while self.history.redo():
            pass
        assert snapshot(self.graph) == final
        # And once more: undo/redo are repeatable.
        while self.history.undo():
            pass
        assert snapshot(self.graph) == self.initial


TestEditSequence = EditSequence.TestCase


# --- a few explicit cases, easier to read when they fail ------------------------------------------
def test_remove_node_undo_restores_node_and_wire_positions():
    g = Graph()
    a = g.add_node(Node("Input", {"batch_shape": [None, 3]}, id="a"))
    b = g.add_node(Node("Dense", {"units": 2}, id="b"))
    c = g.add_node(Node("Dense", {"units": 2}, id="c"))
    g.connect(Edge(a.id, b.id))
    g.connect(Edge(b.id, c.id))
    before = snapshot(g)
    h = History(g)
    h.push(RemoveNode("b"))
    assert [n.id for n in g.nodes] == ["a", "c"] and g.edges == []
    h.undo()
    assert snapshot(g) == before


def test_a_refused_batch_is_rolled_back_and_not_recorded():
    g = Graph()
    a = g.add_node(Node("Input", {"batch_shape": [None, 3]}, id="a"))
    b = g.add_node(Node("Dense", {"units": 2}, id="b"))
    before = snapshot(g)
    h = History(g)
    with pytest.raises(GraphError):
        h.push(Batch([SetTitle(b.id, "x"), Connect(Edge(a.id, b.id)), Connect(Edge(a.id, b.id))]))
    assert snapshot(g) == before
    assert h.undo() is False


def test_set_param_undo_puts_back_an_invalid_old_value_verbatim():
    g = Graph()
    d = g.add_node(Node("Dense", {"units": "bad"}, id="d"))
    h = History(g)
    h.push(SetParam(d.id, "units", 7))
    h.undo()
    assert g.node("d").params == {"units": "bad"}
    h.push(SetParam(d.id, "activation", "relu"))
    h.undo()
    assert "activation" not in g.node("d").params


def test_connect_redo_ignores_later_shape_changes():
    g = Graph()
    a = g.add_node(Node("Input", {"batch_shape": [None, 3]}, id="a"))
    b = g.add_node(Node("Add", id="b"))
    c = g.add_node(Node("Input", {"batch_shape": [None, 3]}, id="c"))
    h = History(g)
    h.push(Connect(Edge(a.id, b.id, 0, 0)))
    h.push(Connect(Edge(c.id, b.id, 0, 1)))
    h.undo()
    h.push(SetParam(c.id, "batch_shape", [None, 5]))  # clears the redo of the wire
    assert h.redo() is False
    h.undo()
    h.undo()
    assert g.edges == []
    h.redo()
    h.push(Connect(Edge(c.id, b.id, 0, 1)))
    assert len(g.edges) == 2
