"""Write the example projects in this folder with `studio.project.save_project`.

Run from the repository root:  .venv/bin/python projects/make_examples.py
Each example is bound to a bundled sample (`{"kind": "sample", ...}`), so it
opens and trains anywhere without a download. Examples whose layers are not
in the catalog yet are skipped with a message.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.graph import Edge, Graph, Node, default_catalog  # noqa: E402
from studio.project import Project, save_project  # noqa: E402

HERE = Path(__file__).resolve().parent
SPLIT = {"validation": 0.2, "test": 0.1, "seed": 0, "stratify": True}


class Chain:
    """Builds a graph left to right: each `add` wires the new node after the last one."""

    def __init__(self) -> None:
        self.graph = Graph()
        self.last: str | None = None
        self.x = 0.0

    def add(self, type_id: str, title: str = "", after: str | None = None, port: int = 0, **params) -> str:
        # Readable, stable ids so regenerating an example gives the same file.
        base = (title or type_id).lower().replace(" ", "-")
        node_id, n = base, 2
        while self.graph.has_node(node_id):
            node_id, n = f"{base}-{n}", n + 1
        node = Node(type=type_id, params=params, title=title, position=(self.x, 0.0), id=node_id)
        self.x += 220.0
        self.graph.add_node(node)
        source = after if after is not None else self.last
        if source is not None:
            self.graph.connect(Edge(source, node.id, 0, port))
        self.last = node.id
        return node.id

    def wire(self, source: str, target: str, port: int = 0) -> None:
        self.graph.connect(Edge(source, target, 0, port))


def iris_mlp() -> Project:
    c = Chain()
    c.add("Input", "measurements", batch_shape=[None, 4])
    c.add("Dense", "hidden", units=16, activation="relu")
    c.add("Dense", "species", units=3, activation="softmax")
    return Project(
        graph=c.graph,
        name="Iris MLP",
        description="Classify iris flowers from 4 measurements with a small multi-layer perceptron. "
        "The features are normalised inside the model, so the trained model takes raw centimetres.",
        dataset={"kind": "sample", "path": "iris", "targets": ["species"], "task": "classification",
                 "split": dict(SPLIT)},
        training={"epochs": 60, "batch_size": 16, "learning_rate": 0.01},
    )


def digits_cnn() -> Project:
    c = Chain()
    c.add("Input", "digit image", batch_shape=[None, 8, 8, 1])
    c.add("Conv2D", "conv 1", filters=16, kernel_size=[3, 3], padding="same", activation="relu")
    c.add("Conv2D", "conv 2", filters=32, kernel_size=[3, 3], padding="same", activation="relu")
    c.add("MaxPooling2D", "pool", pool_size=[2, 2])
    c.add("Flatten", "flatten")
    c.add("Dense", "hidden", units=64, activation="relu")
    c.add("Dropout", "dropout", rate=0.2)
    c.add("Dense", "digit", units=10, activation="softmax")
    return Project(
        graph=c.graph,
        name="Digits CNN",
        description="A small convolutional network on the bundled synthetic 8x8 digits (generated "
        "digit-like strokes, not the UCI optdigits data).",
        dataset={"kind": "sample", "path": "digits", "task": "classification", "split": dict(SPLIT)},
        training={"epochs": 15, "batch_size": 32, "learning_rate": 0.002},
    )


def spirals_mlp() -> Project:
    c = Chain()
    c.add("Input", "point", batch_shape=[None, 2])
    c.add("Dense", "hidden 1", units=64, activation="tanh")
    c.add("Dense", "hidden 2", units=64, activation="tanh")
    c.add("Dense", "hidden 3", units=32, activation="relu")
    c.add("Dense", "spiral", units=1, activation="sigmoid")
    return Project(
        graph=c.graph,
        name="Two spirals MLP",
        description="Which of two interleaved spirals does a point lie on? A classic problem a linear "
        "model cannot solve; three hidden layers can. One sigmoid output for two classes.",
        dataset={"kind": "sample", "path": "spirals", "targets": ["label"], "task": "classification",
                 "split": dict(SPLIT)},
        training={"epochs": 120, "batch_size": 32, "learning_rate": 0.01},
    )


def sine_lstm() -> Project:
    c = Chain()
    c.add("Input", "last 32 steps", batch_shape=[None, 32, 1])
    c.add("LSTM", "lstm", units=32)
    c.add("Dense", "next value", units=1)
    return Project(
        graph=c.graph,
        name="Sine LSTM forecaster",
        description="Forecast the next value of a noisy seasonal sine from the 32 values before it.",
        dataset={"kind": "sample", "path": "sine", "task": "forecast",
                 "window": {"length": 32, "stride": 1, "horizon": 1},
                 "split": {"validation": 0.2, "test": 0.1, "seed": 0, "stratify": False}},
        training={"epochs": 15, "batch_size": 32, "learning_rate": 0.005},
    )


def shapes_cnn() -> Project:
    c = Chain()
    c.add("Input", "image", batch_shape=[None, 32, 32, 3])
    stem = c.add("Conv2D", "stem", filters=16, kernel_size=[3, 3], padding="same", activation="relu")
    c.add("Conv2D", "res conv a", filters=16, kernel_size=[3, 3], padding="same", activation="relu")
    conv_b = c.add("Conv2D", "res conv b", filters=16, kernel_size=[3, 3], padding="same")
    add = c.add("Add", "skip add", after=conv_b)
    c.wire(stem, add, 1)
    c.add("Activation", "res relu", activation="relu")
    c.add("MaxPooling2D", "pool 1", pool_size=[2, 2])
    c.add("Conv2D", "conv 1", filters=32, kernel_size=[3, 3], padding="same", activation="relu")
    c.add("MaxPooling2D", "pool 2", pool_size=[2, 2])
    c.add("Conv2D", "conv 2", filters=64, kernel_size=[3, 3], padding="same", activation="relu")
    c.add("GlobalMaxPooling2D", "max over image")
    c.add("Dense", "shape", units=3, activation="softmax")
    return Project(
        graph=c.graph,
        name="Shapes CNN with a residual block",
        description="Tell circles, squares and triangles apart. The residual block adds the stem's output "
        "back after two convolutions (a skip connection).",
        dataset={"kind": "sample", "path": "shapes", "task": "classification", "split": dict(SPLIT)},
        training={"epochs": 20, "batch_size": 32, "learning_rate": 0.003},
    )


def text_gru() -> Project:
    c = Chain()
    c.add("Input", "token ids", batch_shape=[None, 24], dtype="int32")
    c.add("Embedding", "embedding", input_dim=2000, output_dim=32, mask_zero=True)
    c.add("GRU", "gru", units=32)
    c.add("Dense", "topic", units=3, activation="softmax")
    return Project(
        graph=c.graph,
        name="Text GRU classifier",
        description="Classify short texts as sport, weather or food. Words become ids with a vocabulary "
        "learnt from the training texts (saved beside the project), then an Embedding and a GRU read them.",
        dataset={"kind": "sample", "path": "short-text", "features": ["text"], "targets": ["topic"],
                 "task": "classification", "text": {"max_tokens": 2000, "sequence_length": 24},
                 "split": dict(SPLIT)},
        training={"epochs": 10, "batch_size": 32, "learning_rate": 0.005},
    )


def shapes_backbone() -> Project:
    c = Chain()
    c.add("Input", "image", batch_shape=[None, 32, 32, 3])
    c.add("Rescaling", "pixels 0-255", scale=255.0)  # the app feeds [0, 1]; the backbone wants [0, 255]
    base = c.add("Backbone", "MobileNetV2", backbone="MobileNetV2", weights="imagenet", pooling="avg")
    c.graph.set_trainable(base, False)
    c.add("Dropout", "dropout", rate=0.2)
    c.add("Dense", "shape", units=3, activation="softmax")
    return Project(
        graph=c.graph,
        name="Shapes from a pretrained MobileNetV2",
        description="Transfer learning: MobileNetV2 pretrained on ImageNet (downloaded once, 9 MB) is frozen and "
        "turns each image into 1280 features; only the small classifier on top trains, so a few epochs are "
        "enough. Unfreeze the backbone, or set 'freeze up to' on it, to fine-tune it afterwards.",
        dataset={"kind": "sample", "path": "shapes", "task": "classification", "split": dict(SPLIT)},
        training={"epochs": 5, "batch_size": 32, "learning_rate": 0.001},
    )


def text_hub() -> Project:
    from studio.project.templates import NNLM_FACTS, NNLM_HANDLE

    c = Chain()
    c.add("Input", "sentence", batch_shape=[None], dtype="string")
    module = c.add("HubModule", "nnlm embedding", handle=NNLM_HANDLE, **NNLM_FACTS)
    c.graph.set_trainable(module, False)
    c.add("Dense", "hidden", units=16, activation="relu")
    c.add("Dense", "topic", units=3, activation="softmax")
    return Project(
        graph=c.graph,
        name="Topics from a Hub text embedding",
        description="Transfer learning for text: a TensorFlow Hub sentence embedding (nnlm-en-dim50, downloaded "
        "once into the module cache) turns each short text, given as a string, into 50 numbers; a small "
        "classifier learns sport, weather or food. The module is frozen; tick its 'trainable' to fine-tune it.",
        dataset={"kind": "sample", "path": "short-text", "features": ["text"], "targets": ["topic"],
                 "task": "classification", "text": {"strings": True}, "split": dict(SPLIT)},
        training={"epochs": 10, "batch_size": 32, "learning_rate": 0.005},
    )


EXAMPLES: dict[str, tuple[Callable[[], Project], tuple[str, ...]]] = {
    "iris-mlp": (iris_mlp, ("Input", "Dense")),
    "digits-cnn": (digits_cnn, ("Conv2D", "MaxPooling2D", "Flatten", "Dropout")),
    "spirals-mlp": (spirals_mlp, ("Dense",)),
    "sine-lstm": (sine_lstm, ("LSTM",)),
    "shapes-cnn": (shapes_cnn, ("Conv2D", "Add", "Activation", "GlobalMaxPooling2D")),
    "text-gru": (text_gru, ("Embedding", "GRU")),
    "shapes-backbone": (shapes_backbone, ("Rescaling", "Backbone")),
    "text-hub": (text_hub, ("HubModule",)),
}


def main() -> int:
    ids = set(default_catalog().ids())
    for name, (build, needs) in EXAMPLES.items():
        missing = [n for n in needs if n not in ids]
        if missing:
            print(f"skip {name}: the catalog has no {', '.join(missing)} yet")
            continue
        path = save_project(build(), HERE / f"{name}.studio.json")
        print(f"wrote {path.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
