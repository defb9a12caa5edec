"""TrainingConfig: defaults, tolerant round trip, one-line errors, Keras vocabulary."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studio.core.errors import TrainingError
from studio.training.config import LR_SCHEDULES, OPTIMIZERS, EarlyStopping, TrainingConfig


def test_round_trip_through_json_keeps_every_setting_and_unknown_keys():
    config = TrainingConfig(
        optimizer="sgd",
        optimizer_params={"momentum": 0.9, "nesterov": True},
        learning_rate=0.05,
        lr_schedule="step",
        lr_schedule_params={"step_epochs": 3, "factor": 0.1},
        loss="huber",
        metrics=["mae", "mse"],
        loss_weights=[1.0, 0.5],
        epochs=7,
        batch_size=64,
        validation_split=0.1,
        early_stopping=EarlyStopping(enabled=True, monitor="val_accuracy", patience=2),
        checkpoint_best=False,
        seed=3,
        device="gpu:1",
        mixed_precision=True,
        steps_per_execution=8,
    )
    data = json.loads(json.dumps(config.to_dict()))
    data["from_the_future"] = {"x": [1, 2]}
    again = TrainingConfig.from_dict(data)
    assert again.to_dict() == data
    assert again.unknown == {"from_the_future": {"x": [1, 2]}}
    assert again.early_stopping.monitor == "val_accuracy"


def test_empty_or_missing_dict_gives_defaults():
    assert TrainingConfig.from_dict({}).to_dict() == TrainingConfig().to_dict()
    assert TrainingConfig.from_dict(None).epochs == TrainingConfig().epochs


def test_names_are_normalised():
    config = TrainingConfig.from_dict({"optimizer": "AdamW", "device": "GPU:0", "loss": "mse"})
    assert config.optimizer == "adamw"
    assert config.device == "gpu:0"
    assert config.loss == "mean_squared_error"


@pytest.mark.parametrize(
    "data, key",
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": "ten"}, "epochs"),
        ({"batch_size": -4}, "batch_size"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"optimizer": "adamax2"}, "optimizer"),
        ({"optimizer": "sgd", "optimizer_params": {"beta_1": 0.9}}, "optimizer_params.beta_1"),
        ({"optimizer": "sgd", "optimizer_params": {"momentum": 1.5}}, "optimizer_params.momentum"),
        ({"lr_schedule": "wobbly"}, "lr_schedule"),
        ({"lr_schedule": "step", "lr_schedule_params": {"step_epochs": 0}}, "lr_schedule_params.step_epochs"),
        ({"validation_split": 0.95}, "validation_split"),
        ({"device": "tpu"}, "device"),
        ({"metrics": "accuracy"}, "metrics"),
        ({"loss": "my loss!"}, "loss"),
        ({"early_stopping": {"patience": -1}}, "early_stopping.patience"),
        ({"early_stopping": {"enabled": "yes"}}, "early_stopping.enabled"),
        ({"loss_weights": "heavy"}, "loss_weights"),
        ({"steps_per_execution": 0}, "steps_per_execution"),
    ],
)
def test_bad_values_raise_one_line_naming_the_key(data, key):
    with pytest.raises(TrainingError) as info:
        TrainingConfig.from_dict(data)
    message = str(info.value)
    assert f"'{key}'" in message
    assert "\n" not in message


def test_not_a_dict_is_refused():
    with pytest.raises(TrainingError):
        TrainingConfig.from_dict([1, 2])  # type: ignore[arg-type]


def test_replace_validates_and_keeps_the_rest():
    config = TrainingConfig(epochs=3, batch_size=16)
    assert config.replace(epochs=9).to_dict() == {**config.to_dict(), "epochs": 9}
    with pytest.raises(TrainingError):
        config.replace(batch_size=0)


def test_switching_schedule_keeps_other_schedule_params():
    data = TrainingConfig(lr_schedule="step", lr_schedule_params={"step_epochs": 4}).to_dict()
    data["lr_schedule"] = "cosine"
    config = TrainingConfig.from_dict(data)
    assert config.lr_schedule_params["step_epochs"] == 4
    assert config.lr_schedule_params["warmup_epochs"] == 0


@pytest.mark.parametrize(
    "task, classes, encoding, units, loss, metrics",
    [
        ("classification", 10, "index", 10, "sparse_categorical_crossentropy", ["accuracy"]),
        ("classification", 10, "onehot", 10, "categorical_crossentropy", ["accuracy"]),
        ("classification", 2, "index", 1, "binary_crossentropy", ["accuracy"]),
        ("classification", 2, "index", 2, "sparse_categorical_crossentropy", ["accuracy"]),
        ("classification", 5, "multilabel", 5, "binary_crossentropy", ["binary_accuracy"]),
        ("regression", None, "index", 1, "mean_squared_error", ["mae"]),
    ],
)
def test_auto_loss_and_metrics_follow_the_task(task, classes, encoding, units, loss, metrics):
    resolved = TrainingConfig().resolve_loss(task, classes, encoding, output_units=units)
    assert resolved == (loss, metrics)


def test_explicit_loss_and_metrics_win():
    config = TrainingConfig(loss="huber", metrics=[])
    assert config.resolve_loss("regression") == ("huber", [])


def test_schedules_change_the_rate_per_epoch():
    step = TrainingConfig(
        learning_rate=1.0, lr_schedule="step", lr_schedule_params={"step_epochs": 2, "factor": 0.5}
    )
    assert [step.learning_rate_at(e) for e in range(5)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    expo = TrainingConfig(
        learning_rate=1.0, lr_schedule="exponential", lr_schedule_params={"decay_rate": 0.5}
    )
    assert expo.learning_rate_at(3) == pytest.approx(0.125)
    cos = TrainingConfig(
        learning_rate=1.0, epochs=5, lr_schedule="cosine", lr_schedule_params={"min_lr": 0.1}
    )
    rates = [cos.learning_rate_at(e) for e in range(5)]
    assert rates[0] == pytest.approx(1.0) and rates[-1] == pytest.approx(0.1)
    assert all(a > b for a, b in zip(rates, rates[1:]))
    warm = TrainingConfig(
        learning_rate=1.0, epochs=10, lr_schedule="cosine", lr_schedule_params={"warmup_epochs": 3}
    )
    assert [warm.learning_rate_at(e) for e in range(4)] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert (
        TrainingConfig(lr_schedule="reduce_on_plateau").learning_rate_at(50) == TrainingConfig().learning_rate
    )


def test_config_imports_without_tensorflow_or_numpy():
    code = (
        "import sys, studio.training.config, studio.training.history;"
        "bad = [m for m in ('tensorflow', 'keras', 'numpy', 'PySide6') if m in sys.modules];"
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_every_optimizer_deserializes_in_keras_with_its_params():
    keras = pytest.importorskip("keras")
    for name, (class_name, params) in OPTIMIZERS.items():
        config = TrainingConfig(
            optimizer=name, optimizer_params={**params, "clipnorm": 1.0}, learning_rate=0.01
        )
        optimizer = keras.optimizers.deserialize(config.keras_optimizer_config())
        assert type(optimizer).__name__ == class_name
        assert float(optimizer.learning_rate) == pytest.approx(0.01)
        for key, value in params.items():
            assert optimizer.get_config()[key] == pytest.approx(value)


def test_every_schedule_has_defaults():
    for name in LR_SCHEDULES:
        config = TrainingConfig(lr_schedule=name)
        assert config.learning_rate_at(0) > 0
