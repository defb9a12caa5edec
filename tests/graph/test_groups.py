"""Groups seen from outside (studio.graph.groups): a collapsed group's ports, shapes and parameter
count, and the SetGroupCollapsed edit (undoable, saved; the model itself unchanged)."""

from __future__ import annotations

import pytest

from studio.compiler.plan import make_plan
from studio.graph.edits import AddGroup, History, SetGroupCollapsed
from studio.graph.groups import group_anchor, group_params, group_ports, ref_shape, standing_in
from studio.graph.inference import analyse
from studio.graph.model import Edge, Graph, Group, Node


def encoder_graph(collapsed: bool = False) -> Graph:
    """x -> [enc_1 -> enc_2, enc_1 + enc_2 -> add] -> out, the bracket a group 'encoder'; x also
    feeds enc_1's twin input through a Concatenate so one tensor enters the group twice."""
    g = Graph()
    g.add_node(Node("Input", {"batch_shape": [None, 8]}, "x", (0, 0), id="x"))
    g.add_node(Node("Dense", {"units": 16, "activation": "relu"}, "enc_1", (280, 0), id="e1"))
    g.add_node(Node("Dense", {"units": 16}, "enc_2", (560, 0), id="e2"))
    g.add_node(Node("Add", {}, "enc_add", (840, 0), id="add"))
    g.add_node(Node("Dense", {"units": 3, "activation": "softmax"}, "out", (1120, 0), id="out"))
    for s, t, p in (("x", "e1", 0), ("e1", "e2", 0), ("e1", "add", 0), ("e2", "add", 1), ("add", "out", 0)):
        g.connect(Edge(s, t, 0, p))
    g.add_group(Group("g", "encoder", ["e1", "e2", "add"], collapsed=collapsed))
    return g


def test_a_groups_ports_are_the_tensors_crossing_its_border():
    g = encoder_graph()
    ports = group_ports(g, "g")
    assert ports.inputs == (("x", 0),) and ports.outputs == (("add", 0),)
    assert ports.attach == {("e1", False, 0): 0, ("add", True, 0): 0}
    report = analyse(g)
    assert ref_shape(report, ports.inputs[0]) == (None, 8) and ref_shape(report, ports.outputs[0]) == (None, 16)
    assert group_params(g, report, "g") == (8 * 16 + 16 + 16 * 16 + 16, 0)


def test_one_tensor_into_two_members_is_one_input_and_a_model_output_inside_is_an_output():
    g = encoder_graph()
    g.add_node(Node("Dense", {"units": 16}, "side", (560, 200), id="side"))
    g.connect(Edge("x", "side"))  # x feeds e1 and side: one input of the group
    g.group("g").members.append("side")  # side feeds nothing: a model output inside the group
    ports = group_ports(g, "g")
    assert ports.inputs == (("x", 0),)
    assert ports.outputs == (("add", 0), ("side", 0))
    assert ports.attach[("side", False, 0)] == 0 and ports.attach[("side", True, 0)] == 1


def test_collapse_is_one_undoable_edit_saved_with_the_graph_and_changes_no_model():
    g = encoder_graph()
    expanded_plan, expanded_report = make_plan(g, "m"), analyse(g)
    history = History(g)
    history.push(SetGroupCollapsed("g", True, "encoder"))
    assert g.group("g").collapsed and standing_in(g) == {"e1": "g", "e2": "g", "add": "g"}
    assert Graph.from_dict(g.to_dict()).group("g").collapsed  # saved
    assert make_plan(g, "m").calls == expanded_plan.calls  # a view: the model is the same
    assert analyse(g).total_params == expanded_report.total_params
    history.undo()
    assert not g.group("g").collapsed and standing_in(g) == {}
    history.redo()
    assert g.group("g").collapsed
    edit = SetGroupCollapsed("g", False, "encoder")
    assert edit.text == "Expand group encoder"


def test_add_group_and_anchor():
    g = encoder_graph()
    g.remove_group("g")
    history = History(g)
    history.push(AddGroup(Group("h", "pair", ["e2", "e1"])))
    assert [grp.name for grp in g.groups] == ["pair"]
    assert group_anchor(g, g.group("h")) == (560.0, 0.0)  # at its first layer
    history.undo()
    assert g.groups == []


def test_a_nested_models_group_counts_its_parameters_as_keras_does():
    keras = pytest.importorskip("keras")
    from studio.compiler.from_config import graph_from_config
    from studio.compiler.keras_import import keras_config

    x = keras.Input((4,))
    tower = keras.Model(x, keras.layers.Dense(3, name="proj")(
        keras.layers.BatchNormalization(name="bn")(keras.layers.Dense(8, name="hid")(x))), name="tower")
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    model = keras.Model([a, b], [tower(b), tower(a)], name="two")
    graph = graph_from_config(model.get_config(), keras_config=keras_config).graph
    report = analyse(graph)
    assert [grp.name for grp in graph.groups] == ["tower", "tower"]
    for group in graph.groups:  # the second call shares the first's layers: still the tower's count
        trainable, frozen = group_params(graph, report, group.id)
        assert (trainable, frozen) == (sum(int(w.numpy().size) for w in tower.trainable_weights),
                                       sum(int(w.numpy().size) for w in tower.non_trainable_weights))
        assert trainable + frozen == tower.count_params()
    assert report.total_params == model.count_params()


def _xs(g: Graph) -> dict[str, float]:
    return {n.id: float(n.position[0]) for n in g.nodes}


def test_collapsing_closes_the_groups_room_and_expanding_opens_it_again_in_the_same_step():
    g = encoder_graph()  # x 0 | e1 280, e2 560, add 840 | out 1120
    g.add_node(Node("Dense", {"units": 2}, "side", (1400, 200), id="side"))
    g.connect(Edge("out", "side", 0, 0))
    history = History(g)
    history.push(SetGroupCollapsed("g", True, "encoder"))
    # the group node stands at e1 (280): what came after it follows one column later
    assert _xs(g) == {"x": 0, "e1": 280, "e2": 560, "add": 840, "out": 560, "side": 840}
    assert g.node("side").position[1] == 200  # rows are kept
    history.push(SetGroupCollapsed("g", False, "encoder"))
    assert _xs(g) == {"x": 0, "e1": 280, "e2": 560, "add": 840, "out": 1120, "side": 1400}
    history.push(SetGroupCollapsed("g", True, "encoder"))
    history.push(SetGroupCollapsed("g", False, "encoder"))
    assert _xs(g)["out"] == 1120  # expand then collapse is stable
    history.undo()  # one step: the group and the nodes around it
    assert g.group("g").collapsed and _xs(g)["out"] == 560
    history.undo()
    assert not g.group("g").collapsed and _xs(g)["out"] == 1120


def test_expanding_moves_nothing_when_the_layers_have_room():
    g = encoder_graph(collapsed=True)  # collapsed with its layers' room still free
    History(g).push(SetGroupCollapsed("g", False, "encoder"))
    assert _xs(g) == {"x": 0, "e1": 280, "e2": 560, "add": 840, "out": 1120}


def test_an_imported_nested_sequential_is_one_collapsed_group_its_layers_in_a_row_when_expanded():
    keras = pytest.importorskip("keras")
    from studio.compiler.from_config import graph_from_config
    from studio.compiler.keras_import import keras_config

    inner = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, name="a"), keras.layers.Dense(8, name="b"),
                              keras.layers.Dense(4, name="c")], name="block")
    x = keras.Input((6,), name="x")
    model = keras.Model(x, keras.layers.Dense(2, name="head")(inner(x)), name="outer")
    g = graph_from_config(model.get_config(), keras_config=keras_config).graph
    (group,) = g.groups
    assert group.name == "block" and group.collapsed
    title = {n.title: n.id for n in g.nodes}
    xs, ax = _xs(g), group_anchor(g, group)[0]
    assert g.group_members(group.id)[0] == title["a"] and xs[title["x"]] < ax
    assert xs[title["head"]] == ax + 280  # the head right after the group node
    History(g).push(SetGroupCollapsed(group.id, False, "block"))
    xs = _xs(g)
    assert xs[title["a"]] < xs[title["b"]] < xs[title["c"]] < xs[title["head"]]  # left to right
    assert len({g.node(title[t]).position[1] for t in ("a", "b", "c", "head")}) == 1  # one row
    assert xs[title["head"]] == xs[title["c"]] + 280
