"""A table whose rows name image files: an image plus side features per sample, bound per node.

The spec is a CSV bound per node (`studio.data.multi`) with ``"image": {"column": "file",
"folder": "images", "size": [h, w], "color": "rgb"}``: an Input bound to ``["file"]`` gets each
row's image (pixels 0..255 as float32, resized to ``size``; the model rescales them by 1/255 in its
first layer), the other Inputs the table's side columns (numbers as they are, standardised by the
model; words one-hot), and each output a column of the table (classes or numbers) or, bound to
``["file:folder"]``, the name of the folder holding each image as its class.

Image paths are relative to the folder and must stay inside it ("../x.png" is refused naming the
line). `read(spec, base_dir, load_images=False)` checks every file is there and reads only the first
image (its size and colours); `load_images=True` reads them all into memory.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from studio.core.errors import DataError
from studio.data import csvreader
from studio.data.files import excerpt
from studio.data.info import ColumnInfo, DatasetInfo, split_sizes
from studio.data.spec import DatasetSpec

MAX_CLASSES_OF_NUMBERS = 20  # whole numbers with at most this many values are classes
GRAY_MODES = ("1", "L", "I", "I;16", "F")


def _rows(spec: DatasetSpec, path: Path) -> tuple[Any, list[str], list[list[str]], list[int]]:
    fmt = csvreader.sniff(path, delimiter=spec.delimiter, header=spec.header, encoding=spec.encoding,
                          decimal=spec.decimal, skip_rows=spec.skip_rows)
    rows: list[list[str]] = []
    lines: list[int] = []
    for chunk, numbers in csvreader.read_chunks(fmt):
        rows.extend(chunk)
        lines.extend(numbers)
    if not rows:
        raise DataError(f"{path}: the table has no rows")
    return fmt, list(fmt.names), rows, lines


def _image_files(spec: DatasetSpec, path: Path, values: list[str], lines: list[int]) -> list[Path]:
    root = (path.parent / spec.image.folder) if spec.image.folder else path.parent
    if not root.is_dir():
        raise DataError(f"{root}: the image folder (dataset.image.folder) does not exist; set it to the folder "
                        "the table's file names are relative to")
    top = root.resolve()
    out = []
    for value, line in zip(values, lines):
        name = value.strip().replace("\\", "/")
        if not name:
            raise DataError(f"{path}, line {line}: the column {excerpt(spec.image.column)} names no image file")
        file = (root / name).resolve()
        if not file.is_relative_to(top):
            raise DataError(f"{path}, line {line}: the image {excerpt(name)} is outside the image folder {root}; "
                            "name files relative to it, without '..'")
        if not file.is_file():
            raise DataError(f"{path}, line {line}: the image file {excerpt(name)} is not in {root}; fix the name "
                            "or the image folder (dataset.image.folder)")
        out.append(file)
    return out


def _open(file: Path, size: tuple[int, int] | None, color: str | None) -> Any:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as im:
            im.load()
            mode = color or ("grayscale" if im.mode in GRAY_MODES else "rgb")
            im = im.convert("L" if mode == "grayscale" else "RGB")
            if size is not None and im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]))
            arr = np.asarray(im, dtype=np.float32)
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"{file}: cannot read the image ({excerpt(exc, 80)})") from None
    return arr[..., None] if arr.ndim == 2 else arr, mode


def _side(name: str, values: list[str], decimal: str, categorical: str) -> tuple[np.ndarray, np.ndarray]:
    """A side column as float32 (missing as NaN): numbers as they are, words one-hot (or as
    indices), with which of its values are numbers to standardise."""
    try:
        return csvreader.to_float(values, decimal).astype(np.float32)[:, None], np.array([True])
    except ValueError:
        pass
    cats = sorted(set(values) - set(csvreader.MISSING_TOKENS))
    index = np.array([cats.index(v) if v in cats else -1 for v in values])
    if categorical == "index":
        return np.where(index >= 0, index, np.nan).astype(np.float32)[:, None], np.array([False])
    block = np.zeros((len(values), len(cats)), dtype=np.float32)
    block[np.flatnonzero(index >= 0), index[index >= 0]] = 1.0
    block[index < 0] = np.nan
    return block, np.zeros(len(cats), dtype=bool)


def _target(values: list[str], task: str | None, decimal: str) -> tuple[str, np.ndarray, list[str], np.ndarray]:
    """(task, targets, class names, labelled mask): class indices of the sorted values, or numbers."""
    missing = set(csvreader.MISSING_TOKENS)
    labelled = np.array([v not in missing for v in values])
    try:
        numbers = csvreader.to_float(values, decimal)
    except ValueError:
        numbers = None
    if task is None:
        task = "classification"
        if numbers is not None:
            seen = numbers[labelled]
            whole = bool(np.all(seen == np.round(seen)))
            task = "classification" if whole and len(np.unique(seen)) <= MAX_CLASSES_OF_NUMBERS else "regression"
    if task == "regression":
        if numbers is None:
            raise ValueError("not numbers")
        return task, numbers.astype(np.float32)[:, None], [], labelled & ~np.isnan(numbers)
    if numbers is not None:
        order = sorted({float(v) for v in numbers[labelled]})
        names = [f"{v:g}" for v in order]
        y = np.array([order.index(float(v)) if ok else -1 for v, ok in zip(numbers, labelled)], dtype=np.int32)
    else:
        names = sorted({v for v, ok in zip(values, labelled) if ok})
        y = np.array([names.index(v) if ok else -1 for v, ok in zip(values, labelled)], dtype=np.int32)
    return task, y, names, labelled


def read(spec: DatasetSpec, base_dir: Any, load_images: bool = False) -> tuple:
    """(info, nodes, xs, ys, keep) as `studio.data.multi` expects them; images read only when
    `load_images` (else each is checked to be there and the first sets the size)."""
    from studio.data.multi import NodeData
    from studio.data.registry import resolve_path

    path = resolve_path(spec.path, base_dir)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    fmt, names, rows, lines = _rows(spec, path)
    column, pseudo = spec.image.column, spec.image.folder_target
    if column not in names:
        raise DataError(f"{path}: there is no column {excerpt(column)} naming the images (dataset.image.column); "
                        f"the columns are {', '.join(names)}")
    where = {name: i for i, name in enumerate(names)}

    def values(name: str, node: str) -> list[str]:
        if name not in where:
            raise DataError(f"{path}: there is no column {excerpt(name)} (bound to node {node!r}); the columns are "
                            f"{', '.join(names)}" + (f", and {pseudo} (the class of each image's folder)"
                                                      if pseudo else ""))
        i = where[name]
        return [row[i].strip() if i < len(row) else "" for row in rows]

    n = len(rows)
    files = _image_files(spec, path, values(column, "?"), lines)
    first, mode = _open(files[0], None, spec.image.color)  # its own size: the colours, the default size
    size = spec.image.size or (int(first.shape[0]), int(first.shape[1]))
    nodes: list = []
    x: dict[str, np.ndarray] = {}
    scaled: dict[str, np.ndarray] = {}
    rescale: set[str] = set()
    keep = np.ones(n, dtype=bool)
    for b in spec.inputs or []:
        if column in b.features:
            if len(b.features) != 1:
                raise DataError(f"{path}: the image column {excerpt(column)} feeds an Input of its own; bind the "
                                f"other columns of node {b.node!r} to another Input")
            shape = (int(size[0]), int(size[1]), int(first.shape[-1]))
            from studio.data.pipeline import IN_MEMORY_BYTES

            if n * shape[0] * shape[1] * shape[2] * 4 > IN_MEMORY_BYTES:
                raise DataError(f"{path}: {n:,} images of {shape[0]}x{shape[1]} are too many to hold in memory "
                                "with their side features; set a smaller dataset.image.size or use fewer rows")
            if load_images:
                x[b.node] = np.stack([_open(f, size, mode)[0] for f in files]).astype(np.float32)
            rescale.add(b.node)
            scaled[b.node] = np.zeros(1, dtype=bool)
            nodes.append(NodeData(b.node, "input", list(b.features), shape))
            continue
        blocks = [_side(name, values(name, b.node), fmt.decimal, spec.categorical) for name in b.features]
        arr = np.concatenate([blk for blk, _ in blocks], axis=1)
        bad = np.isnan(arr).any(axis=1)
        if bad.any() and spec.missing == "error":
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"{path}, line {lines[row]}: a side column of node {b.node!r} has no value; fill it, "
                            "or set missing values to 'drop' or 'fill'")
        if spec.missing == "drop":
            keep &= ~bad
        x[b.node] = arr
        scaled[b.node] = np.concatenate([mask for _, mask in blocks])
        nodes.append(NodeData(b.node, "input", list(b.features), (int(arr.shape[1]),)))
    ys: dict[str, np.ndarray] = {}
    for b in spec.outputs or []:
        name = b.targets[0]
        if name == pseudo:
            raw = [PurePosixPath(v.strip().replace("\\", "/")).parent.name for v in values(column, b.node)]
            task = "classification"
        else:
            raw = values(name, b.node)
            task = b.task
        try:
            task, y, classes, labelled = _target(raw, task, fmt.decimal)
        except ValueError:
            raise DataError(f"{path}: output {b.node!r} predicts numbers but its column {excerpt(name)} holds "
                            "words; bind a column of numbers or set its task to classification") from None
        keep &= labelled
        shape = () if task == "classification" else (1,)
        nodes.append(NodeData(b.node, "output", list(b.targets), shape, task, len(classes) or None, classes,
                              b.loss, b.weight))
        ys[b.node] = y
    info = DatasetInfo(kind="csv", path=str(path), num_samples=n)
    inputs = [nd for nd in nodes if nd.role == "input"]
    outputs = [nd for nd in nodes if nd.role == "output"]
    info.feature_shape = inputs[0].shape if inputs else ()
    info.image_size = tuple(size)
    info.features = [c for nd in inputs for c in nd.names]
    info.targets = [c for nd in outputs for c in nd.names]
    if outputs:
        info.task = outputs[0].task or "regression"
        info.num_classes = outputs[0].num_classes
        info.class_names = list(outputs[0].class_names)
        if info.task == "classification":
            first_y = ys[outputs[0].node]
            info.class_counts = [int((first_y == k).sum()) for k in range(len(info.class_names))]
    info.columns = [ColumnInfo(name, "text" if name == column else "numeric",
                               role="feature" if name in info.features else
                               "target" if name in info.targets else "") for name in names]
    if pseudo:
        info.columns.append(ColumnInfo(pseudo, "categorical", role="target" if pseudo in info.targets else ""))
    info.preview_rows = [list(row) + ([PurePosixPath(row[where[column]].strip().replace("\\", "/")).parent.name]
                                      if pseudo else []) for row in rows[:20]]
    info.split_sizes = split_sizes([int(keep.sum())], spec.split.validation, spec.split.test)
    # the Evaluation tab lists the table's rows, each with its image's thumbnail
    samples = {"kind": "table", "path": str(path), "format": fmt.settings(), "image_column": column,
               "image_folder": str((path.parent / spec.image.folder) if spec.image.folder else path.parent)}
    return info, nodes, {"x": x, "scaled": scaled, "source": None, "rescale": rescale, "samples": samples}, ys, keep

