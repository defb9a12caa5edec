"""Steps per execution "auto": tiny batches are grouped per call into TensorFlow,
the maths stays the same, and Stop still acts within one short group."""

from __future__ import annotations

import json

import pytest

from studio.core.errors import TrainingError
from studio.training import execution
from studio.training.config import TrainingConfig
from studio.training.reports import TaskInfo
from studio.training.session import TrainingSession
from tests.training.conftest import Recorder

TASK = TaskInfo(task="classification", num_classes=3, class_names=["a", "b", "c"])


def _cnn(keras):
    return keras.Sequential(
        [
            keras.Input((64, 64, 3)),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def test_auto_groups_a_tiny_mlp_and_leaves_a_cnn_alone(keras, mlp):
    small = mlp()
    groups = execution.resolve("auto", small, batch_size=32, steps_per_epoch=625)
    assert 1 < groups <= execution.MAX_STEPS
    # an epoch keeps several calls, so the batch curve keeps several points per epoch
    assert execution.resolve("auto", small, batch_size=32, steps_per_epoch=40) == 40 // execution.MIN_CALLS_PER_EPOCH
    assert execution.resolve("auto", small, batch_size=32, steps_per_epoch=4) == 1
    # a convolution over 64x64 images is far from a tiny step: one batch per call
    assert execution.resolve("auto", _cnn(keras), batch_size=64, steps_per_epoch=625) == 1
    # a fixed setting is kept as it is
    assert execution.resolve(8, _cnn(keras), batch_size=64, steps_per_epoch=625) == 8


def test_the_estimate_grows_with_the_work_of_a_layer(keras):
    def dense_on(steps):
        return keras.Sequential([keras.Input((steps, 16)), keras.layers.Dense(16)])

    # the same weights applied at 50 time steps cost 50 times as much as at one
    one, fifty = execution.forward_flops(dense_on(1)), execution.forward_flops(dense_on(50))
    assert fifty == pytest.approx(50 * one)
    recurrent = keras.Sequential([keras.Input((30, 8)), keras.layers.LSTM(32)])
    weights = recurrent.count_params()
    assert execution.forward_flops(recurrent) >= 2 * weights * 30


def test_a_model_compiled_with_its_own_value_keeps_it(keras, mlp):
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", steps_per_execution=4)
    assert execution.apply("auto", model, 32, 625) == 4 and model.steps_per_execution == 4
    plain = mlp()
    plain.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert execution.apply(1, plain, 32, 625) == 1
    assert execution.apply("auto", plain, 32, 625) == plain.steps_per_execution > 1


def test_config_reads_and_writes_auto():
    assert TrainingConfig().steps_per_execution == "auto"
    assert TrainingConfig(steps_per_execution="AUTO").steps_per_execution == "auto"
    again = TrainingConfig.from_dict(TrainingConfig(steps_per_execution=8).to_dict())
    assert again.steps_per_execution == 8
    with pytest.raises(TrainingError, match="steps_per_execution.*'auto' or a whole number"):
        TrainingConfig(steps_per_execution="fast")
    with pytest.raises(TrainingError, match="steps_per_execution"):
        TrainingConfig(steps_per_execution=0)


def _train(blobs, mlp, tmp_path, name, steps_per_execution, recorder=None, epochs=3):
    x, y = blobs
    config = TrainingConfig(
        epochs=epochs, batch_size=8, validation_split=0.0, seed=3, steps_per_execution=steps_per_execution
    )
    session = TrainingSession(
        mlp, (x, y), None, config, recorder or Recorder(), task=TASK, runs_root=tmp_path / name,
        report_interval=0.0,
    )
    return session, session.run()


def test_grouped_batches_train_the_same_model(tmp_path, blobs, mlp):
    grouped_rec, one_rec = Recorder(), Recorder()
    grouped, grouped_result = _train(blobs, mlp, tmp_path, "auto", "auto", grouped_rec)
    single, single_result = _train(blobs, mlp, tmp_path, "one", 1, one_rec)
    assert grouped.steps_per_execution > 1 and single.steps_per_execution == 1
    # the same seed gives the same epochs, whether batches run one by one or in groups
    for key in ("loss", "accuracy"):
        assert list(grouped_result.history.epoch[key]) == pytest.approx(
            list(single_result.history.epoch[key]), rel=1e-4, abs=1e-6
        )
    # the batch curve has a point per group, still spread over every epoch
    steps = grouped_rec.start.steps_per_epoch
    points = [x for report in grouped_rec.batches for x in report.xs]
    assert len(points) == 3 * -(-steps // grouped.steps_per_execution) < len(
        [x for report in one_rec.batches for x in report.xs]
    )
    assert points == sorted(points) and points[-1] == pytest.approx(3.0)
    record = json.loads((grouped_result.run_dir / "config.json").read_text())
    assert record["data"]["steps_per_execution"] == grouped.steps_per_execution
    assert record["training"]["steps_per_execution"] == "auto"


def test_stop_acts_after_the_current_group(tmp_path, blobs, mlp):
    holder = {}

    def stop_now(report):
        holder["session"].request_stop()
        holder.setdefault("at", report.step)

    recorder = Recorder(on_batches=stop_now)
    x, y = blobs
    session = TrainingSession(
        mlp, (x, y), None, TrainingConfig(epochs=5, batch_size=8), recorder, task=TASK,
        runs_root=tmp_path, report_interval=0.0,
    )
    holder["session"] = session
    result = session.run()
    assert result.status == "stopped" and session.steps_per_execution > 1
    # the first report came after one group; Stop ended the run there, mid-epoch
    assert holder["at"] == session.steps_per_execution
    assert recorder.batches[-1].step == session.steps_per_execution < recorder.start.steps_per_epoch
    assert result.epochs_done == 0
