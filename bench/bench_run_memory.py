"""Memory over ten consecutive training runs through the GUI path (TrainingRunner + live plots).

Each run builds a fresh MLP on the training thread (the session clears the
Keras session first), trains two epochs and saves a run folder (history,
best/final .keras, TensorBoard logs). Prints the resident set size after
each run; the growth after the first run (from the size after run 1 to the
size after run 10) should stay under 50 MB. Run 2 still pays for some of
TensorFlow's one-time allocations; the growth from run 2 is printed too. Baseline, measured first in the same
process: a plain Keras loop (clear_session, build, compile, fit), which
itself keeps ~5 MB per run here: TensorFlow's custom-gradient registry holds
each run's traced train step forever. The session removes those entries once
a run's model is gone (studio/training/memory.py), so the GUI path grows less
than the plain loop.

    .venv/bin/python bench/bench_run_memory.py [--runs 10]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
from pathlib import Path

import _training_common as common


def plain_keras_growth(x, y, runs: int, epochs: int) -> float:
    """RSS growth (MB) after the first run of a plain Keras loop: TensorFlow's own share."""
    import keras

    sizes = []
    for i in range(runs):
        keras.backend.clear_session(free_memory=True)
        keras.utils.set_random_seed(i)
        model = common.build_mlp()
        common.compile_plain(model)
        model.fit(x, y, batch_size=64, epochs=epochs, verbose=0, validation_split=0.2)
        del model
        gc.collect()
        sizes.append(common.rss_mb())
    return sizes[-1] - sizes[0] if len(sizes) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    from PySide6.QtCore import QEventLoop

    from studio.training.config import TrainingConfig
    from studio.training.reports import TaskInfo
    from studio.training.session import TrainingSession
    from studio.ui.training.panel import REPORT_INTERVAL

    gui = common.GuiTraining()
    x, y = common.mlp_data(n=10_000)
    baseline = plain_keras_growth(x, y, args.runs, args.epochs)
    sizes = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            config = TrainingConfig(epochs=args.epochs, batch_size=64, seed=i)

            def factory():
                model = common.build_mlp()
                common.compile_plain(model)
                return model

            def make(reporter, config=config):
                return TrainingSession(
                    factory,
                    (x, y),
                    None,
                    config,
                    reporter,
                    task=TaskInfo(num_classes=10),
                    runs_root=Path(tmp),
                    report_interval=REPORT_INTERVAL,
                )

            gui.history.clear()
            gui.plots.set_history(gui.history)
            loop = QEventLoop()
            gui.runner.finished.connect(loop.quit)
            gui.plots.set_live(True)
            gui.runner.start(make)
            loop.exec()
            gui.runner.finished.disconnect(loop.quit)
            gui.plots.set_live(False)
            gui.app.processEvents()
            gc.collect()
            sizes.append(common.rss_mb())
            print(f"run {i + 1:>2}: RSS {sizes[-1]:8.1f} MB")
    growth = sizes[-1] - sizes[0] if len(sizes) > 1 else 0.0
    verdict = "OK" if growth < 50 else "MISSED"
    print(f"baseline, plain Keras loop x{args.runs}: growth after run 1: {baseline:+.1f} MB")
    print(f"GUI path: growth from run 1 to run {len(sizes)}: {growth:+.1f} MB (target < 50 MB): {verdict}")
    if len(sizes) > 2:
        print(f"GUI path: growth from run 2 to run {len(sizes)}: {sizes[-1] - sizes[1]:+.1f} MB")
    print(f"beyond plain Keras: {growth - baseline:+.1f} MB")


if __name__ == "__main__":
    main()
