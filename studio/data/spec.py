"""The dataset spec: what `project.dataset` holds (pure: no numpy, no TensorFlow).

A spec is a plain JSON dict in the project file. `DatasetSpec.from_dict`
checks it and names the first bad key with the fix; `to_dict` writes it back,
keeping keys this version does not know. Example::

    {"kind": "csv", "path": "data/iris.csv",
     "features": ["sepal_length", "sepal_width"], "targets": ["species"],
     "task": "classification",
     "split": {"validation": 0.2, "test": 0.1, "seed": 0, "stratify": true},
     "missing": "error", "categorical": "onehot"}

Kinds and the options each reads:

* ``csv`` / ``tsv``: a table; ``features``/``targets`` are column names;
  ``delimiter``, ``header`` (sniffed when absent), ``encoding``, ``missing``
  ("error" | "drop" | "fill"), ``categorical`` ("onehot" | "index"),
  ``decimal`` ("." | ","; sniffed when absent: "," for ``5,1;3,5`` files whose
  delimiter is not a comma). ``decimal`` also applies to CSV texts and series.
  ``delimiter`` " " means any run of spaces or tabs (sniffed for files such
  as ``5 162 60``); ``skip_rows`` (default 0) lines at the top of the file
  (notes, counts, a title) are skipped before the header, for tables, texts
  and series alike.
* ``npy``: ``path`` holds the features, ``targets_path`` the targets (default:
  ``y.npy``/``labels.npy``/``targets.npy`` beside it).
* ``npz``: ``features``/``targets`` name arrays inside the file (default
  ``x``/``y``; ``x_test``/``y_test`` when present become the test split).
* ``images``: a folder with one subfolder per class; ``image`` = {"size":
  [h, w], "color": "rgb" | "grayscale"}.
* ``text``: a CSV with a text column (``features``) and a label column
  (``targets``), or a folder with one subfolder of ``.txt`` files per class;
  ``text`` = {"max_tokens", "sequence_length"}.
* ``timeseries``: a CSV of series cut into windows; ``window`` = {"length",
  "stride", "horizon"}; ``features`` are the inputs, ``targets`` the
  predicted columns; splits are chronological.
* ``sample``: a bundled sample, ``path`` is its name ("iris", "mnist"...).

Models with several Input or output nodes bind data to each node by its id
(``csv``/``tsv``: groups of columns; ``npz``: arrays by key)::

    "inputs":  [{"node": "<Input node id>", "features": ["a1", "a2"]}, ...],
    "outputs": [{"node": "<output node id>", "targets": ["kind"],
                 "task": "classification",   # optional: guessed from the column
                 "loss": "auto",             # optional: a Keras loss name
                 "weight": 1.0}, ...]        # optional: the output's loss weight

A column or array belongs to one binding only. Projects without these keys
train one Input on ``features`` and one output on ``targets`` as before.

A table may name an image file per row (an image plus side features): ``"image": {"column":
"file", "folder": "images", "size": [h, w], "color": "rgb"}``; an Input bound to ``["file"]``
gets each row's image (pixels 0..255, rescaled in the model), other Inputs the side columns, and an
output bound to ``["file:folder"]`` the name of the folder holding each image as its class (or a
column of the table as its target).

``preprocessing`` holds what `prepare()` fitted on the training split
(normalisation statistics, class names, vocabulary file). `prepare()` returns
it in ``PreparedData.spec``; a training run records that resolved spec in its
``config.json`` and the trained model carries the statistics as its first
layers. A ``preprocessing`` key in the project is kept as it is (the Data
panel drops it when a setting it depends on changes); `prepare()` always
refits on the training split, which the split seed makes the same every time.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

from studio.core.errors import DataError

KINDS = ("csv", "tsv", "npy", "npz", "images", "text", "timeseries", "sample", "keras")
TASKS = ("classification", "regression", "forecast")
MISSING = ("error", "drop", "fill")
CATEGORICAL = ("onehot", "index")
COLOR_MODES = ("rgb", "grayscale")

KNOWN_KEYS = {
    "kind", "path", "targets_path", "features", "targets", "task", "split", "delimiter", "header",
    "encoding", "missing", "categorical", "image", "text", "window", "preprocessing", "decimal",
    "skip_rows", "inputs", "outputs",
}
MAX_SKIP_ROWS = 1_000_000
BOUND_KINDS = ("csv", "tsv", "npz", "sample")  # sample: one of the bundled tables  # kinds whose data can be bound per Input/output node
DECIMALS = (".", ",")

DEFAULT_IMAGE_SIZE = (64, 64)
DEFAULT_MAX_TOKENS = 10000
DEFAULT_SEQUENCE_LENGTH = 64


def _where(source: str, key: str) -> str:
    return f"{source}: dataset.{key}"


@dataclass
class Split:
    """Fractions of the data held out for validation and test, and the seed."""

    validation: float = 0.2
    test: float = 0.1
    seed: int = 0
    stratify: bool = True

    @property
    def train(self) -> float:
        return 1.0 - self.validation - self.test

    def to_dict(self) -> dict:
        return {"validation": self.validation, "test": self.test, "seed": self.seed, "stratify": self.stratify}

    @classmethod
    def from_dict(cls, data: Any, source: str = "project") -> Split:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise DataError(f"{_where(source, 'split')} must be an object like "
                            '{"validation": 0.2, "test": 0.1, "seed": 0}')
        split = cls()
        for key in ("validation", "test"):
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) \
                        or not 0 <= value < 1:
                    raise DataError(f"{_where(source, 'split.' + key)} must be a fraction from 0 to 0.9, "
                                    f"got {value!r}")
                setattr(split, key, float(value))
        if split.validation + split.test > 0.9:
            raise DataError(f"{_where(source, 'split')}: validation + test is "
                            f"{split.validation + split.test:g}, which leaves too little for training; "
                            "keep their sum at most 0.9")
        if "seed" in data:
            seed = data["seed"]
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise DataError(f"{_where(source, 'split.seed')} must be a whole number >= 0, got {seed!r}")
            split.seed = seed
        if "stratify" in data:
            if not isinstance(data["stratify"], bool):
                raise DataError(f"{_where(source, 'split.stratify')} must be true or false")
            split.stratify = data["stratify"]
        return split


@dataclass
class ImageOptions:
    size: tuple[int, int] | None = None  # None: inferred from the images
    color: str | None = None  # None: inferred ("grayscale" if every image is)
    # A table whose rows name image files (data bound per node): the column holding each row's
    # image file, relative to `folder` (relative to the table's own folder; default: that folder).
    column: str | None = None
    folder: str | None = None

    def to_dict(self) -> dict:
        out: dict = {}
        if self.size is not None:
            out["size"] = list(self.size)
        if self.color is not None:
            out["color"] = self.color
        if self.column is not None:
            out["column"] = self.column
        if self.folder is not None:
            out["folder"] = self.folder
        return out

    @property
    def folder_target(self) -> str | None:
        """The name an output binds to for the class of each image's folder ("file:folder")."""
        return f"{self.column}:folder" if self.column else None

    @classmethod
    def from_dict(cls, data: Any, source: str) -> ImageOptions:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise DataError(f"{_where(source, 'image')} must be an object like "
                            '{"size": [64, 64], "color": "rgb"}')
        size = data.get("size")
        if size is not None:
            if (not isinstance(size, (list, tuple)) or len(size) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in size)):
                raise DataError(f"{_where(source, 'image.size')} must be [height, width] in pixels "
                                f"(1 to 4096), got {size!r}")
            size = (int(size[0]), int(size[1]))
        color = data.get("color")
        if color is not None and color not in COLOR_MODES:
            raise DataError(f"{_where(source, 'image.color')} must be 'rgb' or 'grayscale', got {color!r}")
        names = {}
        for key in ("column", "folder"):
            value = data.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise DataError(f"{_where(source, 'image.' + key)} must be "
                                f"{'the name of the column naming each image file' if key == 'column' else 'a folder path'}"
                                f", got {value!r}")
            names[key] = value
        return cls(size=size, color=color, column=names["column"], folder=names["folder"])


def _positive_int(data: dict, key: str, default: int, source: str, section: str, minimum: int = 1,
                  maximum: int = 10_000_000) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise DataError(f"{_where(source, section + '.' + key)} must be a whole number from {minimum} "
                        f"to {maximum}, got {value!r}")
    return value


@dataclass
class TextOptions:
    max_tokens: int = DEFAULT_MAX_TOKENS
    sequence_length: int = DEFAULT_SEQUENCE_LENGTH
    # True: each sample is its text as one string (for a model that reads text itself, such as a
    # TensorFlow Hub text embedding); False: token ids from a vocabulary learnt on the training split.
    strings: bool = False

    def to_dict(self) -> dict:
        out: dict = {"max_tokens": self.max_tokens, "sequence_length": self.sequence_length}
        if self.strings:
            out["strings"] = True
        return out

    @classmethod
    def from_dict(cls, data: Any, source: str) -> TextOptions:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise DataError(f"{_where(source, 'text')} must be an object like "
                            '{"max_tokens": 10000, "sequence_length": 64}')
        return cls(
            max_tokens=_positive_int(data, "max_tokens", DEFAULT_MAX_TOKENS, source, "text", 3),
            sequence_length=_positive_int(data, "sequence_length", DEFAULT_SEQUENCE_LENGTH, source, "text",
                                          1, 100_000),
            strings=_strings_flag(data, source),
        )


def _strings_flag(data: dict, source: str) -> bool:
    value = data.get("strings", False)
    if not isinstance(value, bool):
        raise DataError(f"{_where(source, 'text')}: 'strings' must be true (each sample is its text as one "
                        f"string) or false (token ids), got {value!r}")
    return value


@dataclass
class WindowOptions:
    length: int = 32
    stride: int = 1
    horizon: int = 1

    def to_dict(self) -> dict:
        return {"length": self.length, "stride": self.stride, "horizon": self.horizon}

    @classmethod
    def from_dict(cls, data: Any, source: str) -> WindowOptions:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise DataError(f"{_where(source, 'window')} must be an object like "
                            '{"length": 32, "stride": 1, "horizon": 1}')
        return cls(
            length=_positive_int(data, "length", 32, source, "window", 1, 1_000_000),
            stride=_positive_int(data, "stride", 1, source, "window", 1, 1_000_000),
            horizon=_positive_int(data, "horizon", 1, source, "window", 1, 1_000_000),
        )


@dataclass
class InputBinding:
    """The data of one Input node: columns of a table or arrays of an .npz."""

    node: str
    features: list[str]

    def to_dict(self) -> dict:
        return {"node": self.node, "features": list(self.features)}


@dataclass
class OutputBinding:
    """The target of one output node, with its task, loss and loss weight."""

    node: str
    targets: list[str]
    task: str | None = None  # None: guessed from the target's values
    loss: str = "auto"
    weight: float | None = None

    def to_dict(self) -> dict:
        out: dict = {"node": self.node, "targets": list(self.targets)}
        if self.task is not None:
            out["task"] = self.task
        if self.loss != "auto":
            out["loss"] = self.loss
        if self.weight is not None:
            out["weight"] = self.weight
        return out


_LOSS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


def _bindings(data: dict, key: str, source: str) -> list | None:
    value = data.get(key)
    if value is None:
        return None
    what = "features" if key == "inputs" else "targets"
    example = ('[{"node": "<Input node id>", "features": ["a", "b"]}]' if key == "inputs"
               else '[{"node": "<output node id>", "targets": ["label"]}]')
    if not isinstance(value, list):
        raise DataError(f"{_where(source, key)} must be a list like {example}")
    out: list = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("node"), str) or not item["node"]:
            raise DataError(f"{_where(source, where)} must be an object naming its node, like {example}")
        node = item["node"]
        if node in seen:
            raise DataError(f"{_where(source, where)}: node {node!r} is bound twice; keep one binding per node")
        seen.add(node)
        names = _names(item, what, source + f": dataset.{where}")
        if not names:
            raise DataError(f"{_where(source, where + '.' + what)} is missing; list the "
                            f"{'columns or arrays that feed' if key == 'inputs' else 'column or array the'} node "
                            f"{node!r}{'' if key == 'inputs' else ' predicts'}")
        if key == "inputs":
            out.append(InputBinding(node, names))
            continue
        task = item.get("task")
        if task is not None and task not in ("classification", "regression"):
            raise DataError(f"{_where(source, where + '.task')} must be 'classification' or 'regression'; "
                            f"got {task!r}")
        loss = item.get("loss", "auto")
        if not isinstance(loss, str) or not _LOSS_NAME.match(loss):
            raise DataError(f"{_where(source, where + '.loss')} must be 'auto' or a Keras loss name such as "
                            f"'mean_squared_error'; got {loss!r}")
        weight = item.get("weight")
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))
                                   or not math.isfinite(weight) or weight < 0):
            raise DataError(f"{_where(source, where + '.weight')} must be a number >= 0; got {weight!r}")
        out.append(OutputBinding(node, names, task, loss, None if weight is None else float(weight)))
    return out


def _names(data: dict, key: str, source: str) -> list[str] | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise DataError(f"{_where(source, key)} must be a list of column or array names, got {value!r}")
    return list(value)


@dataclass
class DatasetSpec:
    """The checked form of `project.dataset`. See the module docstring."""

    kind: str
    path: str
    targets_path: str | None = None
    features: list[str] | None = None  # None: every column/array that is not a target
    targets: list[str] | None = None  # None: inferred (a column named label/class/target, else the last)
    task: str | None = None  # None: inferred from the targets
    split: Split = field(default_factory=Split)
    delimiter: str | None = None
    header: bool | None = None
    decimal: str | None = None  # the numbers' decimal mark, "." or ","; None: sniffed
    skip_rows: int = 0  # lines skipped at the top of a text file, before the header
    encoding: str = "utf-8"
    missing: str = "error"
    categorical: str = "onehot"
    image: ImageOptions = field(default_factory=ImageOptions)
    text: TextOptions = field(default_factory=TextOptions)
    window: WindowOptions = field(default_factory=WindowOptions)
    preprocessing: dict = field(default_factory=dict)
    inputs: list[InputBinding] | None = None  # several Inputs: the data of each, by node id
    outputs: list[OutputBinding] | None = None  # several outputs: the target of each, by node id
    extra: dict = field(default_factory=dict)  # keys this version does not know, kept

    @property
    def bound(self) -> bool:
        """True when data is bound per Input/output node (``inputs``/``outputs``)."""
        return bool(self.inputs or self.outputs)

    @classmethod
    def from_dict(cls, data: Any, source: str = "project") -> DatasetSpec:
        """Check a plain dict; raise DataError naming the bad key and the fix."""
        if isinstance(data, DatasetSpec):
            return data.copy()
        if not isinstance(data, dict):
            raise DataError(f"{source}: dataset must be an object with at least \"kind\" and \"path\", "
                            f"got {type(data).__name__}")
        kind = data.get("kind")
        if kind not in KINDS:
            options = ", ".join(k for k in KINDS if k != "keras")
            raise DataError(f"{_where(source, 'kind')} must be one of {options}; got {kind!r}")
        path = data.get("path")
        if not isinstance(path, str) or not path.strip():
            what = "the sample's name" if kind == "sample" else "the data file or folder, relative to the project"
            raise DataError(f"{_where(source, 'path')} is missing; set it to {what}")
        targets_path = data.get("targets_path")
        if targets_path is not None and not isinstance(targets_path, str):
            raise DataError(f"{_where(source, 'targets_path')} must be a file path")
        task = data.get("task")
        if task is not None and task not in TASKS:
            raise DataError(f"{_where(source, 'task')} must be one of {', '.join(TASKS)}; got {task!r}")
        delimiter = data.get("delimiter")
        if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1
                                      or delimiter in "\"\r\n"):
            raise DataError(f"{_where(source, 'delimiter')} must be one character such as ',' ';' or a tab, "
                            f"got {delimiter!r}")
        header = data.get("header")
        if header is not None and not isinstance(header, bool):
            raise DataError(f"{_where(source, 'header')} must be true, false or absent (sniffed)")
        decimal = data.get("decimal")
        if decimal is not None and decimal not in DECIMALS:
            raise DataError(f"{_where(source, 'decimal')} must be '.' (5.1) or ',' (5,1), or absent (sniffed); "
                            f"got {decimal!r}")
        skip_rows = data.get("skip_rows", 0)
        if isinstance(skip_rows, bool) or not isinstance(skip_rows, int) or not 0 <= skip_rows <= MAX_SKIP_ROWS:
            raise DataError(f"{_where(source, 'skip_rows')} must be a whole number of lines from 0 to "
                            f"{MAX_SKIP_ROWS:,}, got {skip_rows!r}")
        encoding = data.get("encoding", "utf-8")
        if not isinstance(encoding, str) or not encoding:
            raise DataError(f"{_where(source, 'encoding')} must be a text encoding name such as 'utf-8'")
        try:
            "".encode(encoding)
        except LookupError:
            raise DataError(f"{_where(source, 'encoding')}: unknown text encoding {encoding!r}; "
                            "try 'utf-8' or 'latin-1'") from None
        missing = data.get("missing", "error")
        if missing not in MISSING:
            raise DataError(f"{_where(source, 'missing')} must be 'error', 'drop' or 'fill'; got {missing!r}")
        categorical = data.get("categorical", "onehot")
        if categorical not in CATEGORICAL:
            raise DataError(f"{_where(source, 'categorical')} must be 'onehot' or 'index'; got {categorical!r}")
        preprocessing = data.get("preprocessing") or {}
        if not isinstance(preprocessing, dict):
            raise DataError(f"{_where(source, 'preprocessing')} must be an object (it is written by Network "
                            "Studio; delete it to refit)")
        features = _names(data, "features", source)
        targets = _names(data, "targets", source)
        if features and targets and kind not in ("timeseries",):
            both = sorted(set(features) & set(targets))
            if both:
                raise DataError(f"{_where(source, 'features')}: {both[0]!r} is also a target; a column cannot "
                                "be both an input and the answer")
        inputs = _bindings(data, "inputs", source)
        outputs = _bindings(data, "outputs", source)
        if (inputs or outputs) and kind not in BOUND_KINDS:
            raise DataError(f"{_where(source, 'inputs')}: data bound per node works for "
                            f"{', '.join(BOUND_KINDS)} files, not {kind}; use one of those or remove "
                            "'inputs'/'outputs'")
        return cls(
            kind=kind,
            path=path,
            targets_path=targets_path,
            features=features,
            targets=targets,
            task=task,
            split=Split.from_dict(data.get("split"), source),
            delimiter=delimiter,
            header=header,
            decimal=decimal,
            skip_rows=skip_rows,
            encoding=encoding,
            missing=missing,
            categorical=categorical,
            image=ImageOptions.from_dict(data.get("image"), source),
            text=TextOptions.from_dict(data.get("text"), source),
            window=WindowOptions.from_dict(data.get("window"), source),
            preprocessing=copy.deepcopy(preprocessing),
            inputs=inputs,
            outputs=outputs,
            extra={k: copy.deepcopy(v) for k, v in data.items() if k not in KNOWN_KEYS},
        )

    def to_dict(self) -> dict:
        """The plain dict for the project file: options at their defaults are left out."""
        out: dict[str, Any] = {"kind": self.kind, "path": self.path}
        if self.targets_path:
            out["targets_path"] = self.targets_path
        if self.features is not None:
            out["features"] = list(self.features)
        if self.targets is not None:
            out["targets"] = list(self.targets)
        if self.task is not None:
            out["task"] = self.task
        out["split"] = self.split.to_dict()
        if self.delimiter is not None:
            out["delimiter"] = self.delimiter
        if self.header is not None:
            out["header"] = self.header
        if self.decimal is not None:
            out["decimal"] = self.decimal
        if self.skip_rows:
            out["skip_rows"] = self.skip_rows
        if self.encoding != "utf-8":
            out["encoding"] = self.encoding
        if self.missing != "error":
            out["missing"] = self.missing
        if self.categorical != "onehot":
            out["categorical"] = self.categorical
        image = self.image.to_dict()
        if image:
            out["image"] = image
        if self.text != TextOptions():
            out["text"] = self.text.to_dict()
        if self.window != WindowOptions() or self.kind == "timeseries":
            out["window"] = self.window.to_dict()
        if self.preprocessing:
            out["preprocessing"] = copy.deepcopy(self.preprocessing)
        if self.inputs is not None:
            out["inputs"] = [b.to_dict() for b in self.inputs]
        if self.outputs is not None:
            out["outputs"] = [b.to_dict() for b in self.outputs]
        for key, value in self.extra.items():
            out.setdefault(key, copy.deepcopy(value))
        return out

    def copy(self) -> DatasetSpec:
        return DatasetSpec.from_dict(self.to_dict())

    def with_changes(self, **changes: Any) -> DatasetSpec:
        """A copy with some keys of the dict form replaced (None removes a key)."""
        data = self.to_dict()
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return DatasetSpec.from_dict(data)


def used_twice(spec: DatasetSpec) -> list[tuple[str, str, str]]:
    """(column, first node, second node) for each column or array bound to two nodes."""
    owner: dict[str, str] = {}
    out = []
    for binding in list(spec.inputs or []) + list(spec.outputs or []):
        names = binding.features if hasattr(binding, "features") else binding.targets
        for name in names:
            if name in owner and owner[name] != binding.node:
                out.append((name, owner[name], binding.node))
            else:
                owner.setdefault(name, binding.node)
    return out


def in_model_order(spec: dict, inputs: list[str], outputs: list[str]) -> dict:
    """A copy of the spec dict with its ``inputs``/``outputs`` bindings in the model's order
    (node ids; bindings of other nodes are dropped). A spec without bindings comes back as it is."""
    if not isinstance(spec, dict) or not (spec.get("inputs") or spec.get("outputs")):
        return spec
    out = copy.deepcopy(spec)
    for key, order in (("inputs", inputs), ("outputs", outputs)):
        by_node = {b.get("node"): b for b in spec.get(key) or [] if isinstance(b, dict)}
        out[key] = [copy.deepcopy(by_node[n]) for n in dict.fromkeys(order) if n in by_node]
    return out


def output_tasks(spec: dict) -> list[dict] | None:
    """Per bound output, in order: {"task", "num_classes", "loss", "weight"} for compiling it
    (None when the spec binds no outputs). The classes are the resolved spec's."""
    if not isinstance(spec, dict) or not spec.get("outputs"):
        return None
    pre = (spec.get("preprocessing") or {}).get("outputs") or {}
    out = []
    for b in spec["outputs"]:
        names = (pre.get(b.get("node")) or {}).get("class_names")
        task = b.get("task") or ("classification" if names else "regression")
        out.append({"task": task, "num_classes": len(names) if names else None,
                    "loss": b.get("loss", "auto"), "weight": b.get("weight")})
    return out


def spec_for_path(path: str, kind: str | None = None) -> dict:
    """The minimal spec dict for a file or folder, with the kind guessed from its name."""
    lower = path.lower().rstrip("/\\")
    if kind is None:
        if lower.endswith(".tsv") or lower.endswith(".tab"):
            kind = "tsv"
        elif lower.endswith(".npz"):
            kind = "npz"
        elif lower.endswith(".npy"):
            kind = "npy"
        else:
            kind = "csv"
    return {"kind": kind, "path": path}
