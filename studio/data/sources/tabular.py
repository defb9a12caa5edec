"""CSV/TSV tables: numeric, categorical (one-hot or index) and text columns.

describe() reads the file once in chunks (no TensorFlow). prepare() encodes
rows into a float32 feature vector per sample; a file whose encoded rows fit
in `IN_MEMORY_BYTES` is held in memory, a larger one is streamed from disk
every epoch with only the split assignment (one byte per row) and the
targets kept in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from studio.core.errors import DataError
from studio.data import csvreader, pipeline, splits
from studio.data.files import excerpt, names_list
from studio.data.info import CATEGORICAL, EMPTY, NUMERIC, TEXT, DatasetInfo, split_sizes
from studio.data.sources.base import Source, class_balance_problems, decimal_note, pick_target, thousands_hint

# Whole-number targets are read as classes when they hold at most this many distinct values...
MAX_INTEGER_CLASSES = 20
# ...and at most this many per row (2 rows per class on average; two values are always classes):
# linnerud's "Jumps" (17 values in 20 rows) is a quantity to predict, iris' 0/1/2 in 150 rows are classes.
MAX_CLASS_RATIO = 0.5
ID_NAMES = {"id", "index", "idx", "unnamed: 0", "row", "row_id"}
CHUNK_ROWS = csvreader.CHUNK_ROWS


@dataclass
class FeatureColumn:
    name: str
    index: int  # position in the file's columns
    type: str  # numeric | categorical
    offset: int  # position in the encoded vector
    width: int
    categories: list[str]
    mode: int = 0  # the most frequent category (fill value)


class CsvSource(Source):
    kind = "csv"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scan: csvreader.Scan | None = None
        self.layout: list[FeatureColumn] = []

    # -- describe ---------------------------------------------------------------
    def read_format(self) -> csvreader.CsvFormat:
        delimiter = self.spec.delimiter or ("\t" if self.spec.kind == "tsv" else None)
        return csvreader.sniff(self.path, delimiter, self.spec.header, self.spec.encoding, self.spec.decimal,
                               self.spec.skip_rows)

    def _describe(self) -> DatasetInfo:
        fmt = self.read_format()
        if len(fmt.names) < 2:
            raise DataError(one_column_message(fmt))
        if fmt.first_line_note:
            self.error(fmt.first_line_note)
        for message in fmt.renamed:
            self.warn(f"{self.path}: {message}")
        decimal_note(self, fmt)
        scan = csvreader.scan(fmt)
        self.scan = scan
        names = fmt.names
        columns = [s.info() for s in scan.stats]
        spec = self.spec
        where = str(self.path)

        targets = list(spec.targets) if spec.targets else [pick_target(names)]
        for t in targets:
            if t not in names:
                raise DataError(f"{where}: there is no column named {excerpt(t)}; the columns are "
                                f"{_list(names)}; choose the target column")
        if spec.features is not None:
            features = list(spec.features)
            for f in features:
                if f not in names:
                    raise DataError(f"{where}: there is no column named {excerpt(f)}; the columns are {_list(names)}")
        else:
            features = self._default_features(names, targets, columns)
        if not features:
            self.error(f"{where}: no input columns are left besides the target {_list(targets)}; "
                       "a model needs at least one feature column")

        stats = {s.name: s for s in scan.stats}
        for name in features + targets:
            self._cell_problems(stats[name], fmt)

        task = spec.task or self._infer_task(stats, targets)
        info = DatasetInfo(kind=self.spec.kind, path=str(self.path), num_samples=scan.rows, task=task,
                           features=features, targets=targets, columns=columns)
        for col in info.columns:
            col.role = "target" if col.name in targets else "feature" if col.name in features else ""
        info.preview_rows = [list(r) for r in scan.preview[:20]]

        self.layout = self._layout(features, stats, names)
        width = sum(c.width for c in self.layout)
        info.feature_shape = (width,)
        info.feature_dtype = "float32"
        usable = scan.rows - max(stats[t].missing for t in targets)
        if task == "classification":
            self._classes(info, stats, targets)
            groups = info.class_counts if spec.split.stratify else [usable]
            info.target_shape = ()
        else:
            for t in targets:
                if stats[t].type != NUMERIC:
                    self.error(f"{where}: the target column {excerpt(t)} holds {stats[t].type} values, not numbers; "
                               "set the task to classification")
            info.target_shape = (len(targets),)
            groups = [usable]
        errors = any(p.severity == "error" for p in self.problems)
        if spec.missing == "drop" and not errors and any(stats[f].missing for f in features):
            groups = self._kept_groups(fmt, features, targets, info, stats)
        info.split_sizes = split_sizes(groups, spec.split.validation, spec.split.test)
        info.spec = self._resolved_spec(features, targets, task, fmt)
        return info

    def _kept_groups(self, fmt: csvreader.CsvFormat, features: list[str], targets: list[str], info: DatasetInfo,
                     stats: dict) -> list[int]:
        """Rows left per split group once rows with a missing cell are dropped (a second pass,
        only when 'drop' has something to drop), so the split sizes shown are the ones trained on."""
        names = fmt.names
        used = [names.index(c) for c in dict.fromkeys(features + targets)]
        stratified = info.task == "classification" and self.spec.split.stratify and len(targets) == 1
        position = {n: i for i, n in enumerate(info.class_names)}
        if stratified and stats[targets[0]].type == NUMERIC:
            position = {raw: position[name] for raw, name in stats[targets[0]].numeric_keys().items()
                        if name in position}
        counts = np.zeros(max(1, len(position)) if stratified else 1, dtype=np.int64)
        missing = csvreader.MISSING_TOKENS
        for rows, _lines in csvreader.read_chunks(fmt):
            columns = list(zip(*rows))
            keep = np.ones(len(rows), dtype=bool)
            for j in used:
                keep &= np.fromiter((v not in missing for v in columns[j]), dtype=bool, count=len(rows))
            if stratified:
                codes = _codes(position, columns[names.index(targets[0])])
                codes = codes[keep & (codes >= 0)]
                counts += np.bincount(codes, minlength=len(counts))
            else:
                counts[0] += int(keep.sum())
        return [int(c) for c in counts]

    def _default_features(self, names: list[str], targets: list[str], columns) -> list[str]:
        features = []
        for col in columns:
            if col.name in targets:
                continue
            if col.type == EMPTY:
                self.warn(f"{self.path}: column {excerpt(col.name)} is empty and is left out")
                continue
            if col.type == TEXT:
                self.warn(f"{self.path}: column {excerpt(col.name)} looks like free text or identifiers and is left "
                          "out; to learn from text, choose the text kind with this column")
                continue
            if col.name.strip().lower() in ID_NAMES and col.type == NUMERIC:
                self.note(f"{self.path}: column {excerpt(col.name)} looks like a row number and is left out")
                continue
            features.append(col.name)
        return features

    def _cell_problems(self, stat: csvreader.ColumnStats, fmt: csvreader.CsvFormat) -> None:
        where = str(self.path)
        nonfinite_problem(self, stat)
        if fmt.first_line_note and stat.bad_count == 1 and stat.bad[0][0] == fmt.first_data_line:
            pass  # the word is on the first line, reported once as notes above the data
        elif stat.type == NUMERIC and stat.bad:
            line, value = stat.bad[0]
            more = f" ({stat.bad_count} such cells)" if stat.bad_count > 1 else ""
            self.error(f"{where}:{line}: column {excerpt(stat.name)}: {excerpt(value)} is not a number{more}; "
                       f"fix the cell or mark it missing (leave it empty){thousands_hint(value, stat.decimal)}")
        elif stat.mostly_numbers:
            line = stat.bad[0][0]
            self.warn(f"{where}:{line}: column {excerpt(stat.name)} is mostly numbers but has "
                      f"{stat.bad_cell_text()}, so it is read as {stat.type}; if it is a number column, fix those cells or leave them "
                      f"empty to mark them missing{thousands_hint(stat.bad[0][1], stat.decimal)}")
        if stat.type == TEXT and stat.name in (self.spec.features or []):
            self.error(f"{where}: column {excerpt(stat.name)} holds free text; a table model needs numbers or "
                       "categories; choose the text kind to learn from it")
        if stat.missing:
            lines = ", ".join(str(n) for n in stat.missing_lines[:3])
            policy = self.spec.missing
            if policy == "error":
                self.error(f"{where}:{stat.missing_lines[0]}: column {excerpt(stat.name)} has {stat.missing} missing "
                           f"value{'s' if stat.missing > 1 else ''} (lines {lines}...); set missing values "
                           "to 'drop' (skip those rows) or 'fill' (use the training mean / most frequent value)")
            else:
                if stat.missing == 1:
                    what = "that row is skipped" if policy == "drop" else "that cell is filled"
                else:
                    what = "those rows are skipped" if policy == "drop" else "those cells are filled"
                plural = "s" if stat.missing > 1 else ""
                self.note(f"{where}: column {excerpt(stat.name)} has {stat.missing} missing value{plural}; {what}")

    def _infer_task(self, stats: dict, targets: list[str]) -> str:
        """Classification for words; for whole numbers, when they are few (in number and per row);
        regression otherwise. A guess between the two for whole numbers is said in a note, with
        how to change it."""
        if len(targets) > 1:
            return "regression"
        stat = stats[targets[0]]
        if stat.type in (CATEGORICAL, TEXT):
            return "classification"
        if stat.type != NUMERIC or not stat.integer or stat.present == 0:
            return "regression"
        where, name = str(self.path), excerpt(stat.name)
        if stat.counter is None:
            self.note(f"{where}: guessed regression: column {name} holds more than {csvreader.DISTINCT_CAP:,} "
                      "distinct whole numbers; set the task to classification (--task classification) to treat "
                      "them as classes")
            return "regression"
        distinct = len(stat.category_counts())
        rows = stat.present
        if distinct <= 2 or (distinct <= MAX_INTEGER_CLASSES and distinct <= MAX_CLASS_RATIO * rows):
            values = stat.categories()
            shown = ", ".join(values) if distinct <= 5 else f"{values[0]} to {values[-1]}"
            self.note(f"{where}: guessed classification: column {name} holds {distinct} distinct whole numbers "
                      f"({shown}) in {rows:,} rows, read as classes; set the task to regression "
                      "(--task regression) to predict them as numbers")
            return "classification"
        why = "too many for classes" if distinct > MAX_INTEGER_CLASSES else "too many per row for classes"
        self.note(f"{where}: guessed regression: column {name} holds {distinct} distinct whole numbers in "
                  f"{rows:,} rows, {why}; set the task to classification (--task classification) to treat them "
                  "as classes")
        return "regression"

    def _classes(self, info: DatasetInfo, stats: dict, targets: list[str]) -> None:
        where = str(self.path)
        if len(targets) != 1:
            self.error(f"{where}: classification needs exactly one target column, got {_list(targets)}")
            return
        stat = stats[targets[0]]
        if stat.counter is None:
            self.error(f"{where}: the target column {excerpt(stat.name)} has more than {csvreader.DISTINCT_CAP} "
                       "different values; that is too many classes (set the task to regression?)")
            return
        counts = stat.category_counts()
        names = stat.categories() if stat.type == NUMERIC else sorted(counts)
        info.class_names = names
        info.class_counts = [counts[n] for n in names]
        info.num_classes = len(names)
        class_balance_problems(self, f"{where}: column {excerpt(stat.name)}", names, info.class_counts)

    def _layout(self, features: list[str], stats: dict, names: list[str]) -> list[FeatureColumn]:
        layout, offset = [], 0
        for name in features:
            stat = stats[name]
            if stat.type == NUMERIC or stat.type == EMPTY:
                col = FeatureColumn(name, names.index(name), NUMERIC, offset, 1, [])
            else:
                cats = stat.categories()
                counts = stat.category_counts()
                mode = cats.index(max(cats, key=lambda c: counts.get(c, 0))) if cats else 0
                width = len(cats) if self.spec.categorical == "onehot" else 1
                col = FeatureColumn(name, names.index(name), CATEGORICAL, offset, max(width, 1), cats, mode)
            layout.append(col)
            offset += col.width
        return layout

    def _resolved_spec(self, features, targets, task, fmt) -> dict:
        data = self.spec.to_dict()
        data.update({"features": features, "targets": targets, "task": task, "delimiter": fmt.delimiter,
                     "header": fmt.header})
        if fmt.decimal != ".":
            data["decimal"] = fmt.decimal
        return data

    # -- encoding -----------------------------------------------------------------
    def encode(self, rows: list[list[str]], lines: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                        np.ndarray]:
        """(x float32 with NaN for missing, y, features-missing mask, target-missing mask)."""
        info = self.describe()
        n = len(rows)
        columns = list(zip(*rows))
        width = info.feature_shape[0]
        x = np.zeros((n, width), dtype=np.float32)
        feat_missing = np.zeros(n, dtype=bool)
        for col in self.layout:
            values = list(columns[col.index])
            if col.type == NUMERIC:
                arr = self._numbers(values, lines, col.name)
                x[:, col.offset] = arr
                feat_missing |= np.isnan(arr)
                continue
            idx = _codes({c: i for i, c in enumerate(col.categories)}, values)
            miss = idx < 0
            feat_missing |= miss
            if self.spec.missing == "fill":
                idx[miss] = col.mode
            if self.spec.categorical == "onehot":
                ok = idx >= 0
                x[np.flatnonzero(ok), col.offset + idx[ok]] = 1.0
                if self.spec.missing != "fill":
                    x[miss, col.offset:col.offset + col.width] = np.nan
            else:
                x[:, col.offset] = np.where(idx >= 0, idx, np.nan)
        y, target_missing = self._targets(columns, lines, info)
        return x, y, feat_missing, target_missing

    def _numbers(self, values: list[str], lines: list[int], name: str) -> np.ndarray:
        decimal = self.scan.fmt.decimal if self.scan else "."
        try:
            return csvreader.to_float(values, decimal).astype(np.float32)
        except ValueError:
            i = csvreader.first_non_number(values, decimal)
            raise DataError(f"{self.path}:{lines[i]}: column {excerpt(name)}: {excerpt(values[i])} is not a "
                            f"number; fix the cell or leave it empty to mark it missing{thousands_hint(values[i], decimal)}") \
                from None

    def _targets(self, columns, lines, info: DatasetInfo) -> tuple[np.ndarray, np.ndarray]:
        names = self.scan.fmt.names if self.scan else []
        if info.task == "classification":
            stat = self.scan.stat(info.targets[0])
            values = columns[names.index(info.targets[0])]
            position = {c: i for i, c in enumerate(info.class_names)}
            if stat.type == NUMERIC:
                canonical = stat.numeric_keys()
                lookup = {raw: position[name] for raw, name in canonical.items() if name in position}
            else:
                lookup = position
            y = _codes(lookup, values).astype(np.int32)
            return y, y < 0
        ys = [self._numbers(list(columns[names.index(t)]), lines, t) for t in info.targets]
        y = np.stack(ys, axis=1).astype(np.float32)
        return y, np.isnan(y).any(axis=1)

    def iter_encoded(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                             np.ndarray]]:
        assert self.scan is not None
        for rows, lines in csvreader.read_chunks(self.scan.fmt, chunk_rows):
            yield self.encode(rows, lines)

    # -- prepare --------------------------------------------------------------------
    def prepare(self, batch_size: int, seed: int | None = None, in_memory_bytes: int | None = None):
        """Encode the file once, split it, fit the statistics on the training rows.

        Encoded rows that fit in `in_memory_bytes` (default
        `pipeline.IN_MEMORY_BYTES`) are kept in memory; larger tables are
        encoded into an unnamed temporary file (removed by the system when
        the datasets are gone) and read back in chunks every epoch, so memory
        stays bounded whatever the number of rows.
        """
        info = self.require_ok()
        seed = self.seed(seed)
        limit = pipeline.IN_MEMORY_BYTES if in_memory_bytes is None else in_memory_bytes
        n, width = info.num_samples, info.feature_shape[0]
        classification = info.task == "classification"
        y_all = np.zeros((n,) + tuple(info.target_shape), dtype=np.int32 if classification else np.float32)
        feat_missing = np.zeros(n, dtype=bool)
        target_missing = np.zeros(n, dtype=bool)
        x_all = pipeline.scratch_array((n, width), limit)
        start = 0
        for x, y, fm, tm in self.iter_encoded():
            stop = start + len(x)
            if stop > n:
                break
            x_all[start:stop] = x
            y_all[start:stop] = y
            feat_missing[start:stop] = fm
            target_missing[start:stop] = tm
            start = stop
        if start != n:
            raise DataError(f"{self.path}: the file changed while it was read; try again")
        keep = ~target_missing
        if self.spec.missing == "drop":
            keep &= ~feat_missing
        split = self.spec.split
        labels = y_all if classification and split.stratify else None
        assignment = splits.assign(n, split.validation, split.test, split.seed, labels, keep)
        if not np.any(assignment == splits.TRAIN):
            raise DataError(f"{self.path}: no rows are left for training (every row has a missing value?); "
                            "set missing values to 'fill'")

        # Statistics of the training rows only, read in chunks.
        mean, var = pipeline.moments(pipeline.Rows(x_all, np.flatnonzero(assignment == splits.TRAIN)))
        for col in self.layout:  # only numeric columns are scaled
            if col.type != NUMERIC:
                mean[col.offset:col.offset + col.width] = 0.0
                var[col.offset:col.offset + col.width] = 1.0
        fill = mean.astype(np.float32)
        if self.spec.missing == "fill":
            for lo in range(0, n, 65536):
                block = x_all[lo:lo + 65536]
                bad = np.isnan(block)
                if bad.any():
                    block[bad] = np.broadcast_to(fill, block.shape)[bad]
                    x_all[lo:lo + 65536] = block

        pre = {"normalize": pipeline.normalize_entry(mean, var), "columns": self._columns_entry()}
        if classification:
            pre["class_names"] = list(info.class_names)
        if self.spec.missing == "fill":
            pre["fill"] = [float(v) for v in fill]
        spec = dict(info.spec)
        spec["preprocessing"] = pre
        train, val, test, counts = pipeline.array_splits(x_all, y_all, assignment, batch_size, seed,
                                                         in_memory_bytes=limit)
        rows = np.flatnonzero(assignment == splits.TEST).tolist()
        return pipeline.PreparedData(train=train, validation=val, test=test, info=info, spec=spec,
                                     batch_size=batch_size, counts=counts,
                                     test_samples={"kind": "table", "path": str(self.path), "refs": rows,
                                                   "format": self.scan.fmt.settings() if self.scan else None})

    def _columns_entry(self) -> list[dict]:
        out = []
        for col in self.layout:
            entry = {"name": col.name, "type": col.type, "width": col.width}
            if col.type == CATEGORICAL:
                entry["categories"] = list(col.categories)
            out.append(entry)
        return out


def one_column_message(fmt: csvreader.CsvFormat, need: str = "a table needs at least two, the inputs and "
                       "the target") -> str:
    """The file has one column: not a table (and nothing of it is quoted: it may be any text file)."""
    if fmt.delimiter in csvreader.DELIMITERS:
        how = "no comma, semicolon, tab or bar between values"
    else:
        how = f"no {csvreader.delimiter_name(fmt.delimiter)} between values"
    return f"{fmt.path}: the file has one column; {need} ({how}: check that this is the right file)"


def nonfinite_problem(source: Source, stat: csvreader.ColumnStats) -> None:
    """An error for a column holding infinite numbers (inf, -inf, 1e309) or numbers too large for float32."""
    if not stat.nonfinite or stat.type != NUMERIC:
        return
    n = stat.nonfinite
    source.error(f"{source.path}:{stat.nonfinite_lines[0]}: column {excerpt(stat.name)} has {n} infinite or "
                 f"too large number{'s' if n > 1 else ''} ({stat.nonfinite_text()}); a model cannot learn from "
                 "them (the loss becomes NaN): replace them with finite numbers, or leave the cells empty to mark "
                 "them missing")


def _codes(lookup: dict[str, int], values) -> np.ndarray:
    """The code of each value, -1 for a value not in `lookup` (missing)."""
    try:
        return np.fromiter(map(lookup.__getitem__, values), dtype=np.int64, count=len(values))
    except KeyError:
        return np.array([lookup.get(v, -1) for v in values], dtype=np.int64)


def _list(names: list[str], limit: int = 8) -> str:
    return names_list(names, limit)
