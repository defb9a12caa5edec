"""`studio train PROJECT`: train headless with the same engine as the GUI.

Plain output: a progress line per epoch (rewritten in place on a terminal)
and a summary. `--json`: one JSON object per epoch on stdout
(`{"event": "epoch", "epoch", "epochs", "loss", "val_loss", ..., "seconds"}`)
and a final summary object (`{"event": "end", "status", "run", ...}`);
warnings go to stderr. `--device gpu:N` naming a GPU that is not there fails
with a line naming the devices that are. Ctrl-C stops after the current batch and saves the
run as "stopped". Exit status: 0 completed or stopped, 1 failed.

A failure is one line on stderr (with `--json`, the summary says "failed" too).
A full disk fails the run with a line naming the file it was writing (e.g.
RUN/best.keras), how many MB to free and `--run-dir`; every run file is
saved atomically, so the run's previous checkpoint is still whole.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from pathlib import Path
from typing import Any, Optional, TextIO

from studio.core.errors import TrainingError
from studio.core.text import duration
from studio.training import devices
from studio.training.devices import STRATEGIES
from studio.training.reports import BatchReport, EpochReport, Reporter, RunResult, StartInfo


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train a project's model on its dataset; saves a run beside the project",
        description="Train the project's model on its dataset with its training settings. "
        "Each run is saved in NAME.runs/<time>-<id>/ (history.csv, best.keras, final.keras, "
        "TensorBoard logs, evaluation on the test split).",
    )
    parser.add_argument("project", metavar="PROJECT", help="the .studio.json file")
    from studio.hub.trust import add_trust_flag

    add_trust_flag(parser)
    parser.add_argument("--epochs", type=int, help="number of epochs (default: the project's setting)")
    parser.add_argument("--batch-size", type=int, help="batch size (default: the project's setting)")
    parser.add_argument(
        "--device",
        help="auto, cpu, gpu:N, mirrored (every GPU) or gpu:0,gpu:2 (mirrored over those; default: the project's setting); `studio --version --verbose` "
        "lists the devices there are",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="random seed for weights and shuffling; the same seed on the same machine repeats "
        "a run exactly (default: the project's setting, else a new seed each run)",
    )
    parser.add_argument(
        "--fine-tune",
        dest="fine_tune",
        type=int,
        metavar="HEAD_EPOCHS",
        help="two-phase fine-tuning of the pretrained base (Backbone / Hub module nodes): HEAD_EPOCHS epochs "
        "train the head on the frozen base, the rest of --epochs fine-tune the base's top layers",
    )
    parser.add_argument(
        "--unfreeze-top",
        type=int,
        metavar="K",
        help="layers unfrozen at the top of the base in phase 2 (0: all of it; default: the project's setting)",
    )
    parser.add_argument(
        "--fine-tune-lr-factor",
        type=float,
        metavar="F",
        help="phase 2's learning rate is the learning rate times F (default: the project's setting, else 0.1)",
    )
    parser.add_argument(
        "--no-cache-features",
        action="store_true",
        help="run the frozen base in every epoch instead of computing its features once",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="default",
        help="distribution strategy: mirrored uses every GPU (or the CPU's logical devices); auto picks "
        "mirrored on 2+ GPUs; multiworker trains on several machines (with --cluster and --task-index, or "
        "TF_CONFIG), running the same command on every worker",
    )
    parser.add_argument(
        "--cluster",
        metavar="HOST:PORT,...",
        help="with --strategy multiworker: every worker's address, the same list on every worker; "
        "worker 0 is the chief and writes the run",
    )
    parser.add_argument(
        "--task-index", type=int, metavar="I", help="with --strategy multiworker: this worker's place in --cluster"
    )
    parser.add_argument(
        "--run-dir",
        metavar="DIR",
        help="save the run folder under DIR instead of NAME.runs/ beside the project",
    )
    parser.add_argument(
        "--continue",
        dest="continue_run",
        metavar="RUN",
        nargs="?",
        const="latest",
        help="continue training from a run (id, folder, or the latest when no RUN is given)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per epoch and a final summary on stdout"
    )
    parser.add_argument(
        "--health",
        action="store_true",
        help="measure each layer's training health (gradient and weight norms, dead or saturated units) and "
        "print the nodes flagged at the end; the run keeps the history in health.csv and health.json",
    )


def clean(value: Any) -> Any:
    """JSON-safe floats: NaN and infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


class ConsoleReporter(Reporter):
    """Prints progress for people (plain) or one JSON object per epoch (--json)."""

    def __init__(self, as_json: bool, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tty = hasattr(self.out, "isatty") and self.out.isatty() and not as_json
        self.epochs = 0
        self._line = False
        self.health: Optional[bool] = None  # True with --health: the flagged nodes are printed at the end

    def on_start(self, info: StartInfo) -> None:
        self.epochs = info.epochs
        if not self.as_json:
            where = f", run {info.run_id}" if info.run_id else ""
            samples = f"{info.train_samples} training samples" if info.train_samples else "training"
            val = f", {info.val_samples} for validation" if info.val_samples else ""
            self.out.write(
                f"Training on {info.device}: {samples}{val}, epochs {info.initial_epoch + 1}-"
                f"{info.epochs}{where}\n"
            )
            self.out.flush()

    def on_batches(self, report: BatchReport) -> None:
        if not self.tty:
            return
        steps = f"{report.step}/{report.steps_per_epoch}" if report.steps_per_epoch else str(report.step)
        loss = report.values.get("loss")
        text = f"loss {loss[-1]:.4f}  " if loss else ""
        self.out.write(
            f"\rEpoch {report.epoch}/{self.epochs}  batch {steps}  {text}"
            f"{report.samples_per_s:,.0f} samples/s  ETA {duration(report.eta_s)}   "
        )
        self.out.flush()
        self._line = True

    def on_epoch(self, report: EpochReport) -> None:
        if self.as_json:
            record = {"event": "epoch", "epoch": report.epoch, "epochs": report.epochs}
            record.update(report.logs)
            record["seconds"] = round(report.seconds, 4)
            self.out.write(json.dumps(clean(record)) + "\n")
        else:
            metrics = "  ".join(f"{k} {v:.4g}" for k, v in report.logs.items() if k != "learning_rate")
            prefix = "\r" if self._line else ""
            self.out.write(
                f"{prefix}Epoch {report.epoch}/{report.epochs}  {metrics}  "
                f"({report.seconds:.1f}s, ETA {duration(report.eta_s)})\033[K\n"
                if self.tty
                else f"Epoch {report.epoch}/{report.epochs}  {metrics}  ({report.seconds:.1f}s)\n"
            )
            self._line = False
        self.out.flush()

    def on_message(self, level: str, text: str) -> None:
        if level == "error":
            return  # the failure is printed once, by the command
        if self._line:
            self.out.write("\n")
            self._line = False
        self.err.write(f"studio: {level}: {text}\n")
        self.err.flush()

    def finish(self, result: RunResult) -> None:
        if self._line:
            self.out.write("\n")
        if self.as_json:
            summary = result.summary()
            if summary.get("evaluation"):
                from studio.workflows.evaluate import summary as without_samples

                # the per-sample values (and a forecast's naive value per window) stay in evaluation.json
                summary["evaluation"] = without_samples(summary["evaluation"])
            self.out.write(json.dumps(clean(summary)) + "\n")
        elif result.status != "failed":
            self.out.write(
                f"{result.status.capitalize()}: {result.message} in {duration(result.duration_s)}\n"
            )
            if result.best:
                self.out.write(
                    f"Best {result.best['monitor']} {result.best['value']:.4g} at epoch {result.best['epoch']}\n"
                )
            if result.evaluation:
                ev = result.evaluation
                score = (
                    f"accuracy {ev['accuracy']:.4f}"
                    if "accuracy" in ev
                    else f"mae {ev.get('mae', float('nan')):.4g}"
                )
                naive = ev.get("naive") if isinstance(ev.get("naive"), dict) else None
                if naive and isinstance(naive.get("mae"), (int, float)):  # a forecast: beside the obvious one
                    score += f" (naive {naive['mae']:.4g})"
                self.out.write(f"Test split ({ev.get('samples')} samples): {score}\n")
            if result.run_dir:
                self.out.write(f"Run saved in {result.run_dir}\n")
        if not self.as_json and self.health is not None:
            self.out.write(health_lines(result.health))
        self.out.flush()


def health_lines(flags: list[dict[str, Any]]) -> str:
    """The --health summary: one line per flagged node and problem, or that none was flagged."""
    if not flags:
        return "Health: no layer was flagged\n"
    lines = [f"Health: {len(flags)} problem(s) flagged"]
    for flag in flags:
        lines.append(f"  {flag['label']} [{flag['kind']}] from epoch {flag['first_epoch']:.2f}: {flag['message']}")
    return "\n".join(lines) + "\n"


def fine_tune_overrides(project: Any, args: argparse.Namespace) -> dict[str, Any]:
    """`training_config` overrides from --fine-tune, --unfreeze-top, --fine-tune-lr-factor, --no-cache-features."""
    overrides: dict[str, Any] = {}
    changes = {key: value for key, value in (("head_epochs", args.fine_tune), ("unfreeze_top", args.unfreeze_top),
                                              ("lr_factor", args.fine_tune_lr_factor)) if value is not None}
    if changes:
        stored = (project.training or {}).get("fine_tune")
        fine_tune = dict(stored) if isinstance(stored, dict) else {}
        fine_tune.update(changes)
        if args.fine_tune is not None:
            fine_tune["enabled"] = True
        overrides["fine_tune"] = fine_tune
    if args.no_cache_features:
        overrides["cache_features"] = False
    return overrides


def run(args: argparse.Namespace) -> int:
    from studio.project.io import load_project
    from studio.workflows.train import find_run, make_session, training_config

    project = load_project(Path(args.project))
    from studio.hub.trust import require_trust

    require_trust(project, args.trust_modules, args.project)
    config = training_config(project, epochs=args.epochs, batch_size=args.batch_size, device=args.device,
                             seed=args.seed, **fine_tune_overrides(project, args))
    cluster = None
    if args.strategy == "multiworker":
        from studio.training import multiworker

        cluster = multiworker.parse_cluster(args.cluster, args.task_index)
        multiworker.configure(cluster)
    elif args.cluster is not None or args.task_index is not None:
        raise TrainingError("--cluster and --task-index go with --strategy multiworker")
    # the start-time device settings, before anything sets TensorFlow's devices up
    devices.apply_startup_settings()
    if args.device:  # an explicit --device must exist; the project's setting falls back to the CPU
        devices.check_device(config.device)
    runs_root = Path(args.run_dir) if args.run_dir else project.runs_dir
    continue_from = find_run(project, args.continue_run).path if args.continue_run else None
    reporter = ConsoleReporter(args.json)
    reporter.health = True if args.health else None
    session = make_session(
        project,
        reporter,
        config=config,
        continue_from=continue_from,
        strategy=args.strategy,
        runs_root=runs_root,
        health=args.health,
    )
    scratch = None
    if cluster is not None and not cluster.is_chief:
        # The chief alone keeps the run. The other workers save theirs in a temporary folder,
        # deleted at the end: saving may need every worker's part of the model's variables.
        import tempfile

        scratch = tempfile.TemporaryDirectory(prefix="studio-worker-")
        session.runs_root = Path(scratch.name)
    outcome: dict[str, RunResult] = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("r", session.run()), name="studio-train")
    if cluster is not None:
        # Ctrl-C as a request, not a KeyboardInterrupt: raised while the workers' collectives run,
        # it ended the training thread without a result. Every worker then stops after the same step.
        import signal

        def stop_all(*_args: Any) -> None:
            if not session.stop_requested:
                print("\nstudio: stopping every worker after this batch", file=sys.stderr)
            session.request_stop()

        signal.signal(signal.SIGINT, stop_all)
    thread.start()
    interrupted = False
    while thread.is_alive():
        try:
            thread.join(0.25)
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            session.request_stop()
            print(
                "\nstudio: stopping after this batch (Ctrl-C again to abort without saving)", file=sys.stderr
            )
    if scratch is not None:
        scratch.cleanup()
    result = outcome.get("r")
    if scratch is not None and result is not None:  # no run of this worker's is kept: the chief's is the run
        result.run_id = result.run_dir = None
    if result is None:
        raise TrainingError("training ended without a result; run with --debug")
    reporter.finish(result)
    if result.status == "failed":
        raise TrainingError(result.message)
    return 130 if interrupted else 0
