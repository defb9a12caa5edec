"""The exported script's model takes raw inputs like the app's: its `load_data()` yields the
app's raw features and `add_preprocessing()` puts the app's fitted scaling in front of the
network, so with the same weights both give the same outputs on the same raw inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio import data
from studio.cli import main
from studio.data.codegen import loader_source
from studio.export.pyformat import literal
from studio.project import load_project
from studio.workflows.train import make_setup, training_config
from tests.export.helpers import import_script, layer_summary

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


def test_script_of_a_text_run_reads_with_the_runs_vocabulary(tmp_path, capsys):
    """A run's script tokenises with the vocabulary that run trained with (saved by the app),
    so its token ids are the ones the exported weights know."""
    import time

    from studio.compiler.keras_build import build_model
    from studio.compiler.plan import make_plan
    from studio.project import save_project
    from studio.project.templates import make_project

    project = make_project("text-classifier", name="topics")
    path = tmp_path / "topics.studio.json"
    save_project(project, path)
    project = load_project(path)
    prepared = data.prepare(project.dataset, tmp_path)  # as a training run does: saves the vocabulary
    assert prepared.spec["preprocessing"].get("vocabulary_file")
    run = tmp_path / "topics.runs" / "20260101-120000-abc123"
    run.mkdir(parents=True)
    build_model(make_plan(project.graph, "topics")).save(run / "final.keras")
    (run / "status.json").write_text(json.dumps({"status": "completed", "started": time.time()}))
    (run / "config.json").write_text(json.dumps({"graph": project.graph.to_dict(),
                                                 "dataset_resolved": prepared.spec}))
    out = tmp_path / "topics_model.py"
    assert main(["export", str(path), "-f", "python", "-o", str(out)]) == 0
    vocabulary = (tmp_path / prepared.spec["preprocessing"]["vocabulary_file"]).relative_to(tmp_path)
    # beside the script, written by the literal writer; never this machine's absolute path
    assert f"VOCABULARY = str(Path(__file__).resolve().parent / {literal(vocabulary.as_posix())})" in out.read_text()
    assert str(tmp_path) not in out.read_text()
    module = import_script(out)
    assert not hasattr(module, "add_preprocessing")  # token ids go straight in, as in the app
    train, validation, test = module.load_data(16)
    np.testing.assert_array_equal(_x(test), _x(prepared.test))
    np.testing.assert_array_equal(_x(validation), _x(prepared.validation))
