"""Compile time of a 500-layer graph: our compiler vs the same model built in Keras.

    .venv/bin/python bench/bench_compile.py [--layers 500] [--repeat 3]

Our path is what the app does before training: `make_plan(graph)` (which
runs the shape analysis) and `build_model(plan)` (one `keras.layers.deserialize`
per node). The baseline writes the same layers directly with Keras
constructors in the same process. Both build a residual MLP (Dense, Dense,
Add blocks); runs alternate (each from a cleared Keras session) and the
best of `--repeat` each is compared. Target: ratio < 1.1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

WIDTH = 32


def make_graph(blocks: int):
    from studio.graph.model import Edge, Graph, Node

    graph = Graph()
    current = graph.add_node(Node(type="Input", params={"batch_shape": [None, WIDTH]})).id
    for _ in range(blocks):
        a = graph.add_node(Node(type="Dense", params={"units": WIDTH, "activation": "relu"})).id
        b = graph.add_node(Node(type="Dense", params={"units": WIDTH})).id
        add = graph.add_node(Node(type="Add")).id
        graph.connect(Edge(current, a), check_shapes=False)
        graph.connect(Edge(a, b), check_shapes=False)
        graph.connect(Edge(b, add, 0, 0), check_shapes=False)
        graph.connect(Edge(current, add, 0, 1), check_shapes=False)
        current = add
    return graph


def ours(graph):
    from studio.compiler.keras_build import build_model
    from studio.compiler.plan import make_plan

    return build_model(make_plan(graph, "bench"))


def direct(blocks: int):
    import keras

    # Explicit names, like the compiler's (Keras' automatic names cost extra).
    x = inputs = keras.Input(batch_shape=(None, WIDTH), name="input_1")
    for i in range(blocks):
        h = keras.layers.Dense(WIDTH, activation="relu", name=f"dense_{2 * i + 1}")(x)
        h = keras.layers.Dense(WIDTH, name=f"dense_{2 * i + 2}")(h)
        x = keras.layers.Add(name=f"add_{i + 1}")([h, x])
    return keras.Model(inputs, x, name="bench")


def timed(fn) -> tuple[float, object]:
    """Run `fn` from a clean Keras session (models of earlier runs freed first)."""
    import gc

    import keras

    keras.backend.clear_session()
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=500, help="about this many layers (3 per block)")
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args()
    blocks = max(1, args.layers // 3)
    import keras  # noqa: F401 - imported before timing either side

    graph = make_graph(blocks)
    direct(2), ours(make_graph(2))  # warm up both paths
    t_direct = t_ours = float("inf")
    for i in range(args.repeat):  # interleaved, alternating who goes first
        for which in (("direct", "ours") if i % 2 == 0 else ("ours", "direct")):
            if which == "direct":
                t, model_direct = timed(lambda: direct(blocks))
                t_direct = min(t_direct, t)
            else:
                t, model_ours = timed(lambda: ours(graph))
                t_ours = min(t_ours, t)
    assert model_ours.count_params() == model_direct.count_params()
    layers = len(model_ours.layers)
    print(f"layers: {layers} ({blocks} residual blocks), parameters: {model_ours.count_params():,}")
    print(f"keras direct (baseline): {t_direct * 1000:8.1f} ms")
    print(f"studio make_plan + build_model: {t_ours * 1000:8.1f} ms")
    print(f"ratio: {t_ours / t_direct:.3f} (target < 1.1)")


if __name__ == "__main__":
    main()
