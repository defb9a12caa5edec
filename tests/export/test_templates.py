"""Every format of every template project exports, verifies, and prints its max difference;
the Python script of a template runs on its own in a fresh process and trains."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main
from studio.export.exporters import FORMATS, SUFFIX
from studio.project import save_project
from studio.project.templates import make_project, template_names

RUFF = Path(sys.executable).with_name("ruff")
VERIFIED = re.compile(r"Verified: max abs difference (\S+) \(tolerance (\S+)\)")


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """One saved project per template (shared: exports never change the project)."""
    folder = tmp_path_factory.mktemp("templates")
    paths = {}
    for name in template_names(offline=True):
        paths[name] = folder / f"{name}.studio.json"
        save_project(make_project(name), paths[name])
    return paths


def _output(project, fmt):
    stem = project.name.split(".")[0].replace("-", "_")
    return project.parent / (f"{stem}_{fmt}{SUFFIX[fmt]}" if fmt in SUFFIX else f"{stem}_{fmt}")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("template", template_names(offline=True))
def test_every_format_of_every_template_exports_verified(projects, template, fmt, capsys):
    out = _output(projects[template], fmt)
    assert main(["export", str(projects[template]), "-f", fmt, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    found = VERIFIED.search(printed)
    assert found, printed
    diff, tolerance = float(found[1]), float(found[2])
    assert 0.0 <= diff <= tolerance
    report = json.loads(out.with_name(out.name + ".verify.json").read_text())
    assert report["passed"] and report["format"] == fmt
    assert f"{report['max_abs_diff']:.3g}" == found[1]
    assert out.exists()


def _run_script(tmp_path, template, **training):
    """Export the template project's script and run `python model.py` in a fresh process."""
    project = make_project(template)
    project.training = {**project.training, "epochs": 1, **training}
    path = tmp_path / f"{template}.studio.json"
    save_project(project, path)
    out = tmp_path / "export" / "model.py"
    out.parent.mkdir()
    assert main(["export", str(path), "-f", "python", "-o", str(out)]) == 0
    lint = subprocess.run([str(RUFF), "check", "--isolated", str(out)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, "model.py"], capture_output=True, text=True, cwd=out.parent, env=env,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "loss:" in run.stdout and "Saved" in run.stdout  # trained, then saved
    assert "Warning" not in run.stderr, run.stderr[-2000:]
    import keras

    saved = keras.saving.load_model(out.parent / "model.keras", safe_mode=True)
    if "def add_preprocessing" in out.read_text():  # scaled data: the saved model takes raw inputs
        assert saved.layers[0].name == "raw_input"
    return path, saved, run.stdout


def test_template_script_runs_as_python_model_py_and_trains(tmp_path, capsys):
    """The mlp template (Iris): the script trains with the project's settings (2 epochs, an
    exponential schedule) and saves a model that, given the app's weights, answers like the
    model the app trains on the same raw inputs."""
    import numpy as np

    from studio.project import load_project
    from studio.workflows.train import make_setup, training_config
    from tests.export.helpers import layer_summary

    path, saved, stdout = _run_script(tmp_path, "mlp", epochs=2, learning_rate=0.01, lr_schedule="exponential",
                                      lr_schedule_params={"decay_rate": 0.5})
    assert "Epoch 2/2" in stdout and "Epoch 3/" not in stdout
    assert float(saved.optimizer.learning_rate) == pytest.approx(0.01 * 0.5)  # the schedule ran
    project = load_project(path)
    prepared = make_setup(project, training_config(project))()  # what the app trains
    app = prepared.model
    assert layer_summary(saved) == layer_summary(app)
    assert [layer.name for layer in saved.layers][:2] == ["raw_input", "normalize"]
    weights = [np.random.default_rng(1).standard_normal(w.shape).astype(w.dtype) for w in app.get_weights()]
    app.set_weights(weights)
    saved.set_weights(weights)
    x = np.concatenate([np.asarray(batch) for batch, _ in prepared.test])  # raw measurements in cm
    np.testing.assert_allclose(np.asarray(saved(x, training=False)), np.asarray(app(x, training=False)),
                               atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("template", [t for t in template_names(offline=True) if t != "mlp"])
def test_every_template_script_runs_and_trains(tmp_path, template, capsys):
    _run_script(tmp_path, template)


@pytest.fixture(scope="module")
def trained(projects):
    """Each template project with a run folder as `studio train` leaves it (not trained: the
    model is the one the app builds for training, data scaling in front)."""
    import time

    from studio.project import load_project
    from studio.workflows.train import make_setup, training_config

    made = {}

    def make(template):
        if template not in made:
            path = projects[template]
            project = load_project(path)
            prepared = make_setup(project, training_config(project))()
            run = path.parent / f"{template}.runs" / "20260101-120000-abc123"
            run.mkdir(parents=True)
            prepared.model.save(run / "final.keras")
            (run / "status.json").write_text(json.dumps({"status": "completed", "started": time.time()}))
            record = {"graph": project.graph.to_dict(), "task": prepared.task.to_dict(), **prepared.record}
            (run / "config.json").write_text(json.dumps(record))
            made[template] = path
        return made[template]

    return make


def _trained_cases():
    for template in template_names(offline=True):
        for fmt in FORMATS:
            marks = () if template == "mlp" else (pytest.mark.slow,)
            yield pytest.param(template, fmt, marks=marks, id=f"{template}-{fmt}")


@pytest.mark.parametrize("template,fmt", list(_trained_cases()))
def test_every_format_of_a_trained_template_exports_verified(trained, template, fmt, capsys):
    """A run's model takes raw inputs (the data's scaling comes first): it exports the same way."""
    path = trained(template)
    out = path.parent / f"run_{_output(path, fmt).name}"
    assert main(["export", str(path), "-f", fmt, "--run", "abc123", "-o", str(out)]) == 0
    found = VERIFIED.search(capsys.readouterr().out)
    assert found and float(found[1]) <= float(found[2])
