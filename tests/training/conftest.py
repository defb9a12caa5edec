"""Tiny models and data for training tests (seconds, not minutes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.training.reports import Reporter


@pytest.fixture(scope="session")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(scope="session")
def blobs():
    """400 rows, 4 features, 3 separable classes."""
    import numpy as np

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=400)
    x = rng.normal(size=(400, 4)).astype("float32") * 0.3
    x[:, 0] += y
    return x, y.astype("int64")


@pytest.fixture
def mlp(keras):
    def build(classes: int = 3, inputs: int = 4):
        return keras.Sequential(
            [
                keras.Input((inputs,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dense(classes, activation="softmax"),
            ]
        )

    return build


class Recorder(Reporter):
    """Keeps every report; optional hooks run on the training thread."""

    def __init__(self, on_batches=None) -> None:
        self.events: list[str] = []
        self.batches = []
        self.epochs = []
        self.messages: list[tuple[str, str]] = []
        self.states: list[str] = []
        self.start = None
        self.result = None
        self.hook = on_batches

    def on_start(self, info):
        self.events.append("start")
        self.start = info

    def on_batches(self, report):
        self.events.append("batches")
        self.batches.append(report)
        if self.hook:
            self.hook(report)

    def on_epoch(self, report):
        self.events.append("epoch")
        self.epochs.append(report)

    def on_state(self, state):
        self.states.append(state)

    def on_message(self, level, text):
        self.messages.append((level, text))

    def on_finish(self, result):
        self.events.append("finish")
        self.result = result

    @property
    def batch_points(self) -> int:
        return sum(len(r.xs) for r in self.batches)


IRIS = Path(__file__).resolve().parents[2] / "projects" / "iris-mlp.studio.json"


def iris_with_norm(folder: Path, **training) -> Path:
    """The Iris example as `folder/iris.studio.json` with hidden (Dense, relu) -> norm ->
    species, `norm` a Normalization without mean/variance (the statistics are those of the
    hidden layer's output); `training` updates its training settings."""
    data = json.loads(IRIS.read_text())
    graph = data["graph"]
    graph["nodes"].append({"id": "norm", "type": "Normalization", "title": "norm", "params": {},
                           "position": [330.0, 0.0], "trainable": True})
    graph["edges"] = [e for e in graph["edges"] if e["target"] != "species"] + [
        {"source": "hidden", "source_port": 0, "target": "norm", "target_port": 0},
        {"source": "norm", "source_port": 0, "target": "species", "target_port": 0},
    ]
    data["training"].update(training)
    path = folder / "iris.studio.json"
    path.write_text(json.dumps(data))
    return path
