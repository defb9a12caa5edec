"""Convolution, pooling and reshaping specs as a user meets them: the messages
on a node and the advice beside it. Shapes and weight counts themselves are
checked against Keras in test_catalog_vs_keras.py; these tests need no TF."""

import pytest

from studio.graph import default_catalog
from studio.graph.spec import ShapeError

CATALOG = default_catalog()


def _run(spec_id, params, *shapes):
    spec = CATALOG.get(spec_id)
    resolved, problems = spec.validate(params)
    assert not problems, problems
    out = spec.infer_shape(resolved, list(shapes))
    return out, spec.count_params(resolved, list(shapes)), spec.advise(resolved, list(shapes))


def _refusal(spec_id, params, *shapes) -> str:
    with pytest.raises(ShapeError) as info:
        _run(spec_id, params, *shapes)
    return str(info.value)


def test_a_typical_cnn_has_the_shapes_and_weights_users_expect():
    out, weights, _ = _run("Conv2D", {"filters": 32, "kernel_size": 3}, (None, 28, 28, 1))
    assert out == [(None, 26, 26, 32)] and weights == (3 * 3 * 1 * 32 + 32, 0)
    out, _, _ = _run("MaxPooling2D", {}, (None, 26, 26, 32))
    assert out == [(None, 13, 13, 32)]
    out, _, _ = _run("Flatten", {}, (None, 13, 13, 32))
    assert out == [(None, 13 * 13 * 32)]


def test_wrong_rank_names_the_expected_layout_and_a_fix():
    msg = _refusal("Conv2D", {}, (None, 10))
    assert "4-D input (batch, height, width, channels)" in msg and "(None, 10)" in msg and "Reshape" in msg
    msg = _refusal("Conv2D", {}, (None, 28, 28))
    assert "Reshape to (28, 28, 1)" in msg and "Conv1D" in msg
    assert "(batch, channels, steps)" in _refusal("MaxPooling1D", {"data_format": "channels_first"}, (None, 4))


def test_kernel_that_does_not_fit_suggests_same_padding():
    msg = _refusal("Conv2D", {"kernel_size": 3}, (None, 2, 2, 3))
    assert "3x3 kernel does not fit the 2x2 input" in msg and "padding 'same'" in msg
    out, _, _ = _run("Conv2D", {"kernel_size": 3, "padding": "same"}, (None, 2, 2, 3))
    assert out == [(None, 2, 2, 32)]


def test_channels_first_on_channels_last_data_is_pointed_out():
    msg = _refusal("Conv2D", {"data_format": "channels_first"}, (None, 28, 28, 1))
    assert "channels_last" in msg
    _, _, advice = _run("MaxPooling2D", {"data_format": "channels_first", "padding": "same"}, (None, 28, 28, 3))
    assert any("channels_last" in m for _, m in advice)


def test_groups_must_divide_filters_and_channels():
    assert "multiple of groups" in _refusal("Conv2D", {"filters": 10, "groups": 3}, (None, 8, 8, 6))
    assert "divisible by groups" in _refusal("Conv2D", {"filters": 4, "groups": 2}, (None, 8, 8, 3))
    _, weights, _ = _run("Conv2D", {"filters": 4, "groups": 2, "use_bias": False}, (None, 8, 8, 6))
    assert weights == (3 * 3 * 3 * 4, 0)


def test_unknown_channels_are_refused_with_where_to_set_them():
    assert "set it on the Input" in _refusal("DepthwiseConv2D", {}, (None, 8, 8, None))


def test_transposed_convolution_warns_about_sizes_tensorflow_cannot_run():
    params = {"kernel_size": 4, "strides": 2, "padding": "same"}
    out, _, advice = _run("Conv2DTranspose", params, (None, 8, 8, 3))
    assert out == [(None, 16, 16, 32)] and not any("fails" in m for _, m in advice)
    out, _, advice = _run("Conv2DTranspose", {**params, "output_padding": 0}, (None, 8, 8, 3))
    assert out == [(None, 14, 14, 32)]  # what Keras computes, although TensorFlow cannot run it
    assert any(sev == "warning" and "output_padding None" in m for sev, m in advice)


def test_pooling_strides_default_to_the_pool_size():
    assert _run("MaxPooling2D", {"pool_size": 3}, (None, 9, 9, 1))[0] == [(None, 3, 3, 1)]
    assert _run("MaxPooling2D", {"pool_size": 3, "strides": 1}, (None, 9, 9, 1))[0] == [(None, 7, 7, 1)]


def test_reshape_checks_sizes_only_when_they_are_known():
    assert _run("Reshape", {"target_shape": [28, -1, 1]}, (None, 784))[0] == [(None, 28, 28, 1)]
    msg = _refusal("Reshape", {"target_shape": [20, 20]}, (None, 784))
    assert "784 values" in msg and "400 values" in msg
    out, _, advice = _run("Reshape", {"target_shape": [20, 20]}, (None, None))
    assert out == [(None, 20, 20)] and advice and advice[0][0] == "warning"
    assert "only one -1" in _refusal("Reshape", {"target_shape": [-1, -1]}, (None, 4))


@pytest.mark.parametrize(
    "padding, expected",
    [(2, (None, 11, 11, 3)), ([1, 2], (None, 9, 11, 3)), ([[0, 1], [2, 3]], (None, 8, 12, 3)),
     ([1, [0, 2]], (None, 9, 9, 3))],
)
def test_zero_padding_accepts_every_keras_form(padding, expected):
    assert _run("ZeroPadding2D", {"padding": padding}, (None, 7, 7, 3))[0] == [expected]


def test_bad_padding_and_cropping_say_which_forms_work():
    assert "2 pairs [before, after]" in _refusal("ZeroPadding2D", {"padding": [1, 2, 3]}, (None, 7, 7, 3))
    assert "leaving nothing" in _refusal("Cropping2D", {"cropping": 16}, (None, 32, 32, 3))


def test_palette_categories_hold_the_spatial_layers():
    ids = {s.id for s in CATALOG if s.category in ("Convolution", "Pooling", "Reshaping")}
    assert {"Conv2D", "Conv3DTranspose", "SeparableConv1D", "DepthwiseConv2D", "GlobalAveragePooling3D",
            "MaxPooling1D", "Flatten", "Reshape", "Permute", "RepeatVector", "UpSampling3D", "ZeroPadding1D",
            "Cropping3D"} <= ids
