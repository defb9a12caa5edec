"""Fast heads on frozen bases: the base's features are computed once and the head trains on them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.compiler.keras_build import compile_model
from studio.compiler.plan import make_plan
from studio.hub.backbones import BASE_ATTR
from studio.training import features, runs
from studio.training.config import TrainingConfig
from studio.training.reports import TaskInfo
from studio.training.session import TrainingSession
from tests.compiler.graphs import Builder
from tests.training.conftest import Recorder
from tests.training.test_two_phase import calibrated

SIZE = 32
# Head weights after the same epochs, whole model vs cached features (float32, same batches in the same
# order): they differ only by the order of floating-point sums in the base's forward pass.
TOLERANCE = 1e-5


def _head_weights(model):
    return [w.numpy().copy() for layer in ("hidden", "head") for w in model.get_layer(layer).weights]


def test_a_head_on_cached_features_of_a_small_frozen_base_equals_the_plain_fit(keras, blobs):
    from tests.training.test_two_phase import tiny_base_model

    x, y = blobs
    x = np.concatenate([x, x[:, :2]], axis=1)
    y = (y > 0).astype("int64")
    keras.utils.set_random_seed(5)
    model = tiny_base_model(keras, frozen=True)
    bn = model.get_layer("base").layers[-1].get_layer("bn")  # statistics as a pretrained base has them
    bn.moving_mean.assign(np.full(8, 0.1, "float32"))
    bn.moving_variance.assign(np.full(8, 0.5, "float32"))
    start = [w.numpy().copy() for w in model.weights]
    config = TrainingConfig(optimizer="adam", learning_rate=0.01, steps_per_execution=1)
    compile_model(model, config, num_classes=2)
    model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    plain = [w.numpy().copy() for w in model.get_layer("head").weights]
    model.set_weights(start)
    split, why = features.split(model)
    assert split is not None, why
    cached, why = features.cache(split, x, y, None, 32)
    compile_model(split.head, config, num_classes=2)
    split.head.fit(cached.x, cached.y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    for p, w, s in zip(plain, model.get_layer("head").weights, start[-2:]):
        assert float(np.abs(p - s).max()) > 100 * TOLERANCE
        np.testing.assert_allclose(w.numpy(), p, rtol=0, atol=TOLERANCE)


@pytest.mark.slow
def test_the_head_trained_on_cached_features_equals_the_head_trained_through_the_frozen_base(keras):
    b = Builder()
    x = b.input(SIZE, SIZE, 3, title="images")
    base = b.add("Backbone", title="base", backbone="MobileNetV3Small", pooling="avg")
    hidden = b.add("Dense", units=8, activation="relu", title="hidden")
    head = b.add("Dense", units=3, title="head")
    b.chain(x, base, hidden, head)
    b.graph.node(base).trainable = False
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, size=(48, SIZE, SIZE, 3)).astype("float32")
    labels = rng.integers(0, 3, size=48)
    keras.utils.set_random_seed(4)
    model = calibrated(keras, make_plan(b.graph, "frozen"), images)
    start = [w.numpy().copy() for w in model.weights]
    config = TrainingConfig(optimizer="adam", learning_rate=0.01, steps_per_execution=1)

    compile_model(model, config, num_classes=3)
    model.fit(images, labels, batch_size=8, epochs=3, shuffle=False, verbose=0)
    plain = _head_weights(model)

    model.set_weights(start)
    split, why = features.split(model)
    assert split is not None, why
    assert split.features.trainable_weights == []
    cached, why = features.cache(split, images, labels, None, 8)
    assert cached is not None, why
    assert cached.x.shape == (48, 576) and cached.samples == 48
    compile_model(split.head, config, num_classes=3)
    split.head.fit(cached.x, cached.y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    fast = _head_weights(model)  # the head model trained the model's own layers

    moved = max(float(np.abs(p - s).max()) for p, s in zip(plain, _head_weights_of(start, model)))
    assert moved > 100 * TOLERANCE  # training changed the head far more than the tolerance
    for p, f in zip(plain, fast):
        np.testing.assert_allclose(f, p, rtol=0, atol=TOLERANCE)



def _head_weights_of(values, model):
    by_id = {id(w): v for w, v in zip(model.weights, values)}
    return [by_id[id(w)] for layer in ("hidden", "head") for w in model.get_layer(layer).weights]


def _tiny(keras, before=None, trainable_base=False):
    """A small model with a marked frozen 'base' sub-model (as a Backbone node's is marked)."""
    def build():
        inputs = keras.Input((6,))
        inner_in = keras.Input((6,))
        base = keras.Model(inner_in, keras.layers.Dense(5, activation="tanh", name="base_dense")(inner_in),
                           name="base")
        setattr(base, BASE_ATTR, True)
        base.trainable = trainable_base
        x = before(inputs) if before is not None else inputs
        return keras.Model(inputs, keras.layers.Dense(3, name="head")(base(x)))
    return build


def test_a_run_on_a_frozen_base_trains_the_head_on_cached_features(tmp_path, keras, blobs):
    x, y = blobs
    x = np.concatenate([x, x[:, :2]], axis=1)
    recorder = Recorder()
    config = TrainingConfig(epochs=3, batch_size=32, learning_rate=0.05, seed=1)
    box = []
    session = TrainingSession(_tiny(keras), (x, y), None, config, recorder, runs_root=tmp_path / "p.runs",
                              task=TaskInfo(task="classification", num_classes=3), tensorboard=False)
    box.append(session)
    result = session.run()
    assert result.status == "completed", result.message
    assert any("computed once" in text for _level, text in recorder.messages), recorder.messages
    history = runs.load_history(result.run_dir)
    assert history.epoch["val_loss"][-1] < history.epoch["val_loss"][0]  # the head learned
    best = keras.models.load_model(result.run_dir / runs.BEST_MODEL, safe_mode=True)
    assert best.get_layer("base") is not None  # the checkpoint is the whole model, not the head
    assert json.loads((result.run_dir / runs.CONFIG_FILE).read_text())["training"]["cache_features"] is True


@pytest.mark.parametrize("what", ["augmentation", "trainable"])
def test_features_are_not_cached_when_they_change_between_epochs(keras, what):
    if what == "augmentation":
        model = _tiny(keras, before=keras.layers.GaussianNoise(0.1, name="noise"))()
        split, why = features.split(model)
        assert split is None and "noise" in why and "random" in why
    else:
        model = _tiny(keras, trainable_base=True)()
        split, why = features.split(model)
        assert split is None and "not frozen" in why


def test_a_batched_dataset_is_read_once_and_its_samples_keep_their_targets(keras, blobs):
    import tensorflow as tf

    x, y = blobs
    x = np.concatenate([x, x[:, :2]], axis=1)
    model = _tiny(keras)()
    split, why = features.split(model)
    assert split is not None, why
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(400, seed=1).batch(32)
    val = tf.data.Dataset.from_tensor_slices((x[:40], y[:40])).batch(16)
    cached, why = features.cache(split, train, None, val, 32)
    assert cached is not None, why
    assert cached.x.shape == (400, 5) and cached.samples == 400
    # each feature row is the base's output for the sample its target came with
    expected = model.get_layer("base").predict(x, verbose=0)
    order = [int(np.argmin(np.abs(expected - row).sum(axis=1))) for row in cached.x]
    np.testing.assert_allclose(cached.x, expected[order], atol=1e-6)
    np.testing.assert_array_equal(cached.y, y[order])
    assert sorted(order) == list(range(400))
    np.testing.assert_allclose(cached.validation[0], expected[:40], atol=1e-6)
