"""BuildPlan -> keras.Model: the model Keras builds is the graph the user drew."""

from __future__ import annotations

import numpy as np
import pytest

from studio.compiler.keras_build import build_model, diagnose, keras_reason
from studio.compiler.plan import make_plan
from studio.core.errors import BuildError
from studio.graph.inference import analyse
from studio.graph.model import Node
from tests.compiler.graphs import Builder, branch_add, mlp, multi_io, shared_merge


def _check_against_analyse(graph, model):
    """Shapes and parameter counts Keras reports equal what the graph predicts."""
    report = analyse(graph)
    plan = make_plan(graph, report=report)
    outputs = model.outputs
    assert len(outputs) == len(plan.outputs)
    for tensor, (node_id, port) in zip(outputs, plan.outputs):
        assert tuple(tensor.shape) == tuple(report.outputs[node_id][port])
    for tensor, node_id in zip(model.inputs, plan.inputs):
        assert tuple(tensor.shape) == tuple(report.outputs[node_id][0])
    assert model.count_params() == report.total_params
    names = [c.name for c in plan.calls]
    assert sorted(layer.name for layer in model.layers) == sorted(names)


@pytest.mark.parametrize("make_graph", [mlp, branch_add, multi_io, shared_merge],
                         ids=["mlp", "branch_add", "multi_io", "shared_merge"])
def test_model_matches_the_graph(make_graph):
    graph = make_graph()
    model = build_model(make_plan(graph))
    _check_against_analyse(graph, model)


def test_mlp_runs_and_uses_the_users_settings():
    model = build_model(make_plan(mlp()))
    hidden = model.get_layer("hidden")
    assert hidden.units == 16 and hidden.activation.__name__ == "relu"
    out = model.predict(np.ones((2, 8), "float32"), verbose=0)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)  # softmax


def test_multi_io_model_takes_and_returns_lists():
    model = build_model(make_plan(multi_io()))
    score, state = model.predict([np.ones((3, 5, 3), "float32"), np.ones((3, 4), "float32")], verbose=0)
    assert score.shape == (3, 1) and state.shape == (3, 2)


def test_frozen_node_is_not_trainable():
    b = Builder()
    x = b.input(4)
    d = b.add("Dense", units=3, title="frozen")
    b.graph.set_trainable(d, False)
    b.wire(x, d)
    model = build_model(make_plan(b.graph))
    assert model.get_layer("frozen").trainable is False
    assert not model.trainable_weights
    assert analyse(b.graph).non_trainable_params == model.count_params() == 15


def test_keras_refusal_names_the_node():
    b = Builder()
    x = b.input(4)
    # A dtype name studio check cannot judge (unknown activations are refused before Keras).
    d = b.add("Dense", units=3, dtype="not_a_dtype", title="head")
    b.wire(x, d)
    with pytest.raises(BuildError) as info:
        build_model(make_plan(b.graph))
    assert info.value.node_id == d
    message = str(info.value)
    assert message.startswith("head: ") and "not_a_dtype" in message
    assert "\n" not in message
    # The same refusal as a Diagnostic on that node, for the canvas and the diagnostics panel.
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.node, diagnostic.severity, diagnostic.message) == (d, "error", message)
    assert diagnose(make_plan(b.graph)) == [diagnostic]
    assert diagnose(make_plan(mlp())) == []


def test_unknown_opaque_layer_names_the_node():
    b = Builder()
    x = b.input(4)
    mystery = b.graph.add_node(Node(type="MyCustomLayer", params={"units": 2}, title="mystery")).id
    b.wire(x, mystery)
    with pytest.raises(BuildError) as info:
        build_model(make_plan(b.graph))
    assert info.value.node_id == mystery and "MyCustomLayer" in str(info.value)


def test_opaque_builtin_layers_build_from_their_config():
    """Layers outside the catalog (kept from an import) build from their full
    Keras config, nested wrapper configs (written without "module") included."""
    b = Builder()
    x = b.input(5, 3)
    bi = b.graph.add_node(Node(type="Bidirectional", title="bi", params={
        "layer": {"class_name": "LSTM", "config": {"units": 4, "return_sequences": True,
                                                   "kernel_initializer": "he_normal"}},
        "merge_mode": "concat"})).id
    td = b.graph.add_node(Node(type="TimeDistributed", title="td", params={
        "layer": {"class_name": "Dense", "config": {"units": 2, "kernel_regularizer":
                                                    {"class_name": "L2", "config": {"l2": 0.1}}}}})).id
    b.chain(x, bi, td)
    model = build_model(make_plan(b.graph))
    assert model.output_shape == (None, 5, 2)
    assert model.count_params() == 2 * 4 * (4 * (3 + 4) + 4) + (8 * 2 + 2)


def test_keras_reason_keeps_the_innermost_message():
    exc = TypeError("could not be deserialized properly.\n\nconfig={...}.\n\nException encountered: "
                    "Received an invalid value for `units`, expected a positive integer.")
    assert keras_reason(exc) == "Received an invalid value for `units`, expected a positive integer."
