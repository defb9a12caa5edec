"""compile_model: the model trains with the optimizer, loss and metrics the user chose."""

from __future__ import annotations

import numpy as np
import pytest

from studio.compiler.compile_args import compile_args
from studio.compiler.keras_build import build_model, compile_model
from studio.compiler.plan import make_plan
from studio.core.errors import TrainingError
from studio.training.config import TrainingConfig
from tests.compiler.graphs import mlp, multi_io


def test_project_training_settings_reach_keras():
    model = compile_model(build_model(make_plan(mlp())), {"optimizer": "sgd", "learning_rate": 0.05,
                                                          "optimizer_params": {"momentum": 0.5}})
    assert type(model.optimizer).__name__ == "SGD"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    assert float(model.optimizer.momentum) == pytest.approx(0.5)
    history = model.fit(np.ones((8, 8), "float32"), np.zeros(8), epochs=1, verbose=0)
    # Auto loss for integer labels on a 3-way softmax, with accuracy.
    assert set(history.history) == {"loss", "accuracy"}


def test_training_config_object_and_older_dict_shape():
    model = compile_model(build_model(make_plan(mlp())), TrainingConfig(optimizer="rmsprop", loss="mse",
                                                                        metrics=["mae"]))
    assert type(model.optimizer).__name__ == "RMSprop"
    old = {"optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.01}}, "loss": "mse",
           "metrics": ["mae"]}
    model = compile_model(build_model(make_plan(mlp())), old)
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    history = model.fit(np.ones((4, 8), "float32"), np.zeros((4, 3)), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "mae"}


def test_each_output_gets_its_own_auto_loss():
    args = compile_args(None, output_units=[1, 4])
    assert args.loss == ["binary_crossentropy", "sparse_categorical_crossentropy"]
    assert args.metrics == [["accuracy"], ["accuracy"]]
    model = compile_model(build_model(make_plan(multi_io())), {"loss_weights": [1.0, 0.5]})
    x = [np.ones((4, 5, 3), "float32"), np.ones((4, 4), "float32")]
    history = model.fit(x, [np.zeros((4, 1)), np.zeros(4)], epochs=1, verbose=0)
    assert {"score_loss", "state_head_loss"} <= set(history.history)


def test_regression_task_defaults():
    args = compile_args({"loss": "auto"}, task="regression", output_units=1)
    assert (args.loss, args.metrics) == ("mean_squared_error", ["mae"])
    assert args.optimizer == {"class_name": "Adam", "config": {"learning_rate": 0.001}}


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(TrainingError, match="no loss called 'wobbly_loss'"):
        compile_model(build_model(make_plan(mlp())), {"loss": "wobbly_loss"})
