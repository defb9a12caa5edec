"""The Graph model: rules with typed errors, can_connect reasons, events, several inputs and outputs.

Pure: no Qt, no TensorFlow. Rules are tested on a small private catalog
(so they do not depend on the growing built-in one) plus a few built-in specs.
"""

from __future__ import annotations

import pytest

from studio.core.errors import (
    CycleError,
    DuplicateEdgeError,
    DuplicateNodeError,
    GraphError,
    ParamError,
    PortError,
    ShapeMismatch,
    UnknownNodeError,
)
from studio.graph import (
    Catalog,
    Edge,
    Graph,
    LayerSpec,
    Node,
    ParamSpec,
    ShapeError,
    analyse,
    default_catalog,
)
from studio.graph.model import EdgeAdded, EdgeRemoved, NodeAdded, NodeChanged


# --- a private catalog ------------------------------------------------------------------
def _split_shape(params, input_shapes):
    (shape,) = input_shapes
    if shape[-1] is not None and shape[-1] % params["parts"]:
        raise ShapeError(f"Split cannot cut {shape[-1]} features into {params['parts']} equal parts")
    part = None if shape[-1] is None else shape[-1] // params["parts"]
    return [tuple(shape[:-1]) + (part,)] * params["parts"]


def _join_shape(params, input_shapes):
    first = input_shapes[0]
    if any(tuple(s) != tuple(first) for s in input_shapes):
        raise ShapeError("Join needs inputs of the same shape")
    return [tuple(first)]


SPLIT = LayerSpec(
    id="Split",
    class_name="Split",
    category="Reshaping",
    description="Cuts the last axis into `parts` equal outputs (a multi-output layer for tests).",
    params=(ParamSpec("parts", "int", 2, minimum=1, maximum=8),),
    infer_shape=_split_shape,
    num_outputs=lambda params: params["parts"],
)
JOIN = LayerSpec(
    id="Join",
    class_name="Join",
    category="Merge",
    description="Adds 2 or more inputs of the same shape (a merge for tests).",
    infer_shape=_join_shape,
    min_inputs=2,
    max_inputs=None,
    is_merge=True,
)


@pytest.fixture
def catalog() -> Catalog:
    base = default_catalog()
    return Catalog([base.get("Input"), base.get("Dense"), base.get("Activation"), SPLIT, JOIN])


@pytest.fixture
def graph(catalog) -> Graph:
    return Graph(catalog)


def inp(graph: Graph, features: int = 8, node_id: str | None = None) -> Node:
    kwargs = {"id": node_id} if node_id else {}
    return graph.add_node(Node("Input", {"batch_shape": [None, features]}, title=node_id or "", **kwargs))


def dense(graph: Graph, units: int = 4, title: str = "") -> Node:
    return graph.add_node(Node("Dense", {"units": units}, title=title))


class Recorder:
    def __init__(self, graph: Graph) -> None:
        self.events: list = []
        self.unsubscribe = graph.events.subscribe(self.events.append)

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


# --- adding and removing -----------------------------------------------------------------
def test_add_node_announces_it_and_refuses_a_duplicate_id(graph):
    rec = Recorder(graph)
    node = dense(graph)
    assert rec.events == [NodeAdded(node)]
    assert graph.node(node.id) is node
    with pytest.raises(DuplicateNodeError) as info:
        graph.add_node(Node("Dense", id=node.id))
    assert info.value.node_id == node.id
    assert len(graph.nodes) == 1 and len(rec.events) == 1


def test_add_node_at_an_index_keeps_the_order(graph):
    a, b = dense(graph, title="a"), dense(graph, title="b")
    c = graph.add_node(Node("Dense", title="c"), index=1)
    assert [n.id for n in graph.nodes] == [a.id, c.id, b.id]
    assert graph.node_index(c.id) == 1


def test_remove_node_removes_its_wires_first_and_announces_each(graph):
    x = inp(graph)
    h = dense(graph)
    o1, o2 = dense(graph), dense(graph)
    e1, e2, e3 = Edge(x.id, h.id), Edge(h.id, o1.id), Edge(h.id, o2.id)
    for e in (e1, e2, e3):
        graph.connect(e)
    rec = Recorder(graph)
    removed = graph.remove_node(h.id)
    assert removed is h
    assert rec.kinds() == ["EdgeRemoved", "EdgeRemoved", "EdgeRemoved", "NodeRemoved"]
    assert {e.edge for e in rec.events[:3]} == {e1, e2, e3}
    assert graph.edges == [] and not graph.has_node(h.id)


def test_unknown_node_ids_raise_unknown_node_error(graph):
    x = inp(graph)
    for action in (
        lambda: graph.node("ghost"),
        lambda: graph.remove_node("ghost"),
        lambda: graph.connect(Edge(x.id, "ghost")),
        lambda: graph.connect(Edge("ghost", x.id)),
        lambda: graph.set_param("ghost", "units", 3),
        lambda: graph.set_title("ghost", "t"),
        lambda: graph.move("ghost", (1, 2)),
        lambda: graph.set_trainable("ghost", False),
    ):
        with pytest.raises(UnknownNodeError):
            action()
    assert graph.can_connect(Edge(x.id, "ghost"))[0] is False


# --- connecting ---------------------------------------------------------------------------------
def test_connect_announces_the_wire_and_disconnect_removes_it(graph):
    x, h = inp(graph), dense(graph)
    rec = Recorder(graph)
    edge = graph.connect(Edge(x.id, h.id))
    graph.disconnect(edge)
    assert rec.events == [EdgeAdded(edge), EdgeRemoved(edge)]
    with pytest.raises(GraphError, match="no such wire"):
        graph.disconnect(edge)


def test_cycles_are_refused(graph):
    x, a, b, c = inp(graph), dense(graph, title="a"), dense(graph, title="b"), dense(graph, title="c")
    graph.connect(Edge(x.id, a.id))
    graph.connect(Edge(a.id, b.id))
    graph.connect(Edge(b.id, c.id))
    j = graph.add_node(Node("Join", title="join"))
    graph.connect(Edge(c.id, j.id, 0, 0))
    with pytest.raises(CycleError, match="itself"):
        graph.connect(Edge(j.id, j.id, 0, 1))
    j2 = graph.add_node(Node("Join", title="join2"))
    graph.connect(Edge(j.id, j2.id, 0, 0))
    with pytest.raises(CycleError, match="loop"):  # through a free port of a merge
        graph.connect(Edge(j2.id, j.id, 0, 1))
    graph.disconnect(Edge(x.id, a.id))
    with pytest.raises(CycleError, match="loop") as info:
        graph.connect(Edge(c.id, a.id))
    assert info.value.node_id == a.id
    ok, reason = graph.can_connect(Edge(c.id, a.id))
    assert not ok and "'c'" in reason and "'a'" in reason and "loop" in reason


def test_a_node_cannot_feed_itself(graph):
    a = dense(graph, title="a")
    with pytest.raises(CycleError, match="itself"):
        graph.connect(Edge(a.id, a.id))


def test_port_rules(graph):
    x, y = inp(graph, node_id="x"), inp(graph, node_id="y")
    h = dense(graph, title="h")
    graph.connect(Edge(x.id, h.id))
    cases = [
        (Edge(y.id, h.id), "already wired to 'x'"),  # the input port is taken
        (Edge(y.id, h.id, 0, 1), "at most 1 input"),  # Dense has one input
        (Edge(h.id, y.id), "Input and takes no wires"),
        (Edge(x.id, h.id, 1, 0), "no output port 1"),
        (Edge(x.id, h.id, -1, 0), "start at 0"),
    ]
    for edge, words in cases:
        with pytest.raises(PortError) as info:
            graph.connect(edge)
        assert words in str(info.value), (edge, str(info.value))
        ok, reason = graph.can_connect(edge)
        assert not ok and words in reason
    assert graph.edges == [Edge(x.id, h.id)]


def test_the_same_wire_twice_is_a_duplicate(graph):
    x, h = inp(graph), dense(graph)
    graph.connect(Edge(x.id, h.id))
    with pytest.raises(DuplicateEdgeError):
        graph.connect(Edge(x.id, h.id))
    assert graph.can_connect(Edge(x.id, h.id)) == (False, "these ports are already connected")


def test_shape_mismatch_is_refused_and_can_be_skipped(graph):
    a, b = inp(graph, 8, "a"), inp(graph, 6, "b")
    j = graph.add_node(Node("Join", title="join"))
    graph.connect(Edge(a.id, j.id, 0, 0))
    with pytest.raises(ShapeMismatch) as info:
        graph.connect(Edge(b.id, j.id, 0, 1))
    assert "join" in str(info.value) and info.value.node_id == j.id
    ok, reason = graph.can_connect(Edge(b.id, j.id, 0, 1))
    assert not ok and "same shape" in reason
    # The rules other than shapes still allow it (e.g. while loading a file).
    assert graph.can_connect(Edge(b.id, j.id, 0, 1), check_shapes=False) == (True, "")
    graph.connect(Edge(b.id, j.id, 0, 1), check_shapes=False)
    assert any(d.node == j.id for d in analyse(graph).errors)


def test_can_connect_says_yes_without_changing_anything(graph):
    x, h = inp(graph), dense(graph)
    rec = Recorder(graph)
    assert graph.can_connect(Edge(x.id, h.id)) == (True, "")
    assert graph.edges == [] and rec.events == []


# --- several inputs and outputs ------------------------------------------------------------------
def test_several_inputs_and_outputs(graph):
    a, b = inp(graph, 8, "a"), inp(graph, 8, "b")
    j = graph.add_node(Node("Join", title="join"))
    s = graph.add_node(Node("Split", {"parts": 2}, title="split"))
    head1, head2 = dense(graph, 3, "head1"), dense(graph, 5, "head2")
    graph.connect(Edge(a.id, j.id, 0, 0))
    graph.connect(Edge(b.id, j.id, 0, 1))
    graph.connect(Edge(j.id, s.id))
    graph.connect(Edge(s.id, head1.id, 0, 0))
    graph.connect(Edge(s.id, head2.id, 1, 0))
    with pytest.raises(PortError, match="no output port 2"):
        graph.connect(Edge(s.id, dense(graph).id, 2, 0))
    assert {n.id for n in graph.input_nodes()} == {a.id, b.id}
    assert graph.num_outputs(s) == 2
    assert [e.target_port for e in graph.inputs_of(j.id)] == [0, 1]
    order = graph.topological_order()
    for e in graph.edges:
        assert order.index(e.source) < order.index(e.target)
    report = analyse(graph)
    assert report.outputs[s.id] == [(None, 4), (None, 4)]
    assert report.outputs[head1.id] == [(None, 3)] and report.outputs[head2.id] == [(None, 5)]
    # The dangling Dense added above is an output too (and an error: it has no input).
    outputs = {n.id for n in graph.output_nodes()}
    assert {head1.id, head2.id} <= outputs and a.id not in outputs


def test_a_merge_takes_any_number_of_inputs(graph):
    j = graph.add_node(Node("Join", title="join"))
    for port in range(5):
        x = inp(graph, 4, f"x{port}")
        graph.connect(Edge(x.id, j.id, 0, port))
    assert len(graph.inputs_of(j.id)) == 5
    assert analyse(graph).outputs[j.id] == [(None, 4)]


def test_opaque_nodes_have_as_many_outputs_as_are_used(graph):
    q = graph.add_node(Node("FromTheFuture", {"x": 1}))
    assert graph.num_outputs(q) == 1
    assert graph.spec(q) is None
    h = dense(graph)
    with pytest.raises(PortError):
        graph.connect(Edge(q.id, h.id, 1, 0))


# --- changing nodes ------------------------------------------------------------------------
def test_set_param_validates_announces_and_resets(graph):
    h = dense(graph, 4, "hidden")
    rec = Recorder(graph)
    graph.set_param(h.id, "units", 16.0)
    assert h.params["units"] == 16 and isinstance(h.params["units"], int)
    with pytest.raises(ParamError) as info:
        graph.set_param(h.id, "units", "lots")
    assert info.value.key == "units" and info.value.node_id == h.id and "hidden" in str(info.value)
    with pytest.raises(ParamError, match="at least 1"):
        graph.set_param(h.id, "units", 0)
    assert h.params["units"] == 16
    graph.set_param(h.id, "units", Graph.ABSENT)
    assert "units" not in h.params
    graph.set_param(h.id, "units", "unchecked", validate=False)
    assert h.params["units"] == "unchecked"
    assert rec.events[0] == NodeChanged(h.id, "params", "units", 4, 16)
    assert [e.what for e in rec.events] == ["params", "params", "params"]
    assert rec.events[1].old == 16 and rec.events[1].new is Graph.ABSENT


def test_set_param_stores_a_copy(graph):
    x = inp(graph)
    shape = [None, 3]
    graph.set_param(x.id, "batch_shape", shape)
    shape.append(7)
    assert x.params["batch_shape"] == [None, 3]


def test_title_position_and_trainable_changes_are_announced(graph):
    h = dense(graph, title="old")
    rec = Recorder(graph)
    graph.set_title(h.id, "new")
    graph.move(h.id, [10, 20.5])
    graph.set_trainable(h.id, False)
    assert rec.events == [
        NodeChanged(h.id, "title", None, "old", "new"),
        NodeChanged(h.id, "position", None, (0.0, 0.0), (10.0, 20.5)),
        NodeChanged(h.id, "trainable", None, True, False),
    ]
    assert (h.title, h.position, h.trainable) == ("new", (10.0, 20.5), False)


def test_clear_removes_everything_with_events(graph):
    x, h = inp(graph), dense(graph)
    graph.connect(Edge(x.id, h.id))
    rec = Recorder(graph)
    graph.clear()
    assert graph.nodes == [] and graph.edges == []
    assert sorted(rec.kinds()) == ["EdgeRemoved", "NodeRemoved", "NodeRemoved"]


def test_unsubscribe_stops_events(graph):
    rec = Recorder(graph)
    rec.unsubscribe()
    dense(graph)
    assert rec.events == []


# --- records ---------------------------------------------------------------------------------
def test_to_dict_from_dict_round_trip_and_equality(graph):
    x, h = inp(graph, 3, "x"), dense(graph, 2, "h")
    graph.set_trainable(h.id, False)
    graph.move(h.id, (5, 6))
    graph.connect(Edge(x.id, h.id))
    copy = Graph.from_dict(graph.to_dict(), graph.catalog)
    assert copy == graph and copy.to_dict() == graph.to_dict()
    assert graph.copy() == graph
    copy.set_title(h.id, "changed")
    assert copy != graph
    # A copy is independent: its nodes are new objects.
    assert copy.node(h.id) is not graph.node(h.id)


def test_from_dict_is_strict(catalog):
    data = {"nodes": [{"id": "a", "type": "Dense"}], "edges": [{"source": "a", "target": "b"}]}
    with pytest.raises(UnknownNodeError):
        Graph.from_dict(data, catalog)


def test_topological_order_is_deterministic_and_reports_cycles(graph):
    nodes = [dense(graph, title=str(i)) for i in range(5)]
    assert graph.topological_order() == [n.id for n in nodes]  # no wires: insertion order
    graph.connect(Edge(nodes[4].id, nodes[0].id), check_shapes=False)
    order = graph.topological_order()
    assert order.index(nodes[4].id) < order.index(nodes[0].id)
    # A cycle can only be made behind the model's back (the rules forbid it).
    graph._set_edges([*graph.edges, Edge(nodes[0].id, nodes[4].id)])
    with pytest.raises(CycleError) as info:
        graph.topological_order()
    assert info.value.node_id in {nodes[0].id, nodes[4].id}
