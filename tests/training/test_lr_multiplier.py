"""A base's learning-rate multiplier (the Backbone node's `lr_multiplier`) with every optimizer the app offers."""

from __future__ import annotations

import numpy as np
import pytest

from studio.compiler.keras_build import compile_model
from studio.hub.backbones import BASE_ATTR, LR_MULTIPLIER_ATTR
from studio.training.config import OPTIMIZERS, TrainingConfig


def _model(keras, multiplier):
    """A tiny 'base' sub-model (marked like a Backbone node's) and a Dense head."""
    keras.utils.set_random_seed(3)
    inner_in = keras.Input((6,))
    base = keras.Model(inner_in, keras.layers.Dense(5, activation="tanh", name="base_dense")(inner_in), name="base")
    setattr(base, BASE_ATTR, True)
    setattr(base, LR_MULTIPLIER_ATTR, multiplier)
    inputs = keras.Input((6,))
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(base(inputs)))


def _one_step(keras, multiplier, optimizer="sgd"):
    """How far the base's and the head's weights move in one step of `optimizer` (whole batch)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 6)).astype("float32"), rng.integers(0, 3, size=16)
    model = _model(keras, multiplier)
    compile_model(model, TrainingConfig(optimizer=optimizer, learning_rate=0.05, steps_per_execution=1),
                  num_classes=3)
    base, head = model.get_layer("base"), model.get_layer("head")
    before = [w.numpy().copy() for w in base.weights], [w.numpy().copy() for w in head.weights]
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    moved = [float(np.sqrt(sum(((w.numpy() - b) ** 2).sum() for w, b in zip(layer.weights, old))))
             for layer, old in ((base, before[0]), (head, before[1]))]
    return moved[0], moved[1], model


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_multiplier_zero_keeps_the_base_still_with_every_optimizer(keras, optimizer):
    base_moved, head_moved, _ = _one_step(keras, 0.0, optimizer)
    assert base_moved == 0.0
    assert head_moved > 0.0


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_multiplier_one_tenth_moves_the_base_ten_times_less(keras, optimizer):
    slow, head_slow, _ = _one_step(keras, 0.1, optimizer)
    full, head_full, _ = _one_step(keras, 1.0, optimizer)
    assert full > 0
    assert slow / full == pytest.approx(0.1, rel=1e-4)
    assert head_slow == pytest.approx(head_full, rel=1e-5)  # the head trains at the optimizer's rate


def test_a_model_trained_with_a_multiplier_saves_and_reloads_safely(keras, tmp_path):
    _, _, model = _one_step(keras, 0.5, "adam")
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    assert type(again.optimizer).__name__ == "Adam"
    for a, b in zip(model.weights, again.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
