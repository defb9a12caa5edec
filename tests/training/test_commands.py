"""`studio train` and `studio evaluate` on a small project (the bundled Iris example)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from studio.cli import main
from studio.training import runs

EXAMPLE = Path(__file__).resolve().parents[2] / "projects" / "iris-mlp.studio.json"


@pytest.fixture
def project(tmp_path):
    if not EXAMPLE.is_file():
        pytest.skip("the bundled iris example is missing")
    path = tmp_path / "iris.studio.json"
    shutil.copy(EXAMPLE, path)
    return path


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_train_json_prints_one_object_per_epoch_then_a_summary(project, capsys):
    assert main(["train", str(project), "--epochs", "2", "--batch-size", "32", "--json"]) == 0
    records = _json_lines(capsys.readouterr().out)
    epochs, end = records[:-1], records[-1]
    assert [r["epoch"] for r in epochs] == [1, 2]
    assert all({"loss", "val_loss", "accuracy"} <= r.keys() for r in epochs)
    assert end["event"] == "end" and end["status"] == "completed"
    run_dir = Path(end["run_dir"])
    assert run_dir.parent == project.parent / "iris.runs"
    info = runs.read_run(run_dir)
    assert info.status == "completed" and info.epochs_done == 2 and info.has_final
    assert len(end["evaluation"]["confusion"]) == 3

    # evaluate the same run from the command line
    assert main(["evaluate", str(project), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["run"] == info.id
    assert sum(map(sum, result["confusion"])) == result["samples"] > 0
    assert [row["class"] for row in result["per_class"]] == ["setosa", "versicolor", "virginica"]

    # continue one more epoch from it; the plain output names the epochs
    assert main(["train", str(project), "--epochs", "1", "--continue"]) == 0
    out = capsys.readouterr().out
    assert "Epoch 3/3" in out and "Run saved in" in out


def test_train_refuses_a_project_without_dataset(project, capsys):
    data = json.loads(project.read_text())
    data["dataset"] = None
    project.write_text(json.dumps(data))
    assert main(["train", str(project), "--json"]) == 1
    err = capsys.readouterr().err.strip()
    assert "no dataset" in err and len(err.splitlines()) == 1


def test_bad_setting_on_the_command_line_is_one_line(project, capsys):
    assert main(["train", str(project), "--epochs", "0"]) == 1
    assert "'epochs'" in capsys.readouterr().err


def test_evaluate_without_runs_says_train_first(project, capsys):
    assert main(["evaluate", str(project)]) == 1
    assert "train first" in capsys.readouterr().err


def test_missing_gpu_in_the_project_warns_and_trains_on_cpu(project, capsys):
    # The project's own setting (saved on another machine) falls back; an explicit
    # --device gpu:9 fails instead (tests/training/test_devices.py).
    data = json.loads(project.read_text())
    data["training"]["device"] = "gpu:9"
    project.write_text(json.dumps(data))
    assert main(["train", str(project), "--epochs", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "gpu:9" in captured.err and "CPU" in captured.err
    assert _json_lines(captured.out)[-1]["device"] == "CPU"
