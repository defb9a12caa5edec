"""Multi-worker training on localhost: samples/s of 1 worker against 2, and the custom loop's cost.

Three measurements in one run, each in fresh processes (TensorFlow fixes its
cluster once per process), all with the same MLP, data and *global* batch:

* fit:       `TrainingSession` with the default strategy (Keras' `model.fit`, one device),
             the baseline;
* 1 worker:  `--strategy multiworker` with a cluster of one: the custom training loop
             (studio/training/multiworker.py) alone, so `1 worker / fit` is its per-step cost;
* 2 workers: two processes on 127.0.0.1, each training half of every global batch.

Samples/s and seconds per step are the median over the epochs after the first
(tracing). On one machine the two workers share its cores, so 2 workers is a
measure of the collectives' overhead, not of scaling: on separate machines each
brings its own.

    .venv/bin/python bench/bench_distributed.py [--epochs 4] [--batch 256] [--samples 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _training_common as common  # noqa: E402


def worker(args: argparse.Namespace) -> None:
    """One training process: prints one JSON line per epoch (seconds, samples/s)."""
    from studio.training import multiworker
    from studio.training.config import TrainingConfig
    from studio.training.reports import Reporter, TaskInfo
    from studio.training.session import TrainingSession

    strategy = "default"
    if args.cluster:
        multiworker.configure(multiworker.parse_cluster(args.cluster, args.index))
        strategy = "multiworker"
    x, y = common.mlp_data(args.samples)

    class Printer(Reporter):
        def on_epoch(self, report) -> None:
            print(json.dumps({"epoch": report.epoch, "seconds": report.seconds, "loss": report.logs.get("loss")}),
                  flush=True)

    config = TrainingConfig.from_dict({"epochs": args.epochs, "batch_size": args.batch, "seed": 0,
                                       "loss": "sparse_categorical_crossentropy", "metrics": [],
                                       "steps_per_execution": 1})
    session = TrainingSession(common.build_mlp, (x, y), None, config, Printer(), strategy=strategy,
                              task=TaskInfo(task="classification", num_classes=10), tensorboard=False,
                              save_models=False)
    result = session.run()
    if result.status != "completed":
        print(json.dumps({"failed": result.message}), flush=True)


def _ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def measure(args: argparse.Namespace, workers: int) -> dict:
    """Run `workers` processes (0: plain fit); the chief's epochs after the first."""
    base = [sys.executable, str(Path(__file__).resolve()), "--worker", "--epochs", str(args.epochs),
            "--batch", str(args.batch), "--samples", str(args.samples)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    if workers == 0:
        commands = [base]
    else:
        cluster = ",".join(f"127.0.0.1:{p}" for p in _ports(workers))
        commands = [base + ["--cluster", cluster, "--index", str(i)] for i in range(workers)]
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for c in commands]
    outputs = [p.communicate(timeout=1800)[0] for p in procs]
    records = [json.loads(line) for line in outputs[0].splitlines() if line.startswith("{")]
    failed = [r["failed"] for r in records if "failed" in r]
    if failed:
        raise SystemExit(f"training failed: {failed[0]}")
    seconds = statistics.median(r["seconds"] for r in records[1:]) if len(records) > 1 else records[0]["seconds"]
    steps = -(-args.samples // args.batch)
    return {"samples_per_s": args.samples / seconds, "step_ms": 1000 * seconds / steps,
            "loss": records[-1]["loss"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256, help="the global batch size")
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cluster", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(f"MLP 32-64-64-10, {args.samples} samples, global batch {args.batch}, {args.epochs} epochs "
          f"(first left out), {os.cpu_count()} CPU cores")
    fit = measure(args, 0)
    one = measure(args, 1)
    two = measure(args, 2)
    print(f"fit, one device (baseline):  {fit['samples_per_s']:10,.0f} samples/s  {fit['step_ms']:7.2f} ms/step  "
          f"loss {fit['loss']:.4f}")
    print(f"custom loop, 1 worker:       {one['samples_per_s']:10,.0f} samples/s  {one['step_ms']:7.2f} ms/step  "
          f"loss {one['loss']:.4f}")
    print(f"custom loop, 2 workers:      {two['samples_per_s']:10,.0f} samples/s  {two['step_ms']:7.2f} ms/step  "
          f"loss {two['loss']:.4f}")
    print(f"per-step overhead of the custom loop against fit: {one['step_ms'] - fit['step_ms']:+.2f} ms "
          f"({one['step_ms'] / fit['step_ms']:.2f}x)")
    print(f"2 workers / 1 worker on this machine: {two['samples_per_s'] / one['samples_per_s']:.2f}x samples/s")


if __name__ == "__main__":
    main()
