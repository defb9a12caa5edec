"""The exported script honours the project's `checkpoint_best` and `device` settings like the
app's training session: the best epoch's model is saved beside the final one (and loads in safe
mode), and the script trains on the chosen device, falling back to the CPU with a message when
the chosen GPU is not there instead of crashing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.cli import main
from studio.compiler.plan import make_plan
from studio.export.codegen import ScriptSettings, generate_script
from studio.project import save_project
from studio.project.templates import make_project
from tests.compiler.graphs import mlp
from tests.export.helpers import assert_ruff_clean, import_script, run_script


def _export(tmp_path: Path, **training) -> Path:
    """`studio export` of the Iris template project (a bundled sample) as iris_model.py."""
    project = make_project("mlp")
    project.training = {**project.training, "epochs": 3, "seed": 1, **training}
    path = tmp_path / "iris.studio.json"
    save_project(project, path)
    out = tmp_path / "export" / "iris_model.py"
    out.parent.mkdir()
    assert main(["export", str(path), "-f", "python", "-o", str(out)]) == 0
    return out




def test_cpu_script_trains_and_saves_the_best_epochs_model_beside_the_final(tmp_path, capsys):
    import keras

    script = _export(tmp_path, device="cpu")
    capsys.readouterr()
    printed = run_script(script)
    final, best = script.with_name("iris_model.keras"), script.with_name("iris_model.best.keras")
    assert f"Saved the best epoch's model to {best}" in printed
    assert f"Saved {final}" in printed
    assert "not available" not in printed
    best_model = keras.saving.load_model(best, safe_mode=True)
    final_model = keras.saving.load_model(final, safe_mode=True)
    # The whole model the script trains: raw inputs, the data's scaling, then the network.
    assert [layer.name for layer in best_model.layers] == [layer.name for layer in final_model.layers]
    assert best_model.layers[0].name == "raw_input"
    raw = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype="float32")  # cm, as in the data
    out = np.asarray(best_model.predict(raw, verbose=0))
    assert out.shape == (2, 3) and np.allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_missing_gpu_falls_back_to_the_cpu_and_no_checkpoint_when_off(tmp_path, capsys):
    import keras

    script = _export(tmp_path, device="gpu:0", checkpoint_best=False)
    capsys.readouterr()
    printed = run_script(script)
    assert "Device /GPU:0 is not available (TensorFlow sees no GPU); training on the CPU." in printed
    assert not [p.name for p in script.parent.iterdir() if p.name.endswith(".best.keras")]
    assert "best" not in printed
    final = script.with_name("iris_model.keras")
    assert f"Saved {final}" in printed
    assert keras.saving.load_model(final, safe_mode=True).layers[0].name == "raw_input"


def _module(tmp_path: Path, training: dict, name: str = "net"):
    path = tmp_path / f"{name}.py"
    path.write_text(generate_script(make_plan(mlp(), name), ScriptSettings(name=name, training=training)))
    return path, import_script(path)


def _data(rows: int, seed: int):
    """Random features and labels: a model fitting one such set gets worse on another."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 8)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, rng.integers(0, 3, rows))).batch(8)


def test_best_model_file_holds_the_epoch_with_the_lowest_val_loss(tmp_path):
    import keras

    _, module = _module(tmp_path, {"epochs": 8, "learning_rate": 0.05})
    keras.utils.set_random_seed(0)
    model = module.compile_model(module.build_model())
    validation = _data(16, 1)
    history = module.fit_model(model, (_data(32, 0), validation, None))
    val_loss = history.history["val_loss"]
    assert int(np.argmin(val_loss)) < len(val_loss) - 1  # the best epoch is not the last one
    best = keras.saving.load_model(module.BEST_PATH, safe_mode=True)
    assert module.BEST_PATH == tmp_path / "net.best.keras"
    got = best.evaluate(validation, verbose=0, return_dict=True)["loss"]
    assert got == pytest.approx(min(val_loss), rel=1e-5)
    final = model.evaluate(validation, verbose=0, return_dict=True)["loss"]
    assert final == pytest.approx(val_loss[-1], rel=1e-5) and final > got


@pytest.mark.parametrize("has_validation", [True, False])
def test_checkpoint_watches_the_apps_metric(tmp_path, has_validation):
    """Like the session: the checkpoint monitor, or its training metric without validation data."""
    import keras

    _, module = _module(tmp_path, {"checkpoint_monitor": "val_accuracy"})
    checkpoints = [c for c in module.make_callbacks(has_validation)
                   if isinstance(c, keras.callbacks.ModelCheckpoint)]
    assert [(c.monitor, c.save_best_only) for c in checkpoints] == [
        ("val_accuracy" if has_validation else "accuracy", True)]
    _, off = _module(tmp_path, {"checkpoint_best": False}, name="off")
    assert not hasattr(off, "make_callbacks") and not hasattr(off, "BEST_PATH")


@pytest.mark.parametrize("device", ["cpu", "gpu:1"])
@pytest.mark.parametrize("mixed_precision", [False, True])
def test_device_scripts_are_ruff_clean(tmp_path, device, mixed_precision):
    training = {"device": device, "mixed_precision": mixed_precision, "checkpoint_best": mixed_precision,
                "early_stopping": {"enabled": True}}
    path, module = _module(tmp_path, training)
    assert_ruff_clean(path)
    # On the CPU the script never asks for float16, whatever TensorFlow sees.
    assert hasattr(module, "use_mixed_precision") == (mixed_precision and device != "cpu")
