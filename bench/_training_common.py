"""Shared pieces of the training benchmarks: models, data, the GUI training path, RSS."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def mlp_data(n: int = 20_000, features: int = 32, classes: int = 10):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (np.abs(x[:, :classes]).argmax(axis=1)).astype("int64")
    return x, y


def cnn_data(n: int = 4_000):
    rng = np.random.default_rng(0)
    x = rng.random((n, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, size=n).astype("int64")
    return x, y


def build_mlp(features: int = 32, classes: int = 10):
    import keras

    return keras.Sequential(
        [
            keras.Input((features,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(classes, activation="softmax"),
        ]
    )


def build_cnn():
    import keras

    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def compile_plain(model, lr: float = 1e-3) -> None:
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )


def plain_fit_epoch_seconds(build, x, y, batch: int, epochs: int) -> list[float]:
    """Seconds per epoch of a plain `model.fit` (fresh Keras session, same compile)."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = build()
    compile_plain(model)
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, shuffle=True, callbacks=[Timer()])
    return times


class GuiTraining:
    """The panel's path: TrainingRunner thread -> queued reports -> MetricsHistory -> live plots."""

    def __init__(self) -> None:
        from PySide6.QtWidgets import QApplication

        from studio.training.history import MetricsHistory
        from studio.ui.training.plots import MetricsPlots
        from studio.ui.workers import TrainingRunner

        self.app = QApplication.instance() or QApplication([])
        self.history = MetricsHistory()
        self.plots = MetricsPlots(self.history)
        self.plots.resize(1000, 700)
        self.plots.show()
        self.runner = TrainingRunner()
        self.runner.batches.connect(lambda r: self.history.add_batches(r.xs, r.values))
        self.runner.epochEnded.connect(self._epoch)
        self.epoch_seconds: list[float] = []
        self.gui_cpu_share = 0.0  # GUI-thread CPU seconds per wall second during the last run

    def _epoch(self, report) -> None:
        self.history.add_epoch(report.epoch, report.logs)
        self.epoch_seconds.append(report.seconds)

    def run(self, build, x, y, batch: int, epochs: int, **config) -> list[float]:
        from PySide6.QtCore import QEventLoop

        from studio.training.config import TrainingConfig
        from studio.training.reports import TaskInfo
        from studio.training.session import TrainingSession
        from studio.ui.training.panel import REPORT_INTERVAL

        self.history.clear()
        self.plots.set_history(self.history)
        self.epoch_seconds = []
        cfg = TrainingConfig(epochs=epochs, batch_size=batch, validation_split=0.0, seed=0, **config)

        def factory():  # runs on the training thread, after the session cleared Keras
            model = build()
            compile_plain(model)
            return model

        def make(reporter):
            return TrainingSession(
                factory,
                (x, y),
                None,
                cfg,
                reporter,
                task=TaskInfo(num_classes=10),
                report_interval=REPORT_INTERVAL,
            )

        loop = QEventLoop()
        self.runner.finished.connect(loop.quit)
        self.plots.set_live(True)
        cpu, wall = time.thread_time(), time.perf_counter()
        self.runner.start(make)
        loop.exec()
        self.gui_cpu_share = (time.thread_time() - cpu) / (time.perf_counter() - wall)
        self.runner.finished.disconnect(loop.quit)
        self.plots.set_live(False)
        return self.epoch_seconds


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
