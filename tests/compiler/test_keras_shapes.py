"""Layers outside the catalog get their shapes from Keras, and so does everything after them."""

from __future__ import annotations

import keras

from studio.compiler.keras_build import build_model_from_graph
from studio.compiler.keras_shapes import opaque_shapes
from studio.graph import Edge, Graph, Node, analyse


def _chain(*nodes: Node) -> Graph:
    graph = Graph()
    for node in nodes:
        graph.add_node(node)
    for a, b in zip(nodes, nodes[1:]):
        graph.connect(Edge(a.id, b.id), check_shapes=False)
    return graph


def test_shapes_flow_through_opaque_layers_and_match_the_built_model():
    # Masking and RMSNormalization are Keras layers our catalog does not describe.
    graph = _chain(
        Node("Input", {"batch_shape": [None, 8, 4]}, id="in"),
        Node("Masking", {"mask_value": 0.0}, id="mask"),
        Node("RMSNormalization", {"axis": -1, "epsilon": 1e-6}, id="rms"),
        Node("Dense", {"units": 3}, id="out"),
    )
    before = analyse(graph)
    assert before.outputs["out"] is None  # unknown until Keras has looked at the opaque layers

    found = opaque_shapes(graph)
    assert not found.problems
    after = analyse(graph, external=found.shapes)
    assert after.outputs["mask"] == [(None, 8, 4)]
    assert after.outputs["out"] == [(None, 8, 3)]
    model = build_model_from_graph(graph, "m")
    assert after.total_params == model.count_params()
    assert after.params["rms"] == (4, 0)


def test_a_layer_keras_cannot_build_is_reported_not_raised():
    graph = _chain(
        Node("Input", {"batch_shape": [None, 4]}, id="in"),
        Node("MyCompanyLayer", {"units": 3}, title="custom", id="custom"),
        Node("Lambda", {"function": "os.system('x')"}, id="lam"),
    )
    found = opaque_shapes(graph)
    assert "custom" in found.problems["custom"] and "custom layer needs its code" in found.problems["custom"]
    assert "lam" not in found.shapes  # never built: downstream of an unknown shape
    graph2 = _chain(Node("Input", {"batch_shape": [None, 4]}, id="in"), Node("Lambda", {}, id="lam"))
    assert "never built" in opaque_shapes(graph2).problems["lam"]


def test_frozen_opaque_layer_counts_as_non_trainable():
    graph = _chain(
        Node("Input", {"batch_shape": [None, 6]}, id="in"),
        Node("RMSNormalization", {}, id="rms", trainable=False),
    )
    assert opaque_shapes(graph).shapes["rms"][1] == (0, 6)
    assert keras.layers.RMSNormalization  # the class this test relies on exists
