"""TrainingSession: a real (tiny) fit, run folder contents, stop, pause, NaN, continue."""

from __future__ import annotations

import json
import math
import threading
import time

import pytest

from studio.core.errors import BuildError
from studio.training import runs
from studio.training.config import EarlyStopping, TrainingConfig
from studio.training.reports import TaskInfo
from studio.training.session import TrainingSession
from tests.training.conftest import Recorder

TASK = TaskInfo(task="classification", num_classes=3, class_names=["a", "b", "c"])


def test_run_trains_and_writes_a_complete_run_folder(tmp_path, blobs, mlp, keras):
    x, y = blobs
    recorder = Recorder()
    config = TrainingConfig(epochs=3, batch_size=32, learning_rate=0.05, seed=1)
    session = TrainingSession(
        mlp,
        (x, y),
        None,
        config,
        recorder,
        task=TASK,
        runs_root=tmp_path / "p.runs",
        snapshot={"project": "p", "graph": {"nodes": []}},
        test_data=(x[:50], y[:50]),
    )
    result = session.run()
    assert result.status == "completed", result.message
    assert result.epochs_done == 3
    # the loss went down and the validation split was used (20% held out)
    losses = list(result.history.epoch["loss"])
    assert losses[-1] < losses[0]
    assert "val_loss" in result.final_logs and recorder.start.val_samples == 80
    # reports arrive in order: start, batches..., epochs, finish
    assert recorder.events[0] == "start" and recorder.events[-1] == "finish"
    assert [e.epoch for e in recorder.epochs] == [1, 2, 3]
    assert recorder.batch_points == 3 * recorder.start.steps_per_epoch
    folder = result.run_dir
    assert folder.parent == tmp_path / "p.runs"
    names = {p.name for p in folder.iterdir()}
    assert {
        "status.json",
        "config.json",
        "history.csv",
        "best.keras",
        "final.keras",
        "logs",
        "evaluation.json",
    } <= names
    status = json.loads((folder / "status.json").read_text())
    assert status["status"] == "completed" and status["epochs_done"] == 3
    record = json.loads((folder / "config.json").read_text())
    assert record["graph"] == {"nodes": []} and record["training"]["epochs"] == 3
    assert len(runs.load_history(folder).epoch_x) == 3
    evaluation = runs.load_evaluation(folder)
    assert evaluation["class_names"] == ["a", "b", "c"] and len(evaluation["confusion"]) == 3
    assert any((folder / "logs").rglob("events.out.tfevents*"))
    reloaded = keras.saving.load_model(folder / "final.keras", safe_mode=True)
    assert reloaded.predict(x[:5], verbose=0).shape == (5, 3)


def test_batch_reports_are_batched_not_one_per_batch(blobs, mlp):
    x, y = blobs
    recorder = Recorder()
    # one batch per call into TensorFlow: a point per batch (test_execution.py covers "auto")
    config = TrainingConfig(epochs=2, batch_size=8, validation_split=0.0, steps_per_execution=1)
    session = TrainingSession(mlp, (x, y), None, config, recorder, task=TASK, report_interval=60.0)
    session.run()
    steps = recorder.start.steps_per_epoch
    assert recorder.batch_points == 2 * steps == 100
    assert len(recorder.batches) == 2  # one flush per epoch end at this interval
    first = recorder.batches[0]
    assert first.xs[-1] == pytest.approx(1.0) and len(first.values["loss"]) == steps


def test_stop_takes_effect_within_one_batch(tmp_path, blobs, mlp):
    x, y = blobs
    holder = {}

    def stop_at_third(report):
        if report.step >= 3:
            holder["session"].request_stop()

    recorder = Recorder(on_batches=stop_at_third)
    config = TrainingConfig(epochs=5, batch_size=8, steps_per_execution=1)
    session = TrainingSession(
        mlp, (x, y), None, config, recorder, task=TASK, runs_root=tmp_path, report_interval=0.0
    )
    holder["session"] = session
    result = session.run()
    assert result.status == "stopped" and result.reason == "user"
    assert recorder.batch_points == 3
    assert result.epochs_done == 0 and not recorder.epochs  # the cut epoch is not an epoch
    assert json.loads((result.run_dir / "status.json").read_text())["status"] == "stopped"
    assert (result.run_dir / "final.keras").is_file()
    assert not (result.run_dir / "best.keras").exists()


def test_pause_holds_between_batches_and_resume_continues(blobs, mlp):
    x, y = blobs
    paused = threading.Event()
    holder = {}

    def pause_once(report):
        if not paused.is_set():
            paused.set()
            holder["session"].pause()

    recorder = Recorder(on_batches=pause_once)
    session = TrainingSession(
        mlp,
        (x, y),
        None,
        TrainingConfig(epochs=1, batch_size=16, steps_per_execution=1),
        recorder,
        task=TASK,
        report_interval=0.0,
    )
    holder["session"] = session
    thread = threading.Thread(target=session.run)
    thread.start()
    assert paused.wait(120)
    deadline = time.time() + 120
    while "paused" not in recorder.states and time.time() < deadline:
        time.sleep(0.01)
    held = recorder.batch_points
    time.sleep(0.3)
    assert session.is_paused and recorder.batch_points == held == 1
    session.resume()
    thread.join(300)
    assert recorder.result.status == "completed"
    assert recorder.states.index("paused") < len(recorder.states) - 1
    assert recorder.batch_points == recorder.start.steps_per_epoch


def test_stop_while_paused_ends_the_run(blobs, mlp):
    x, y = blobs
    holder = {}
    recorder = Recorder(on_batches=lambda r: holder["session"].pause())
    session = TrainingSession(
        mlp, (x, y), None, TrainingConfig(epochs=3, batch_size=16), recorder, task=TASK, report_interval=0.0
    )
    holder["session"] = session
    thread = threading.Thread(target=session.run)
    thread.start()
    deadline = time.time() + 120
    while "paused" not in recorder.states and time.time() < deadline:
        time.sleep(0.01)
    session.request_stop()
    thread.join(300)
    assert not thread.is_alive()
    assert recorder.result.status == "stopped" and recorder.batch_points == 1


def test_nan_loss_stops_with_advice_and_keeps_history(tmp_path, keras):
    import numpy as np

    x = np.ones((64, 2), dtype="float32")
    y = np.ones((64, 1), dtype="float32")
    y[40:] = np.inf  # diverges in the second epoch

    def build():
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    recorder = Recorder()
    config = TrainingConfig(epochs=4, batch_size=8, validation_split=0.0, loss="mse")
    session = TrainingSession(
        build, (x, y), None, config, recorder, task=TaskInfo(task="regression"), runs_root=tmp_path
    )
    result = session.run()
    assert result.status == "failed" and result.reason == "nan"
    # the targets hold inf: the advice names them, not the learning rate
    assert "targets hold infinite" in result.message and "learning rate will not help" in result.message
    assert ("error", result.message) in recorder.messages
    assert recorder.batch_points >= 1 and result.epochs_done == 0
    assert json.loads((result.run_dir / "status.json").read_text())["status"] == "failed"
    assert not (result.run_dir / "final.keras").exists()


def test_continue_training_extends_the_previous_run(tmp_path, blobs, mlp):
    x, y = blobs
    config = TrainingConfig(epochs=2, batch_size=32, seed=0)
    first = TrainingSession(mlp, (x, y), None, config, task=TASK, runs_root=tmp_path, tensorboard=False).run()
    recorder = Recorder()
    second = TrainingSession(
        mlp,
        (x, y),
        None,
        config.replace(epochs=1),
        recorder,
        task=TASK,
        runs_root=tmp_path,
        continue_from=first.run_dir,
        tensorboard=False,
    ).run()
    assert second.status == "completed", second.message
    assert recorder.start.initial_epoch == 2 and recorder.start.epochs == 3
    assert list(second.history.epoch_x) == [1.0, 2.0, 3.0]
    assert [e.epoch for e in recorder.epochs] == [3]
    # it starts from the trained weights: its first loss is near the previous last loss
    assert second.history.epoch["loss"][2] < first.history.epoch["loss"][0]
    assert runs.load_config(second.run_dir)["parent_run"] == first.run_id


def test_continue_refuses_a_changed_network(tmp_path, blobs, mlp):
    x, y = blobs
    config = TrainingConfig(epochs=1, validation_split=0.0)
    first = TrainingSession(mlp, (x, y), None, config, task=TASK, runs_root=tmp_path, tensorboard=False).run()
    other = TrainingSession(
        lambda: mlp(classes=5),
        (x, y),
        None,
        config,
        task=TASK,
        runs_root=tmp_path,
        continue_from=first.run_dir,
    ).run()
    assert other.status == "failed" and "start a new run" in other.message


def test_missing_gpu_falls_back_to_cpu_with_a_message(blobs, mlp):
    x, y = blobs
    recorder = Recorder()
    config = TrainingConfig(epochs=1, device="gpu:7", validation_split=0.0)
    result = TrainingSession(mlp, (x[:64], y[:64]), None, config, recorder, task=TASK).run()
    assert result.status == "completed" and result.device == "CPU"
    assert any(level == "warning" and "gpu:7" in text for level, text in recorder.messages)


def test_build_errors_and_bad_data_fail_the_run_with_one_line(tmp_path, blobs, mlp):
    x, y = blobs

    def broken():
        raise BuildError("node dense_1: units must be positive; set units to 1 or more", node_id="dense_1")

    result = TrainingSession(broken, (x, y), None, TrainingConfig(epochs=1), task=TASK).run()
    assert result.status == "failed" and result.message.startswith("node dense_1")

    wrong = TrainingSession(
        lambda: mlp(inputs=7), (x, y), None, TrainingConfig(epochs=1), task=TASK, runs_root=tmp_path
    ).run()
    assert wrong.status == "failed" and "\n" not in wrong.message
    assert (wrong.run_dir / "error.txt").is_file()
    assert runs.read_run(wrong.run_dir).status == "failed"


def test_early_stopping_and_plateau_schedule(blobs, mlp):
    x, y = blobs
    config = TrainingConfig(
        epochs=30,
        batch_size=64,
        learning_rate=1e-6,
        lr_schedule="reduce_on_plateau",
        lr_schedule_params={"patience": 0, "factor": 0.5},
        early_stopping=EarlyStopping(enabled=True, patience=2, min_delta=10.0),
    )
    result = TrainingSession(mlp, (x, y), None, config, task=TASK).run()
    assert result.status == "completed" and result.reason == "early_stopping"
    assert result.epochs_done < 30
    rates = list(result.history.epoch["learning_rate"])
    assert rates[-1] < rates[0] and not any(math.isnan(r) for r in rates)


def test_mirrored_strategy_on_one_cpu_trains_and_says_so(blobs, mlp):
    x, y = blobs
    recorder = Recorder()
    config = TrainingConfig(epochs=1, batch_size=32, validation_split=0.0)
    result = TrainingSession(mlp, (x, y), None, config, recorder, task=TASK, strategy="mirrored").run()
    assert result.status == "completed", result.message
    assert result.device.startswith("MirroredStrategy")
    assert any("one replica" in text for _level, text in recorder.messages)


def test_a_shape_error_seen_only_in_fit_names_the_node(tmp_path, keras):
    """A Reshape that accepts any width at build but not the data's: Keras fails while
    tracing fit, naming only the class; the one Reshape's node is named and the run is marked."""
    import numpy as np

    def build():
        inputs = keras.Input((None,), name="inp")
        x = keras.layers.Reshape((2, 2), name="reshape_a")(inputs)
        x = keras.layers.Flatten(name="flat")(x)
        return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x))

    x, y = np.zeros((32, 3), "float32"), np.zeros(32, "int64")
    layers = [
        ("inp", "InputLayer", "n-in", "Input"),
        ("reshape_a", "Reshape", "n-reshape", "Reshape 2x2"),
        ("flat", "Flatten", "n-flat", "Flatten"),
        ("out", "Dense", "n-out", "Output"),
    ]
    result = TrainingSession(
        build, (x, y), None, TrainingConfig(epochs=1, batch_size=8), Recorder(),
        task=TaskInfo(num_classes=3), runs_root=tmp_path, layers=layers,
    ).run()
    assert result.status == "failed" and result.node_id == "n-reshape"
    assert result.message.startswith("Reshape 2x2: ") and "target_shape=(2, 2)" in result.message
    assert "Exception encountered" not in result.message and "\x1b" not in result.message
    status = json.loads((result.run_dir / runs.STATUS_FILE).read_text())
    assert status["status"] == "failed" and status["node"] == "n-reshape"
    assert (result.run_dir / runs.ERROR_FILE).is_file()


def test_out_of_memory_fails_the_run_with_advice_and_the_next_run_trains(tmp_path, blobs, mlp, keras):
    import tensorflow as tf

    x, y = blobs

    class Hungry(keras.Model):
        def train_step(self, data):  # what TensorFlow raises when an allocation fails
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[8192,8192]")

    def build():
        inputs = keras.Input((4,))
        return Hungry(inputs, keras.layers.Dense(3, activation="softmax")(inputs))

    recorder = Recorder()
    config = TrainingConfig(epochs=2)
    result = TrainingSession(build, (x, y), None, config, recorder, task=TASK, runs_root=tmp_path).run()
    assert result.status == "failed"
    assert result.message == "training ran out of memory; lower the batch size or make the network smaller"
    assert runs.read_run(result.run_dir).status == "failed" and (result.run_dir / "error.txt").is_file()
    assert recorder.result is result  # reported like any other end, nothing raised
    again = TrainingSession(mlp, (x, y), None, config, task=TASK, runs_root=tmp_path).run()
    assert again.status == "completed" and again.epochs_done == 2
