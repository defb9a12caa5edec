"""Runs one after another in one app session do not keep each other's traced graphs alive."""

from __future__ import annotations

import gc
import weakref

from studio.training import memory
from studio.training.config import TrainingConfig
from studio.training.reports import TaskInfo
from studio.training.session import TrainingSession
from tests.training.conftest import Recorder

TASK = TaskInfo(task="classification", num_classes=3, class_names=["a", "b", "c"])


def _train(blobs, mlp) -> TrainingSession:
    session = TrainingSession(mlp, blobs, None, TrainingConfig(epochs=1, batch_size=32, seed=0), Recorder(),
                              task=TASK)
    assert session.run().status == "completed"
    return session


def test_a_finished_runs_train_step_is_freed_when_the_next_run_starts(blobs, mlp, keras):
    first = _train(blobs, mlp)
    train_step = weakref.ref(first.model.train_function)
    registered = len(memory.custom_gradients())
    del first
    _train(blobs, mlp)
    gc.collect()
    # TensorFlow's gradient registry no longer holds the first run's traced train step...
    assert train_step() is None
    # ...and the registry does not grow run after run.
    _train(blobs, mlp)
    assert len(memory.custom_gradients()) <= registered


def test_the_ledger_removes_only_what_finished_runs_registered():
    registry = memory._registry()
    assert registry is not None, "TensorFlow moved its gradient registry; update studio/training/memory.py"
    ledger = memory.GradientLedger()
    registry["CustomGradient-studio-test-living"] = object()
    before = ledger.snapshot()
    registry["CustomGradient-studio-test-run"] = object()
    ledger.finished(before)
    assert ledger.forget_finished() == 1
    assert "CustomGradient-studio-test-run" not in registry
    assert "CustomGradient-studio-test-living" in registry
    del registry["CustomGradient-studio-test-living"]
