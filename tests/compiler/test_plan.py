"""The pure half of the compiler: graph -> BuildPlan (no TensorFlow)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from studio.compiler.plan import LIST, SINGLE, layer_names, make_plan, plan_to_dict, valid_name
from studio.core.errors import BuildError
from studio.graph import Edge, Graph, analyse
from studio.graph.model import Node
from tests.compiler.graphs import Builder, branch_add, mlp, multi_io


def test_mlp_plan_lists_layers_in_order_with_full_configs():
    graph = mlp()
    plan = make_plan(graph, name="My model")
    assert [c.class_name for c in plan.calls] == ["InputLayer", "Dense", "Dense"]
    assert [c.name for c in plan.calls] == ["features", "hidden", "dense_1"]
    assert plan.name == "my_model"
    hidden = plan.calls[1]
    # Full Keras config: the user's values, every default and the name.
    assert hidden.config["units"] == 16 and hidden.config["activation"] == "relu"
    assert hidden.config["use_bias"] is True and hidden.config["name"] == "hidden"
    assert hidden.inputs == ((plan.calls[0].node_id, 0),)
    assert plan.calls[0].config["batch_shape"] == [None, 8]
    assert plan.inputs == (plan.calls[0].node_id,)
    assert plan.outputs == ((plan.calls[2].node_id, 0),)


def test_merge_takes_a_list_and_inputs_follow_port_order():
    graph = branch_add()
    plan = make_plan(graph)
    add = next(c for c in plan.calls if c.class_name == "Add")
    assert add.call_style == LIST
    left, right = (graph.inputs_of(add.node_id)[i].source for i in (0, 1))
    assert add.inputs == ((left, 0), (right, 0))
    order = [c.node_id for c in plan.calls]
    assert order.index(left) < order.index(add.node_id) and order.index(right) < order.index(add.node_id)


def test_multi_output_ports_are_kept():
    plan = make_plan(multi_io())
    by_name = {c.name: c for c in plan.calls}
    assert by_name["encoder"].num_outputs == 3
    assert by_name["state_head"].inputs == ((by_name["encoder"].node_id, 2),)
    assert len(plan.inputs) == 2
    assert [plan.by_id()[n].name for n, _ in plan.outputs] == ["score", "state_head"]
    assert by_name["score"].call_style == SINGLE


def test_names_are_unique_valid_identifiers():
    b = Builder()
    ids = [b.add("Dense", title=t) for t in ("Hidden layer", "Hidden layer", "2nd", "class", "")]
    ids.append(b.add("Dense", title="dense_1"))  # a title that an untitled node would get
    names = layer_names(b.graph)
    got = [names[i] for i in ids]
    assert got == ["hidden_layer", "hidden_layer_2", "layer_2nd", "class_", "dense_2", "dense_1"]
    assert all(n.isidentifier() for n in got)


def test_valid_name_keeps_good_names_and_snake_cases_types():
    assert valid_name("block_1_expand") == "block_1_expand"
    assert valid_name("BatchNormalization") == "BatchNormalization"
    assert valid_name("Conv 2D / up") == "conv_2d_up"
    assert valid_name("  ") == ""


def test_graph_with_errors_is_refused_naming_the_node():
    b = Builder()
    x = b.input(4)
    d = b.add("Dense", title="head", units=3)
    b.add("Dense", title="orphan")  # no input wired
    b.wire(x, d)
    with pytest.raises(BuildError) as info:
        make_plan(b.graph)
    first = str(info.value).splitlines()[0]
    assert "orphan" in first and "no input" in first
    assert info.value.node_id == next(n.id for n in b.graph.nodes if n.title == "orphan")


def test_every_error_is_listed():
    b = Builder()
    x = b.input(4)
    bad = b.add("Dense", title="bad", units=3)
    b.wire(x, bad)
    b.graph.set_param(bad, "units", 0, validate=False)
    b.add("Dense", title="lonely")
    with pytest.raises(BuildError) as info:
        make_plan(b.graph)
    text = str(info.value)
    assert "(and 1 more error)" in text.splitlines()[0]
    assert "bad" in text and "lonely" in text


def test_frozen_node_and_opaque_node():
    b = Builder()
    x = b.input(4)
    d = b.add("Dense", units=3)
    b.graph.set_trainable(d, False)
    opaque = b.graph.add_node(Node(type="FancyLayer", params={"name": "old", "alpha": 2})).id
    b.chain(x, d, opaque)
    plan = make_plan(b.graph)
    assert plan.call(d).config["trainable"] is False
    call = plan.call(opaque)
    assert call.class_name == "FancyLayer" and call.is_opaque
    assert call.config == {"name": "fancy_layer_1", "alpha": 2}


def test_lambda_is_refused():
    b = Builder()
    x = b.input(4)
    lam = b.graph.add_node(Node(type="Lambda", params={"function": "x"}, title="trick")).id
    b.wire(x, lam)
    with pytest.raises(BuildError, match="'trick' is a Lambda layer"):
        make_plan(b.graph)


def test_plan_record_is_json_ready():
    import json

    record = plan_to_dict(make_plan(multi_io()))
    assert json.loads(json.dumps(record)) == record


def test_plan_imports_without_tensorflow():
    code = (
        "import sys, studio.compiler, studio.compiler.plan\n"
        "bad = [m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_frozen_layer_without_weights_still_builds():
    """SpatialDropout1D takes no `trainable` argument; freezing it must not break the build."""
    from studio.compiler.keras_build import build_model

    g = Graph()
    a = g.add_node(Node("Input", {"batch_shape": [None, 8, 4]}))
    b = g.add_node(Node("SpatialDropout1D", {"rate": 0.2}, trainable=False))
    c = g.add_node(Node("LSTM", {"units": 3}, trainable=False))
    g.connect(Edge(a.id, b.id))
    g.connect(Edge(b.id, c.id))
    model = build_model(make_plan(g))
    assert model.count_params() == analyse(g).total_params
    assert not model.get_layer(make_plan(g).call(c.id).name).trainable


def test_a_huge_title_makes_a_short_layer_name():
    from studio.compiler.plan import MAX_NAME, valid_name

    assert valid_name("x" * 10_000_000) == "x" * MAX_NAME
    name = valid_name("Hidden layer " * 1000)
    assert len(name) <= MAX_NAME and name.startswith("hidden_layer_") and not name.endswith("_")
