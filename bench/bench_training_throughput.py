"""Training throughput through the GUI against a plain `model.fit`.

Same model, data, batch size and compile for three ways of training:

* plain:    `model.fit(x, y, verbose=0)` on the main thread (the baseline),
* session:  `TrainingSession.run()` on a thread, no Qt (the engine's own cost:
            its callbacks, batched reports, NaN check),
* GUI:      the panel's path: `TrainingRunner` thread -> queued reports ->
            `MetricsHistory` -> live `MetricsPlots` on their adaptive timer,
            with the default settings (steps per execution "auto", see
            studio/training/execution.py),
* health on: the session measuring training health (studio/training/health.py), against
            the session without it in the same round (target: >= 0.9),
* GUI 1:    the same with one batch per call into TensorFlow (the setting
            fixed to 1): what the reporting and live plots cost by themselves.

Each round trains plain, session, GUI and GUI 1 one after the other (first epoch
left out: tracing); the ratio of one round compares neighbours in time, and
the median over rounds is printed, with the spread, because the machine is
shared. Target: GUI / plain >= 0.97.

    .venv/bin/python bench/bench_training_throughput.py [--rounds 3] [--epochs 4] [--only mlp|cnn]
"""

from __future__ import annotations

import argparse
import statistics
import threading

import _training_common as common


def session_epoch_seconds(build, x, y, batch: int, epochs: int, health: bool = False,
                          cpu: list | None = None) -> list[float]:
    """Wall seconds of each epoch; `cpu`, when given, gets the process' CPU seconds of each."""
    import time

    from studio.training.config import TrainingConfig
    from studio.training.reports import Reporter, TaskInfo
    from studio.training.session import TrainingSession

    times: list[float] = []
    marks = [time.process_time()]

    class Keep(Reporter):
        def on_epoch(self, report):
            times.append(report.seconds)
            marks.append(time.process_time())

    def factory():
        model = build()
        common.compile_plain(model)
        return model

    config = TrainingConfig(epochs=epochs, batch_size=batch, validation_split=0.0, seed=0)
    session = TrainingSession(factory, (x, y), None, config, Keep(), task=TaskInfo(num_classes=10), health=health)
    thread = threading.Thread(target=session.run)
    thread.start()
    thread.join()
    if cpu is not None:
        cpu.extend(b - a for a, b in zip(marks, marks[1:]))
    return times


def callback_microseconds(batches: int = 20_000) -> float:
    """Cost of the session's per-batch callback (store values, NaN check, flush check)."""
    import time

    from studio.training.callbacks import callback_classes
    from studio.training.config import TrainingConfig
    from studio.training.session import TrainingSession

    session = TrainingSession(None, None, None, TrainingConfig(), report_interval=0.1)
    session.steps_per_epoch = batches

    class FakeModel:
        stop_training = False

    callback = callback_classes()["ReportingCallback"](session)
    callback.set_model(FakeModel())
    callback.on_epoch_begin(0)
    logs = {"loss": 0.5, "accuracy": 0.75}
    start = time.perf_counter()
    for step in range(batches):
        callback.on_train_batch_end(step, logs)
    return (time.perf_counter() - start) / batches * 1e6


def auto_steps(build, batch: int, n: int) -> int:
    """The batches per call "auto" picks for this case."""
    from studio.training import execution

    return execution.resolve("auto", build(), batch, -(-n // batch))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="one round of three epochs")
    parser.add_argument("--only", choices=["mlp", "cnn"], help="only the MLP cases or only the CNN")
    args = parser.parse_args()
    rounds, epochs = (1, 3) if args.quick else (args.rounds, args.epochs)
    gui = common.GuiTraining()
    x_mlp, y_mlp = common.mlp_data()
    x_cnn, y_cnn = common.cnn_data()
    cases = [
        ("MLP, batch 32", common.build_mlp, x_mlp, y_mlp, 32),
        ("MLP, batch 128", common.build_mlp, x_mlp, y_mlp, 128),
        ("small CNN, batch 64", common.build_cnn, x_cnn, y_cnn, 64),
    ]
    if args.only:
        cases = [case for case in cases if args.only in case[0].lower()]
    print(f"{rounds} round(s) of {epochs} epochs (first epoch dropped); samples/s are medians")
    print(
        f"{'case':<26}{'plain':>9}{'session':>9}{'health on':>10}{'GUI':>9}{'sess/plain':>11}"
        f"{'health/sess':>12}{'(CPU)':>7}{'GUI/plain':>10}"
        f"{'GUI 1/plain':>12}{'GUI CPU':>9}  GUI/plain per round"
    )
    worst = []
    health_worst = []
    step_us = 0.0
    for name, build, x, y, batch in cases:
        rates: dict[str, list[float]] = {"plain": [], "session": [], "health": [], "gui": [], "gui1": []}
        cpu_ratios: list[float] = []
        shares: list[float] = []
        n = len(x)
        for _ in range(rounds):
            plain = common.plain_fit_epoch_seconds(build, x, y, batch, epochs)[1:]
            rates["plain"].append(n / statistics.median(plain))
            cpu_off: list[float] = []
            cpu_on: list[float] = []
            rates["session"].append(
                n / statistics.median(session_epoch_seconds(build, x, y, batch, epochs, cpu=cpu_off)[1:])
            )
            rates["health"].append(
                n / statistics.median(session_epoch_seconds(build, x, y, batch, epochs, health=True, cpu=cpu_on)[1:])
            )
            cpu_ratios.append(statistics.median(cpu_off[1:]) / statistics.median(cpu_on[1:]))
            rates["gui"].append(n / statistics.median(gui.run(build, x, y, batch, epochs)[1:]))
            shares.append(gui.gui_cpu_share)
            one = gui.run(build, x, y, batch, epochs, steps_per_execution=1)
            rates["gui1"].append(n / statistics.median(one[1:]))
        per_round = [g / p for g, p in zip(rates["gui"], rates["plain"])]
        session_ratio = statistics.median(s / p for s, p in zip(rates["session"], rates["plain"]))
        gui_ratio = statistics.median(per_round)
        gui1_ratio = statistics.median(g / p for g, p in zip(rates["gui1"], rates["plain"]))
        health_ratio = statistics.median(h / s for h, s in zip(rates["health"], rates["session"]))
        health_worst.append(health_ratio)
        health_cpu = statistics.median(cpu_ratios)
        worst.append(gui_ratio)
        med = {k: statistics.median(v) for k, v in rates.items()}
        if name == "MLP, batch 32":
            step_us = 1e6 * batch / med["plain"]
        spread = " ".join(f"{r:.2f}" for r in per_round)
        name = f"{name} [{auto_steps(build, batch, n)}]"
        print(
            f"{name:<26}{med['plain']:>9,.0f}{med['session']:>9,.0f}{med['health']:>10,.0f}{med['gui']:>9,.0f}"
            f"{session_ratio:>11.3f}{health_ratio:>12.3f}{health_cpu:>7.3f}{gui_ratio:>10.3f}{gui1_ratio:>12.3f}{max(shares):>9.1%}  {spread}"
        )
    print("GUI: default settings (steps per execution 'auto', [the batches per call it picks]);"
          " GUI 1: one batch per call")
    print("GUI CPU: CPU time of the GUI thread (reports, history, plots) per wall second of training")
    mlp_step = f"; a plain MLP step at batch 32: {step_us:.0f} us" if step_us else ""
    print(f"session callback: {callback_microseconds():.1f} us per batch{mlp_step}")
    print(
        f"live plots: redraw cost {gui.plots.cost * 1000:.1f} ms, redraw interval {gui.plots.timer.interval()} ms"
    )
    print("health on: the session measuring training health (studio/training/health.py: norms in the train"
          " step, activation probe) against the session without it, same round; (CPU): the same ratio by"
          " the process' CPU seconds per epoch, which other work on a shared machine disturbs less")
    print(f"worst GUI/plain ratio {min(worst):.3f} (target >= 0.97)")
    print(f"worst health-on/health-off ratio {min(health_worst):.3f} (target >= 0.90)")


if __name__ == "__main__":
    main()
