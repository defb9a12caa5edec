"""Recurrent, attention and merge layers as a user meets them on the canvas (pure: no TensorFlow).

Ports appear and disappear with return_state, a wrong wire is refused with the
fix in its message, attention names its inputs, Bidirectional doubles its layer.
"""

from __future__ import annotations

import pytest

from studio.core.errors import PortError, ShapeMismatch
from studio.graph import Edge, Graph, Node, analyse, default_catalog


def _graph(*nodes: Node, wires: list[tuple] = ()) -> Graph:
    graph = Graph()
    for node in nodes:
        graph.add_node(node)
    for wire in wires:
        graph.connect(Edge(*wire), check_shapes=False)
    return graph


def _sequence(steps: int = 10, features: int = 8) -> Node:
    return Node("Input", {"batch_shape": [None, steps, features]}, id="seq")


# -- return_state: output ports ---------------------------------------------------------------
@pytest.mark.parametrize("type_id, names", [
    ("LSTM", ("output", "state_h", "state_c")),
    ("GRU", ("output", "state")),
    ("SimpleRNN", ("output", "state")),
])
def test_return_state_adds_named_state_ports(type_id, names):
    spec = default_catalog().get(type_id)
    graph = _graph(_sequence(), Node(type_id, {"units": 16}, id="rnn"), wires=[("seq", "rnn")])
    rnn = graph.node("rnn")
    assert graph.num_outputs(rnn) == 1 and spec.output_names(spec.resolve(rnn.params)) == ("output",)

    graph.set_param("rnn", "return_state", True)
    assert graph.num_outputs(rnn) == len(names)
    assert spec.output_names(spec.resolve(rnn.params)) == names
    report = analyse(graph)
    assert report.ok
    # The output and every state: (batch, units).
    assert report.outputs["rnn"] == [(None, 16)] * len(names)

    graph.set_param("rnn", "return_sequences", True)
    assert analyse(graph).outputs["rnn"] == [(None, 10, 16)] + [(None, 16)] * (len(names) - 1)


def test_a_state_port_can_be_wired_and_one_past_the_last_cannot():
    graph = _graph(_sequence(), Node("LSTM", {"units": 12, "return_state": True}, id="enc"),
                   Node("Dense", {"units": 3}, id="from_c"), Node("Dense", {"units": 3}, id="nowhere"),
                   wires=[("seq", "enc")])
    graph.connect(Edge("enc", "from_c", 2, 0))  # state_c
    assert analyse(graph).inputs["from_c"] == [(None, 12)]
    with pytest.raises(PortError, match="no output port 3"):
        graph.connect(Edge("enc", "nowhere", 3, 0))
    # Turning return_state off again leaves the wire from state_c pointing at nothing.
    graph.set_param("enc", "return_state", False)
    assert graph.num_outputs(graph.node("enc")) == 1
    assert analyse(graph).outputs["from_c"] is None


def test_bidirectional_lstm_with_return_state_has_forward_and_backward_states():
    spec = default_catalog().get("Bidirectional")
    params = {"layer": {"class_name": "LSTM", "config": {"units": 8, "return_state": True}}}
    names = spec.output_names(spec.resolve(params))
    assert names == ("output", "forward_h", "forward_c", "backward_h", "backward_c")
    graph = _graph(_sequence(), Node("Bidirectional", params, id="bi"), wires=[("seq", "bi")])
    assert analyse(graph).outputs["bi"] == [(None, 16)] + [(None, 8)] * 4


# -- stacking recurrent layers ------------------------------------------------------------------
def test_lstm_after_lstm_without_return_sequences_is_refused_with_the_fix():
    graph = _graph(_sequence(), Node("LSTM", {"units": 32}, title="first", id="a"),
                   Node("LSTM", {"units": 16}, title="second", id="b"), wires=[("seq", "a")])
    ok, reason = graph.can_connect(Edge("a", "b"))
    assert not ok
    assert reason.startswith("second:") and "(None, 32)" in reason and "return_sequences=True" in reason
    with pytest.raises(ShapeMismatch, match="return_sequences=True"):
        graph.connect(Edge("a", "b"))

    # A wire forced in (e.g. from a file) shows the same advice on the node.
    graph.connect(Edge("a", "b"), check_shapes=False)
    [error] = analyse(graph).errors
    assert error.node == "b" and "return_sequences=True" in error.message

    # Following the advice fixes it.
    graph.set_param("a", "return_sequences", True)
    report = analyse(graph)
    assert report.ok and report.outputs["b"] == [(None, 16)]


def test_gru_on_an_image_says_how_to_make_a_sequence():
    graph = _graph(Node("Input", {"batch_shape": [None, 28, 28, 1]}, id="img"), Node("GRU", {}, id="gru"))
    ok, reason = graph.can_connect(Edge("img", "gru"))
    assert not ok and "3-D input (batch, steps, features)" in reason and "(None, 28, 28, 1)" in reason


# -- merges ---------------------------------------------------------------------------------------
def test_adding_branches_of_different_sizes_suggests_dense_or_concatenate():
    graph = _graph(Node("Input", {"batch_shape": [None, 20]}, id="x"),
                   Node("Dense", {"units": 64}, id="wide"), Node("Dense", {"units": 32}, id="narrow"),
                   Node("Add", {}, title="sum", id="add"),
                   wires=[("x", "wide"), ("x", "narrow"), ("wide", "add", 0, 0)])
    ok, reason = graph.can_connect(Edge("narrow", "add", 0, 1))
    assert not ok
    assert "(None, 64)" in reason and "(None, 32)" in reason
    assert "Dense(64)" in reason and "Concatenate" in reason

    # Concatenate takes the same two branches side by side.
    graph.add_node(Node("Concatenate", {}, id="cat"))
    graph.connect(Edge("wide", "cat", 0, 0))
    graph.connect(Edge("narrow", "cat", 0, 1))
    assert analyse(graph).outputs["cat"] == [(None, 96)]


def test_add_of_same_shapes_is_fine_and_has_no_weights():
    graph = _graph(Node("Input", {"batch_shape": [None, 6]}, id="x"), Node("Dense", {"units": 6}, id="d"),
                   Node("Add", {}, id="add"), wires=[("x", "d"), ("x", "add", 0, 0), ("d", "add", 0, 1)])
    report = analyse(graph)
    assert report.ok and report.outputs["add"] == [(None, 6)] and report.params["add"] == (0, 0)


# -- attention ------------------------------------------------------------------------------------
def test_multi_head_attention_names_its_inputs_query_value_key():
    spec = default_catalog().get("MultiHeadAttention")
    assert spec.input_names == ("query", "value", "key")
    assert (spec.min_inputs, spec.max_inputs) == (2, 3)  # the key is optional (defaults to the value)

    graph = _graph(_sequence(), Node("MultiHeadAttention", {"num_heads": 2, "key_dim": 4}, title="mha", id="mha"),
                   wires=[("seq", "mha", 0, 0)])
    [error] = analyse(graph).errors
    assert error.node == "mha" and "needs at least 2 inputs" in error.message
    graph.connect(Edge("seq", "mha", 0, 1))  # self-attention: the same sequence as query and value
    report = analyse(graph)
    assert report.ok and report.outputs["mha"] == [(None, 10, 8)]
    assert report.params["mha"][0] > 0


def test_attention_with_its_key_wired_but_not_its_value_names_the_empty_port():
    keys = Node("Input", {"batch_shape": [None, 6, 3]}, id="keys")
    graph = _graph(_sequence(), keys, Node("MultiHeadAttention", {"num_heads": 2, "key_dim": 4}, title="mha",
                                           id="mha"),
                   wires=[("seq", "mha", 0, 0), ("keys", "mha", 0, 2)])  # query and key; value left empty
    [error] = analyse(graph).errors
    assert error.node == "mha"
    assert "'key' port wired but not its 'value' port" in error.message and "wire the value" in error.message
    # with the value wired, the key of another length is fine
    graph.connect(Edge("keys", "mha", 0, 1), check_shapes=False)
    report = analyse(graph)
    assert report.ok and report.outputs["mha"] == [(None, 10, 8)]


# -- Bidirectional ----------------------------------------------------------------------------------
@pytest.mark.parametrize("inner", ["LSTM", "GRU", "SimpleRNN"])
def test_bidirectional_has_twice_the_weights_of_its_layer(inner):
    config = {"units": 24}
    graph = _graph(_sequence(features=5), Node(inner, config, id="single"),
                   Node("Bidirectional", {"layer": {"class_name": inner, "config": config}}, id="both"),
                   wires=[("seq", "single"), ("seq", "both")])
    report = analyse(graph)
    assert report.ok
    single, both = report.params["single"], report.params["both"]
    assert single[0] > 0 and both == (2 * single[0], 2 * single[1])
    assert report.outputs["both"] == [(None, 48)]  # concatenated: twice the units

    graph.set_param("both", "merge_mode", "sum")
    assert analyse(graph).outputs["both"] == [(None, 24)]
