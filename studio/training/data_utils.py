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


def _dataset_steps(ds: Any) -> Optional[int]:
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
        steps = _dataset_steps(train)
        warning = ""
        if val is None and config.validation_split > 0:
            warning = "the dataset has no validation split; validation metrics are not shown"
        val_steps = _dataset_steps(val) if val is not None and is_dataset(val) else None
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
