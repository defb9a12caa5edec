"""Turning what the caller hands a session into `model.fit` arguments.

Accepted data: `(x, y)` or `(x, y, sample_weight)` with numpy arrays (x may
be a dict or list of arrays for several inputs), or a batched
`tf.data.Dataset` (as `studio.data` builds them). Arrays without a
validation set are split with a seeded shuffle (`validation_split`), never by
taking the last rows as Keras does, which would hold out one class of sorted
data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from studio.core.errors import TrainingError
from studio.training.config import TrainingConfig
from studio.training.reports import TaskInfo


@dataclass
class DataInfo:
    x: Any
    y: Any
    fit_batch_size: Optional[int]  # None for datasets (already batched)
    validation: Any
    shuffle: bool
    steps_per_epoch: Optional[int]
    batch_size: Optional[int]
    train_samples: Optional[int]
    val_samples: Optional[int]
    warning: str = ""


def is_dataset(data: Any) -> bool:
    return hasattr(data, "element_spec") and hasattr(data, "cardinality")


def num_samples(x: Any) -> int:
    """Rows of an array, or of the first array of a dict/list of inputs."""
    if isinstance(x, dict):
        x = next(iter(x.values()))
    elif isinstance(x, (list, tuple)):
        x = x[0]
    return int(len(x))


def take_rows(x: Any, index: Any) -> Any:
    if isinstance(x, dict):
        return {k: take_rows(v, index) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(take_rows(v, index) for v in x)
    return x[index]


def split_arrays(arrays: tuple, fraction: float, seed: Optional[int]) -> tuple[tuple, tuple]:
    """Shuffle rows with `seed` and hold out `fraction` of them."""
    import numpy as np

    n = num_samples(arrays[0])
    n_val = int(round(n * fraction))
    if n_val < 1 or n - n_val < 1:
        return arrays, ()
    order = np.random.default_rng(seed if seed is not None else 0).permutation(n)
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    train = tuple(take_rows(a, train_idx) if a is not None else None for a in arrays)
    val = tuple(take_rows(a, val_idx) if a is not None else None for a in arrays)
    return train, val


def dataset_steps(ds: Any) -> Optional[int]:
    try:
        n = int(ds.cardinality())
    except (TypeError, ValueError):
        return None
    return n if n >= 0 else None


def describe(train: Any, val: Any, config: TrainingConfig, task: TaskInfo) -> DataInfo:
    """The fit arguments for `train`/`val` under `config`."""
    del task  # reserved: class weights per task
    batch = config.batch_size
    if is_dataset(train):
        steps = dataset_steps(train)
        warning = ""
        if val is None and config.validation_split > 0:
            warning = "the dataset has no validation split; validation metrics are not shown"
        val_steps = dataset_steps(val) if val is not None and is_dataset(val) else None
        return DataInfo(
            x=train,
            y=None,
            fit_batch_size=None,
            validation=val,
            shuffle=False,
            steps_per_epoch=steps,
            batch_size=batch,
            train_samples=steps * batch if steps is not None else None,
            val_samples=val_steps * batch if val_steps is not None else None,
            warning=warning,
        )
    if not isinstance(train, (tuple, list)) or len(train) not in (2, 3):
        raise TrainingError(
            f"training data must be (inputs, targets) arrays or a tf.data.Dataset, got {type(train).__name__}"
        )
    arrays = tuple(train) + ((None,) if len(train) == 2 else ())
    n = num_samples(arrays[0])
    if n == 0:
        raise TrainingError("the training data has no rows; check the dataset settings")
    if num_samples(arrays[1]) != n:
        raise TrainingError(
            f"inputs have {n} rows but targets have {num_samples(arrays[1])}; they must match"
        )
    warning = ""
    validation: Any = None
    val_samples: Optional[int] = None
    if val is not None:
        validation = tuple(val) if not is_dataset(val) else val
        val_samples = num_samples(val[0]) if not is_dataset(val) else None
    elif config.validation_split > 0:
        split_train, split_val = split_arrays(arrays, config.validation_split, config.seed)
        if split_val:
            arrays = split_train
            validation = tuple(a for a in split_val if a is not None)
            val_samples = num_samples(split_val[0])
        else:
            warning = f"only {n} rows: too few to hold out a validation split"
    n_train = num_samples(arrays[0])
    x, y, sw = arrays
    if sw is not None:
        raise TrainingError("sample weights are not supported yet; pass (inputs, targets)")
    return DataInfo(
        x=x,
        y=y,
        fit_batch_size=batch,
        validation=validation,
        shuffle=True,
        steps_per_epoch=math.ceil(n_train / batch),
        batch_size=batch,
        train_samples=n_train,
        val_samples=val_samples,
        warning=warning,
    )


# --- non-finite inputs: the cause of a NaN loss that a lower learning rate does not fix ----------
def non_finite_inputs(data: Any, dataset: Optional[dict] = None, max_batches: int = 100) -> str:
    """Where the training data holds NaN or infinite values, as words for the NaN advice
    ("the inputs (column 'a' of data.csv) hold infinite or NaN values"); '' if none are found.

    `data` is what the session trains on: (x, y) arrays or a batched dataset (only its first
    `max_batches` batches are read: this runs once, after the loss became NaN). `dataset` is the
    resolved dataset spec of the run (path, features, targets, preprocessing.columns), used to
    name the file and the column."""
    import numpy as np

    if is_dataset(data):
        batches = ((b[0], b[1]) for b in data.take(max_batches))
    elif isinstance(data, (tuple, list)) and len(data) >= 2:
        batches = iter([(data[0], data[1])])
    else:
        return ""
    try:
        for x, y in batches:
            for part, value in (("inputs", x), ("targets", y)):
                for array in _leaves(value):
                    a = np.asarray(array)
                    if a.dtype.kind != "f" or a.size == 0 or np.isfinite(a).all():
                        continue
                    bad = ~np.isfinite(a.reshape(len(a), -1) if a.ndim > 1 else a.reshape(-1, 1))
                    return _name_non_finite(part, int(np.flatnonzero(bad.any(axis=0))[0]), a.ndim, dataset)
    except Exception:  # noqa: BLE001 - a dataset that fails here: no diagnosis, the usual advice
        return ""
    return ""


def _leaves(value: Any) -> list:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _name_non_finite(part: str, index: int, ndim: int, dataset: Optional[dict]) -> str:
    """"the inputs (column 'a' of data.csv) hold infinite or NaN values"."""
    spec = dataset or {}
    path = spec.get("path")
    file = Path(path).name if isinstance(path, str) and path else ""
    names: list[str] = []
    if part == "inputs" and ndim == 2:  # a table: one value per column (one-hot columns are wider)
        for column in (spec.get("preprocessing") or {}).get("columns") or []:
            if isinstance(column, dict):
                width = column.get("width", 1)
                names += [str(column.get("name", "?"))] * (width if isinstance(width, int) and width > 0 else 1)
        names = names or [str(n) for n in spec.get("features") or []]
    elif part == "targets":
        names = [str(n) for n in spec.get("targets") or []]
        names = names if len(names) > index else names[:1]
        index = min(index, len(names) - 1)
    name = names[index] if 0 <= index < len(names) else ""
    if name:
        shown = repr(name if len(name) <= 40 else name[:39] + "\u2026")
        return f"the {part} (column {shown}{' of ' + file if file else ''}) hold infinite or NaN values"
    return f"the {part}{' (' + file + ')' if file else ''} hold infinite or NaN values"
