"""Run folders against kills, reused PIDs, full disks and read-only folders (issue 10).

- every run file is written atomically: a kill or an error mid-save leaves the previous
  file (or none), never a truncated one; the temp files a killed save leaves are removed
  the next time the run is read or saved;
- a "running" run is running only while the process that wrote it is alive *and* is the
  same process (its start time matches), not merely a process with the same PID;
- a full disk during `studio train` fails the run with one line naming the file and what
  to free;
- `studio evaluate` on a run folder it cannot write still prints the metrics, warns once
  and exits 0.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from studio.cli import main
from studio.core import files
from studio.training import runs
from studio.training.history import MetricsHistory

EXAMPLE = Path(__file__).resolve().parents[2] / "projects" / "iris-mlp.studio.json"
DEAD_PID = 2**22 + 12345  # above Linux's largest pid_max: never a live process
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process start times from /proc")


def _finished_run(root: Path) -> runs.RunWriter:
    writer = runs.RunWriter(root)
    writer.write_config({"training": {"epochs": 1}})
    history = MetricsHistory()
    history.add_epoch(1, {"loss": 0.5})
    writer.write_history(history)
    writer.finish("completed", "done", epochs_done=1)
    return writer


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def _status(writer: runs.RunWriter) -> dict:
    return json.loads(writer.file(runs.STATUS_FILE).read_text())


def _set_status(writer: runs.RunWriter, **fields) -> None:
    status = _status(writer)
    status.update(fields)
    writer.file(runs.STATUS_FILE).write_text(json.dumps(status))


# --- a killed save ---------------------------------------------------------------------
def test_a_killed_save_leaves_the_good_checkpoint_and_its_temp_files_go_on_listing(tmp_path):
    writer = _finished_run(tmp_path)
    good = b"PK good checkpoint"
    writer.file(runs.BEST_MODEL).write_bytes(good)
    # what a process killed while saving leaves: partial temp files of its best.keras,
    # status.json and history.csv (this version's names and the older ones)
    killed = [
        f"best.keras.{DEAD_PID}-k3j9x2ab.tmp.keras",
        f"status.json.{DEAD_PID}-0a1b2c3d4e.tmp",
        "history.csv.tmp",
        "final.tmp.keras",
    ]
    for name in killed:
        writer.file(name).write_bytes(b"PK\x03\x04 cut off")
    # a temp file of a live writer in another process is left alone
    live = writer.file(f"evaluation.json.{os.getppid()}-zz9.tmp")
    live.write_bytes(b"{")

    (info,) = runs.list_runs(tmp_path)
    assert info.status == "completed"
    assert info.model_path == writer.file(runs.BEST_MODEL)
    assert writer.file(runs.BEST_MODEL).read_bytes() == good
    assert _temps(writer.path) == [live.name]


def test_an_empty_checkpoint_left_by_an_older_version_is_not_used(tmp_path):
    writer = _finished_run(tmp_path)
    writer.file(runs.BEST_MODEL).write_bytes(b"")
    writer.file(runs.FINAL_MODEL).write_bytes(b"PK final")
    info = runs.read_run(writer.path)
    assert not info.has_best and info.model_path == writer.file(runs.FINAL_MODEL)


class _DiskFillsUp:
    """A model whose save writes part of the file, then finds the disk full."""

    def save(self, path):
        Path(path).write_bytes(b"PK\x03\x04 half a model")
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_save_that_fails_midway_keeps_the_previous_checkpoint(tmp_path):
    writer = _finished_run(tmp_path)
    writer.file(runs.BEST_MODEL).write_bytes(b"PK previous best")
    with pytest.raises(files.FileWriteError) as caught:
        writer.save_model(_DiskFillsUp(), runs.BEST_MODEL)
    assert caught.value.disk_full and caught.value.path == writer.file(runs.BEST_MODEL)
    assert writer.file(runs.BEST_MODEL).read_bytes() == b"PK previous best"
    assert _temps(writer.path) == []


def test_status_and_history_writes_are_atomic(tmp_path, monkeypatch):
    writer = runs.RunWriter(tmp_path)
    history = MetricsHistory()
    history.add_epoch(1, {"loss": 0.5})
    writer.write_history(history)
    before = writer.file(runs.HISTORY_FILE).read_bytes()

    def cut_off(self, path):
        Path(path).write_text("epoch,lo")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(MetricsHistory, "to_csv", cut_off)
    history.add_epoch(2, {"loss": 0.25})
    with pytest.raises(files.FileWriteError, match="history.csv"):
        writer.write_history(history)
    assert writer.file(runs.HISTORY_FILE).read_bytes() == before
    assert _temps(writer.path) == []


def test_a_training_whose_disk_fills_keeps_the_last_good_best_checkpoint(tmp_path, monkeypatch):
    keras = pytest.importorskip("keras")
    import numpy as np

    from studio.training.config import TrainingConfig
    from studio.training.session import TrainingSession

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=96)
    x = (rng.normal(size=(96, 4)) * 0.3 + y[:, None]).astype("float32")

    def build():
        return keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3, activation="softmax")]
        )

    saved: list[bytes] = []
    original = keras.Model.save

    def save(self, filepath, *args, **kwargs):
        if saved:  # the second best epoch: the disk is full halfway through the file
            Path(filepath).write_bytes(b"PK\x03\x04 half")
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, filepath, *args, **kwargs)
        saved.append(Path(filepath).read_bytes())

    monkeypatch.setattr(keras.Model, "save", save)
    config = TrainingConfig(epochs=3, batch_size=32, learning_rate=0.05, seed=1, checkpoint_monitor="loss")
    session = TrainingSession(build, (x, y), None, config, runs_root=tmp_path, tensorboard=False)
    result = session.run()

    run_dir = result.run_dir
    assert result.status == "failed", result.message
    assert result.message.startswith(f"no space left on device while writing {run_dir / runs.BEST_MODEL}")
    assert "--run-dir" in result.message and "MB" in result.message
    assert (run_dir / runs.BEST_MODEL).read_bytes() == saved[0]  # epoch 1's checkpoint, whole
    assert zipfile.is_zipfile(run_dir / runs.BEST_MODEL)
    assert _temps(run_dir) == []
    info = runs.read_run(run_dir)
    assert info.status == "failed" and info.message == result.message


# --- interrupted runs and reused PIDs -----------------------------------------------------
@linux_only
def test_a_live_pid_with_another_start_time_is_an_interrupted_run(tmp_path):
    writer = runs.RunWriter(tmp_path)
    status = _status(writer)
    assert status["pid"] == os.getpid() and status["pid_start"] == runs.process_start(os.getpid())
    assert runs.read_run(writer.path).status == "running"

    # the PID now belongs to another process (this one, started at another time)
    _set_status(writer, pid_start=str(int(status["pid_start"]) + 1))
    assert runs.read_run(writer.path).status == "interrupted"

    _set_status(writer, pid_start=status["pid_start"])
    assert runs.read_run(writer.path).status == "running"


@linux_only
def test_a_pid_of_an_earlier_boot_is_an_interrupted_run(tmp_path):
    writer = runs.RunWriter(tmp_path)
    assert _status(writer)["boot_id"] == runs.boot_id()
    _set_status(writer, boot_id="00000000-0000-0000-0000-000000000000")
    assert runs.read_run(writer.path).status == "interrupted"


def test_a_dead_pid_is_an_interrupted_run(tmp_path):
    writer = runs.RunWriter(tmp_path)
    _set_status(writer, pid=DEAD_PID)
    assert runs.read_run(writer.path).status == "interrupted"


def test_an_old_status_without_a_start_time_still_loads(tmp_path):
    writer = runs.RunWriter(tmp_path)
    status = _status(writer)
    for key in ("pid_start", "boot_id"):
        status.pop(key, None)
    writer.file(runs.STATUS_FILE).write_text(json.dumps(status))
    assert runs.read_run(writer.path).status == "running"  # the PID is alive: as before
    status["pid"] = DEAD_PID
    writer.file(runs.STATUS_FILE).write_text(json.dumps(status))
    assert runs.read_run(writer.path).status == "interrupted"


def test_a_run_whose_final_status_could_not_be_written_is_not_running(tmp_path, monkeypatch):
    writer = runs.RunWriter(tmp_path)

    def full(path, data):
        raise files.FileWriteError(path, OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(runs, "write_json_atomic", full)
    with pytest.raises(files.FileWriteError):
        writer.finish("failed", "disk full")
    monkeypatch.undo()
    assert _status(writer)["status"] == "running"  # on disk: the last status that fitted
    assert runs.read_run(writer.path).status == "interrupted"


# --- the command line ------------------------------------------------------------------
@pytest.fixture
def project(tmp_path):
    if not EXAMPLE.is_file():
        pytest.skip("the bundled iris example is missing")
    pytest.importorskip("keras")
    path = tmp_path / "iris.studio.json"
    shutil.copy(EXAMPLE, path)
    return path


def _no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _one_run(project: Path) -> runs.RunInfo:
    (info,) = runs.list_runs(project.parent / "iris.runs")
    return info


def test_train_on_a_full_disk_names_the_checkpoint_and_what_to_free(project, capsys, monkeypatch):
    import keras

    monkeypatch.setattr(keras.Model, "save", _no_space)
    assert main(["train", str(project), "--epochs", "1", "--batch-size", "32"]) == 1
    captured = capsys.readouterr()
    # the failure is one line (info lines such as 'initial weights: ...' come before it)
    lines = [line for line in captured.err.splitlines() if line.strip() and not line.startswith("studio: info:")]
    assert len(lines) == 1, captured.err
    info = _one_run(project)
    assert lines[0].startswith(
        f"studio: error: no space left on device while writing {info.path / runs.BEST_MODEL}; free at least "
    )
    assert " MB there (best.keras and final.keras are about " in lines[0]
    assert "--run-dir" in lines[0] and "Traceback" not in captured.err
    assert info.status == "failed" and not info.has_best and not info.has_final
    assert _temps(info.path) == []


def test_train_json_on_a_full_disk_for_the_history(project, capsys, monkeypatch):
    monkeypatch.setattr(MetricsHistory, "to_csv", _no_space)
    assert main(["train", str(project), "--epochs", "1", "--batch-size", "32", "--json"]) == 1
    captured = capsys.readouterr()
    info = _one_run(project)
    records = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    (end,) = [r for r in records if r.get("event") == "end"]
    assert end["status"] == "failed"
    assert end["message"].startswith(f"no space left on device while writing {info.path / runs.HISTORY_FILE};")
    assert records[-1]["ok"] is False and records[-1]["error"] == end["message"]
    failure = [line for line in captured.err.strip().splitlines() if not line.startswith("studio: info:")]
    assert info.path.name in captured.err and len(failure) == 1
    assert _temps(info.path) == []


def _read_only(folder: Path, monkeypatch) -> None:
    """Writes into `folder` fail as in a read-only folder (chmod does not stop root)."""
    replace = os.replace

    def guarded(src, dst, *args, **kwargs):
        if Path(dst).resolve().is_relative_to(folder.resolve()):
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", guarded)


def test_evaluate_in_a_read_only_run_prints_the_metrics_and_one_warning(project, capsys, monkeypatch):
    assert main(["train", str(project), "--epochs", "1", "--batch-size", "32"]) == 0
    info = _one_run(project)
    evaluation = info.path / runs.EVALUATION_FILE
    before = evaluation.read_bytes()
    # a save of best.keras killed midway before this: its partial temp file is still there
    partial = info.path / f"best.keras.{DEAD_PID}-a1b2c3d4.tmp.keras"
    partial.write_bytes(b"PK\x03\x04")
    capsys.readouterr()

    _read_only(info.path, monkeypatch)
    assert main(["evaluate", str(project)]) == 0
    captured = capsys.readouterr()
    assert "Accuracy" in captured.out and "Confusion matrix" in captured.out
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert lines == [
        f"studio: warning: the results could not be saved to {evaluation} (permission denied); "
        "they are shown but not kept"
    ]
    assert evaluation.read_bytes() == before
    assert not partial.exists()  # the good best.keras was used; the killed save's temp is gone

    assert main(["evaluate", str(project), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["run"] == info.id and 0 <= result["accuracy"] <= 1
    assert result["warnings"] == [lines[0].removeprefix("studio: warning: ")]
    assert _temps(info.path) == []
