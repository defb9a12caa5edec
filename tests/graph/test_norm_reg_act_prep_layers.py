"""What a user sees on Normalization/Regularization/Activation/Preprocessing nodes.

Shapes and weight counts are checked against Keras by test_catalog_vs_keras.py;
this file checks the parts Keras cannot judge: refusals of inputs that Keras only
rejects when the model runs, the wording of errors (they name the fix), and the
advice (warnings) on combinations that build but are rarely meant. Pure Python.
"""

from __future__ import annotations

import pytest

from studio.graph import Edge, Graph, Node, analyse, default_catalog

CATALOG = default_catalog()


def _check(layer: str, params: dict | None = None, batch_shape=(None, 8, 8, 3)):
    """Input(batch_shape) -> layer(params); return (layer node's report entries, output shape)."""
    graph = Graph(CATALOG)
    inp = graph.add_node(Node("Input", {"batch_shape": list(batch_shape)}))
    node = graph.add_node(Node(layer, params or {}, title=layer))
    graph.connect(Edge(inp.id, node.id), check_shapes=False)
    report = analyse(graph)
    diags = [(d.severity, d.message) for d in report.for_node(node.id)]
    outputs = report.outputs[node.id]
    return diags, (outputs[0] if outputs else None), report.params[node.id]


def _messages(diags, severity):
    return [m for s, m in diags if s == severity]


@pytest.mark.parametrize("layer", ["Resizing", "CenterCrop", "RandomCrop", "RandomFlip", "RandomRotation",
                                   "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness"])
def test_image_layers_refuse_batches_without_channels_and_say_how_to_fix(layer):
    diags, out, _ = _check(layer, batch_shape=(None, 28, 28))
    assert out is None
    (error,) = _messages(diags, "error")
    assert "(batch, height, width, channels)" in error and "Reshape" in error


def test_image_layers_follow_data_format():
    _, out, _ = _check("Resizing", {"height": 16, "width": 20}, batch_shape=(None, 3, 64, 48))
    assert out == (None, 16, 20, 48)  # channels_last: (3, 64) is the image, 48 the channels
    _, out, _ = _check("Resizing", {"height": 16, "width": 20, "data_format": "channels_first"},
                       batch_shape=(None, 3, 64, 48))
    assert out == (None, 3, 16, 20)


def test_group_normalization_names_the_divisors_of_the_channels():
    diags, out, _ = _check("GroupNormalization", {"groups": 4}, batch_shape=(None, 8, 8, 6))
    assert out is None
    (error,) = _messages(diags, "error")
    assert "4 groups do not divide the 6 channels" in error and "1, 2, 3, 6" in error


def test_batch_normalization_counts_moving_statistics_as_non_trainable():
    diags, out, params = _check("BatchNormalization", batch_shape=(None, 8, 8, 16))
    assert out == (None, 8, 8, 16) and params == (32, 32)
    assert not _messages(diags, "error")


def test_batch_normalization_needs_a_known_channel_count():
    diags, out, _ = _check("BatchNormalization", batch_shape=(None, 8, None))
    (error,) = _messages(diags, "error")
    assert "set that size on the Input layer" in error


def test_batch_normalization_on_the_image_width_is_flagged():
    diags, _, _ = _check("BatchNormalization", {"axis": 2})
    assert any("not the channels" in m for m in _messages(diags, "warning"))
    assert not _messages(_check("BatchNormalization", {"axis": -1})[0], "warning")


@pytest.mark.parametrize("layer", ["Dropout", "SpatialDropout2D"])
def test_high_dropout_rates_are_flagged(layer):
    assert not _messages(_check(layer, {"rate": 0.5})[0], "warning")
    assert any("0.1-0.5" in m for m in _messages(_check(layer, {"rate": 0.8})[0], "warning"))


def test_dropout_noise_shape_that_cannot_broadcast_is_flagged():
    diags, out, _ = _check("Dropout", {"noise_shape": [None, 1, 1, 3]})
    assert out == (None, 8, 8, 3) and not _messages(diags, "warning")
    diags, out, _ = _check("Dropout", {"noise_shape": [None, 3]})
    assert out == (None, 8, 8, 3)  # Keras builds it; training would fail
    assert any("noise_shape" in m for m in _messages(diags, "warning"))


def test_spatial_dropout_names_the_expected_input():
    diags, out, _ = _check("SpatialDropout1D", batch_shape=(None, 8, 8, 3))
    (error,) = _messages(diags, "error")
    assert "(batch, steps, channels)" in error


def test_softmax_axis_that_does_not_exist_is_an_error_though_keras_builds_it():
    diags, out, _ = _check("Softmax", {"axis": 5}, batch_shape=(None, 10))
    assert out == (None, 10)
    assert any("axis 5" in m for m in _messages(diags, "error"))


def test_softmax_over_a_single_unit_suggests_sigmoid():
    diags, _, _ = _check("Softmax", batch_shape=(None, 1))
    assert any("sigmoid" in m for m in _messages(diags, "warning"))


def test_prelu_learns_one_slope_per_position_unless_axes_are_shared():
    diags, _, params = _check("PReLU", batch_shape=(None, 32, 32, 3))
    assert params == (32 * 32 * 3, 0)
    assert any("shared_axes=[1, 2]" in m for m in _messages(diags, "info"))
    _, _, params = _check("PReLU", {"shared_axes": [1, 2]}, batch_shape=(None, 32, 32, 3))
    assert params == (3, 0)


def test_normalization_with_fixed_statistics_has_no_weights_and_checks_their_shape():
    diags, _, params = _check("Normalization", batch_shape=(None, 3))
    assert params == (0, 7)  # adapted mean and variance (3 each) + the sample count
    assert any("fitted on the training split" in m for m in _messages(diags, "info"))  # not a warning: training adapts it
    _, out, params = _check("Normalization", {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 1.0, 4.0]},
                            batch_shape=(None, 3))
    assert out == (None, 3) and params == (0, 0)
    diags, out, _ = _check("Normalization", {"mean": [1.0, 2.0], "variance": [1.0, 1.0]}, batch_shape=(None, 3))
    assert out is None
    assert any("shape (3,)" in m for m in _messages(diags, "error"))


def test_random_rotation_refuses_a_factor_out_of_range():
    diags, out, _ = _check("RandomRotation", {"factor": 1.5})
    assert out is None
    assert any("[-1, 1]" in m for m in _messages(diags, "error"))


def test_resizing_cannot_both_crop_and_pad():
    diags, out, _ = _check("Resizing", {"height": 4, "width": 4, "crop_to_aspect_ratio": True,
                                        "pad_to_aspect_ratio": True})
    assert out == (None, 4, 4, 3)
    assert _messages(diags, "error")


def test_crop_larger_than_image_is_flagged():
    diags, out, _ = _check("CenterCrop", {"height": 224, "width": 4})
    assert out == (None, 224, 4, 3)
    assert any("at most 8" in m for m in _messages(diags, "warning"))


def test_frozen_batch_normalization_moves_gamma_and_beta_to_non_trainable():
    graph = Graph(CATALOG)
    inp = graph.add_node(Node("Input", {"batch_shape": [None, 4]}))
    bn = graph.add_node(Node("BatchNormalization", trainable=False))
    graph.connect(Edge(inp.id, bn.id))
    assert analyse(graph).params[bn.id] == (0, 16)
