"""Benchmark: full analyse() on a 1,000-node graph, next to Keras building the same model.

    .venv/bin/python bench/bench_inference.py [--nodes 1000] [--repeat 30] [--no-keras]

The graph is a long residual network: Input -> Conv2D stem, then blocks of
Conv2D -> BatchNormalization -> ReLU -> Add(skip), each Add feeding the next
block and serving as its skip. analyse() runs after every edit in the GUI, so
the target is under 20 ms for 1,000 nodes. The baseline, measured in the same
run, is the time Keras takes to build the same model through the compiler
(make_plan + build_model), i.e. what shape checking would cost if we asked
Keras instead of inferring shapes in pure Python.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.graph import Edge, Graph, Node, analyse  # noqa: E402

TARGET_MS = 20.0


def residual_chain(n_nodes: int, channels: int = 8, size: int = 16) -> Graph:
    """About `n_nodes` nodes: an Input, a stem convolution, then 4-node residual blocks."""
    g = Graph()
    x = g.add_node(Node("Input", {"batch_shape": [None, size, size, 3]}, id="input"))
    stem = g.add_node(Node("Conv2D", {"filters": channels, "kernel_size": [3, 3], "padding": "same"}, id="stem"))
    g.connect(Edge(x.id, stem.id), check_shapes=False)
    last = stem.id
    block = 0
    while len(g.nodes) + 4 <= n_nodes:
        block += 1
        conv = g.add_node(Node("Conv2D", {"filters": channels, "kernel_size": [3, 3], "padding": "same",
                                          "use_bias": False}, id=f"conv{block}"))
        bn = g.add_node(Node("BatchNormalization", id=f"bn{block}"))
        relu = g.add_node(Node("ReLU", id=f"relu{block}"))
        add = g.add_node(Node("Add", id=f"add{block}"))
        g.connect(Edge(last, conv.id), check_shapes=False)
        g.connect(Edge(conv.id, bn.id), check_shapes=False)
        g.connect(Edge(bn.id, relu.id), check_shapes=False)
        g.connect(Edge(last, add.id, 0, 0), check_shapes=False)
        g.connect(Edge(relu.id, add.id, 0, 1), check_shapes=False)
        last = add.id
    while len(g.nodes) < n_nodes:  # pad to the exact count
        act = g.add_node(Node("Activation", {"activation": "linear"}))
        g.connect(Edge(last, act.id), check_shapes=False)
        last = act.id
    return g


def time_ms(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras baseline")
    args = parser.parse_args(argv)

    graph = residual_chain(args.nodes)
    report = analyse(graph)
    assert report.ok, [d.message for d in report.errors[:3]]
    analyse_ms = time_ms(lambda: analyse(graph), args.repeat)
    median = statistics.median(analyse_ms)
    print(f"graph: {len(graph.nodes)} nodes, {len(graph.edges)} edges, {report.total_params:,} parameters")
    print(f"analyse():      median {median:8.2f} ms  (min {min(analyse_ms):.2f}, max {max(analyse_ms):.2f}, "
          f"{args.repeat} runs)  target < {TARGET_MS:.0f} ms: {'OK' if median < TARGET_MS else 'TOO SLOW'}")

    from studio.compiler.plan import make_plan

    plan_ms = time_ms(lambda: make_plan(graph, report=report), max(3, args.repeat // 5))
    print(f"make_plan():    median {statistics.median(plan_ms):8.2f} ms")

    if args.no_keras:
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    start = time.perf_counter()
    import keras  # noqa: F401

    import_s = time.perf_counter() - start
    from studio.compiler.keras_build import build_model

    plan = make_plan(graph, report=report)
    start = time.perf_counter()
    model = build_model(plan)
    build_ms = (time.perf_counter() - start) * 1000
    assert model.count_params() == report.total_params, (model.count_params(), report.total_params)
    print(f"Keras build:    {build_ms:8.0f} ms  (same model via the compiler; import keras took {import_s:.1f} s)")
    print(f"analyse() is {build_ms / median:,.0f}x faster than building the model with Keras")
    return 0


if __name__ == "__main__":
    sys.exit(main())
