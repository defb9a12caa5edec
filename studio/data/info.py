"""What `describe()` finds in a dataset (pure: no numpy, no TensorFlow).

`DatasetInfo` is what the data panel shows, what `studio data` prints and
what `studio.data.binding` checks the model against. Shapes are per sample,
without the batch dimension: 4 features is ``(4,)``, a 28x28 grey image is
``(28, 28, 1)``, a class index target is ``()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from studio.core.tasks import auto_loss, auto_metrics, output_activation, output_units_for

ERROR, WARNING, INFO = "error", "warning", "info"

# Column types.
NUMERIC, CATEGORICAL, TEXT, EMPTY = "numeric", "categorical", "text", "empty"


@dataclass(frozen=True)
class Problem:
    """Something the user should know about the data; errors stop training."""

    severity: str  # "error" | "warning" | "info"
    message: str

    def to_dict(self) -> dict:
        return {"severity": self.severity, "message": self.message}

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


@dataclass
class ColumnInfo:
    """One column of a table (or one array of an .npz)."""

    name: str
    type: str  # numeric | categorical | text | empty
    missing: int = 0
    distinct: Optional[int] = None  # None: more than the cap that was counted
    integer: bool = False  # every value is a whole number
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    mean: Optional[float] = None
    categories: list[str] = field(default_factory=list)  # for categorical columns, sorted
    examples: list[str] = field(default_factory=list)
    role: str = ""  # "feature" | "target" | "feature+target" (a series' own past) | "" (ignored) | "time"
    shape: tuple = ()  # for arrays: the per-sample shape
    dtype: str = ""  # for arrays: the numpy dtype name
    non_finite: int = 0  # numbers that are infinite (inf, 1e309) or too large for float32 (1e39)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "missing": self.missing,
                               "distinct": self.distinct, "role": self.role}
        if self.integer:
            out["integer"] = True
        for key in ("minimum", "maximum", "mean"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.categories:
            out["categories"] = list(self.categories)
        if self.examples:
            out["examples"] = list(self.examples)
        if self.shape:
            out["shape"] = list(self.shape)
        if self.dtype:
            out["dtype"] = self.dtype
        if self.non_finite:
            out["non_finite"] = self.non_finite
        return out


@dataclass
class DatasetInfo:
    """A description of a dataset, computed without TensorFlow."""

    kind: str
    path: str
    num_samples: int = 0
    feature_shape: tuple = ()
    feature_dtype: str = "float32"  # float32 | int32 | string
    target_shape: tuple = ()
    task: str = "classification"
    num_classes: Optional[int] = None
    class_names: list[str] = field(default_factory=list)
    class_counts: list[int] = field(default_factory=list)
    features: list[str] = field(default_factory=list)  # the input columns/arrays used
    targets: list[str] = field(default_factory=list)
    columns: list[ColumnInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    split_sizes: dict[str, int] = field(default_factory=dict)  # train/validation/test
    # Images: (height, width, channels) after resizing; files skipped as unreadable.
    image_size: Optional[tuple] = None
    skipped: int = 0
    # Previews for the data panel: table rows, (path, label) pairs, texts, series.
    preview_rows: list[list[str]] = field(default_factory=list)
    preview_items: list[tuple[str, str]] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)
    vocabulary_size: Optional[int] = None  # estimated distinct words (text)
    spec: dict = field(default_factory=dict)  # the resolved spec (defaults filled in)
    title: str = ""  # a human name ("Iris flowers"), for samples
    # Time series: how a window's targets are laid out, for evaluating forecasts (see `forecast_layout`).
    forecast: dict = field(default_factory=dict)
    # Data bound per node (`studio.data.multi`): what each Input/output node gets, as dicts
    # {"node", "role", "names", "shape", and for outputs "task", "num_classes", "class_names", "loss", "weight"}.
    bound: list = field(default_factory=list)

    # -- summaries ----------------------------------------------------------
    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    def column(self, name: str) -> Optional[ColumnInfo]:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    @property
    def target_size(self) -> int:
        """Number of values the model must output for one sample."""
        if self.task == "classification":
            n = self.num_classes or 0
            return 1 if n == 2 else n
        size = 1
        for d in self.target_shape:
            size *= int(d)
        return size

    @property
    def suggested_loss(self) -> str:
        # class indices into the suggested last layer: what "auto" then trains with
        return auto_loss(self.task, "index", output_units_for(self.task, self.num_classes))

    @property
    def suggested_activation(self) -> str:
        return output_activation(self.task, self.num_classes)

    @property
    def suggested_metrics(self) -> list[str]:
        return auto_metrics(self.task)

    def forecast_layout(self) -> dict | None:
        """For a time series: {"targets": names, "horizon": steps ahead, "stride", "length",
        "inputs": the position of each target among the input columns (None: not an input),
        "first_row": the row (0-based) the first test window's first forecast is for}. A
        window's target vector is the `horizon` next rows of the targets, row after row. The
        evaluation compares the model with the naive forecast (each target's last input value)."""
        return dict(self.forecast) if self.forecast else None

    def to_dict(self) -> dict:
        out = self._to_dict()
        if self.forecast:
            out["forecast"] = dict(self.forecast)
        return out

    def _to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "path": self.path,
            "title": self.title,
            "num_samples": self.num_samples,
            "feature_shape": list(self.feature_shape),
            "feature_dtype": self.feature_dtype,
            "target_shape": list(self.target_shape),
            "task": self.task,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "class_counts": list(self.class_counts),
            "features": list(self.features),
            "targets": list(self.targets),
            "columns": [c.to_dict() for c in self.columns],
            "problems": [p.to_dict() for p in self.problems],
            "split_sizes": dict(self.split_sizes),
            "image_size": list(self.image_size) if self.image_size else None,
            "skipped": self.skipped,
            "vocabulary_size": self.vocabulary_size,
            "suggested": {"loss": self.suggested_loss, "activation": self.suggested_activation,
                          "metrics": self.suggested_metrics},
            "spec": self.spec,
        }


def group_split(n: int, validation: float, test: float) -> tuple[int, int, int]:
    """(train, validation, test) counts for a group of n samples.

    The splitter in `studio.data.splits` uses exactly this rounding per class
    (stratified) or for the whole set, so describe() can report split sizes
    without reading the data twice. A group keeps at least one training sample.
    """
    n_test = int(math.floor(n * test + 0.5))
    n_val = int(math.floor(n * validation + 0.5))
    while n > 0 and n - n_test - n_val < 1:
        if n_val > 0:
            n_val -= 1
        else:
            n_test -= 1
    return n - n_test - n_val, n_val, n_test


def split_sizes(group_counts: list[int], validation: float, test: float) -> dict[str, int]:
    """Split sizes over groups (class counts when stratified, else one group of all samples)."""
    total = [0, 0, 0]
    for n in group_counts:
        for i, part in enumerate(group_split(n, validation, test)):
            total[i] += part
    return {"train": total[0], "validation": total[1], "test": total[2]}


def format_shape(shape: tuple) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
