"""`studio export`: what a user sees on the command line."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from studio.cli import main
from studio.compiler.keras_build import build_model
from studio.compiler.plan import make_plan
from studio.project import Project, save_project
from tests.compiler.graphs import Builder, mlp


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "iris.studio.json"
    save_project(Project(graph=mlp(), name="iris"), path)
    return path


def _fake_run(project_path, run_id="20260101-120000-abc123", fill=0.25, preprocessing=False):
    """A finished run folder as `studio train` leaves it, with recognisable weights
    (optionally wrapped in a preprocessing layer, as the data pipeline does)."""
    import keras

    from studio.project import load_project

    proj = load_project(project_path)
    folder = project_path.parent / "iris.runs" / run_id
    folder.mkdir(parents=True)
    model = build_model(make_plan(proj.graph, "iris"))
    model.set_weights([np.full(w.shape, fill, "float32") for w in model.get_weights()])
    if preprocessing:
        raw = keras.Input((8,), name="raw_input")
        model = keras.Model(raw, model(keras.layers.Rescaling(0.5, name="rescale")(raw)), name="iris_raw_inputs")
    model.save(folder / "final.keras")
    (folder / "status.json").write_text(json.dumps({"status": "completed", "started": time.time()}))
    (folder / "config.json").write_text(json.dumps({"graph": proj.graph.to_dict()}))
    return folder


def test_export_without_runs_uses_fresh_weights(project, tmp_path, capsys):
    out = tmp_path / "out.keras"
    assert main(["export", str(project), "--format", "keras", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "freshly initialised weights" in captured.err
    assert f"Exported {out}" in captured.out and "Verified: max abs difference" in captured.out
    assert json.loads((tmp_path / "out.keras.verify.json").read_text())["passed"]


def test_export_uses_the_latest_run(project, tmp_path, capsys):
    import keras

    _fake_run(project)
    out = tmp_path / "model.keras"
    assert main(["export", str(project), "-f", "keras", "-o", str(out)]) == 0
    weights = keras.saving.load_model(out, safe_mode=True).get_weights()
    assert all(np.all(w == 0.25) for w in weights)


def test_python_export_of_a_run_carries_its_weights(project, tmp_path, capsys):
    _fake_run(project, fill=0.5, preprocessing=True)
    out = tmp_path / "iris_model.py"
    assert main(["export", str(project), "-f", "python", "--run", "abc123", "-o", str(out)]) == 0
    assert (tmp_path / "iris_model.weights.h5").is_file()
    from tests.export.helpers import import_script

    module = import_script(out)
    model = module.build_model()
    model.load_weights(module.WEIGHTS_PATH)
    assert all(np.all(w == 0.5) for w in model.get_weights())
    # The run's model takes raw inputs: the script puts the same scaling in front.
    import keras

    run_model = keras.saving.load_model(project.parent / "iris.runs" / "20260101-120000-abc123" / "final.keras",
                                        safe_mode=True)
    raw = module.add_preprocessing(model)
    assert module.RESCALE == 0.5 and [layer.name for layer in raw.layers] == [layer.name for layer in run_model.layers]
    x = np.linspace(-3, 3, 16, dtype="float32").reshape(2, 8)
    np.testing.assert_allclose(raw(x), run_model(x), atol=1e-6)


def test_missing_run_is_a_clear_error(project, tmp_path, capsys):
    _fake_run(project)
    out = tmp_path / "m.onnx"
    assert main(["export", str(project), "-f", "onnx", "--run", "nope", "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("studio: error: run 'nope' not found") and "\n" not in err
    assert not out.exists()


def test_graph_with_errors_is_refused_with_its_diagnostics(tmp_path, capsys):
    b = Builder()
    x = b.input(4)
    head = b.add("Dense", title="head")
    b.wire(x, head)
    b.add("Dense", title="dangling")
    b.add("Dense", title="loose_end")
    path = tmp_path / "broken.studio.json"
    save_project(Project(graph=b.graph, name="broken"), path)
    out = tmp_path / "broken.py"
    assert main(["export", str(path), "-f", "python", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    first, *rest = err.strip().splitlines()
    assert first.startswith("studio: error: ") and "dangling" in first and "(and 1 more error)" in first
    assert any("loose_end" in line for line in rest)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.studio.json"]


def test_run_model_with_preprocessing_exports_whole(project, tmp_path, capsys):
    import keras

    _fake_run(project, preprocessing=True)
    assert main(["export", str(project), "-f", "keras", "-o", str(tmp_path / "m.keras")]) == 0
    model = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert model.get_layer("rescale").scale == 0.5  # takes raw inputs, as trained


def test_read_only_folder_is_refused(project, tmp_path, capsys, monkeypatch):
    import os

    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(tmp_path) else real_access(path, mode))
    assert main(["export", str(project), "-f", "onnx", "-o", str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err.strip()
    assert "cannot write in" in err and "permission denied" in err and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris.studio.json"]


def test_unwritable_output_is_refused_before_any_work(project, tmp_path, capsys):
    out = tmp_path / "no" / "such" / "folder" / "m.tflite"
    assert main(["export", str(project), "-f", "tflite", "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert "does not exist" in err and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris.studio.json"]


def test_python_export_with_unreadable_data_is_one_line_and_writes_nothing(tmp_path, capsys):
    """The script scales the data like the app, so its statistics need the dataset."""
    path = tmp_path / "flowers.studio.json"
    save_project(Project(graph=mlp(), name="flowers", dataset={"kind": "csv", "path": "gone.csv"}), path)
    assert main(["export", str(path), "-f", "python", "-o", str(tmp_path / "flowers.py")]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the note on fresh weights
    assert err.startswith("studio: error: flowers: the script scales the data") and "gone.csv: no such file" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flowers.studio.json"]


def test_python_export_of_a_keras_set_project_needs_no_download(tmp_path, capsys, monkeypatch):
    """MNIST's scaling is known (pixels / 255): the export neither reads nor downloads it."""
    import studio.data

    def refuse(*args, **kwargs):
        raise AssertionError("the export should not open the dataset")

    monkeypatch.setattr(studio.data, "describe", refuse)
    monkeypatch.setattr(studio.data, "prepare", refuse)
    b = Builder()
    x = b.input(28, 28, 1, title="digits")
    flat = b.add("Flatten")
    out = b.add("Dense", units=10, activation="softmax", title="digit")
    b.chain(x, flat, out)
    path = tmp_path / "mnist.studio.json"
    save_project(Project(graph=b.graph, name="mnist", dataset={"kind": "sample", "path": "mnist"}), path)
    assert main(["export", str(path), "-f", "python", "-o", str(tmp_path / "mnist.py")]) == 0
    text = (tmp_path / "mnist.py").read_text()
    assert "RESCALE = 1 / 255" in text and "tf.keras.datasets.mnist.load_data()" in text
