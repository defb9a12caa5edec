"""Starting points for new projects: `studio new PROJECT --template NAME`.

Each template builds its `Graph` through the Graph API (so every wire is
checked, shapes included), lays the nodes out left to right, and binds the
project to a bundled sample dataset whose shapes fit, so a new project can be
trained at once without a download.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from studio.core.errors import StudioError
from studio.graph.catalog import Catalog, default_catalog
from studio.graph.model import Edge, Graph, Node
from studio.project.model import Project

DX = 220.0  # horizontal distance between columns
DY = 140.0  # vertical distance between rows (branches)

SPLIT = {"validation": 0.2, "test": 0.1, "seed": 0}


class TemplateError(StudioError):
    """An unknown template name; the message lists the known ones."""


class Builder:
    """Adds nodes column by column; `add` wires the new node after `after`
    (default: the node added last). Ids are readable and unique: the title in
    kebab-case, with a counter when needed."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.graph = Graph(catalog)
        self.last: str | None = None
        self.column = 0

    def add(
        self,
        type_id: str,
        title: str,
        *,
        after: str | None | bool = True,
        row: float = 0.0,
        port: int = 0,
        **params,
    ) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or type_id.lower()
        node_id, n = base, 2
        while self.graph.has_node(node_id):
            node_id, n = f"{base}-{n}", n + 1
        node = Node(type=type_id, params=params, title=title, position=(self.column * DX, row * DY), id=node_id)
        self.graph.add_node(node)
        self.column += 1
        source = self.last if after is True else after
        if source:
            self.wire(source, node.id, port)
        self.last = node.id
        return node.id

    def wire(self, source: str, target: str, port: int = 0) -> None:
        self.graph.connect(Edge(source, target, 0, port))


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    description: str
    build: Callable[[Builder], None]
    dataset: dict | None = None
    training: dict = field(default_factory=dict)
    # Layer types the template needs from the catalog.
    needs: tuple[str, ...] = ()
    # What its first build downloads (pretrained weights), named for the user; () for nothing.
    downloads: tuple[str, ...] = ()

    def graph(self, catalog: Catalog | None = None) -> Graph:
        builder = Builder(catalog)
        self.build(builder)
        return builder.graph

    def project(self, name: str | None = None, catalog: Catalog | None = None) -> Project:
        import copy

        return Project(
            graph=self.graph(catalog),
            name=name or self.name,
            description=self.description,
            dataset=copy.deepcopy(self.dataset),
            training=copy.deepcopy(self.training),
        )


# --- the templates -----------------------------------------------------------------
def _mlp(b: Builder) -> None:
    b.add("Input", "measurements", after=None, batch_shape=[None, 4])
    b.add("Dense", "hidden 1", units=32, activation="relu")
    b.add("Dropout", "dropout", rate=0.2)
    b.add("Dense", "hidden 2", units=16, activation="relu")
    b.add("Dense", "species", units=3, activation="softmax")


def _cnn(b: Builder) -> None:
    b.add("Input", "image", after=None, batch_shape=[None, 32, 32, 3])
    b.add("Conv2D", "conv 1", filters=16, kernel_size=[3, 3], padding="same", activation="relu")
    b.add("MaxPooling2D", "pool 1", pool_size=[2, 2])
    b.add("Conv2D", "conv 2", filters=32, kernel_size=[3, 3], padding="same", activation="relu")
    b.add("MaxPooling2D", "pool 2", pool_size=[2, 2])
    b.add("Flatten", "flatten")
    b.add("Dropout", "dropout", rate=0.3)
    b.add("Dense", "shape", units=3, activation="softmax")


def _rnn(b: Builder) -> None:
    b.add("Input", "window", after=None, batch_shape=[None, 32, 1])
    b.add("LSTM", "lstm", units=32, return_sequences=True)
    b.add("GRU", "gru", units=16)
    b.add("Dense", "hidden", units=16, activation="relu")
    b.add("Dense", "next value", units=1)


def _resnet_block(b: Builder) -> None:
    b.add("Input", "image", after=None, batch_shape=[None, 32, 32, 3])
    b.add("Conv2D", "stem conv", filters=32, kernel_size=[3, 3], padding="same", use_bias=False)
    b.add("BatchNormalization", "stem bn")
    skip = b.add("ReLU", "stem relu")
    b.add("Conv2D", "conv a", row=-1, filters=32, kernel_size=[3, 3], padding="same", use_bias=False)
    b.add("BatchNormalization", "bn a", row=-1)
    b.add("ReLU", "relu a", row=-1)
    b.add("Conv2D", "conv b", row=-1, filters=32, kernel_size=[3, 3], padding="same", use_bias=False)
    residual = b.add("BatchNormalization", "bn b", row=-1)
    add = b.add("Add", "add", after=skip, port=0)
    b.wire(residual, add, port=1)
    b.add("ReLU", "block relu")
    b.add("GlobalAveragePooling2D", "global pool")
    b.add("Dense", "shape", units=3, activation="softmax")


def _text_classifier(b: Builder) -> None:
    b.add("Input", "token ids", after=None, batch_shape=[None, 24], dtype="int32")
    b.add("Embedding", "embedding", input_dim=2000, output_dim=32)
    b.add("GlobalAveragePooling1D", "average words")
    b.add("Dense", "hidden", units=16, activation="relu")
    b.add("Dropout", "dropout", rate=0.3)
    b.add("Dense", "topic", units=3, activation="softmax")


# A TensorFlow Hub text embedding: sentences (strings) -> 50 numbers, trained on English Google News
# (nnlm-en-dim50, 48M parameters). Its facts are written here so the graph's shapes are known before the
# module is downloaded; loading it (the first build, or opening the project in the app) checks them.
NNLM_HANDLE = "https://tfhub.dev/google/nnlm-en-dim50/2"
NNLM_FACTS = {"input_shape": [None], "input_dtype": "string", "output_shape": [None, 50],
              "output_dtype": "float32", "param_counts": [48190600, 0]}


def _text_hub(b: Builder) -> None:
    b.add("Input", "sentence", after=None, batch_shape=[None], dtype="string")
    module = b.add("HubModule", "nnlm embedding", handle=NNLM_HANDLE, **NNLM_FACTS)
    b.graph.set_trainable(module, False)  # feature extraction: only the head trains
    b.add("Dense", "hidden", units=16, activation="relu")
    b.add("Dense", "topic", units=3, activation="softmax")


def _image_backbone(b: Builder) -> None:
    b.add("Input", "image", after=None, batch_shape=[None, 32, 32, 3])
    # The app feeds images scaled to [0, 1]; Keras Applications expect pixels in [0, 255].
    b.add("Rescaling", "pixels 0-255", scale=255.0)
    base = b.add("Backbone", "MobileNetV2", backbone="MobileNetV2", weights="imagenet", pooling="avg")
    b.graph.set_trainable(base, False)  # feature extraction: only the head trains
    b.add("Dropout", "dropout", rate=0.2)
    b.add("Dense", "shape", units=3, activation="softmax")


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "mlp",
            "Multi-layer perceptron",
            "A small fully connected classifier: 4 flower measurements -> 3 iris species.",
            _mlp,
            {"kind": "sample", "path": "iris", "split": dict(SPLIT)},
            {"epochs": 60, "batch_size": 16},
            ("Input", "Dense", "Dropout"),
        ),
        Template(
            "cnn",
            "Convolutional network",
            "Two convolution + pooling stages, then a classifier: 32x32 colour images of 3 shapes.",
            _cnn,
            {"kind": "sample", "path": "shapes", "split": dict(SPLIT)},
            {"epochs": 10, "batch_size": 32},
            ("Input", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"),
        ),
        Template(
            "rnn",
            "Recurrent network",
            "An LSTM and a GRU read a window of 32 steps of a time series and forecast the next value.",
            _rnn,
            {"kind": "sample", "path": "sine", "split": {"validation": 0.2, "test": 0.1}},
            {"epochs": 20, "batch_size": 32},
            ("Input", "LSTM", "GRU", "Dense"),
        ),
        Template(
            "resnet-block",
            "Residual block",
            "A convolution stem and one residual block (two 3x3 convolutions with batch normalisation "
            "added back onto their input), global pooling and a classifier: 32x32 colour images of 3 shapes.",
            _resnet_block,
            {"kind": "sample", "path": "shapes", "split": dict(SPLIT)},
            {"epochs": 10, "batch_size": 32},
            ("Input", "Conv2D", "BatchNormalization", "ReLU", "Add", "GlobalAveragePooling2D", "Dense"),
        ),
        Template(
            "text-classifier",
            "Text classifier",
            "Word embeddings averaged over a sentence, then a small classifier: short texts -> 3 topics.",
            _text_classifier,
            {"kind": "sample", "path": "short-text", "split": dict(SPLIT)},
            {"epochs": 20, "batch_size": 32},
            ("Input", "Embedding", "GlobalAveragePooling1D", "Dense", "Dropout"),
        ),
        Template(
            "image-backbone",
            "Image classifier from a pretrained backbone",
            "MobileNetV2 pretrained on ImageNet, frozen, turns each 32x32 image into 1280 features; a small "
            "classifier on top learns the 3 shapes. Unfreeze the backbone (or its top layers) to fine-tune. "
            "The ImageNet weights (9 MB) are downloaded once on the first build.",
            _image_backbone,
            {"kind": "sample", "path": "shapes", "split": dict(SPLIT)},
            {"epochs": 5, "batch_size": 32},
            ("Input", "Rescaling", "Backbone", "Dropout", "Dense"),
            ("MobileNetV2 ImageNet weights (include_top=False) into KERAS_HOME/models",),
        ),
        Template(
            "text-hub",
            "Text classifier from a Hub embedding",
            "A pretrained TensorFlow Hub text embedding (nnlm-en-dim50, trained on English Google News) turns "
            "each sentence into 50 numbers; a small classifier on top learns the 3 topics of the short texts. "
            "The module (about 200 MB) is downloaded once into the module cache on the first build.",
            _text_hub,
            {"kind": "sample", "path": "short-text", "features": ["text"], "targets": ["topic"],
             "text": {"strings": True}, "split": dict(SPLIT)},
            {"epochs": 10, "batch_size": 32},
            ("Input", "HubModule", "Dense"),
            (f"the TensorFlow Hub module {NNLM_HANDLE} into the module cache (TFHUB_CACHE_DIR)",),
        ),
    )
}

DEFAULT_TEMPLATE = "mlp"


def template_names(offline: bool = False) -> list[str]:
    """Every template's name; `offline=True`: only those whose build downloads nothing."""
    return [name for name, t in TEMPLATES.items() if not (offline and t.downloads)]


def get_template(name: str) -> Template:
    """The template called `name`; TemplateError listing the known names otherwise."""
    template = TEMPLATES.get(name)
    if template is None:
        raise TemplateError(f"unknown template {name!r}; choose one of: {', '.join(TEMPLATES)}")
    return template


def missing_layers(template: Template, catalog: Catalog | None = None) -> list[str]:
    """Layer types the template needs that the catalog does not have."""
    catalog = catalog or default_catalog()
    return [t for t in template.needs if t not in catalog]


def make_project(template_name: str, name: str | None = None, catalog: Catalog | None = None) -> Project:
    """A new (unsaved) project from a template."""
    template = get_template(template_name)
    missing = missing_layers(template, catalog)
    if missing:
        raise TemplateError(
            f"template {template_name!r} needs layer types this version lacks: {', '.join(missing)}"
        )
    return template.project(name, catalog)
