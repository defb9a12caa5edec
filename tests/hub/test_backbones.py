"""Backbone nodes: Keras Applications built through the node, frozen as asked (no download)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.compiler.keras_build import build_model
from studio.compiler.plan import make_plan
from studio.core.errors import BuildError
from studio.graph.inference import analyse
from studio.hub.backbones import BACKBONES, build_backbone, output_shape, param_counts
from tests.compiler.graphs import Builder

SIZE = 96


def _count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def _graph(size=SIZE, **params):
    b = Builder()
    x = b.input(size, size, 3, title="images")
    node = b.add("Backbone", title="base", backbone="MobileNetV2", **params)
    out = b.add("Dense", units=2, title="head")
    b.chain(x, node, out)
    return b.graph, node


@pytest.mark.parametrize("freeze", [0, 30, 100])
def test_mobilenet_v2_freezes_like_keras(freeze):
    import keras

    graph, node = _graph(pooling="avg", freeze_up_to=freeze)
    report = analyse(graph)
    assert not report.errors, report.errors
    model = build_model(make_plan(graph, report=report))
    assert model.count_params() == report.total_params
    ours = model.get_layer("base")
    reference = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3),
                                               pooling="avg")
    for layer in reference.layers[:freeze]:
        layer.trainable = False
    assert _count(ours.trainable_weights) == _count(reference.trainable_weights)
    assert _count(ours.non_trainable_weights) == _count(reference.non_trainable_weights)
    # The node shows the same split before anything is built (pure inference).
    assert report.params[node] == (_count(ours.trainable_weights), _count(ours.non_trainable_weights))
    assert tuple(model.get_layer("base").output.shape) == tuple(report.outputs[node][0])


def test_every_backbone_layer_table_adds_up_to_its_trainable_count():
    from studio.graph.layers.backbone_counts import LAYERS
    from studio.graph.layers.transfer import frozen_counts

    assert set(LAYERS) == set(BACKBONES)
    for name, rows in LAYERS.items():
        assert sum(count for _, count in rows) == BACKBONES[name].trainable, name
        total = sum(param_counts(name, 1))
        assert frozen_counts(name, 1, 0) == param_counts(name, 1) or BACKBONES[name].preprocessing == "caffe"
        frozen = frozen_counts(name, 1, 10_000)
        assert frozen[0] == 0 and sum(frozen) == sum(frozen_counts(name, 1, 0)) >= total, name


def test_a_one_channel_backbone_frozen_part_way_counts_like_keras():
    graph, node = _graph(pooling="avg", freeze_up_to=20)
    graph.node(next(n.id for n in graph.nodes if n.type == "Input")).params["batch_shape"] = [None, SIZE, SIZE, 1]
    report = analyse(graph)
    assert not report.errors, report.errors
    ours = build_model(make_plan(graph, report=report)).get_layer("base")
    assert report.params[node] == (_count(ours.trainable_weights), _count(ours.non_trainable_weights))


def test_frozen_backbone_has_no_trainable_weights_and_runs_in_inference_mode():
    graph, _ = _graph(pooling="none")
    graph.node(graph.nodes[1].id).trainable = False
    model = build_model(make_plan(graph))
    base = model.get_layer("base")
    assert base.trainable_weights == []
    assert model.get_layer("base").output.shape == (None, 3, 3, 1280)


def test_local_weights_file_loads(tmp_path):
    import keras

    donor = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    file = tmp_path / "mnv2.weights.h5"
    donor.save_weights(file)
    graph, _ = _graph(weights="file", weights_file=str(file))
    model = build_model(make_plan(graph))
    inner = model.get_layer("base").layers[-1]
    for a, b in zip(donor.weights, inner.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_corrupt_weights_file_is_one_clear_message(tmp_path):
    file = tmp_path / "broken.weights.h5"
    file.write_bytes(b"not an hdf5 file at all")
    graph, node = _graph(weights="file", weights_file=str(file))
    with pytest.raises(BuildError, match="cannot be loaded into MobileNetV2") as err:
        build_model(make_plan(graph))
    assert err.value.node_id == node and "\n" not in str(err.value)


def test_mismatched_weights_file_is_one_clear_message(tmp_path):
    import keras

    other = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    file = tmp_path / "other.weights.h5"
    other.save_weights(file)
    with pytest.raises(Exception, match="cannot be loaded into MobileNetV2"):
        build_backbone("MobileNetV2", (SIZE, SIZE, 3), weights="file", weights_file=str(file))


def test_imagenet_offline_names_the_file_and_the_folder(monkeypatch, tmp_path):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/tensorflow/keras-applications/"
                        "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5: no network")

    monkeypatch.setattr(file_utils, "get_file", offline)
    import keras.src.applications.mobilenet_v2 as mnv2

    monkeypatch.setattr(mnv2.file_utils, "get_file", offline)
    with pytest.raises(Exception) as err:
        build_backbone("MobileNetV2", (SIZE, SIZE, 3), weights="imagenet")
    message = str(err.value)
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5" in message
    assert str(tmp_path / "keras-home" / "models") in message


def test_too_small_input_is_a_diagnostic():
    b = Builder()
    x = b.input(16, 16, 3)
    node = b.add("Backbone", backbone="MobileNetV2")
    from studio.core.errors import ShapeMismatch

    with pytest.raises(ShapeMismatch, match="at least 32x32"):
        b.chain(x, node)


FAST = ["MobileNetV2", "MobileNetV3Small", "ResNet50"]


def _check_table(name, size):
    import keras

    fn = getattr(keras.applications, name)
    for channels in (3, 1):
        model = fn(include_top=False, weights=None, input_shape=(size, size + 7, channels))
        expected = param_counts(name, channels)
        assert (_count(model.trainable_weights), _count(model.non_trainable_weights)) == expected, (name, channels)
        assert tuple(model.output.shape) == output_shape(name, (None, size, size + 7, channels), "none")


@pytest.mark.parametrize("name", FAST)
def test_table_matches_keras(name):
    _check_table(name, 96)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in BACKBONES if n not in FAST])
def test_table_matches_keras_slow(name):
    _check_table(name, max(BACKBONES[name].min_size, 80) + 3)


def test_the_layer_table_is_what_keras_builds_today():
    """After a Keras upgrade this fails: run `python -m studio.hub.backbone_table` again."""
    from studio.graph.layers.backbone_counts import LAYERS
    from studio.hub.backbone_table import table_row

    assert tuple(table_row("MobileNetV3Small")) == LAYERS["MobileNetV3Small"]
