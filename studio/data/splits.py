"""Train/validation/test assignment with a seed, stratified by class.

`assign` returns one int8 per sample (0 train, 1 validation, 2 test, -1 left
out), one byte per row whatever the row width. Per group (a class when
stratified, else all samples) the counts follow `info.group_split`, so
`describe()` can report the split sizes without this module.
"""

from __future__ import annotations

import numpy as np

from studio.data.info import group_split

TRAIN, VALIDATION, TEST, LEFT_OUT = 0, 1, 2, -1


def assign(n: int, validation: float, test: float, seed: int, labels: np.ndarray | None = None,
           keep: np.ndarray | None = None) -> np.ndarray:
    """Split assignment for n samples.

    `labels` (int, one per sample, -1 for none) stratifies the split; `keep`
    (bool) marks samples that take part at all (others get -1).
    """
    out = np.full(n, LEFT_OUT, dtype=np.int8)
    usable = np.ones(n, dtype=bool) if keep is None else keep.astype(bool).copy()
    if labels is not None:
        usable &= labels >= 0
    rng = np.random.default_rng(seed)
    if labels is None:
        groups = [np.flatnonzero(usable)]
    else:
        groups = [np.flatnonzero(usable & (labels == c)) for c in np.unique(labels[usable])]
    for idx in groups:
        n_train, n_val, n_test = group_split(len(idx), validation, test)
        perm = rng.permutation(idx)
        out[perm[:n_train]] = TRAIN
        out[perm[n_train:n_train + n_val]] = VALIDATION
        out[perm[n_train + n_val:]] = TEST
    return out


def chronological(n: int, validation: float, test: float) -> np.ndarray:
    """Assignment in time order: the first part trains, then validation, then test."""
    n_train, n_val, n_test = group_split(n, validation, test)
    out = np.empty(n, dtype=np.int8)
    out[:n_train] = TRAIN
    out[n_train:n_train + n_val] = VALIDATION
    out[n_train + n_val:] = TEST
    return out


def counts(assignment: np.ndarray) -> dict[str, int]:
    return {
        "train": int(np.count_nonzero(assignment == TRAIN)),
        "validation": int(np.count_nonzero(assignment == VALIDATION)),
        "test": int(np.count_nonzero(assignment == TEST)),
    }
