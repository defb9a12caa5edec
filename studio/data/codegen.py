"""`loader_source(spec)`: Python source of a standalone ``load_data()`` (pure).

The exported script calls ``load_data()`` and gets ``(train, validation,
test)`` batched tf.data datasets (validation/test are None when their
fraction is 0). The function imports only numpy and tensorflow, inside its
body, and reads the same files with the same split rule as the app (seeded,
stratified per class, the same rounding).

Like the app's datasets, it yields *raw* features: numbers as in the file
(missing cells filled the app's way), pixels 0..255, token ids from the
project's saved vocabulary. The scaling fitted on the training split is the
model's job: the app wraps the network in Rescaling/Normalization layers
(`studio.data.pipeline.wrap_model`), and the exported script does the same
(`add_preprocessing`), so both trained models take raw inputs.
`fixed_preprocessing(spec)` tells the exporter when that scaling is known
without reading the data.

Every value from the project (paths, column and class names, categories,
settings) is written as a Python literal by `studio.export.pyformat`, the
generator's one literal writer, and never into a docstring or a comment:
no text from a project file becomes code (DESIGN.md 3).

This module imports neither numpy nor TensorFlow, and the text is never
executed here.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from string import Template
from typing import Any

from studio.core.errors import DataError
from studio.core.text import show
from studio.data import registry
from studio.data.spec import DatasetSpec, in_model_order, output_tasks  # noqa: F401 - the exporter's way in
from studio.export.pyformat import INDENT, Seq, flat, render  # noqa: F401 - INDENT, Seq, render: codegen_bound

MISSING = ["", " ", "NA", "N/A", "n/a", "na", "NaN", "nan", "NAN", "null", "NULL", "Null", "None", "none", "?",
           "#N/A"]
# The same list as the generated code writes it (wrapped to stay under 100 columns).
_MISSING_SOURCE = ("[\n        " + ",\n        ".join(", ".join(repr(v) for v in MISSING[i:i + 8])
                                                  for i in range(0, len(MISSING), 8)) + ",\n    ]")

_SPLIT = '''
    def split(n, labels, validation, test):
        """0 train, 1 validation, 2 test per sample: seeded, per class when labels are given."""
        rng = np.random.default_rng(SEED)
        out = np.full(n, -1, dtype=np.int8)
        keep = np.ones(n, dtype=bool) if labels is None else labels >= 0
        groups = [np.flatnonzero(keep)] if labels is None else [
            np.flatnonzero(keep & (labels == c)) for c in np.unique(labels[keep])]
        for idx in groups:
            n_test = int(np.floor(len(idx) * test + 0.5))
            n_val = int(np.floor(len(idx) * validation + 0.5))
            while len(idx) and len(idx) - n_test - n_val < 1:
                if n_val:
                    n_val -= 1
                else:
                    n_test -= 1
            perm = rng.permutation(idx)
            n_train = len(idx) - n_test - n_val
            out[perm[:n_train]] = 0
            out[perm[n_train:n_train + n_val]] = 1
            out[perm[n_train + n_val:]] = 2
        return out

    def batched(x, y, training):
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if training:
            ds = ds.shuffle(min(len(y), 10000), seed=SEED, reshuffle_each_iteration=True)
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
'''

_PARTS = '''
    parts = []
    for part in (0, 1, 2):
        sel = assignment == part
        parts.append(batched(x[sel], y[sel], part == 0) if sel.any() or part == 0 else None)
    return tuple(parts)
'''

_READ_CSV = '''
    def text_table(path, delimiter, skip, **options):
        """np.loadtxt of a text table as strings, from line `skip` + 1 on (the lines above it are
        notes). The delimiter " " is any run of spaces or tabs; quotes are not read then."""
        spaces = delimiter == " "
        return np.loadtxt(path, dtype=object, delimiter=None if spaces else delimiter,
                          quotechar=None if spaces else '"', skiprows=skip, comments=None,
                          encoding="utf-8-sig", **options).astype(str)

    def column_names(path, delimiter, header, skip):
        first = text_table(path, delimiter, skip, max_rows=1, ndmin=1)
        if header:
            return [str(c).strip() or f"column_{i + 1}" for i, c in enumerate(first)]
        return [f"column_{i + 1}" for i in range(len(first))]

    def read_columns(path, names, delimiter, header, skip):
        """The named columns of a delimited file as numpy string arrays."""
        columns = column_names(path, delimiter, header, skip)
        for name in names:
            if name not in columns:
                raise ValueError(f"{path}: no column named {name!r}; the columns are "
                                 f"{columns}")
        index = [columns.index(name) for name in names]
        wanted = sorted(set(index))
        if skip or delimiter == " ":  # lines above the table, or runs of spaces: numpy reads it
            rows = text_table(path, delimiter, skip + int(header), usecols=wanted, ndmin=2)
            return [rows[:, wanted.index(i)] for i in index]
        ds = tf.data.experimental.CsvDataset(path, [""] * len(wanted), header=header,
                                             field_delim=delimiter, select_cols=wanted)
        chunks = [[] for _ in wanted]
        for batch in ds.batch(65536):
            for k, values in enumerate(batch):
                chunks[k].append(values.numpy())
        empty = np.array([], dtype=str)
        values = [np.char.decode(np.concatenate(c).astype(bytes), "utf-8") if c else empty
                  for c in chunks]
        return [values[wanted.index(i)] for i in index]

    def to_numbers(values):
        return np.where(np.isin(values, MISSING), "nan", values).astype("float32")
'''

# The same reader for files written with a decimal comma (5,1): as the app reads them, a cell
# with a '.' is not a number (thousands separators are not read).
_READ_CSV_DECIMAL_COMMA = _READ_CSV.replace('''
    def to_numbers(values):
        return np.where(np.isin(values, MISSING), "nan", values).astype("float32")
''', '''
    def to_numbers(values):
        """Numbers written with a decimal comma (5,1 is 5.1); a cell with a '.' is not one."""
        values = np.where(np.isin(values, MISSING), "nan", values)
        if values.size and (np.char.find(values, ".") >= 0).any():
            raise ValueError("a cell holds a '.' in a file with decimal commas")
        return np.char.replace(values, ",", ".").astype("float32")
''')


def _read_csv(ds: DatasetSpec) -> str:
    """The script's CSV reading functions for the file's decimal mark."""
    return _READ_CSV_DECIMAL_COMMA if ds.decimal == "," else _READ_CSV


def _lit(value: Any, what: str = "dataset") -> str:
    """`value` (JSON-like data from the project) as a Python literal; DataError when it is
    something else."""
    if not _is_data(value):
        raise DataError(f"dataset {what}: {type(value).__name__} values cannot be written into the script")
    try:
        return flat(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"dataset {what}: cannot be written into the script ({exc})") from None


def _is_data(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_is_data(v) for v in value)
    if isinstance(value, dict):
        return all(not isinstance(k, (list, tuple, dict)) and _is_data(k) and _is_data(v)
                   for k, v in value.items())
    return value is None or isinstance(value, (bool, int, float, str))


RAW_NOTE = "Features are raw (as in the files); the model scales them."


def _header(spec: DatasetSpec, path: str, what: str, returns: str, note: str = RAW_NOTE,
            order: str | None = None) -> str:
    if order is None:
        order = "chronological" if spec.kind == "timeseries" else "stratified by class" if spec.split.stratify \
            else "random"
    text = textwrap.fill(f"Returns (train, validation, test): batched tf.data datasets of {returns}; "
                         f"validation or test is None when its fraction is 0. The split is seeded and {order}. "
                         f"{note}", 88,
                         initial_indent="    ", subsequent_indent="    ")
    # `what`, `returns`, `note` and `order` are fixed text; the data's path is a literal below (PATH, FOLDER).
    return (f'def load_data(batch_size=None):\n'
            f'    """{what}\n\n'
            f'{text}\n'
            f'    """\n'
            f'    import numpy as np\n'
            f'    import tensorflow as tf\n\n'
            f'    if batch_size is None:\n'
            f'        batch_size = globals().get("BATCH_SIZE", 32)\n'
            f'    SEED = {_lit(spec.split.seed, "split.seed")}\n'
            f'    VALIDATION, TEST = {_lit(spec.split.validation, "split")}, {_lit(spec.split.test, "split")}\n')


def _path(path: str, base_dir: str | os.PathLike | None) -> str:
    p = Path(os.path.expanduser(path))
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    return str(p)


class ScriptPaths:
    """Where an exported script finds its data: paths relative to the script, never an absolute
    path of the machine it was made on.

    A data path resolved against `base_dir` (the project folder; None: the path is relative to
    the script already, as in a bundle) is written relative to the script when it lies below
    `script_dir` (the export folder) or below the project folder (the user keeps the layout:
    the script beside the project, or both copied together); `copied` maps files the export
    copies beside the script (bundled samples) to their path there. Anything else has no
    default: the script then needs the path as its argument.
    """

    def __init__(self, base_dir: str | os.PathLike | None = None, script_dir: str | os.PathLike | None = None,
                 copied: dict[str, str] | None = None) -> None:
        self.base_dir = None if base_dir is None else os.path.abspath(os.fspath(base_dir))
        self.script_dir = None if script_dir is None else os.path.abspath(os.fspath(script_dir))
        self.copied = {os.path.abspath(k): v for k, v in (copied or {}).items()}

    def relative(self, path: str | None) -> str | None:
        """`path` as a POSIX path relative to the script's folder, or None when it has none."""
        if not path:
            return None
        p = os.path.expanduser(str(path))
        if not os.path.isabs(p):
            if self.base_dir is None:
                rel = Path(p).as_posix()
                return None if rel.startswith("../") or rel == ".." else rel
            p = os.path.join(self.base_dir, p)
        p = os.path.abspath(p)
        if p in self.copied:
            return self.copied[p]
        for root in (self.script_dir, self.base_dir):
            if root and (p == root or p.startswith(root.rstrip(os.sep) + os.sep)):
                return Path(os.path.relpath(p, root)).as_posix()
        return None


def _here(rel: str) -> str:
    """`Path(__file__).resolve().parent / "data/x.csv"`: a path beside the script, as code."""
    return f"Path(__file__).resolve().parent / {_lit(rel, 'path')}"


def main_data_path(spec: dict, base_dir: str | os.PathLike | None = None) -> str | None:
    """The path of the file or folder `load_data()` reads (None: a Keras set read by Keras,
    or a project without data): what the exported script takes as its argument."""
    if not spec:
        return None
    data = registry.concrete_spec(spec)
    kind = data.get("kind")
    if kind == "keras":
        if data.get("path") == "cifar10":
            return str(registry.cache_dir() / "cifar-10-batches-bin")
        if data.get("path") == "imdb":
            return str(registry.cache_dir() / "imdb")
        return None
    return _path(str(data.get("path", "")), base_dir)


def sample_copy(spec: dict, base_dir: str | os.PathLike | None = None) -> tuple[str, str] | None:
    """(source, name) when the data `spec` reads is one of Network Studio's samples that is on this
    machine (bundled, or generated already): the export copies it beside the script, so the script
    runs where Network Studio is not installed. None for any other data."""
    path = main_data_path(spec, base_dir)
    if path is None:
        return None
    here = os.path.abspath(path)
    for s in registry.SAMPLES.values():
        source = registry.sample_path(s)
        if s.origin in ("bundled", "generated") and os.path.abspath(source) == here and source.exists():
            return str(source), s.file
    return None


def data_constants(spec: dict, paths: ScriptPaths) -> str:
    """The script's DATA_PATH (the default of its data argument, relative to the script, or None)
    and DATA_NAME (the data's file name, for messages); '' when `load_data()` reads no path."""
    path = main_data_path(spec, paths.base_dir)
    if path is None:
        return ""
    rel = paths.relative(path)
    name = Path(path).name or "data"
    if rel is None:
        head = ("# The data to train on: the script's argument. It was outside the project and the export\n"
                "# folder, so there is no default: run `python SCRIPT PATH`.\n"
                "DATA_PATH = None")
    else:
        head = ("# The data to train on: the script's argument, by default this path beside the script.\n"
                f"DATA_PATH = {_here(rel)}")
    return f"{head}\nDATA_NAME = {_lit(name, 'path')}"


def fixed_preprocessing(spec: dict) -> dict | None:
    """The scaling the app puts in front of the model when it does not depend on the data.

    Image folders and the Keras image sets: ``{"rescale": 1/255}``; texts: ``{}`` (token ids go
    straight in). None for tables, arrays and series, whose statistics are fitted on the
    training split (``PreparedData.preprocessing``).
    """
    data = registry.concrete_spec(spec)
    kind = data.get("kind")
    if kind == "images" or (kind == "keras" and data.get("path") in ("mnist", "cifar10")):
        return {"rescale": 1.0 / 255.0}
    if kind == "text" or (kind == "keras" and data.get("path") == "imdb"):
        return {}
    return None


def bound_scaling(spec: dict | None) -> tuple[str, str] | None:
    """For data bound per Input with each input's fitted statistics (the spec ordered like the
    model's Inputs): the script's ``NORMALIZE`` constants and the source of its
    ``add_preprocessing(model)``, which puts a Normalization in front of each Input so the saved
    model takes raw inputs like the app's. None otherwise."""
    from studio.data.codegen_bound import add_preprocessing_source, bound_norms, scaling_constants

    norms = bound_norms(spec)
    return (scaling_constants(norms), add_preprocessing_source()) if norms is not None else None


def loader_source(spec: dict, base_dir: str | os.PathLike | None = None,
                  paths: ScriptPaths | None = None) -> str:
    """Source text of ``def load_data(batch_size=None)`` for the dataset `spec`.

    Relative paths are made absolute against `base_dir` (the project
    folder) when it is given; otherwise they stay relative to where the
    script runs. Bundled samples point at their file in this installation.

    With `paths` (the exported script) the function is
    ``load_data(batch_size=None, data_path=None)``: it reads `data_path`, by
    default the script's DATA_PATH (`data_constants`), and the files that go
    with the data (a text vocabulary, npy targets) relative to the script or
    to the data, never at an absolute path of this machine.
    """
    data = registry.concrete_spec(spec)
    ds = DatasetSpec.from_dict(data)
    pre = ds.preprocessing
    if ds.kind == "keras":
        return _keras(ds, paths)
    path = _path(ds.path, base_dir)
    if ds.bound:  # several Inputs/outputs: each node's own columns or arrays
        from studio.data.codegen_bound import bound_loader

        return _portable(bound_loader(ds, path), path, paths)
    if ds.kind in ("csv", "tsv"):
        return _portable(_table(ds, path, pre), path, paths)
    if ds.kind in ("npz", "npy"):
        return _portable(_arrays(ds, path, base_dir, paths), path, paths)
    if ds.kind == "images":
        return _portable(_images(ds, path, rescale=True), path, paths)
    if ds.kind == "text":
        return _portable(_text(ds, path, pre, base_dir, paths), path, paths)
    if ds.kind == "timeseries":
        return _portable(_series(ds, path), path, paths)
    raise ValueError(f"no loader for dataset kind {ds.kind!r}")  # pragma: no cover - kinds are checked


_SIGNATURE = "def load_data(batch_size=None):\n"
_PORTABLE_SIGNATURE = "def load_data(batch_size=None, data_path=None):\n"
_DATA_DEFAULT = ("    if data_path is None:\n"
                 "        data_path = DATA_PATH  # the script's argument, by default beside the script\n")


def _portable(source: str, path: str, paths: ScriptPaths | None) -> str:
    """The loader reading `data_path` (default DATA_PATH) instead of the literal `path`."""
    if paths is None:
        return source
    literal_path = f"= {_lit(path, 'path')}\n"
    assert source.startswith(_SIGNATURE) and source.count(literal_path) == 1
    source = source.replace(literal_path, "= str(data_path)\n", 1)
    head, rest = source.split("    if batch_size is None:\n", 1)
    return _PORTABLE_SIGNATURE + head[len(_SIGNATURE):] + _DATA_DEFAULT + "    if batch_size is None:\n" + rest


def _beside(path: str, data_path: str, paths: ScriptPaths) -> str:
    """A file that goes with the data (npy targets, a vocabulary) as code: relative to the script
    when it can be, else by its name beside the data the script reads."""
    rel = paths.relative(path)
    if rel is not None:
        return f"str({_here(rel)})"
    if Path(path).parent == Path(data_path).parent:
        return f"str(Path(data_path).with_name({_lit(Path(path).name, 'path')}))"
    return ""


def _table(ds: DatasetSpec, path: str, pre: dict) -> str:
    columns = {c["name"]: c for c in pre.get("columns", [])}
    categorical = {name: c.get("categories", []) for name, c in columns.items() if c.get("type") == "categorical"}
    delimiter = ds.delimiter or ("\t" if ds.kind == "tsv" else ",")
    header = True if ds.header is None else ds.header
    classification = (ds.task or "classification") == "classification"
    body = Template('''
    PATH = $path
    FEATURES = $features  # None: every column that is not a target
    TARGETS = $targets  # None: a column named label/target/class..., else the last
    CATEGORIES = $categorical  # category columns and their values; others are numbers
    ONE_HOT = $onehot
    CLASS_NAMES = $class_names  # None: the sorted distinct target values
    MISSING_VALUES = $missing_policy  # "error", "drop" or "fill"
    MISSING = $missing
    SKIP_ROWS = $skip  # lines above the table (notes, counts) that are not read
$read$split
    names = column_names(PATH, $delimiter, $header, SKIP_ROWS)
    if TARGETS is None:
        lower = [n.lower() for n in names]
        usual = ("label", "labels", "target", "targets", "class", "y", "species")
        preferred = [c for c in usual if c in lower]
        TARGETS = [names[lower.index(preferred[0])]] if preferred else names[-1:]
    if FEATURES is None:
        FEATURES = [n for n in names if n not in TARGETS]
    columns = read_columns(PATH, FEATURES + TARGETS, $delimiter, $header, SKIP_ROWS)
    n = len(columns[0]) if columns else 0
    pieces = []
    for name, values in zip(FEATURES, columns):
        cats = CATEGORIES.get(name)
        if cats is None:
            try:
                pieces.append(to_numbers(values)[:, None])
                continue
            except ValueError:  # text: read as categories
                cats = sorted(set(values.tolist()) - set(MISSING))
        codes = [cats.index(v) if v in cats else -1 for v in values.tolist()]
        index = np.array(codes, dtype=np.int64)
        if MISSING_VALUES == "fill" and (index >= 0).any():
            # a missing category: the most frequent one
            index[index < 0] = np.bincount(index[index >= 0], minlength=len(cats)).argmax()
        if ONE_HOT:
            block = np.zeros((n, len(cats)), dtype="float32")
            block[np.flatnonzero(index >= 0), index[index >= 0]] = 1.0
            block[index < 0] = np.nan
        else:
            block = np.where(index >= 0, index, np.nan).astype("float32")[:, None]
        pieces.append(block)
    x = np.concatenate(pieces, axis=1)
    target_values = columns[len(FEATURES):]
''').substitute(path=_lit(path, "path"), features=_lit(ds.features, "features"),
                targets=_lit(ds.targets, "targets"), categorical=_lit(categorical, "preprocessing.columns"),
                onehot=_lit(ds.categorical == "onehot"), class_names=_lit(pre.get("class_names"), "class_names"),
                missing_policy=_lit(ds.missing, "missing"), missing=_MISSING_SOURCE,
                read=_read_csv(ds), split=_SPLIT, delimiter=_lit(delimiter, "delimiter"),
                header=_lit(header, "header"), skip=_lit(ds.skip_rows, "skip_rows"))
    if classification:
        number = 'value.replace(",", ".") if "." not in value else "?"' if ds.decimal == "," else "value"
        body += Template('''    raw = target_values[0]
    names = CLASS_NAMES
    if names is None:
        present = sorted(set(raw.tolist()) - set(MISSING))
        try:
            names = sorted(present, key=float)
        except ValueError:
            names = present
    lookup = {name: i for i, name in enumerate(names)}
    for name in names:  # "1.0" in the file reads as class "1"
        try:
            lookup.setdefault(repr(float(name)), lookup[name])
        except ValueError:
            pass
    def class_of(value):
        if value in lookup:
            return lookup[value]
        try:
            number = float($number)
        except ValueError:
            return -1
        if np.isnan(number):
            return -1
        return lookup.get(str(int(number)) if number == int(number) else repr(number), -1)
    y = np.array([class_of(v) for v in raw.tolist()], dtype="int32")
    labelled = y >= 0
''').substitute(number=number)
    else:
        body += '''    y = np.stack([to_numbers(v) for v in target_values], axis=1)
    labelled = ~np.isnan(y).any(axis=1)
'''
    body += Template('''    incomplete = np.isnan(x).any(axis=1)
    if MISSING_VALUES == "error" and incomplete.any():
        raise ValueError(f"{PATH}: {int(incomplete.sum())} rows have missing values")
    keep = labelled & (~incomplete if MISSING_VALUES == "drop" else True)
    x, y = x[keep], y[keep]
    assignment = split(len(y), $labels, VALIDATION, TEST)
    missing = np.isnan(x)
    if missing.any():  # missing numbers: the mean of the training rows
        train = x[assignment == 0]
        seen = (~np.isnan(train)).sum(axis=0)
        mean = np.nansum(train, axis=0, dtype="float64") / np.maximum(seen, 1)
        x[missing] = np.broadcast_to(mean.astype("float32"), x.shape)[missing]
''').substitute(labels="y if " + _lit(bool(ds.split.stratify)) + " else None" if classification else "None")
    return _header(ds, path, "Read the table, encode its columns and split it.",
                   "(features, target)") + body + _PARTS


def _arrays(ds: DatasetSpec, path: str, base_dir, paths: ScriptPaths | None = None) -> str:
    features = (ds.features or ["x"])[0]
    targets = (ds.targets or ["y"])[0]
    classification = (ds.task or "classification") == "classification"
    if ds.kind == "npy":
        targets_path = _path(ds.targets_path, base_dir) if ds.targets_path else str(Path(path).with_name("y.npy"))
        targets_code = _lit(targets_path, "targets_path")
        if paths is not None:
            targets_code = _beside(targets_path, path, paths) or targets_code
            if not targets_code.startswith("str("):
                raise DataError(f"dataset targets_path: {Path(targets_path).name!r} is neither beside the data nor "
                                "below the project; move it beside the data file to export the script")
        read = Template('''
    PATH = $path
    x = np.load(PATH, allow_pickle=False)
    y = np.load($targets_path, allow_pickle=False)
    fixed_test = None
''').substitute(path=_lit(path, "path"), targets_path=targets_code)
    else:
        read = Template('''
    PATH = $path
    with np.load(PATH, allow_pickle=False) as arrays:
        x, y = arrays[$features], arrays[$targets]
        fixed_test = None
        if $features == "x_train" and "x_test" in arrays.files and "y_test" in arrays.files:
            fixed_test = len(arrays["x_test"])
            x = np.concatenate([x, arrays["x_test"]])
            y = np.concatenate([y, arrays["y_test"]])
''').substitute(path=_lit(path, "path"), features=_lit(features, "features"),
                        targets=_lit(targets, "targets"))
    body = read + _SPLIT + '''
    x = x.astype("float32")
    if x.ndim == 1:
        x = x[:, None]
'''
    if classification:
        body += '''    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)
    names, y = np.unique(y.reshape(len(y)), return_inverse=True)
    y = y.astype("int32")
'''
        labels = "y" if ds.split.stratify else "None"
    else:
        body += '''    y = y.astype("float32").reshape(len(y), -1)
'''
        labels = "None"
    body += Template('''    if fixed_test is None:
        assignment = split(len(y), $labels, VALIDATION, TEST)
    else:
        head = len(y) - fixed_test
        labels = $labels
        head_labels = None if labels is None else labels[:head]
        assignment = np.concatenate([split(head, head_labels, VALIDATION, 0.0),
                                     np.full(fixed_test, 2, dtype=np.int8)])
''').substitute(labels=labels)
    return _header(ds, path, "Load the arrays and split them.", "(features, target)") + body + _PARTS


def _images(ds: DatasetSpec, path: str, rescale: bool) -> str:
    size = list(ds.image.size) if ds.image.size else [64, 64]
    channels = 1 if ds.image.color == "grayscale" else 3
    body = Template('''
    FOLDER = $path
    SIZE = $size
    CHANNELS = $channels
$split
    classes = sorted(name for name in tf.io.gfile.listdir(FOLDER)
                     if tf.io.gfile.isdir(FOLDER + "/" + name.rstrip("/"))
                     and not name.startswith("."))
    files, labels = [], []
    names = []
    for name in classes:
        name = name.rstrip("/")
        found = []
        for pattern in ("*.jpg", "*.jpeg", "*.png", "*.bmp", "*.gif", "*.JPG", "*.JPEG", "*.PNG"):
            found += tf.io.gfile.glob(FOLDER + "/" + name + "/" + pattern)
        if not found:
            continue
        names.append(name)
        files += sorted(set(found))
        labels += [len(names) - 1] * len(set(found))
    files = np.array(files)
    labels = np.array(labels, dtype="int32")
    assignment = split(len(labels), labels if $stratify else None, VALIDATION, TEST)

    def load(path, label):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        if CHANNELS == 1:
            image = tf.image.rgb_to_grayscale(image)
        image = tf.image.resize(image, SIZE, antialias=True)
        image.set_shape(SIZE + [CHANNELS])
        return image, label

    parts = []
    for part in (0, 1, 2):
        sel = assignment == part
        if not sel.any() and part:
            parts.append(None)
            continue
        ds = tf.data.Dataset.from_tensor_slices((files[sel], labels[sel]))
        if part == 0:
            ds = ds.shuffle(int(sel.sum()), seed=SEED, reshuffle_each_iteration=True)
        ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
        # A file that fails to decode is dropped; repeat().take(n) keeps the size known.
        ds = ds.repeat().take(int(sel.sum()))
        parts.append(ds.batch(batch_size).prefetch(tf.data.AUTOTUNE))
    return tuple(parts)
''').substitute(path=_lit(path, "path"), size=_lit(size, "image.size"), channels=_lit(channels),
                  split=_SPLIT, stratify=_lit(bool(ds.split.stratify)))
    return _header(ds, path, "Read the image folder (one subfolder per class), decode and resize.",
                   "(image with pixels 0..255, class index)") + body


def _text(ds: DatasetSpec, path: str, pre: dict, base_dir, paths: ScriptPaths | None = None) -> str:
    vocab = pre.get("vocabulary_file")
    vocab_path = _path(vocab, base_dir) if vocab else None
    vocab_code = _lit(vocab_path, "vocabulary_file")
    if paths is not None and vocab_path is not None:
        # Out of reach: None, the vocabulary is learnt from the training split as the app did.
        vocab_code = _beside(vocab_path, path, paths) or "None"
    is_folder = ds.path.endswith(("/", os.sep)) or Path(path).is_dir() or Path(path).suffix == ""
    if is_folder:
        read = '''
    texts, raw = [], []
    for name in sorted(tf.io.gfile.listdir(PATH)):
        name = name.rstrip("/")
        if name.startswith(".") or not tf.io.gfile.isdir(PATH + "/" + name):
            continue
        for file in sorted(tf.io.gfile.glob(PATH + "/" + name + "/*.txt")):
            with tf.io.gfile.GFile(file, "rb") as fh:
                texts.append(fh.read().decode("utf-8", errors="replace"))
            raw.append(name)
    texts, raw = np.array(texts, dtype=object), np.array(raw)
'''
    else:
        delimiter = ds.delimiter or ","
        header = True if ds.header is None else ds.header
        read = _read_csv(ds) + Template('''
    MISSING = $missing
    SKIP_ROWS = $skip  # lines above the table (notes, counts) that are not read
    text_values, raw = read_columns(PATH, [$feature, $target], $delimiter, $header, SKIP_ROWS)
    labelled = ~np.isin(raw, MISSING)
    texts, raw = text_values[labelled].astype(object), raw[labelled]
''').substitute(missing=_MISSING_SOURCE, feature=_lit((ds.features or ["text"])[0], "features"),
                target=_lit((ds.targets or ["label"])[0], "targets"), delimiter=_lit(delimiter, "delimiter"),
                header=_lit(header, "header"), skip=_lit(ds.skip_rows, "skip_rows"))
    classification = (ds.task or "classification") == "classification"
    target = '''    names = sorted(set(raw.tolist()))
    try:
        names = sorted(names, key=float)
    except ValueError:
        pass
    y = np.array([names.index(v) for v in raw.tolist()], dtype="int32")
''' if classification else '''    y = raw.astype("float32")[:, None]
''' if ds.decimal != "," else '''    y = np.char.replace(raw, ",", ".").astype("float32")[:, None]  # decimal commas
'''
    if ds.text.strings:  # the model reads the texts itself (a text module): no token ids
        body = Template('''
    PATH = $path
$split$read$target    assignment = split(len(y), $labels, VALIDATION, TEST)
    x = texts.astype(str)  # each sample is its whole text
''').substitute(path=_lit(path, "path"), split=_SPLIT, read=read, target=target,
                labels="y" if classification and ds.split.stratify else "None")
        return _header(ds, path, "Read the texts; the model takes each as one string.",
                       "(text, target)") + body + _PARTS
    body = Template('''
    PATH = $path
    VOCABULARY = $vocab  # saved by Network Studio from the training split; None: learn it here
    MAX_TOKENS, SEQUENCE_LENGTH = $max_tokens, $length
$split$read$target    assignment = split(len(y), $labels, VALIDATION, TEST)
    if VOCABULARY is not None:
        vectorize = tf.keras.layers.TextVectorization(output_sequence_length=SEQUENCE_LENGTH,
                                                      vocabulary=VOCABULARY)
    else:
        vectorize = tf.keras.layers.TextVectorization(max_tokens=MAX_TOKENS,
                                                      output_sequence_length=SEQUENCE_LENGTH)
        train_texts = tf.data.Dataset.from_tensor_slices(texts[assignment == 0].astype(str))
        vectorize.adapt(train_texts.batch(1024))
    x = np.concatenate([np.asarray(vectorize(tf.constant(texts[i:i + 2048].astype(str))))
                        for i in range(0, len(texts), 2048)]).astype("int32")
''').substitute(path=_lit(path, "path"), vocab=vocab_code,
                max_tokens=_lit(ds.text.max_tokens, "text.max_tokens"),
                length=_lit(ds.text.sequence_length, "text.sequence_length"), split=_SPLIT, read=read, target=target,
                labels="y" if classification and ds.split.stratify else "None")
    return _header(ds, path, "Read the texts and turn each into token ids.",
                   "(token ids, target)") + body + _PARTS


def _series(ds: DatasetSpec, path: str) -> str:
    delimiter = ds.delimiter or ","
    header = True if ds.header is None else ds.header
    body = Template('''
    PATH = $path
    FEATURES = $features
    TARGETS = $targets
    LENGTH, STRIDE, HORIZON = $length, $stride, $horizon
    MISSING = $missing
    SKIP_ROWS = $skip  # lines above the table (notes, counts) that are not read
$read
    names = list(dict.fromkeys(FEATURES + TARGETS))
    columns = read_columns(PATH, names, $delimiter, $header, SKIP_ROWS)
    values = np.stack([to_numbers(v) for v in columns], axis=1)
    for j in range(values.shape[1]):  # carry the last value forward over gaps
        col = values[:, j]
        known = ~np.isnan(col)
        if not known.any():
            values[:, j] = 0.0
            continue
        idx = np.where(known, np.arange(len(col)), 0)
        np.maximum.accumulate(idx, out=idx)
        col = col[idx]
        first = np.flatnonzero(known)[0]
        col[:first] = col[first]  # before the first value: that value
        values[:, j] = col
    series = values[:, [names.index(f) for f in FEATURES]]
    target = values[:, [names.index(t) for t in TARGETS]]
    n = len(series)
    n_test = int(np.floor(n * TEST + 0.5))
    n_val = int(np.floor(n * VALIDATION + 0.5))
    bounds = [(0, n - n_val - n_test), (n - n_val - n_test, n - n_test), (n - n_test, n)]
    series = tf.constant(series.astype("float32"))
    target = tf.constant(target.astype("float32"))
    width = HORIZON * len(TARGETS)

    def window(start):
        future = target[start + LENGTH:start + LENGTH + HORIZON]
        return series[start:start + LENGTH], tf.reshape(future, (width,))

    parts = []
    for part, (lo, hi) in enumerate(bounds):
        count = max(0, (hi - lo - LENGTH - HORIZON) // STRIDE + 1)
        if count == 0 and part:
            parts.append(None)
            continue
        ds = tf.data.Dataset.from_tensor_slices(np.arange(lo, lo + count * STRIDE, STRIDE))
        ds = ds.map(window).cache()
        if part == 0:
            ds = ds.shuffle(10000, seed=SEED, reshuffle_each_iteration=True)
        parts.append(ds.batch(batch_size).prefetch(tf.data.AUTOTUNE))
    return tuple(parts)
''').substitute(path=_lit(path, "path"), features=_lit(ds.features or [], "features"),
                targets=_lit(ds.targets or [], "targets"), length=_lit(ds.window.length, "window.length"),
                stride=_lit(ds.window.stride, "window.stride"), horizon=_lit(ds.window.horizon, "window.horizon"),
                missing=_MISSING_SOURCE,
                read=_read_csv(ds), delimiter=_lit(delimiter, "delimiter"), header=_lit(header, "header"),
                skip=_lit(ds.skip_rows, "skip_rows"))
    return _header(ds, path, "Read the series and cut it into windows (chronological split).",
                   "(window of features, next values of the targets)") + body


# Keras' own data sets the loader reads, and how its docstring names them.
_KERAS_SETS = {"mnist": "MNIST", "cifar10": "CIFAR-10", "imdb": "IMDB"}


def _keras(ds: DatasetSpec, paths: ScriptPaths | None = None) -> str:
    name = ds.path
    if name not in _KERAS_SETS:
        raise DataError(f"dataset path: {show(name)} is not one of Keras' data sets ({', '.join(_KERAS_SETS)})")
    title = _KERAS_SETS[name]
    cache = registry.cache_dir()
    if name == "imdb":
        folder = ds.with_changes(kind="text", path=str(cache / "imdb"))
        return _portable(_text(folder, str(cache / "imdb"), {}, None), str(cache / "imdb"), paths)
    if name == "mnist":
        read = '''
    (x, y), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    x, x_test = x[..., None], x_test[..., None]
'''
    else:
        read = Template('''
    # The binary CIFAR-10 batches (cifar-10-binary.tar.gz, unpacked):
    FOLDER = $folder

    def batch(names):
        parts = [np.fromfile(FOLDER + "/" + f, dtype=np.uint8) for f in names]
        records = np.concatenate(parts).reshape(-1, 3073)
        images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return images, records[:, 0].astype("int64")

    x, y = batch([f"data_batch_{i}.bin" for i in range(1, 6)])
    x_test, y_test = batch(["test_batch.bin"])
''').substitute(folder=_lit(str(cache / "cifar-10-batches-bin")))
    body = read + _SPLIT + Template('''
    del TEST  # the dataset's own test set is the test split
    head = len(y)
    x = np.concatenate([x, x_test]).astype("float32")
    y = np.concatenate([y, y_test]).reshape(-1).astype("int32")
    assignment = np.concatenate([split(head, y[:head] if $stratify else None, VALIDATION, 0.0),
                                 np.full(len(y_test), 2, dtype=np.int8)])
''').substitute(stratify=_lit(bool(ds.split.stratify)))
    source = _header(ds, name, f"Load the {title} dataset; its own test set is the test split.",
                     "(image with pixels 0..255, class index)") + body + _PARTS
    if name == "cifar10":
        return _portable(source, str(cache / "cifar-10-batches-bin"), paths)
    return source
