"""Dataset sources, preprocessing, tf.data pipelines and bundled samples.

Importing this package (and `studio.data.codegen`, `.spec`, `.info`,
`.registry`, `.binding`) needs neither numpy nor TensorFlow; the functions
below import what they need when called.

Public API:

* ``describe(spec_or_path, base_dir=None) -> DatasetInfo`` (no TensorFlow)
* ``prepare(spec, base_dir=None, batch_size=32, seed=None) -> PreparedData``
* ``open_source(spec_or_path, base_dir=None)`` -> the Source (describe/prepare)
* ``DatasetSpec`` (from_dict/to_dict), ``DatasetInfo``
* ``wrap_bound(model, spec, input_order)``: a model with several Inputs taking each raw, as the
  app trains it on data bound per node (the exporter's reference for the script's model)
"""

from __future__ import annotations

import os
from typing import Any

from studio.data.info import ColumnInfo, DatasetInfo, Problem
from studio.data.spec import DatasetSpec, Split

__all__ = ["ColumnInfo", "DatasetInfo", "DatasetSpec", "Problem", "Split", "describe", "open_source", "prepare",
           "wrap_bound"]


def describe(spec_or_path: Any, base_dir: str | os.PathLike | None = None) -> DatasetInfo:
    """What is in a dataset: kind, counts, shapes, task, classes, columns, problems.

    `spec_or_path` is a spec dict, a `DatasetSpec`, a file/folder path, or a
    sample name. Relative paths are taken against `base_dir` (the project
    folder). Raises `DataError` when the data cannot be read at all; softer
    problems are listed in `DatasetInfo.problems`.
    """
    from studio.data.api import describe as _describe

    return _describe(spec_or_path, base_dir)


def prepare(spec: Any, base_dir: str | os.PathLike | None = None, batch_size: int = 32,
            seed: int | None = None, input_order: list[str] | None = None,
            output_order: list[str] | None = None):
    """Batched tf.data train/validation/test datasets and the fitted preprocessing.

    Raises `DataError` for any error problem describe() finds. The split
    always follows the spec's ``split.seed`` (so every run of a project is
    evaluated on the same test set); `seed` (default: that same seed) drives
    the shuffling of the training split. Data bound per node (``inputs``/``outputs``)
    comes as tuples in `input_order` / `output_order` (node ids: the model's order).
    """
    from studio.data.api import prepare as _prepare

    return _prepare(spec, base_dir, batch_size, seed, input_order, output_order)


def open_source(spec_or_path: Any, base_dir: str | os.PathLike | None = None):
    from studio.data.api import open_source as _open_source

    return _open_source(spec_or_path, base_dir)


def wrap_bound(model: Any, spec: dict | None, input_order: list[str]) -> Any:
    """`model` with each Input's Normalization in front (the statistics of a prepared spec's
    ``preprocessing.inputs``, for the Input nodes `input_order`), as the app wraps a model trained
    on data bound per node; None when the spec holds no such statistics."""
    from studio.data.multi import input_norms, wrap_raw_inputs

    norms = input_norms(spec or {}, input_order)
    return wrap_raw_inputs(model, norms) if any(norms) else None
