"""`MetricsHistory`: append-only per-batch and per-epoch metric arrays.

PURE (no numpy): values live in `array.array('d')`, which pyqtgraph and
`numpy.frombuffer` read without copying. One history is appended by one
thread only: the training session keeps its own (saved as `history.csv`),
and the GUI appends a second one from the queued reports it receives, then
plots read it on a timer. `version` grows with every append so a plot can
skip ticks with nothing new.

Batch x values are fractional epochs (`epoch + done/steps`), epoch x values
are whole epochs counted from 1 (the end of that epoch), so batch and epoch
curves share one axis. A metric missing from one append is NaN there.
"""

from __future__ import annotations

import csv
import math
from array import array
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

NAN = float("nan")
# The epoch column of two-phase fine-tuning: 1 while the head trains on a frozen base, 2 once the
# base's top is unfrozen (see training/phases.py); not a metric.
PHASE = "phase"


def _nan_array(n: int) -> array:
    return array("d", [NAN]) * n


class MetricsHistory:
    """Per-batch and per-epoch metrics of one run (continued runs included)."""

    def __init__(self) -> None:
        self.batch_x: array = array("d")
        self.batch: dict[str, array] = {}
        self.epoch_x: array = array("d")
        self.epoch: dict[str, array] = {}
        self.version = 0

    # --- appending ---------------------------------------------------------------
    def add_batches(self, xs: Sequence[float], values: Mapping[str, Sequence[float]]) -> None:
        """Append several batch points at once; every value list is as long as `xs`."""
        n = len(xs)
        if n == 0:
            return
        old = len(self.batch_x)
        self.batch_x.extend(float(x) for x in xs)
        for name, column in values.items():
            if len(column) != n:
                raise ValueError(f"batch metric {name!r} has {len(column)} values for {n} steps")
            if name not in self.batch:
                self.batch[name] = _nan_array(old)
            self.batch[name].extend(_float(v) for v in column)
        for column in self.batch.values():
            if len(column) < old + n:
                column.extend(_nan_array(old + n - len(column)))
        self.version += 1

    def add_epoch(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Append the logs of `epoch` (counted from 1)."""
        old = len(self.epoch_x)
        self.epoch_x.append(float(epoch))
        for name, value in logs.items():
            if name not in self.epoch:
                self.epoch[name] = _nan_array(old)
            self.epoch[name].append(_float(value))
        for column in self.epoch.values():
            if len(column) < old + 1:
                column.append(NAN)
        self.version += 1

    def extend(self, other: MetricsHistory) -> None:
        """Append all of `other` (e.g. the history of the run being continued)."""
        if len(other.batch_x):
            self.add_batches(other.batch_x, other.batch)
        for i, x in enumerate(other.epoch_x):
            self.add_epoch(int(x), {k: v[i] for k, v in other.epoch.items()})

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    # --- reading -------------------------------------------------------------------
    @property
    def epochs_done(self) -> int:
        return int(self.epoch_x[-1]) if len(self.epoch_x) else 0

    @property
    def batch_count(self) -> int:
        return len(self.batch_x)

    def metric_names(self) -> list[str]:
        """Base metric names (without `val_`), in first-seen order; `lr` excluded."""
        names: list[str] = []
        for key in list(self.epoch) + list(self.batch):
            base = key[4:] if key.startswith("val_") else key
            if base not in names and base not in ("lr", "learning_rate", PHASE):
                names.append(base)
        return names

    def last_epoch_logs(self) -> dict[str, float]:
        if not len(self.epoch_x):
            return {}
        return {k: v[-1] for k, v in self.epoch.items() if not math.isnan(v[-1])}

    def epoch_rows(self) -> list[dict[str, float]]:
        rows = []
        for i, x in enumerate(self.epoch_x):
            row: dict[str, float] = {"epoch": int(x)}
            row.update({k: v[i] for k, v in self.epoch.items()})
            rows.append(row)
        return rows

    def phase_boundaries(self) -> list[tuple[float, int]]:
        """(x, phase) where a new training phase starts: x is the end of the last epoch of the phase
        before (so a plot draws a vertical line between the two), from the epoch column `phase`."""
        column = self.epoch.get(PHASE)
        if column is None:
            return []
        found, last = [], None
        for i, value in enumerate(column):
            if math.isnan(value):
                continue
            if last is not None and value != last:
                found.append((self.epoch_x[i - 1] if i else self.epoch_x[i] - 1.0, int(value)))
            last = value
        return found

    def best_epoch(self, monitor: str, mode: str = "auto") -> Optional[tuple[int, float]]:
        """(epoch, value) of the best `monitor` value, or None when never logged."""
        column = self.epoch.get(monitor)
        if column is None:
            return None
        if mode == "auto":
            mode = "max" if any(w in monitor for w in ("acc", "auc", "precision", "recall", "r2")) else "min"
        best: Optional[tuple[int, float]] = None
        for x, v in zip(self.epoch_x, column):
            if math.isnan(v):
                continue
            if best is None or (v > best[1] if mode == "max" else v < best[1]):
                best = (int(x), v)
        return best

    # --- files -----------------------------------------------------------------------
    def to_csv(self, path: Path) -> None:
        """Write the per-epoch rows (epoch, then metrics in first-seen order)."""
        names = list(self.epoch)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["epoch", *names])
            for i, x in enumerate(self.epoch_x):
                writer.writerow([int(x), *(_fmt(self.epoch[n][i]) for n in names)])

    @classmethod
    def from_csv(cls, path: Path) -> MetricsHistory:
        """Read `history.csv` (epoch rows only; unreadable cells become NaN)."""
        history = cls()
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header or header[0] != "epoch":
                return history
            for row in reader:
                if not row:
                    continue
                try:
                    epoch = int(float(row[0]))
                except ValueError:
                    continue
                history.add_epoch(epoch, {name: _parse(cell) for name, cell in zip(header[1:], row[1:])})
        return history


def smooth(values: Iterable[float], weight: float = 0.6) -> list[float]:
    """Exponential moving average as TensorBoard draws it, debiased; NaNs are skipped."""
    out: list[float] = []
    last = 0.0
    count = 0
    for v in values:
        if math.isnan(v) or math.isinf(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        count += 1
        out.append(last / (1 - weight**count) if weight > 0 else v)
    return out


def interval_mean(prev_mean: float, prev_count: float, mean: float, count: float) -> float:
    """Mean over the samples between two running means that Keras logged.

    Keras logs the running mean of each metric since the start of the epoch;
    the value of the batches in between is recovered from the two means.
    """
    if count <= prev_count:
        return mean
    return (mean * count - prev_mean * prev_count) / (count - prev_count)


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return NAN


def _fmt(value: float) -> str:
    return "" if math.isnan(value) else repr(value)


def _parse(cell: str) -> float:
    try:
        return float(cell) if cell != "" else NAN
    except ValueError:
        return NAN
