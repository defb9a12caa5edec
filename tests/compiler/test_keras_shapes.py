"""Layers outside the catalog get their shapes from Keras, and so does everything after them."""

from __future__ import annotations

import keras
import pytest

from studio.compiler.keras_build import build_model_from_graph
from studio.compiler.keras_shapes import opaque_shapes
from studio.graph import Edge, Graph, Node, analyse, default_catalog

# Keras layers our catalog does not describe (checked below, so the tests cannot go quietly stale).
OPAQUE = ("Masking", "RMSNormalization", "SpectralNormalization", "StringLookup")


def _chain(*nodes: Node) -> Graph:
    graph = Graph()
    for node in nodes:
        graph.add_node(node)
    for a, b in zip(nodes, nodes[1:]):
        graph.connect(Edge(a.id, b.id), check_shapes=False)
    return graph


@pytest.mark.parametrize("class_name", OPAQUE)
def test_these_classes_really_are_outside_the_catalog(class_name):
    assert default_catalog().for_class(class_name) is None and class_name not in default_catalog()
    assert isinstance(getattr(keras.layers, class_name), type)


def test_shapes_flow_through_a_chain_of_opaque_layers_and_match_the_built_model():
    graph = _chain(
        Node("Input", {"batch_shape": [None, 8, 4]}, id="in"),
        Node("Masking", {"mask_value": 0.0}, id="mask"),
        Node("RMSNormalization", {"axis": -1, "epsilon": 1e-6}, id="rms"),
        Node("Dense", {"units": 3}, id="out"),
    )
    before = analyse(graph)
    assert before.outputs["out"] is None  # unknown until Keras has looked at the opaque layers

    found = opaque_shapes(graph, before)
    assert not found.problems
    after = analyse(graph, external=found.shapes)
    model = build_model_from_graph(graph, "m")
    assert after.ok
    assert after.outputs["mask"] == [(None, 8, 4)]
    assert after.outputs["out"] == [tuple(model.outputs[0].shape)]
    assert after.total_params == model.count_params()
    rms = model.get_layer(index=2)
    assert after.params["rms"] == (rms.count_params(), 0)
    assert found.inputs["rms"] == [(None, 8, 4)]


def test_a_wrapper_with_a_nested_layer_config_counts_like_keras():
    graph = _chain(
        Node("Input", {"batch_shape": [None, 6]}, id="in"),
        Node("SpectralNormalization", {"layer": {"class_name": "Dense", "config": {"units": 4}}}, id="sn"),
    )
    found = opaque_shapes(graph)
    assert not found.problems, found.problems
    model = build_model_from_graph(graph, "m")
    layer = model.layers[-1]
    trainable = sum(int(w.numpy().size) for w in layer.trainable_weights)
    assert found.shapes["sn"] == ([(None, 4)], (trainable, model.count_params() - trainable))
    assert found.shapes["sn"][1][1] > 0  # the power-iteration vector is not trained


def test_input_dtype_reaches_the_opaque_layer_and_its_output_feeds_the_catalog():
    # A text Input feeds a StringLookup (strings in, integer ids out), then an Embedding.
    graph = _chain(
        Node("Input", {"batch_shape": [None, 5], "dtype": "string"}, id="in"),
        Node("StringLookup", {"vocabulary": ["cat", "dog", "fish"]}, id="lookup"),
        Node("Embedding", {"input_dim": 4, "output_dim": 2}, id="emb"),
    )
    found = opaque_shapes(graph)
    assert not found.problems, found.problems
    report = analyse(graph, external=found.shapes)
    assert report.outputs["lookup"] == [(None, 5)]
    assert report.outputs["emb"] == [(None, 5, 2)]


def test_a_layer_keras_cannot_build_is_reported_not_raised():
    graph = _chain(
        Node("Input", {"batch_shape": [None, 4]}, id="in"),
        Node("MyCompanyLayer", {"units": 3}, title="custom", id="custom"),
        Node("RMSNormalization", {}, id="after"),
    )
    found = opaque_shapes(graph)
    message = found.problems["custom"]
    assert message.startswith("'custom': MyCompanyLayer is not a layer built into Keras")
    assert "custom layer needs its code" in message and "\n" not in message
    assert "after" not in found.shapes and "after" not in found.problems  # its input shape stays unknown


def test_code_carrying_layers_are_never_built():
    graph = _chain(Node("Input", {"batch_shape": [None, 4]}, id="in"),
                   Node("Lambda", {"function": "os.system('rm -rf /')"}, id="lam"))
    found = opaque_shapes(graph)
    assert "never loaded from a file" in found.problems["lam"] and "lam" not in found.shapes


def test_a_bad_config_or_input_names_the_node_and_keras_reason():
    graph = _chain(Node("Input", {"batch_shape": [None, 4]}, id="in"),
                   Node("Masking", {"no_such_argument": 1}, title="mask it", id="mask"))
    message = opaque_shapes(graph).problems["mask"]
    assert message.startswith("'mask it': Keras cannot build this Masking layer on inputs (None, 4)")
    assert "no_such_argument" in message


def test_frozen_opaque_layer_counts_as_non_trainable():
    graph = _chain(
        Node("Input", {"batch_shape": [None, 6]}, id="in"),
        Node("RMSNormalization", {}, id="rms", trainable=False),
    )
    trainable, frozen = opaque_shapes(graph).shapes["rms"][1]
    layer = keras.layers.RMSNormalization()
    layer(keras.Input((6,)))
    assert trainable == 0 and frozen == layer.count_params() > 0


def test_known_results_are_kept_not_recomputed():
    graph = _chain(Node("Input", {"batch_shape": [None, 6]}, id="in"), Node("Masking", {}, id="mask"))
    sentinel = ([(None, 99)], (1, 2))
    found = opaque_shapes(graph, known={"mask": sentinel})
    assert found.shapes["mask"] == sentinel and "mask" not in found.inputs
