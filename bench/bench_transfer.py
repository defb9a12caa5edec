"""Fast heads on frozen bases: cached features against plain `model.fit` of the same model.

A frozen MobileNetV2 (weights none, its BatchNormalization statistics set from the data so that its
features are not vanishingly small, as a pretrained base's are not) with a Dense head, on a few hundred
random 96x96 images. In the same run, from the same starting weights and without shuffling:

* plain:   `model.fit` of the whole model (the frozen base runs forward in every epoch),
* cached:  `studio.training.features`: the base's features computed once, the head fit on them,
* session: a two-phase `TrainingSession` (the app's path): its phase 1 epochs on the cached features.

Printed: the median seconds per epoch of epochs 2+ (the first carries tracing), the speed-up (target >= 5x), the
one-time feature computation, and the largest difference between the plain and the cached head
weights (target <= 1e-5).

    .venv/bin/python bench/bench_transfer.py [--samples 320] [--size 96] [--epochs 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

TOLERANCE = 1e-5
TARGET = 5.0


def build(size: int, classes: int):
    from studio.compiler.keras_build import build_model
    from studio.compiler.plan import make_plan
    from studio.graph.catalog import default_catalog
    from studio.graph.model import Edge, Graph, Node

    graph = Graph(default_catalog())

    def add(type_id: str, title: str, **params) -> str:
        return graph.add_node(Node(type=type_id, params=params, title=title)).id

    images = add("Input", "images", batch_shape=[None, size, size, 3], dtype="float32")
    base = add("Backbone", "base", backbone="MobileNetV2", pooling="avg")
    head = add("Dense", "head", units=classes)
    graph.connect(Edge(images, base, 0, 0))
    graph.connect(Edge(base, head, 0, 0))
    graph.node(base).trainable = False
    return build_model(make_plan(graph, "bench_transfer"))


def calibrate(model, x) -> None:
    """Set the base's BatchNormalization statistics from `x` (one pass, momentum 0)."""
    import keras

    layers = [layer for layer in model.get_layer("base").layers[-1].layers
              if isinstance(layer, keras.layers.BatchNormalization)]
    before = [(layer.momentum, layer.trainable) for layer in layers]
    for layer in layers:
        layer.momentum, layer.trainable = 0.0, True
    model.get_layer("base")(x[:64], training=True)
    for layer, (momentum, trainable) in zip(layers, before):
        layer.momentum, layer.trainable = momentum, trainable


def epoch_timer():
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.began = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.began)

    return Timer()


def head_weights(model) -> list:
    return [w.numpy().copy() for w in model.get_layer("head").weights]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=320)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--no-session", action="store_true", help="skip the TrainingSession measurement")
    args = parser.parse_args()

    import keras

    from studio.compiler.keras_build import compile_model
    from studio.training import features
    from studio.training.config import TrainingConfig

    classes = 5
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(args.samples, args.size, args.size, 3)).astype("float32")
    y = rng.integers(0, classes, size=args.samples)
    keras.utils.set_random_seed(0)
    model = build(args.size, classes)
    calibrate(model, x)
    start = [w.numpy().copy() for w in model.weights]
    config = TrainingConfig(optimizer="adam", learning_rate=1e-3, steps_per_execution=1)

    compile_model(model, config, num_classes=classes)
    timer = epoch_timer()
    began = time.perf_counter()
    model.fit(x, y, batch_size=args.batch, epochs=args.epochs, shuffle=False, verbose=0, callbacks=[timer])
    plain_total = time.perf_counter() - began
    plain = statistics.median(timer.seconds[1:])
    plain_head = head_weights(model)

    model.set_weights(start)
    began = time.perf_counter()
    split, why = features.split(model)
    if split is None:
        raise SystemExit(f"features cannot be cached: {why}")
    cached, why = features.cache(split, x, y, None, args.batch)
    if cached is None:
        raise SystemExit(f"features cannot be cached: {why}")
    extract = time.perf_counter() - began
    compile_model(split.head, config, num_classes=classes)
    timer = epoch_timer()
    split.head.fit(cached.x, cached.y, batch_size=args.batch, epochs=args.epochs, shuffle=False, verbose=0,
                   callbacks=[timer])
    cached_total = time.perf_counter() - began
    fast = statistics.median(timer.seconds[1:])
    diff = max(float(np.abs(a - b).max()) for a, b in zip(plain_head, head_weights(model)))
    moved = max(float(np.abs(a - b).max()) for a, b in zip(plain_head, head_weights_of(start, model)))

    print(f"frozen MobileNetV2 (weights none) + Dense head, {args.samples} images {args.size}x{args.size}, "
          f"batch {args.batch}, {args.epochs} epochs, {keras.backend.backend()} backend")
    print(f"  plain model.fit      epochs 2+: {plain * 1000:9.1f} ms/epoch   (all epochs {plain_total:.2f} s)")
    print(f"  cached features      epochs 2+: {fast * 1000:9.1f} ms/epoch   (all epochs {cached_total:.2f} s, "
          f"features once {extract:.2f} s, {cached.megabytes:.1f} MB)")
    speedup = plain / fast
    print(f"  speed-up epochs 2+: {speedup:.1f}x (target >= {TARGET:g}x) {'OK' if speedup >= TARGET else 'MISSED'}")
    print(f"  head weights, plain vs cached: max |diff| {diff:.2e} (training moved them up to {moved:.2e}); "
          f"tolerance {TOLERANCE:g} {'OK' if diff <= TOLERANCE else 'MISSED'}")
    if not args.no_session:
        session_epochs(model, start, x, y, args, plain)


def head_weights_of(values, model) -> list:
    by_id = {id(w): v for w, v in zip(model.weights, values)}
    return [by_id[id(w)] for w in model.get_layer("head").weights]


def session_epochs(model, start, x, y, args, plain: float) -> None:
    """The app's path: phase 1 of a two-phase TrainingSession (it caches the features itself)."""
    from studio.training.config import TrainingConfig
    from studio.training.reports import Reporter, TaskInfo
    from studio.training.session import TrainingSession

    seconds: dict[int, float] = {}

    class Keep(Reporter):
        def on_epoch(self, report):
            seconds[report.epoch] = report.seconds

        def on_message(self, level, text):
            print(f"  session {level}: {text}")

    model.set_weights(start)
    config = TrainingConfig(optimizer="adam", learning_rate=1e-3, epochs=args.epochs + 1, batch_size=args.batch,
                            validation_split=0.0, checkpoint_best=False, seed=0,
                            fine_tune={"enabled": True, "head_epochs": args.epochs, "unfreeze_top": 5})
    session = TrainingSession(model, (x, y), None, config, Keep(), task=TaskInfo(task="classification",
                              num_classes=int(y.max()) + 1), clear_session=False, tensorboard=False)
    result = session.run()
    phase1 = [seconds[e] for e in range(2, args.epochs + 1) if e in seconds]
    if result.status != "completed" or not phase1:
        print(f"  session: {result.status}: {result.message}")
        return
    mean = statistics.median(phase1)
    print(f"  session phase 1     epochs 2+: {mean * 1000:9.1f} ms/epoch   -> {plain / mean:.1f}x plain "
          f"(phase 2, top 5 layers unfrozen: {seconds.get(args.epochs + 1, float('nan')):.2f} s)")


if __name__ == "__main__":
    main()
