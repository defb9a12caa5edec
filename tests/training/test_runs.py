"""Run folders: status marker, listing, interrupted runs, lookup and delete."""

from __future__ import annotations

import json

import pytest

from studio.core.errors import TrainingError
from studio.training import runs
from studio.training.history import MetricsHistory


def _finished_run(root, status="completed", epochs=2, with_model=True):
    writer = runs.RunWriter(root)
    writer.write_config({"training": {"epochs": epochs}})
    history = MetricsHistory()
    for e in range(1, epochs + 1):
        history.add_epoch(e, {"loss": 1.0 / e})
    writer.write_history(history)
    if with_model:
        writer.file(runs.FINAL_MODEL).write_bytes(b"zip")
    writer.finish(status, "done", epochs_done=epochs, final_metrics={"loss": 0.5}, device="CPU")
    return writer


def test_a_run_is_running_until_finished(tmp_path):
    writer = runs.RunWriter(tmp_path)
    assert runs.read_run(writer.path).status == "running"  # this process is alive
    writer.finish("completed", "ok", epochs_done=1)
    info = runs.read_run(writer.path)
    assert info.status == "completed" and info.is_finished and info.duration_s >= 0


def test_a_running_run_whose_process_died_is_interrupted(tmp_path):
    writer = runs.RunWriter(tmp_path)
    status = json.loads(writer.file(runs.STATUS_FILE).read_text())
    status["pid"] = 2**22 + 12345  # no such process
    writer.file(runs.STATUS_FILE).write_text(json.dumps(status))
    assert runs.read_run(writer.path).status == "interrupted"


def test_list_latest_find_and_load(tmp_path):
    first = _finished_run(tmp_path)
    second = _finished_run(tmp_path, status="stopped", epochs=3)
    _finished_run(tmp_path, status="failed", with_model=False)
    (tmp_path / "not-a-run").mkdir()
    listed = runs.list_runs(tmp_path)
    assert [r.status for r in listed] == ["completed", "stopped", "failed"]
    assert runs.latest_run(tmp_path).id == second.id
    assert runs.find_run(tmp_path, None).id == second.id
    assert runs.find_run(tmp_path, first.id).id == first.id
    assert runs.find_run(tmp_path, first.id[-6:]).id == first.id  # the short id
    assert runs.find_run(tmp_path, str(first.path)).id == first.id
    with pytest.raises(TrainingError, match="not found"):
        runs.find_run(tmp_path, "zzzz")
    assert list(runs.load_history(second.path).epoch_x) == [1.0, 2.0, 3.0]
    assert runs.load_config(first.path)["training"]["epochs"] == 2
    assert listed[0].final_metrics == {"loss": 0.5} and listed[0].device == "CPU"


def test_no_runs_is_a_clear_error(tmp_path):
    with pytest.raises(TrainingError, match="train first"):
        runs.find_run(tmp_path / "none.runs", None)
    assert runs.list_runs(tmp_path / "none.runs") == []


def test_delete_removes_runs_but_refuses_other_folders(tmp_path):
    run = _finished_run(tmp_path)
    runs.delete_run(run.path)
    assert not run.path.exists()
    other = tmp_path / "photos"
    other.mkdir()
    with pytest.raises(TrainingError, match="not a run folder"):
        runs.delete_run(other)
    assert other.exists()
    live = runs.RunWriter(tmp_path)
    with pytest.raises(TrainingError, match="still training"):
        runs.delete_run(live.path)
