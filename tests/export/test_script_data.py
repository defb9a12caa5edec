"""The exported script's model takes raw inputs like the app's: its `load_data()` yields the
app's raw features and `add_preprocessing()` puts the app's fitted scaling in front of the
network, so with the same weights both give the same outputs on the same raw inputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio import data
from studio.cli import main
from studio.data.codegen import loader_source
from studio.export.verify import import_script
from studio.project import load_project
from studio.ui.training.job import make_setup, training_config
from tests.export.helpers import layer_summary

REPO = Path(__file__).resolve().parents[2]


def _x(dataset) -> np.ndarray:
    return np.concatenate([np.asarray(x) for x, _ in dataset])


def _same_weights(*models) -> None:
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal(w.shape).astype(w.dtype) * 0.5 for w in models[0].get_weights()]
    for model in models:
        model.set_weights(weights)


@pytest.fixture
def iris(tmp_path):
    """The Iris example project, copied with its bundled dataset reference."""
    shutil.copy(REPO / "projects" / "iris-mlp.studio.json", tmp_path)
    return tmp_path / "iris-mlp.studio.json"


def test_script_model_equals_the_apps_model_on_raw_inputs(iris, capsys):
    out = iris.parent / "iris_model.py"
    assert main(["export", str(iris), "-f", "python", "-o", str(out)]) == 0
    assert "Verified: max abs difference" in capsys.readouterr().out
    project = load_project(iris)
    prepared = make_setup(project, training_config(project))()  # exactly what training builds
    app_model = prepared.model
    module = import_script(out)
    script_model = module.add_preprocessing(module.build_model())
    assert layer_summary(script_model) == layer_summary(app_model)
    assert [type(layer).__name__ for layer in script_model.layers[:2]] == ["InputLayer", "Normalization"]
    _same_weights(app_model, script_model)

    train, validation, test = module.load_data()
    x_app, x_script = _x(prepared.test), _x(test)
    np.testing.assert_allclose(x_script, x_app, rtol=1e-6)  # the same raw rows (cm, not standardised)
    assert x_app.mean() > 1.0
    app_out = np.asarray(app_model(x_app, training=False))
    script_out = np.asarray(script_model(x_script, training=False))
    np.testing.assert_allclose(script_out, app_out, atol=1e-5)
    bare = np.asarray(module.build_model()(x_app, training=False))
    assert not np.allclose(bare, app_out, atol=1e-3)  # the scaling matters: the bare network differs


def test_script_run_saves_a_model_that_behaves_like_the_apps(iris, capsys):
    """`python iris_model.py` in a fresh process trains with the project's settings and saves a
    model that takes raw inputs; given the app model's weights it answers like the app's."""
    import keras

    record = json.loads(iris.read_text())
    record["training"].update(epochs=2, lr_schedule="exponential", lr_schedule_params={"decay_rate": 0.5})
    iris.write_text(json.dumps(record))
    out = iris.parent / "export" / "iris_model.py"
    out.parent.mkdir()
    assert main(["export", str(iris), "-f", "python", "-o", str(out)]) == 0
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, cwd=iris.parent, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Epoch 2/2" in run.stdout and "Epoch 3/" not in run.stdout and "Saved" in run.stdout
    saved = keras.saving.load_model(out.parent / "iris_model.keras", safe_mode=True)
    assert float(saved.optimizer.learning_rate) == pytest.approx(0.01 * 0.5)  # the schedule ran
    project = load_project(iris)
    prepared = make_setup(project, training_config(project))()
    assert layer_summary(saved) == layer_summary(prepared.model)
    _same_weights(prepared.model, saved)
    x = _x(prepared.test)
    np.testing.assert_allclose(np.asarray(saved(x, training=False)), np.asarray(prepared.model(x, training=False)),
                               atol=1e-5)


def _inputs(root: Path) -> dict:
    """Small files of the kinds whose scaling is fitted (with missing cells) or fixed."""
    rng = np.random.default_rng(0)
    lines = ["size,colour,score,label"]
    for i in range(60):
        size = "" if i in (5, 17) else f"{i % 3 * 10 + rng.normal():.3f}"
        colour = "" if i == 8 else ["red", "red", "blue"][i % 3]  # most frequent: red, not the first
        lines.append(f"{size},{colour},{rng.normal() * 50:.3f},{['lo', 'mid', 'hi'][i % 3]}")
    (root / "table.csv").write_text("\n".join(lines) + "\n")
    x = (rng.normal(size=(70, 3)) * [1, 10, 100]).astype("float32")
    np.savez(root / "arrays.npz", x=x, y=np.arange(70) % 2)
    (root / "series.csv").write_text("t,v\n" + "\n".join(
        f"{i},{'' if i == 40 else f'{5 + 3 * np.sin(i / 3):.4f}'}" for i in range(120)) + "\n")
    for k, name in enumerate(("a", "b")):
        (root / "images" / name).mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (6, 5), (k * 200, 30 * i, 30)).save(root / "images" / name / f"{i}.png")
    return {
        "table": {"kind": "csv", "path": "table.csv", "missing": "fill", "targets": ["label"]},
        "arrays": {"kind": "npz", "path": "arrays.npz"},
        "series": {"kind": "timeseries", "path": "series.csv", "missing": "fill",
                   "window": {"length": 8, "horizon": 2}},
        "images": {"kind": "images", "path": "images"},
    }


def test_generated_loaders_yield_the_apps_raw_features(tmp_path):
    """Every split of every kind: the same raw values as the app's datasets (missing cells
    filled the app's way), so the same scaling layers fit both."""
    for name, spec in _inputs(tmp_path).items():
        prepared = data.prepare(spec, tmp_path, batch_size=4)
        # the spec as the data module resolved it, as `studio export` passes it
        (tmp_path / f"raw_{name}.py").write_text(loader_source(prepared.spec, tmp_path), encoding="utf-8")
        got = import_script(tmp_path / f"raw_{name}.py").load_data(4)
        for part, app_split, script_split in zip(("train", "validation", "test"),
                                                 (prepared.train, prepared.validation, prepared.test), got):
            a, b = _x(app_split), _x(script_split)
            if part == "train":  # shuffled differently: compare the rows in a fixed order
                a, b = (v[np.lexsort(v.reshape(len(v), -1).T[::-1])] for v in (a, b))
            assert not np.isnan(b).any(), name
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5, err_msg=f"{name} {part}")
