"""The exported script's `--strategy {default,one,mirrored,multiworker}` options (issue 16, point 3).

The option checks run in this process (the script's `parse_arguments`); the slow tests run
the exported Iris script as a user does: mirrored over the CPU split into 2 logical devices,
and two workers of a multi-worker run on 127.0.0.1, each in its own process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.compiler.plan import make_plan
from studio.export.codegen import ScriptSettings, generate_script
from tests.compiler.graphs import mlp
from tests.export.helpers import import_script
from tests.export.test_script_device_checkpoint import _export as export_iris
from tests.training.test_multiworker import _free_ports


def _export(tmp_path: Path, **training) -> Path:
    """`studio export` of the Iris template project as iris_model.py (2 epochs, seeded)."""
    return export_iris(tmp_path, **{"epochs": 2, **training})


def _env() -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def _module(tmp_path: Path):
    """The script of a small network without data, imported (its main() does not run)."""
    path = tmp_path / "net.py"
    path.write_text(generate_script(make_plan(mlp(), "net"), ScriptSettings(name="net", training={"epochs": 1})))
    return import_script(path)


def test_strategy_options_are_checked_with_one_clear_message(tmp_path, capsys):
    module = _module(tmp_path)
    args = module.parse_arguments(["--strategy", "mirrored", "--devices", "gpu:0,GPU:2"])
    assert args.devices == ["/GPU:0", "/GPU:2"]
    args = module.parse_arguments(["--strategy", "multiworker", "--cluster", "h1:5000,h2:5000", "--task-index", "1"])
    assert (args.cluster, args.task_index) == ("h1:5000,h2:5000", 1)
    assert module.parse_arguments([]).strategy == "default"
    refused = [
        (["--devices", "gpu:1"], "--devices goes with --strategy one or mirrored"),
        (["--strategy", "mirrored", "--devices", "tpu:0"], "'tpu:0' is not cpu:N or gpu:N"),
        (["--strategy", "one", "--devices", "gpu:0,gpu:1"], "--strategy one takes one device"),
        (["--cluster", "a:1,b:2", "--task-index", "0"], "--cluster and --task-index go with --strategy multiworker"),
        (["--strategy", "multiworker", "--cluster", "a:1,b:2"], "--task-index: this worker's place in --cluster"),
        (["--strategy", "multiworker", "--cluster", "a:1,b:2", "--task-index", "2"], "0 to 1"),
        (["--strategy", "fast"], "invalid choice: 'fast'"),
    ]
    for argv, words in refused:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            module.parse_arguments(argv)
        assert info.value.code == 2
        assert words in capsys.readouterr().err, argv


def test_multiworker_without_a_cluster_asks_for_one(tmp_path, capsys, monkeypatch):
    module = _module(tmp_path)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(SystemExit):
        module.parse_arguments(["--strategy", "multiworker"])
    assert "needs --cluster and --task-index, or TF_CONFIG" in capsys.readouterr().err
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["h:1", "h:2"]}, "task": {"type": "worker", "index": 0}}')
    assert module.parse_arguments(["--strategy", "multiworker"]).cluster is None  # TF_CONFIG says it


def test_help_names_the_strategies(tmp_path, capsys):
    module = _module(tmp_path)
    with pytest.raises(SystemExit) as info:
        module.parse_arguments(["--help"])
    assert info.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    for words in ("--strategy {default,one,mirrored,multiworker}", "--devices", "--cluster", "--task-index",
                  "cpu:0,cpu:1 splits the CPU into two devices"):
        assert words in shown


@pytest.mark.slow
def test_mirrored_over_the_cpu_split_in_two_trains_and_saves(tmp_path):
    import keras

    script = _export(tmp_path)
    run = subprocess.run([sys.executable, script.name, "--strategy", "mirrored", "--devices", "cpu:0,cpu:1"],
                         capture_output=True, text=True, cwd=script.parent, env=_env(), timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "--strategy mirrored: 2 replica(s)" in run.stdout
    assert "Epoch 2/2" in run.stdout and "val_loss" in run.stdout and "Test: loss:" in run.stdout
    saved = keras.saving.load_model(script.with_name("iris_model.keras"), safe_mode=True)
    assert saved.layers[0].name == "raw_input"
    assert script.with_name("iris_model.best.keras").is_file()


# Runs the exported script's main() and prints a digest of the trained weights (tests only).
_DRIVER = '''
import hashlib, importlib.util, sys
spec = importlib.util.spec_from_file_location("iris_model", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
fit = module.fit_distributed

def spy(model, data, strategy):
    history = fit(model, data, strategy)
    weights = b"".join(w.tobytes() for w in model.get_weights())
    print("weights digest", hashlib.sha256(weights).hexdigest(), flush=True)
    return history

module.fit_distributed = spy
module.main(sys.argv[2:])
'''


@pytest.mark.slow
def test_two_workers_on_localhost_train_the_same_weights_and_the_chief_saves(tmp_path):
    script = _export(tmp_path)
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER)
    cluster = ",".join(f"127.0.0.1:{port}" for port in _free_ports(2))
    env = _env()
    env.pop("TF_CONFIG", None)
    logs = [(tmp_path / f"out{i}.txt", tmp_path / f"err{i}.txt") for i in range(2)]
    procs = []
    try:
        for index, (out, err) in enumerate(logs):
            command = [sys.executable, str(driver), str(script), "--strategy", "multiworker", "--cluster", cluster,
                       "--task-index", str(index)]
            procs.append(subprocess.Popen(command, cwd=script.parent, env=env, stdout=out.open("w"),
                                          stderr=err.open("w")))
        for proc in procs:  # a generous bound only so that CI never hangs
            assert proc.wait(timeout=600) == 0, [err.read_text()[-2000:] for _, err in logs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()  # TensorFlow's workers ignore SIGTERM
            proc.wait()
    chief, other = (out.read_text() for out, _ in logs)
    digests = [[line for line in text.splitlines() if line.startswith("weights digest")] for text in (chief, other)]
    assert len(digests[0]) == 1 and digests[0] == digests[1], digests
    assert "--strategy multiworker: 2 replica(s)" in chief
    # the same global batches and averaged gradients: the same test scores on both workers
    tests = [[line for line in text.splitlines() if line.startswith("Test: loss:")] for text in (chief, other)]
    assert len(tests[0]) == 1 and tests[0] == tests[1]
    # the chief alone saved the model and its best epoch
    assert f"Saved {script.with_name('iris_model.keras')}" in chief and "Saved" not in other
    assert script.with_name("iris_model.best.keras").is_file()
    import keras

    saved = keras.saving.load_model(script.with_name("iris_model.keras"), safe_mode=True)
    import hashlib

    weights = b"".join(w.tobytes() for w in saved.get_weights())
    assert digests[0][0] == f"weights digest {hashlib.sha256(weights).hexdigest()}"


@pytest.mark.slow
def test_a_worker_that_dies_ends_the_other_with_one_message_within_60_seconds(tmp_path):
    import time

    script = _export(tmp_path, epochs=100000)
    cluster = ",".join(f"127.0.0.1:{port}" for port in _free_ports(2))
    env = {**_env(), "PYTHONUNBUFFERED": "1"}
    env.pop("TF_CONFIG", None)
    logs = [(tmp_path / f"out{i}.txt", tmp_path / f"err{i}.txt") for i in range(2)]
    procs = []
    try:
        for index, (out, err) in enumerate(logs):
            command = [sys.executable, script.name, "--strategy", "multiworker", "--cluster", cluster,
                       "--task-index", str(index)]
            procs.append(subprocess.Popen(command, cwd=script.parent, env=env, stdout=out.open("w"),
                                          stderr=err.open("w")))
        chief, other = procs
        deadline = time.monotonic() + 600  # generous: CI never hangs
        while "Epoch 3/" not in logs[0][0].read_text():
            assert chief.poll() is None and other.poll() is None, [e.read_text()[-2000:] for _, e in logs]
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.2)
        other.kill()
        killed = time.monotonic()
        assert chief.wait(timeout=60) == 1  # the promise: the survivor ends within 60 s
        assert time.monotonic() - killed < 60
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()  # TensorFlow's workers ignore SIGTERM
            proc.wait()
    err = logs[0][1].read_text()
    assert "Traceback" not in err
    (message,) = [line for line in err.splitlines() if line.startswith("multiworker training stopped")]
    assert "another worker stopped answering" in message and "start them all again" in message
    assert "Saved" not in logs[0][0].read_text()
