"""TrainingRunner / FunctionRunner: lifecycle and signal order, stop, pause."""

from __future__ import annotations

import pytest

from studio.core.errors import TrainingError
from studio.training.config import TrainingConfig
from studio.training.reports import TaskInfo
from studio.training.session import TrainingSession
from studio.ui.workers import FunctionRunner, TrainingRunner

TASK = TaskInfo(num_classes=3)


def _factory(blobs, build_mlp, report_interval=1 / 30, **config):
    x, y = blobs

    def make(reporter):
        return TrainingSession(
            build_mlp,
            (x, y),
            None,
            TrainingConfig(**config),
            reporter,
            task=TASK,
            report_interval=report_interval,
        )

    return make


def test_signals_arrive_in_order_and_the_thread_is_cleaned_up(qtbot, blobs, build_mlp):
    runner = TrainingRunner()
    # one epoch, one batch report (flushed at the epoch end): an exact sequence
    with qtbot.waitSignals(
        [runner.runStarted, runner.started, runner.batches, runner.epochEnded, runner.finished],
        order="strict",
        timeout=60_000,
    ):
        runner.start(_factory(blobs, build_mlp, epochs=1, batch_size=32, report_interval=60.0))
    assert not runner.is_running()
    epochs = []
    runner.epochEnded.connect(lambda r: epochs.append(r.epoch))
    with qtbot.waitSignal(runner.finished, timeout=60_000):
        runner.start(_factory(blobs, build_mlp, epochs=3, batch_size=32))
    assert epochs == [1, 2, 3]


def test_finished_carries_the_result_and_a_second_run_can_start(qtbot, blobs, build_mlp):
    runner = TrainingRunner()
    for _ in range(2):
        with qtbot.waitSignal(runner.finished, timeout=60_000) as blocker:
            runner.start(_factory(blobs, build_mlp, epochs=1))
        assert blocker.args[0].status == "completed"
        assert not runner.is_running()


def test_start_refuses_while_running_and_errors_in_the_factory_propagate(qtbot, blobs, build_mlp):
    runner = TrainingRunner()

    def broken(reporter):
        raise TrainingError("no dataset")

    with pytest.raises(TrainingError):
        runner.start(broken)
    assert not runner.is_running()
    with qtbot.waitSignal(runner.finished, timeout=60_000):
        runner.start(_factory(blobs, build_mlp, epochs=50, batch_size=8))
        with pytest.raises(RuntimeError):
            runner.start(_factory(blobs, build_mlp))
        runner.stop()


def test_pause_then_stop_and_wait(qtbot, blobs, build_mlp):
    runner = TrainingRunner()
    states = []
    runner.stateChanged.connect(states.append)
    results = []
    runner.finished.connect(results.append)
    with qtbot.waitSignal(runner.batches, timeout=60_000):
        runner.start(_factory(blobs, build_mlp, epochs=100, batch_size=4))
    runner.pause()
    qtbot.waitUntil(lambda: "paused" in states, timeout=60_000)
    assert runner.is_paused()
    assert runner.stop_and_wait(30_000)
    assert not runner.is_running()
    assert results and results[0].status == "stopped"


def test_function_runner_returns_results_and_errors(qtbot):
    runner = FunctionRunner()
    with qtbot.waitSignal(runner.done, timeout=60_000) as blocker:
        runner.start(lambda: 6 * 7)
    assert blocker.args == [42]
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=60_000)

    def fail():
        raise TrainingError("the run saved no model; train again")

    with qtbot.waitSignal(runner.failed, timeout=60_000) as blocker:
        runner.start(fail)
    assert blocker.args == ["the run saved no model; train again"]


def test_dropping_a_runner_mid_run_does_not_destroy_its_thread(qtbot, blobs, build_mlp):
    import gc

    from studio.ui import workers

    runner = TrainingRunner()
    session = runner.start(_factory(blobs, build_mlp, epochs=100, batch_size=4))
    qtbot.waitUntil(lambda: session.state == "training", timeout=60_000)
    session.request_stop()
    del runner
    gc.collect()  # the runner is gone; its thread must finish on its own, not abort the process
    qtbot.waitUntil(lambda: not workers._REAPER._live, timeout=60_000)
    assert session.state == "finished"
