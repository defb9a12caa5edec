"""`studio train --strategy multiworker` (issue 16, point 2): two workers on 127.0.0.1.

Each worker is the real command in its own process, as a user starts it on each
machine. The slow tests start TensorFlow twice and train; the cluster checks
at the top run without TensorFlow.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.core.errors import TrainingError
from studio.training import multiworker
from tests.cli.helpers import REPO, assert_one_clear_line, studio

EXAMPLE = REPO / "projects" / "iris-mlp.studio.json"


# --- the cluster from the options or TF_CONFIG (no TensorFlow) --------------------------------
def test_cluster_from_options(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    cluster = multiworker.parse_cluster("10.0.0.5:2222, 10.0.0.6:2222", 1)
    assert cluster.workers == ("10.0.0.5:2222", "10.0.0.6:2222") and not cluster.is_chief
    assert cluster.tf_config() == {"cluster": {"worker": ["10.0.0.5:2222", "10.0.0.6:2222"]},
                                   "task": {"type": "worker", "index": 1}}
    assert "chief" in multiworker.parse_cluster("a:1,b:2", 0).describe()


@pytest.mark.parametrize(
    "cluster, index, words",
    [
        ("10.0.0.5,10.0.0.6:2222", 0, ["'10.0.0.5' is not HOST:PORT"]),
        ("a:1,b:2", None, ["needs --task-index"]),
        ("a:1,b:2", 2, ["--task-index 2", "use 0 to 1"]),
        ("a:1,a:1", 0, ["names a worker twice"]),
    ],
)
def test_bad_cluster_is_one_clear_message(monkeypatch, cluster, index, words):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(TrainingError) as info:
        multiworker.parse_cluster(cluster, index)
    for word in words:
        assert word in str(info.value)


def test_cluster_from_tf_config(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["h1:5000", "h2:5000", "h3:5000"]},
                                                "task": {"type": "worker", "index": 2}}))
    cluster = multiworker.parse_cluster(None, None)
    assert cluster.index == 2 and len(cluster.workers) == 3
    monkeypatch.delenv("TF_CONFIG")
    with pytest.raises(TrainingError, match="--cluster HOST:PORT,HOST:PORT --task-index I"):
        multiworker.parse_cluster(None, None)
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(TrainingError, match="TF_CONFIG is not"):
        multiworker.parse_cluster(None, None)


def test_cluster_without_multiworker_is_refused(tmp_path):
    if not EXAMPLE.is_file():
        pytest.skip("the bundled iris example is missing")
    project = tmp_path / "iris.studio.json"
    shutil.copy(EXAMPLE, project)
    result = studio("train", project, "--cluster", "127.0.0.1:1,127.0.0.1:2", "--task-index", "0")
    assert_one_clear_line(result, "--cluster and --task-index go with --strategy multiworker")


# --- two real workers ---------------------------------------------------------------------------
def _free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Workers:
    """`studio train --strategy multiworker` on each of `count` local workers; killed on exit."""

    def __init__(self, tmp_path: Path, epochs: int, count: int = 2) -> None:
        if not EXAMPLE.is_file():
            pytest.skip("the bundled iris example is missing")
        self.project = tmp_path / "iris.studio.json"
        shutil.copy(EXAMPLE, self.project)
        self.runs = tmp_path / "runs"
        cluster = ",".join(f"127.0.0.1:{port}" for port in _free_ports(count))
        env = dict(os.environ, STUDIO_CONFIG_DIR=str(tmp_path / "config"), TF_CPP_MIN_LOG_LEVEL="3")
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        env.pop("TF_CONFIG", None)
        self.logs = [(tmp_path / f"out{i}.txt", tmp_path / f"err{i}.txt") for i in range(count)]
        self.procs = []
        for index, (out, err) in enumerate(self.logs):
            command = [sys.executable, "-m", "studio", "train", str(self.project), "--json", "--seed", "3",
                       "--epochs", str(epochs), "--strategy", "multiworker", "--cluster", cluster,
                       "--task-index", str(index), "--run-dir", str(self.runs)]
            self.procs.append(subprocess.Popen(command, env=env, stdout=out.open("w"), stderr=err.open("w")))

    def out(self, index: int) -> list[dict]:
        return [json.loads(line) for line in self.logs[index][0].read_text().splitlines() if line.startswith("{")]

    def err(self, index: int) -> str:
        return self.logs[index][1].read_text()

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.fixture
def workers(tmp_path):
    made: list[Workers] = []

    def start(epochs: int) -> Workers:
        made.append(Workers(tmp_path, epochs))
        return made[-1]

    yield start
    for group in made:
        group.close()


def _digest(text: str) -> str:
    for line in text.splitlines():
        if "final weights digest" in line:
            return line.split("final weights digest", 1)[1].split()[0]
    raise AssertionError(f"no weights digest in:\n{text}")


@pytest.mark.slow
def test_two_workers_train_one_model_and_the_chief_writes_the_run(workers):
    pytest.importorskip("tensorflow")
    group = workers(epochs=2)
    for proc in group.procs:  # a generous bound only so that CI never hangs
        assert proc.wait(timeout=600) == 0, (group.err(0)[-2000:], group.err(1)[-2000:])
    chief, other = group.out(0), group.out(1)
    assert [r["epoch"] for r in chief if r["event"] == "epoch"] == [1, 2]
    # the same averaged gradients on every worker: the same losses and the same weights
    assert [r["loss"] for r in chief if r["event"] == "epoch"] == [r["loss"] for r in other if r["event"] == "epoch"]
    # the compiled metrics too, as fit reports them (training and validation), the same on every worker
    epochs = [[r for r in out if r["event"] == "epoch"] for out in (chief, other)]
    assert all(0 <= r["accuracy"] <= 1 and 0 <= r["val_accuracy"] <= 1 for r in epochs[0])
    scores = [[(r["accuracy"], r["val_accuracy"]) for r in records] for records in epochs]
    assert scores[0] == scores[1]
    assert _digest(group.err(0)) == _digest(group.err(1))
    assert "MultiWorkerMirroredStrategy, 2 workers" in chief[-1]["device"]
    # the chief alone wrote a run: its model and history
    (run,) = [p for p in group.runs.iterdir() if p.is_dir()]
    assert (run / "final.keras").is_file() and (run / "best.keras").is_file()
    history = (run / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch") and len(history) == 3
    assert "accuracy" in history[0].split(",") and "val_accuracy" in history[0].split(",")
    assert chief[-1]["status"] == "completed" and chief[-1]["run_dir"] == str(run)
    assert other[-1]["status"] == "completed" and other[-1]["run_dir"] is None  # it keeps no run of its own
    # the saved model holds the weights every worker ended with
    code = ("import keras, sys; from studio.training.multiworker import weights_digest; "
            "print(weights_digest(keras.models.load_model(sys.argv[1], compile=False)))")
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    saved = subprocess.run([sys.executable, "-c", code, str(run / "final.keras")], env=env,
                           capture_output=True, text=True, timeout=300)
    assert saved.stdout.strip().splitlines()[-1] == _digest(group.err(0)), saved.stderr


@pytest.mark.slow
def test_a_worker_that_dies_fails_the_other_within_60_seconds(workers):
    pytest.importorskip("tensorflow")
    group = workers(epochs=100000)
    chief, other = group.procs
    # wait until training runs: the chief reported an epoch (generous bound: CI never hangs)
    deadline = time.monotonic() + 600
    while not any(r.get("event") == "epoch" for r in group.out(0)):
        assert chief.poll() is None and other.poll() is None, (group.err(0)[-2000:], group.err(1)[-2000:])
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.2)
    other.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    # the promise to the user: the surviving worker ends, with a clear message, within 60 s
    rc = chief.wait(timeout=60)
    assert time.monotonic() - killed < 60
    assert rc == 1
    errors = [line for line in group.err(0).splitlines() if line.startswith("studio: error:")]
    assert len(errors) == 1 and "another worker stopped answering" in errors[0], group.err(0)[-2000:]
    assert "start them all again" in errors[0] and "Traceback" not in group.err(0)
    (end,) = [r for r in group.out(0) if r.get("event") == "end"]
    assert end["status"] == "failed" and end["epochs_done"] >= 1


@pytest.mark.slow
def test_ctrl_c_on_the_chief_stops_every_worker_and_saves_the_run(workers):
    pytest.importorskip("tensorflow")
    group = workers(epochs=100000)
    chief, other = group.procs
    deadline = time.monotonic() + 600  # generous: CI never hangs
    while not any(r.get("event") == "epoch" for r in group.out(0)):
        assert chief.poll() is None and other.poll() is None, (group.err(0)[-2000:], group.err(1)[-2000:])
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.2)
    chief.send_signal(signal.SIGINT)
    assert chief.wait(timeout=600) == 0 and other.wait(timeout=600) == 0, (group.err(0)[-2000:], group.err(1)[-2000:])
    ends = [[r for r in group.out(i) if r.get("event") == "end"][0] for i in (0, 1)]
    assert [e["status"] for e in ends] == ["stopped", "stopped"]
    assert ends[0]["epochs_done"] == ends[1]["epochs_done"] >= 1
    assert _digest(group.err(0)) == _digest(group.err(1))  # they stopped after the same step
    (run,) = [p for p in group.runs.iterdir() if p.is_dir()]
    assert json.loads((run / "status.json").read_text())["status"] == "stopped" and (run / "final.keras").is_file()


def test_batch_normalization_is_synchronised_under_multiworker_even_nested():
    keras = pytest.importorskip("keras")
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), keras.layers.BatchNormalization(name="bn_in")])
    model = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization(name="bn_top"), inner,
                              keras.layers.Dense(2)])
    assert sorted(multiworker.synchronize_batch_norm(model)) == ["bn_in", "bn_top"]
    assert model.get_layer("bn_top").synchronized and inner.get_layer("bn_in").synchronized
    assert multiworker.synchronize_batch_norm(model) == []  # already synchronised: nothing to say
