"""NumPy arrays: an .npy pair (features, targets) or an .npz with named arrays.

Files are opened with ``allow_pickle=False`` (arrays of Python objects are
refused) and .npy files are memory-mapped, so a large file is read in chunks
rather than loaded whole. An .npz holding ``x_train``/``y_train`` and
``x_test``/``y_test`` keeps its own test split.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.errors import DataError
from studio.data import pipeline, splits
from studio.data.files import check_data_path, excerpt, names_list
from studio.data.info import NUMERIC, ColumnInfo, DatasetInfo, split_sizes
from studio.data.sources.base import Source, class_balance_problems

FEATURE_NAMES = ("x", "X", "features", "data", "inputs", "images", "x_train")
TARGET_NAMES = ("y", "Y", "labels", "label", "targets", "target", "y_train")
TARGET_FILES = ("y.npy", "labels.npy", "targets.npy", "target.npy", "Y.npy")
MAX_CLASSES = 1000
MAX_FLOAT_CLASSES = 20
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_array(arr: Any, path: Path, name: str, allow_text: bool = False) -> None:
    if arr.dtype == object:
        raise DataError(f"{path}: array {excerpt(name)} holds Python objects; save it with a numeric dtype "
                        "(np.save(..., arr.astype('float32')))")
    if arr.ndim == 0:
        raise DataError(f"{path}: array {excerpt(name)} is a single value, not one row per sample")
    if arr.dtype.kind not in "biuf" and not (allow_text and arr.dtype.kind in "US"):
        raise DataError(f"{path}: array {excerpt(name)} has dtype {arr.dtype}, which is not numeric")


def load_npy(path: Path, what: str = "array") -> np.ndarray:
    check_data_path(path, "npy")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes)")
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic != b"\x93NUMPY":  # np.load would try to unpickle it and blame "Python objects"
        if magic.startswith(b"PK"):
            raise DataError(f"{path}: this is an .npz archive of named arrays, not one array; rename it to .npz")
        raise DataError(f"{path}: not a NumPy .npy file (one saved with numpy.save starts with \\x93NUMPY)")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise DataError(f"{path}: the {what} holds Python objects; save it with a numeric dtype") from None
        raise DataError(f"{path}: not a NumPy .npy file ({excerpt(exc, 80)})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or excerpt(exc, 80)})") from None


class ArraySource(Source):
    """Shared logic: given features x and targets y (and maybe a fixed test set)."""

    kind = "arrays"
    image_like = False  # uint8 images: rescale to 0..1 instead of standardising

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.x: Any = None
        self.y: Any = None
        self.fixed_test: bool = False  # the last n_test samples are the file's own test set
        self.n_test_fixed = 0
        self.labels: np.ndarray | None = None  # encoded targets
        self.names: tuple[str, str] = ("x", "y")

    def arrays(self) -> tuple[Any, Any, Any, Any]:  # pragma: no cover - interface
        """(x, y, x_test or None, y_test or None)."""
        raise NotImplementedError

    def _describe(self) -> DatasetInfo:
        x, y, x_test, y_test = self.arrays()
        fx, fy = self.names
        where = str(self.path)
        if x_test is not None:
            if x_test.shape[1:] != x.shape[1:]:
                raise DataError(f"{where}: the test features have shape {x_test.shape[1:]} per sample but the "
                                f"training features {x.shape[1:]}")
            self.fixed_test = True
            self.n_test_fixed = len(x_test)
            x = _Concat(x, x_test)
            y = np.concatenate([np.asarray(y), np.asarray(y_test)])
        if len(x) != len(y):
            raise DataError(f"{where}: {excerpt(fx)} has {len(x)} samples but {excerpt(fy)} has {len(y)}; they "
                            "must have one target per sample (same first dimension)")
        if len(x) == 0:
            raise DataError(f"{where}: the arrays hold no samples")
        self.x, self.y = x, y
        y = np.asarray(y)
        feature_shape = tuple(int(d) for d in x.shape[1:]) or (1,)
        info = DatasetInfo(kind=self.spec.kind, path=where, num_samples=len(x), feature_shape=feature_shape,
                           features=[fx], targets=[fy])
        info.columns = [
            ColumnInfo(fx, NUMERIC, shape=feature_shape, dtype=str(getattr(x, "dtype", "float32")), role="feature"),
            ColumnInfo(fy, NUMERIC if y.dtype.kind in "biuf" else "categorical", shape=tuple(y.shape[1:]),
                       dtype=str(y.dtype), role="target"),
        ]
        self._check_values(x, fx)
        self._check_values(y, fy)
        task = self.spec.task or self._infer_task(y)
        info.task = task
        if task == "classification":
            self._classes(info, y, fy)
            info.target_shape = ()
            groups = info.class_counts if self.spec.split.stratify else [len(y)]
        else:
            if y.dtype.kind not in "biuf":
                self.error(f"{where}: the targets {excerpt(fy)} are text, not numbers; set the task to "
                           "classification")
            info.target_shape = tuple(int(d) for d in y.shape[1:]) or (1,)
            groups = [len(y)]
        split = self.spec.split
        if self.fixed_test:
            n_fit = len(y) - self.n_test_fixed
            sizes = split_sizes([n_fit], split.validation, 0.0)
            sizes["test"] = self.n_test_fixed
            self.note(f"{where}: the file's own test arrays ({self.n_test_fixed} samples) are the test split")
        else:
            sizes = split_sizes(groups, split.validation, split.test)
        info.split_sizes = sizes
        spec = self.spec.to_dict()
        spec.update({"features": [fx], "targets": [fy], "task": task})
        info.spec = spec
        return info

    def _check_values(self, x: Any, name: str) -> None:
        """An error naming the samples of a float array that hold NaN, inf or numbers beyond float32
        (1e39 becomes inf when the data is read as float32), read in chunks of about 4M values."""
        if x.dtype.kind != "f" or len(x) == 0:
            return
        per_sample = max(1, int(np.prod(x.shape[1:], dtype=np.int64)))
        step = max(1, (4 << 20) // per_sample)
        wide = x.dtype.itemsize > 4
        count, first = 0, []
        for start in range(0, len(x), step):
            chunk = np.asarray(x[start:start + step]).reshape(-1, per_sample)
            with np.errstate(invalid="ignore"):
                bad = ~np.isfinite(chunk).all(axis=1)
                if wide:
                    bad |= np.abs(chunk).max(axis=1) > FLOAT32_MAX
            if bad.any():
                at = np.flatnonzero(bad)
                count += len(at)
                first.extend(int(start + i) for i in at[: 5 - len(first)])
        if count:
            more = f"; then {', '.join(map(str, first[1:]))}{', ...' if count > len(first) else ''}" \
                if count > 1 else ""
            self.error(f"{self.path}: array {excerpt(name)} has missing or infinite values (NaN, inf or numbers "
                       f"too large for float32) in {count} sample{'s' if count > 1 else ''} (first in sample "
                       f"{first[0]}{more}); replace them before training")

    def _infer_task(self, y: np.ndarray) -> str:
        if y.dtype.kind in "USb":
            return "classification"
        if y.ndim == 2 and y.shape[1] > 1 and _is_one_hot(y):
            return "classification"
        if y.ndim > 1 and not (y.ndim == 2 and y.shape[1] == 1):
            return "regression"
        flat = y.reshape(len(y))
        if y.dtype.kind in "iu":
            return "classification" if len(np.unique(flat)) <= MAX_CLASSES else "regression"
        if np.all(np.isfinite(flat)) and np.all(flat == np.round(flat)) and len(np.unique(flat)) <= MAX_FLOAT_CLASSES:
            return "classification"
        return "regression"

    def _classes(self, info: DatasetInfo, y: np.ndarray, name: str) -> None:
        where = f"{self.path}: targets {excerpt(name)}"
        if y.ndim == 2 and y.shape[1] > 1:
            if not _is_one_hot(y):
                self.error(f"{where} have {y.shape[1]} values per sample and are not one-hot; set the task to "
                           "regression, or give one class per sample")
                return
            self.note(f"{where} are one-hot; they are read as class indices")
            codes = np.argmax(y, axis=1)
            names = [str(i) for i in range(y.shape[1])]
        else:
            flat = y.reshape(len(y))
            if flat.dtype.kind == "f" and not np.all(flat == np.round(flat)):
                self.error(f"{where} are fractional numbers; set the task to regression")
                return
            uniques, codes = np.unique(flat, return_inverse=True)
            if len(uniques) > MAX_CLASSES:
                self.error(f"{where} have {len(uniques)} different values; that is too many classes "
                           "(set the task to regression?)")
                return
            if flat.dtype.kind in "iuf":
                names = [str(int(v)) for v in uniques]
                if len(uniques) and (uniques[0] != 0 or uniques[-1] != len(uniques) - 1):
                    self.note(f"{where} are {names[0]}..{names[-1]}; they are numbered 0..{len(names) - 1} "
                              "for training")
            else:
                names = [str(v) for v in uniques]
        counts = np.bincount(codes, minlength=len(names))
        self.labels = codes.astype(np.int32)
        info.class_names = names
        info.class_counts = [int(c) for c in counts]
        info.num_classes = len(names)
        class_balance_problems(self, where, names, info.class_counts)

    def prepare(self, batch_size: int, seed: int | None = None):
        info = self.require_ok()
        seed = self.seed(seed)
        x, n = self.x, info.num_samples
        if info.task == "classification":
            assert self.labels is not None
            y = self.labels
        else:
            y = np.asarray(self.y, dtype=np.float32).reshape((n,) + tuple(info.target_shape))
        split = self.spec.split
        if self.fixed_test:
            n_fit = n - self.n_test_fixed
            labels = y[:n_fit] if info.task == "classification" and split.stratify else None
            head = splits.assign(n_fit, split.validation, 0.0, split.seed, labels)
            assignment = np.concatenate([head, np.full(self.n_test_fixed, splits.TEST, dtype=np.int8)])
        else:
            labels = y if info.task == "classification" and split.stratify else None
            assignment = splits.assign(n, split.validation, split.test, split.seed, labels)
        if x.ndim == 1:
            x = _Reshaped(x)
        pre: dict = {}
        if self.image_like:
            pre["rescale"] = 1.0 / 255.0
        else:
            train_idx = np.flatnonzero(assignment == splits.TRAIN)
            mean, var = pipeline.moments(pipeline.Rows(x, train_idx))
            pre["normalize"] = pipeline.normalize_entry(mean, var)
        if info.task == "classification":
            pre["class_names"] = list(info.class_names)
        spec = dict(info.spec)
        spec["preprocessing"] = pre
        train, val, test, counts = pipeline.array_splits(x, y, assignment, batch_size, seed)
        return pipeline.PreparedData(train=train, validation=val, test=test, info=info, spec=spec,
                                     batch_size=batch_size, counts=counts)


def _is_one_hot(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1))


class _Concat:
    """Two arrays seen as one along the first axis, without copying (memmaps stay on disk)."""

    def __init__(self, a: Any, b: Any) -> None:
        self.a, self.b = a, b
        self.shape = (len(a) + len(b),) + tuple(a.shape[1:])
        self.ndim = len(self.shape)
        self.dtype = a.dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, slice):
            key = np.arange(*key.indices(len(self)))
        key = np.asarray(key)
        out = np.empty((len(key),) + self.shape[1:], dtype=self.dtype)
        first = key < len(self.a)
        if first.any():
            out[first] = self.a[key[first]]
        if (~first).any():
            out[~first] = self.b[key[~first] - len(self.a)]
        return out


class _Reshaped:
    """A 1-D array seen as (n, 1)."""

    def __init__(self, a: Any) -> None:
        self.a = a
        self.shape = (len(a), 1)
        self.ndim = 2
        self.dtype = a.dtype

    def __len__(self) -> int:
        return len(self.a)

    def __getitem__(self, key: Any) -> np.ndarray:
        return np.asarray(self.a[key]).reshape(-1, 1)


class NpySource(ArraySource):
    kind = "npy"

    def arrays(self):
        x = load_npy(self.path, "features")
        _check_array(x, self.path, self.path.stem)
        if self.spec.targets_path:
            ypath = Path(self.spec.targets_path)
            if not ypath.is_absolute():
                ypath = (self.base_dir / ypath) if self.base_dir is not None else self.path.parent / ypath
        else:
            ypath = self._default_targets()
        y = load_npy(ypath, "targets")
        _check_array(y, ypath, ypath.name, allow_text=True)
        self.names = (self.path.name, ypath.name)
        return x, y, None, None

    def _default_targets(self) -> Path:
        stem = self.path.stem
        candidates = []
        for prefix in ("x", "X"):
            if stem.startswith(prefix):
                candidates.append(self.path.with_name("y" + stem[1:] + ".npy"))
                candidates.append(self.path.with_name("Y" + stem[1:] + ".npy"))
        candidates += [self.path.with_name(n) for n in TARGET_FILES]
        for c in candidates:
            if c.exists() and c != self.path:
                return c
        raise DataError(f"{self.path}: no targets file found beside it (looked for "
                        f"{', '.join(c.name for c in candidates[:4])}); set the dataset's targets_path")


class NpzSource(ArraySource):
    kind = "npz"

    def arrays(self):
        path = self.path
        if not path.exists():
            raise DataError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise DataError(f"{path}: the file is empty (0 bytes)")
        with open(path, "rb") as fh:
            magic = fh.read(6)
        if magic == b"\x93NUMPY":
            raise DataError(f"{path}: holds a single array, not named arrays; rename it to .npy")
        if not magic.startswith(b"PK"):
            raise DataError(f"{path}: not a NumPy .npz file (save one with numpy.savez(path, x=..., y=...))")
        try:
            data = np.load(path, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise DataError(f"{path}: not a NumPy .npz file ({excerpt(exc, 80)})") from None
        if not hasattr(data, "files"):
            raise DataError(f"{path}: holds a single array, not named arrays; rename it to .npy")
        names = list(data.files)
        fx = self._pick(names, self.spec.features, FEATURE_NAMES, "features")
        fy = self._pick(names, self.spec.targets, TARGET_NAMES, "targets")
        try:
            x, y = data[fx], data[fy]
            x_test = y_test = None
            if fx == "x_train" and fy == "y_train" and "x_test" in names and "y_test" in names:
                x_test, y_test = data["x_test"], data["y_test"]
        except ValueError as exc:
            raise DataError(f"{path}: cannot read the arrays ({excerpt(exc, 80)}); arrays of Python objects "
                            "are refused") from None
        _check_array(x, path, fx)
        _check_array(y, path, fy, allow_text=True)
        if x_test is not None:
            _check_array(x_test, path, "x_test")
            _check_array(y_test, path, "y_test", allow_text=True)
        self.names = (fx, fy)
        return x, y, x_test, y_test

    def _pick(self, names: list[str], given: list[str] | None, defaults: tuple[str, ...], what: str) -> str:
        held = names_list(names, 20) or "no arrays"
        if given:
            if len(given) != 1:
                raise DataError(f"{self.path}: dataset.{what} must name one array, got {given!r}")
            if given[0] not in names:
                raise DataError(f"{self.path}: has no array named {excerpt(given[0])}; it holds {held}")
            return given[0]
        for name in defaults:
            if name in names:
                return name
        raise DataError(f"{self.path}: has no {what} array (looked for {', '.join(defaults[:4])}); it holds "
                        f"{held}; set the dataset's {what} to the array's name")
