"""The exported Python script is portable and faithful (issue 12, point 7).

* It takes the data's path as its command-line argument. The default is a path relative to the
  script when the data sits below the project or the export folder, so the script, its weights
  and the data copied together to another folder (another machine) still train; data elsewhere
  has no default and the argument is then required, with a usage message. The script text never
  holds an absolute path of the machine it was exported on.
* Exported from a run, it carries that run's seed, epochs, batch size and optimizer settings (the
  run's config.json), not the project's settings of now.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from studio.cli import main
from studio.training.config import TrainingConfig
from tests.export.helpers import import_script


def _table(path: Path, rows: int = 40) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 2))
    label = (x[:, 0] + x[:, 1] > 0).astype(int)
    lines = ["x1,x2,label"] + [f"{a:.4f},{b:.4f},{c}" for (a, b), c in zip(x, label)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _project(folder: Path, data_path: str, **training) -> Path:
    """The MLP template on a two-feature table at `data_path` (as the project stores it), saved in
    `folder`; one epoch unless `training` says otherwise."""
    from studio import data
    from studio.data.binding import fix_edits
    from studio.project.io import save_project
    from studio.project.templates import make_project

    project = make_project("mlp", "portable")
    project.dataset = {"kind": "csv", "path": data_path, "targets": ["label"]}
    project.training = {"epochs": 1, "batch_size": 8, **training}
    info = data.describe(project.dataset, folder)
    assert info.ok, [p.message for p in info.problems]
    batch = fix_edits(project.graph, info)
    if batch is not None:
        batch.apply(project.graph)
    path = folder / "portable.studio.json"
    save_project(project, path)
    return path


def _run(script: Path, *args: str) -> subprocess.CompletedProcess:
    """`python SCRIPT ARGS` in a fresh process from the script's folder, on the CPU."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, script.name, *args], capture_output=True, text=True,
                          cwd=script.parent, env=env, timeout=600)


def test_script_data_and_weights_copied_to_another_folder_still_train(tmp_path, capsys):
    made = tmp_path / "made_here"
    made.mkdir()
    _table(made / "table.csv")
    project = _project(made, "table.csv")
    script = made / "model.py"
    assert main(["export", str(project), "--format", "python", "-o", str(script)]) == 0
    text = script.read_text(encoding="utf-8")
    assert str(tmp_path) not in text and str(made) not in text  # no absolute path of this machine
    assert 'DATA_PATH = Path(__file__).resolve().parent / "table.csv"' in text

    elsewhere = tmp_path / "another" / "machine"
    elsewhere.mkdir(parents=True)
    for name in ("model.py", "model.weights.h5", "table.csv"):
        shutil.copy(made / name, elsewhere / name)
    shutil.rmtree(made)  # nothing of the first folder is left to read
    run = _run(elsewhere / "model.py")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "loss:" in run.stdout and (elsewhere / "model.keras").is_file()


def test_data_outside_the_project_is_the_scripts_required_argument(tmp_path, capsys):
    project_folder = tmp_path / "project"
    data_folder = tmp_path / "data_somewhere"
    export_folder = tmp_path / "export"
    for folder in (project_folder, data_folder, export_folder):
        folder.mkdir()
    _table(data_folder / "table.csv")
    project = _project(project_folder, str(data_folder / "table.csv"))  # an absolute path elsewhere
    script = export_folder / "model.py"
    assert main(["export", str(project), "--format", "python", "-o", str(script)]) == 0
    text = script.read_text(encoding="utf-8")
    assert str(tmp_path) not in text
    assert "DATA_PATH = None" in text

    missing = _run(script)  # no default: the argument is required, with a usage line
    assert missing.returncode == 2 and "usage:" in missing.stderr
    assert "give the path of the data to train on (table.csv)" in missing.stderr
    wrong = _run(script, str(tmp_path / "nothing.csv"))
    assert wrong.returncode == 2 and "no data at" in wrong.stderr

    moved = tmp_path / "moved" / "renamed.csv"
    moved.parent.mkdir()
    shutil.move(data_folder / "table.csv", moved)
    run = _run(script, str(moved))
    assert run.returncode == 0, run.stderr[-3000:]
    assert "loss:" in run.stdout and (export_folder / "model.keras").is_file()


def test_data_below_the_export_folder_is_found_relative_to_the_script(tmp_path, capsys):
    project_folder = tmp_path / "project"
    export_folder = tmp_path / "export"
    (export_folder / "inputs").mkdir(parents=True)
    project_folder.mkdir()
    _table(export_folder / "inputs" / "table.csv")
    project = _project(project_folder, str(export_folder / "inputs" / "table.csv"))
    script = export_folder / "model.py"
    assert main(["export", str(project), "--format", "python", "-o", str(script)]) == 0
    text = script.read_text(encoding="utf-8")
    assert str(tmp_path) not in text
    module = import_script(script)
    assert module.DATA_PATH == export_folder.resolve() / "inputs" / "table.csv"
    train, _, _ = module.load_data(8)
    assert sum(len(y) for _, y in train) > 0


def test_a_runs_script_carries_the_runs_settings_not_the_projects_current_ones(tmp_path, capsys):
    from studio.compiler.keras_build import build_model
    from studio.compiler.plan import make_plan
    from studio.project.io import load_project, save_project

    _table(tmp_path / "table.csv")
    path = _project(tmp_path, "table.csv", epochs=7, seed=123, batch_size=4, learning_rate=0.02,
                    optimizer="sgd")
    project = load_project(path)
    run = tmp_path / "portable.runs" / "20260101-120000-abc123"
    run.mkdir(parents=True)
    build_model(make_plan(project.graph, "portable")).save(run / "final.keras")
    (run / "status.json").write_text(json.dumps({"status": "completed", "started": time.time()}))
    settings = TrainingConfig.from_dict(project.training).to_dict()  # as a run's config.json holds them
    (run / "config.json").write_text(json.dumps({"graph": project.graph.to_dict(), "training": settings}))

    project.training = {"epochs": 2, "seed": 5, "batch_size": 32, "learning_rate": 0.5, "optimizer": "adam"}
    save_project(project, path)  # the project's settings change after the run
    script = tmp_path / "from_run.py"
    assert main(["export", str(path), "--run", run.name, "--format", "python", "-o", str(script)]) == 0
    module = import_script(script)
    assert (module.EPOCHS, module.SEED, module.BATCH_SIZE, module.LEARNING_RATE) == (7, 123, 4, 0.02)
    optimizer = module.compile_model(module.build_model()).optimizer
    assert type(optimizer).__name__ == "SGD"

    fresh = tmp_path / "current.py"  # without --run and with no finished run: the project's settings
    shutil.rmtree(tmp_path / "portable.runs")
    assert main(["export", str(path), "--format", "python", "-o", str(fresh)]) == 0
    module = import_script(fresh)
    assert (module.EPOCHS, module.SEED, module.BATCH_SIZE) == (2, 5, 32)
