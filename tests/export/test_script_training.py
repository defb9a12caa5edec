"""The exported script trains with the project's training settings, like the app's session:
the same per-epoch learning rates, the same plateau and early-stopping callbacks, epochs and
batch size; and it stays standalone and ruff-clean."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from studio.compiler.plan import make_plan
from studio.export.codegen import ScriptSettings, generate_script
from studio.training.config import TrainingConfig
from studio.training.data_utils import DataInfo
from studio.training.session import TrainingSession
from tests.compiler.graphs import mlp
from tests.export.helpers import assert_ruff_clean, import_script

SCHEDULES = {
    "constant": {},
    "step": {"step_epochs": 2, "factor": 0.5},
    "exponential": {"decay_rate": 0.8},
    "cosine": {"min_lr": 0.001, "warmup_epochs": 2},
    "reduce_on_plateau": {"monitor": "val_accuracy", "factor": 0.2, "patience": 1, "min_lr": 1e-4},
}


def _training(schedule: str, **changes) -> dict:
    data = {"epochs": 7, "batch_size": 4, "learning_rate": 0.05, "lr_schedule": schedule,
            "lr_schedule_params": SCHEDULES[schedule],
            "early_stopping": {"enabled": True, "monitor": "val_loss", "patience": 3, "min_delta": 0.01,
                               "restore_best_weights": True}}
    data.update(changes)
    return data


def _module(tmp_path: Path, training: dict, name: str = "net"):
    path = tmp_path / f"{name}.py"
    path.write_text(generate_script(make_plan(mlp(), name), ScriptSettings(name=name, training=training)))
    return path, import_script(path)


def _data(rows: int = 16, seed: int = 0):
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 8)).astype("float32")
    y = rng.integers(0, 3, rows)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(4)


@pytest.mark.parametrize("schedule", ["step", "exponential", "cosine"])
def test_per_epoch_schedule_gives_the_apps_rates(tmp_path, schedule):
    config = TrainingConfig.from_dict(_training(schedule))
    _, module = _module(tmp_path, config.to_dict())
    got = [module.learning_rate(epoch, 0.0) for epoch in range(config.epochs + 3)]
    want = [config.learning_rate_at(epoch) for epoch in range(config.epochs + 3)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert len(set(np.round(got, 12))) > 2  # the rate really changes


def _described(callback) -> dict:
    keys = ("monitor", "patience", "min_delta", "restore_best_weights", "factor", "min_lr")
    return {"class": type(callback).__name__,
            **{k: getattr(callback, k) for k in keys if hasattr(callback, k)}}


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("has_validation", [True, False])
def test_callbacks_are_the_sessions(tmp_path, schedule, has_validation):
    """Plateau and early stopping watch the same metric with the same settings as the app's
    session, and fall back to the training metric without validation data."""
    import keras

    config = TrainingConfig.from_dict(_training(schedule))
    _, module = _module(tmp_path, config.to_dict())
    session = TrainingSession(config=config)
    info = DataInfo(x=None, y=None, fit_batch_size=None, validation=object() if has_validation else None,
                    shuffle=False, steps_per_epoch=None, batch_size=4, train_samples=None, val_samples=None)
    kinds = (keras.callbacks.ReduceLROnPlateau, keras.callbacks.EarlyStopping)
    app = [_described(c) for c in session._callbacks(info) if isinstance(c, kinds)]
    script = [_described(c) for c in module.make_callbacks(has_validation) if isinstance(c, kinds)]
    assert script == app
    assert any(c["class"] == "EarlyStopping" for c in script)
    if not has_validation:
        assert all(not c["monitor"].startswith("val_") for c in script)


def test_training_follows_the_schedule_and_stops_early(tmp_path):
    """fit_model() trains EPOCHS epochs at the scheduled rates and early stopping ends it."""
    training = _training("step", epochs=5, early_stopping={"enabled": False})
    _, module = _module(tmp_path, training)
    model = module.compile_model(module.build_model())
    history = module.fit_model(model, (_data(), _data(8, 1), None))
    config = TrainingConfig.from_dict(training)
    assert history.epoch == list(range(5))
    np.testing.assert_allclose(history.history["learning_rate"], [config.learning_rate_at(e) for e in range(5)],
                               rtol=1e-6)

    # min_delta so large that no epoch after the first counts as better: stops after 1 + patience.
    stopping = {"enabled": True, "monitor": "val_loss", "patience": 2, "min_delta": 1e9,
                "restore_best_weights": True}
    _, module = _module(tmp_path, _training("constant", epochs=10, early_stopping=stopping), name="stopper")
    model = module.compile_model(module.build_model())
    history = module.fit_model(model, (_data(), _data(8, 1), None))
    assert len(history.epoch) == 3


def test_mixed_precision_setting_is_applied_on_a_gpu_only(tmp_path):
    _, module = _module(tmp_path, _training("constant", mixed_precision=True))
    assert "    use_mixed_precision()\n    data = load_data()" in (tmp_path / "net.py").read_text()
    import keras
    import tensorflow as tf

    before = keras.mixed_precision.global_policy().name
    try:
        module.use_mixed_precision()
        want = "mixed_float16" if tf.config.list_physical_devices("GPU") else before
        assert keras.mixed_precision.global_policy().name == want
    finally:
        keras.mixed_precision.set_global_policy(before)
    _, plain = _module(tmp_path, _training("constant"), name="plain")
    assert not hasattr(plain, "use_mixed_precision")


def test_script_with_settings_is_standalone_and_ruff_clean(tmp_path):
    for schedule in SCHEDULES:
        path, _ = _module(tmp_path, _training(schedule, mixed_precision=schedule == "cosine"),
                          name=f"net_{schedule}")
        tree = ast.parse(path.read_text())
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert imported <= {"argparse", "json", "keras", "math", "os", "pathlib", "tempfile", "tensorflow"}, imported
        assert_ruff_clean(path)
