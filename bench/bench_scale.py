"""Benchmark: cost of big graphs (issue 11, point 4), next to Keras building 1,000 layers.

    .venv/bin/python bench/bench_scale.py [--sizes 1000,2000,5000,10000,20000] [--no-keras]

For each size and shape (a chain of Dense layers, and a wide fan-in: one Input
feeding N Dense layers merged by one Concatenate) it writes a project file and
prints the time of

* load (CPU s): `studio.project.load_project` (parse, check the records, build the graph),
* analyse (CPU s): `studio.graph.analyse` on the loaded graph (shapes, params, diagnostics),
* check: the whole `studio check PROJECT` command in a fresh process, wall and CPU seconds (Python start,
  imports, load, analyse, the printed table),

then how each grows from the smallest size (x N for N times the nodes: linear
growth keeps the two numbers close). Targets: `check` on 20,000 nodes under 3 s.
The baseline, measured in the same run, is Keras building the 1,000-node chain
(`keras.Model` from the same plan), i.e. what the model costs when it is built.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.graph import analyse  # noqa: E402
from studio.project import load_project  # noqa: E402

CHECK_TARGET_S = 3.0


def project_record(n_nodes: int, shape: str) -> dict:
    """A project of `n_nodes` nodes: "chain" (Input -> Dense -> ... -> Dense) or
    "wide" (Input -> N Dense -> one Concatenate)."""
    nodes = [{"id": "in", "type": "Input", "params": {"batch_shape": [None, 16]}, "position": [0, 0]}]
    edges = []
    if shape == "chain":
        prev = "in"
        for i in range(n_nodes - 1):
            nodes.append({"id": f"d{i}", "type": "Dense", "params": {"units": 16}, "position": [220 * (i + 1), 0]})
            edges.append({"source": prev, "target": f"d{i}"})
            prev = f"d{i}"
    else:
        for i in range(n_nodes - 2):
            nodes.append({"id": f"d{i}", "type": "Dense", "params": {"units": 4}, "position": [220, 100 * i]})
            edges.append({"source": "in", "target": f"d{i}"})
            edges.append({"source": f"d{i}", "target": "cat", "target_port": i})
        nodes.append({"id": "cat", "type": "Concatenate", "params": {}, "position": [440, 0]})
    return {"format": "network-studio-project", "version": 1, "name": f"{shape}{n_nodes}",
            "graph": {"nodes": nodes, "edges": edges}}


def seconds(fn) -> tuple[float, object]:
    """CPU seconds of `fn()` in this process (steadier than wall time on a shared machine)."""
    start = time.process_time()
    value = fn()
    return time.process_time() - start, value


def check_seconds(path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of `studio check PATH` in a fresh process. The CPU time is what a
    quiet machine's wall time comes to; on a busy one the wall time can be several times it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "studio", "check", str(path)], cwd=ROOT,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"studio check {path.name} failed: {proc.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def keras_build_seconds(path: Path) -> float:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from studio.compiler.keras_build import build_model
    from studio.compiler.plan import make_plan

    graph = load_project(path).graph
    # Keras walks a functional graph recursively: a 1,000-layer chain passes Python's default limit.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20 * len(graph.nodes)))
    build_model(make_plan(graph))  # warm-up: TensorFlow's own first-call costs
    elapsed, _ = seconds(lambda: build_model(make_plan(graph)))
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,2000,5000,10000,20000")
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras baseline")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in ("chain", "wide"):
            for n in sizes:
                path = Path(tmp) / f"{shape}{n}.studio.json"
                path.write_text(json.dumps(project_record(n, shape)))
                load_s, project = seconds(lambda p=path: load_project(p))
                analyse_s, report = seconds(lambda g=project.graph: analyse(g))
                if report.errors:
                    raise SystemExit(f"{path.name}: {report.errors[0].message}")
                rows.append((shape, n, load_s, analyse_s, check_seconds(path)))
        keras_s = None if args.no_keras else keras_build_seconds(Path(tmp) / f"chain{sizes[0]}.studio.json")

    print(f"{'shape':<6} {'nodes':>6} {'load s':>8} {'analyse s':>10} {'check s':>8} {'(CPU s)':>8}   "
          "growth from the first size")
    for shape, n, load_s, analyse_s, (check_s, check_cpu) in rows:
        first = next(r for r in rows if r[0] == shape)
        ratio = n / first[1]
        print(f"{shape:<6} {n:>6} {load_s:>8.3f} {analyse_s:>10.3f} {check_s:>8.2f} {check_cpu:>8.2f}   "
              f"x{ratio:g} nodes: load x{load_s / first[2]:.1f}, analyse x{analyse_s / first[3]:.1f}")
    worst = max(r[4] for r in rows if r[1] == max(sizes))
    verdict = "OK" if worst[0] < CHECK_TARGET_S else "MISSED"
    print(f"\nstudio check on {max(sizes)} nodes: {worst[0]:.2f} s wall, {worst[1]:.2f} s CPU "
          f"(target < {CHECK_TARGET_S:g} s): {verdict}")
    if keras_s is not None:
        print(f"baseline: Keras builds the {sizes[0]}-node chain in {keras_s:.2f} s "
              f"(our check of that project: {rows[0][4][0]:.2f} s, load + analyse {rows[0][2] + rows[0][3]:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
