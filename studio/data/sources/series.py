"""Time series: a CSV of one or more series, cut into windows (length, stride, horizon).

Each sample is ``length`` consecutive rows of the feature columns; its
target is the next ``horizon`` rows of the target columns, flattened to
``horizon * len(targets)`` values. The split is chronological (train first,
then validation, then test) and windows never cross a split boundary, so no
future value leaks into training.
"""

from __future__ import annotations

import numpy as np

from studio.core.errors import DataError
from studio.data import csvreader, pipeline, splits
from studio.data.files import excerpt, names_list
from studio.data.info import NUMERIC, DatasetInfo, group_split
from studio.data.sources.base import Source, decimal_note, thousands_hint
from studio.data.sources.tabular import nonfinite_problem

TIME_NAMES = ("time", "date", "datetime", "timestamp", "step", "t", "index", "ds", "day", "month", "year")
PREVIEW_POINTS = 2000


def window_count(n: int, length: int, stride: int, horizon: int) -> int:
    span = length + horizon
    return 0 if n < span else (n - span) // stride + 1


class SeriesSource(Source):
    kind = "timeseries"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.values: np.ndarray | None = None  # (rows, features)
        self.target_values: np.ndarray | None = None  # (rows, targets)
        self.segments: list[tuple[int, int]] = []

    def _describe(self) -> DatasetInfo:
        where = str(self.path)
        fmt = csvreader.sniff(self.path, self.spec.delimiter, self.spec.header, self.spec.encoding,
                              self.spec.decimal, self.spec.skip_rows)
        if fmt.first_line_note:
            raise DataError(fmt.first_line_note)  # its words would be "not a number" in a column of numbers
        decimal_note(self, fmt)
        scan = csvreader.scan(fmt)
        stats = {s.name: s for s in scan.stats}
        names = fmt.names
        numeric = [s.name for s in scan.stats if s.type == NUMERIC or s.mostly_numbers]  # the latter: an error
        time_like = {n for n in names if n.strip().lower() in TIME_NAMES}
        value_columns = [n for n in numeric if n not in time_like] or numeric
        features = list(self.spec.features) if self.spec.features else value_columns
        targets = list(self.spec.targets) if self.spec.targets else value_columns[-1:]
        for name in features + targets:
            if name not in names:
                raise DataError(f"{where}: there is no column named {excerpt(name)}; the columns are "
                                f"{names_list(names)}")
            if stats[name].type != NUMERIC:
                if stats[name].mostly_numbers:
                    line = stats[name].bad[0][0]
                    raise DataError(f"{where}:{line}: column {excerpt(name)} is not all numbers: it has "
                                    f"{stats[name].bad_cell_text()}; fix those cells or leave them empty "
                                    f"(missing){thousands_hint(stats[name].bad[0][1], fmt.decimal)}")
                raise DataError(f"{where}: column {excerpt(name)} holds {stats[name].type} values; a time series "
                                "needs numbers")
        if not targets:
            raise DataError(f"{where}: no numeric column to forecast; a time series needs numbers")
        for name in dict.fromkeys(features + targets):
            stat = stats[name]
            nonfinite_problem(self, stat)
            if stat.bad:
                line, value = stat.bad[0]
                self.error(f"{where}:{line}: column {excerpt(name)}: {excerpt(value)} is not a number"
                           f"{thousands_hint(value, fmt.decimal)}")
            if stat.missing and self.spec.missing != "fill":
                self.error(f"{where}:{stat.missing_lines[0]}: column {excerpt(name)} has {stat.missing} missing "
                           "values; set missing values to 'fill' (carry the last value forward)")

        columns = list(dict.fromkeys(features + targets))
        data = np.zeros((scan.rows, len(columns)), dtype=np.float32)
        start = 0
        for rows, _lines in csvreader.read_chunks(fmt):
            cols = list(zip(*rows))
            for j, name in enumerate(columns):
                try:
                    data[start:start + len(rows), j] = csvreader.to_float(list(cols[names.index(name)]), fmt.decimal)
                except ValueError:
                    data[start:start + len(rows), j] = np.nan  # reported above
            start += len(rows)
        if self.spec.missing == "fill":
            data = _carry_forward(data)
        self.values = data[:, [columns.index(f) for f in features]]
        self.target_values = data[:, [columns.index(t) for t in targets]]

        win = self.spec.window
        split = self.spec.split
        n_train, n_val, n_test = group_split(scan.rows, split.validation, split.test)
        self.segments = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, scan.rows)]
        counts = [window_count(b - a, win.length, win.stride, win.horizon) for a, b in self.segments]
        if counts[0] == 0:
            self.error(f"{where}: the training part has {n_train} rows, fewer than a window of {win.length} + "
                       f"horizon {win.horizon}; shorten the window or use more data")
        for name, n_rows, c in (("validation", n_val, counts[1]), ("test", n_test, counts[2])):
            if n_rows and c == 0:
                self.warn(f"{where}: the {name} part ({n_rows} rows) is shorter than one window plus horizon "
                          f"({win.length + win.horizon}); it gets no samples")
        info = DatasetInfo(kind="timeseries", path=where, num_samples=sum(counts), task="forecast",
                           feature_shape=(win.length, len(features)), target_shape=(win.horizon * len(targets),),
                           features=features, targets=targets, columns=[s.info() for s in scan.stats])
        if self.spec.task not in (None, "forecast", "regression"):
            self.error(f"{where}: a time series forecasts values; the task must be forecast")
        for col in info.columns:
            col.role = "feature+target" if col.name in targets and col.name in features else \
                "target" if col.name in targets else "feature" if col.name in features else \
                ("time" if col.name in time_like else "")
        info.split_sizes = {"train": counts[0], "validation": counts[1], "test": counts[2]}
        info.forecast = {"targets": list(targets), "horizon": win.horizon, "stride": win.stride, "length": win.length,
                         "inputs": [features.index(t) if t in features else None for t in targets],
                         "first_row": self.segments[2][0] + win.length}
        info.preview_rows = [list(r) for r in scan.preview[:20]]
        step = max(1, scan.rows // PREVIEW_POINTS)
        for j, name in enumerate(columns):
            info.series[name] = [float(v) for v in data[::step, j]]
        spec = self.spec.to_dict()
        spec.update({"task": "forecast", "features": features, "targets": targets, "window": win.to_dict()})
        spec.update({"delimiter": fmt.delimiter, "header": fmt.header})  # as found: the script reads the same
        if fmt.decimal != ".":
            spec["decimal"] = fmt.decimal
        info.spec = spec
        return info

    def prepare(self, batch_size: int, seed: int | None = None):
        import tensorflow as tf

        info = self.require_ok()
        seed = self.seed(seed)
        assert self.values is not None and self.target_values is not None
        win = self.spec.window
        a, b = self.segments[0]
        mean, var = pipeline.moments(self.values[a:b])
        series = tf.constant(self.values)
        target = tf.constant(self.target_values)
        length, horizon = win.length, win.horizon
        width = horizon * self.target_values.shape[1]

        def window(start):
            x = series[start:start + length]
            y = tf.reshape(target[start + length:start + length + horizon], (width,))
            return x, y

        out, counts = [], {}
        for part, (name, (lo, hi)) in enumerate(zip(("train", "validation", "test"), self.segments)):
            n = window_count(hi - lo, length, win.stride, horizon)
            counts[name] = n
            if n == 0 and part != splits.TRAIN:
                out.append(None)
                continue
            starts = np.arange(lo, lo + n * win.stride, win.stride, dtype=np.int64)
            ds = tf.data.Dataset.from_tensor_slices(starts).map(window, num_parallel_calls=tf.data.AUTOTUNE)
            out.append(pipeline.finish(ds, batch_size, part == splits.TRAIN, seed, cache=True))
        spec = dict(info.spec)
        spec["preprocessing"] = {"normalize": pipeline.normalize_entry(mean, var)}
        return pipeline.PreparedData(train=out[0], validation=out[1], test=out[2], info=info, spec=spec,
                                     batch_size=batch_size, counts=counts)


def _carry_forward(data: np.ndarray) -> np.ndarray:
    """Fill NaN with the last value above it (the first value below, at the start)."""
    out = data.copy()
    for j in range(out.shape[1]):
        col = out[:, j]
        bad = np.isnan(col)
        if not bad.any():
            continue
        if bad.all():
            col[:] = 0.0
            continue
        idx = np.where(~bad, np.arange(len(col)), 0)
        np.maximum.accumulate(idx, out=idx)
        col[:] = col[idx]
        first = np.flatnonzero(~np.isnan(col))[0]
        col[:first] = col[first]
    return out
