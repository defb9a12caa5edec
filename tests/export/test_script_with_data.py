"""An exported script with the project's dataset trains and saves on its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from studio.cli import main
from studio.project import Project, save_project
from tests.compiler.graphs import Builder

RUFF = Path(sys.executable).with_name("ruff")


def _csv_project(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["a,b,c,d,label"]
    for i in range(60):
        cls = i % 3
        values = rng.normal(cls, 0.3, size=4)
        rows.append(",".join(f"{v:.4f}" for v in values) + f",kind{cls}")
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    b = Builder()
    x = b.input(4, title="measurements")
    h = b.add("Dense", units=8, activation="relu", title="hidden")
    o = b.add("Dense", units=3, activation="softmax", title="species")
    b.chain(x, h, o)
    project = Project(graph=b.graph, name="flowers",
                      dataset={"kind": "csv", "path": "data.csv", "targets": ["label"], "task": "classification"},
                      training={"epochs": 2, "batch_size": 8, "seed": 1})
    path = tmp_path / "flowers.studio.json"
    save_project(project, path)
    return path


def test_exported_script_trains_on_the_project_data(tmp_path, capsys):
    project = _csv_project(tmp_path)
    out = tmp_path / "export" / "flowers.py"
    out.parent.mkdir()
    assert main(["export", str(project), "-f", "python", "-o", str(out)]) == 0
    text = out.read_text()
    assert "def load_data(" in text and str(tmp_path / "data.csv") in text
    lint = subprocess.run([str(RUFF), "check", "--isolated", str(out)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Epoch 2/2" in run.stdout and "Saved" in run.stdout
    import keras

    model = keras.saving.load_model(out.parent / "flowers.keras", safe_mode=True)
    assert model.output_shape == (None, 3)
