"""Data bound per Input and output node: models with several inputs and outputs.

A spec with ``inputs``/``outputs`` (see `studio.data.spec`) feeds each Input
node its own group of table columns (or .npz arrays) and gives each output
node its own target, with its own task (classes or numbers). The datasets
yield ``((x_1, x_2, ...), (y_1, y_2, ...))`` batches in the order the caller
gives (the model's input and output order); a single input or output is a
plain tensor, as Keras wants. Each input is normalised with statistics of
the training rows only, by layers put in front of the model
(`BoundPrepared.wrap_model`), so a trained model takes raw inputs.

`describe_bound` says what each node gets (shape, task, classes) without
TensorFlow; `binding.check` turns that into diagnostics on the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core.errors import DataError
from studio.data import pipeline, splits
from studio.data.files import excerpt
from studio.data.info import DatasetInfo, split_sizes
from studio.data.spec import DatasetSpec, used_twice

# An integer array target with at most this many distinct values is read as classes.
MAX_ARRAY_CLASSES = 20


@dataclass
class NodeData:
    """What one bound node gets: for an Input its sample shape, for an output its target."""

    node: str
    role: str  # "input" | "output"
    names: list[str]  # the columns / arrays
    shape: tuple = ()  # one sample's shape (inputs: features; outputs: target, () for a class index)
    task: str | None = None  # outputs
    num_classes: int | None = None
    class_names: list[str] = field(default_factory=list)
    loss: str = "auto"
    weight: float | None = None

    def to_dict(self) -> dict:
        out: dict = {"node": self.node, "role": self.role, "names": list(self.names), "shape": list(self.shape)}
        if self.role == "output":
            out.update(task=self.task, num_classes=self.num_classes, class_names=list(self.class_names),
                       loss=self.loss, weight=self.weight)
        return out


def _require_bindings(spec: DatasetSpec, where: str, twice: bool = True) -> None:
    if not spec.inputs:
        raise DataError(f"{where}: the dataset binds no Input node; add 'inputs' with the columns of each Input")
    if not spec.outputs:
        raise DataError(f"{where}: the dataset binds no output node; add 'outputs' with the target of each output")
    found = used_twice(spec) if twice else []
    if found:
        name, first, second = found[0]
        raise DataError(f"{where}: {excerpt(name)} is bound to node {first!r} and to node {second!r}; a column or "
                        "array feeds one node only: remove it from one of them")


# --- tables ------------------------------------------------------------------------------------
def _table_sources(spec: DatasetSpec, base_dir: Any) -> list:
    """One CSV source per output: every bound input column as features, that output's target."""
    from studio.data.sources.tabular import CsvSource

    features = [name for b in spec.inputs for name in b.features]
    out = []
    for b in spec.outputs:
        # a column that is also this output's target is left out here (binding.check names it on its node)
        own = [name for name in features if name not in b.targets]
        single = spec.with_changes(inputs=None, outputs=None, features=own, targets=list(b.targets),
                                   task=b.task)
        out.append(CsvSource(single, base_dir))
    return out


def _input_slices(source: Any, spec: DatasetSpec) -> dict[str, np.ndarray]:
    """Per Input node, the positions of its encoded columns in the full feature vector."""
    where = {col.name: col for col in source.layout}
    out = {}
    for b in spec.inputs:
        idx: list[int] = []
        for name in b.features:
            col = where.get(name)
            if col is not None:  # None: the column is an output's target too (an error on the node)
                idx.extend(range(col.offset, col.offset + col.width))
        out[b.node] = np.asarray(idx, dtype=np.int64)
    return out


def _describe_table(spec: DatasetSpec, base_dir: Any) -> tuple[DatasetInfo, list[NodeData], list]:
    sources = _table_sources(spec, base_dir)
    infos = [s.describe() for s in sources]
    info = infos[0]
    slices = _input_slices(sources[0], spec)
    nodes = [NodeData(b.node, "input", list(b.features), (int(len(slices[b.node])),)) for b in spec.inputs]
    for b, sub in zip(spec.outputs, infos):
        shape = () if sub.task == "classification" else tuple(sub.target_shape)
        nodes.append(NodeData(b.node, "output", list(b.targets), shape, sub.task, sub.num_classes,
                              list(sub.class_names), b.loss, b.weight))
    problems = []
    for sub in infos:  # one problem per message: the feature columns' problems repeat per source
        for p in sub.problems:
            if all(p.message != q.message for q in problems):
                problems.append(p)
    info.problems = problems
    return info, nodes, sources


def _prepare_table(spec: DatasetSpec, base_dir: Any) -> tuple[DatasetInfo, list[NodeData], dict, dict, Any]:
    """(info, nodes, x per input node, y per output node, keep mask) of a table, encoded in memory."""
    info, nodes, sources = _describe_table(spec, base_dir)
    for s in sources:
        s.require_ok()
    n = info.num_samples
    width = info.feature_shape[0]
    if n * width * 4 > pipeline.IN_MEMORY_BYTES:
        raise DataError(f"{sources[0].path}: {n:,} rows of {width} values are too many to bind per node in "
                        "memory; use fewer rows or one Input")
    ys: list[np.ndarray] = []
    keep = np.ones(n, dtype=bool)
    x_all = None
    feat_missing = np.zeros(n, dtype=bool)
    for k, source in enumerate(sources):
        xs, y_parts, start = [], [], 0
        for x, y, fm, tm in source.iter_encoded():
            if k == 0:
                xs.append(x)
                feat_missing[start:start + len(x)] = fm
            y_parts.append(y)
            keep[start:start + len(x)] &= ~tm
            start += len(x)
        if start != n:
            raise DataError(f"{source.path}: the file changed while it was read; try again")
        if k == 0:
            x_all = np.concatenate(xs) if xs else np.zeros((0, width), dtype=np.float32)
        ys.append(np.concatenate(y_parts))
    if spec.missing == "drop":
        keep &= ~feat_missing
    assert x_all is not None
    slices = _input_slices(sources[0], spec)
    numeric = np.zeros(width, dtype=bool)
    for col in sources[0].layout:
        if col.type == "numeric":
            numeric[col.offset:col.offset + col.width] = True
    x = {b.node: x_all[:, slices[b.node]] for b in spec.inputs}
    scaled = {b.node: numeric[slices[b.node]] for b in spec.inputs}
    y = {b.node: arr for b, arr in zip(spec.outputs, ys)}
    return info, nodes, {"x": x, "scaled": scaled, "source": sources[0]}, y, keep


# --- arrays ------------------------------------------------------------------------------------
def array_names(path: Any) -> list[str]:
    """The names of the arrays of an .npz file (what its nodes can be bound to); [] when it
    cannot be read (the Data panel says why from its own reading)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return list(archive.files)
    except (OSError, ValueError):
        return []


def _load_npz(path: Any) -> Any:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the .npz file ({exc})") from None


def _array_task(y: np.ndarray, given: str | None) -> str:
    if given:
        return given
    if np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_):
        if y.ndim <= 1 or (y.ndim == 2 and y.shape[1] == 1):
            if len(np.unique(y)) <= MAX_ARRAY_CLASSES:
                return "classification"
    return "regression"


def _arrays(spec: DatasetSpec, base_dir: Any) -> tuple[DatasetInfo, list[NodeData], dict, dict, Any]:
    from studio.data.registry import resolve_path

    path = resolve_path(spec.path, base_dir)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    archive = _load_npz(path)
    keys = list(archive.files)

    def get(name: str, node: str) -> np.ndarray:
        if name not in keys:
            raise DataError(f"{path}: there is no array named {excerpt(name)} (bound to node {node!r}); the arrays "
                            f"are {', '.join(keys)}")
        return np.asarray(archive[name])

    x: dict[str, np.ndarray] = {}
    scaled: dict[str, np.ndarray] = {}
    nodes: list[NodeData] = []
    n = None
    for b in spec.inputs:
        parts = [get(name, b.node) for name in b.features]
        parts = [p.reshape(len(p), 1) if p.ndim == 1 else p for p in parts]
        arr = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
        x[b.node] = arr.astype(np.float32)
        scaled[b.node] = np.ones(arr.shape[-1], dtype=bool)
        nodes.append(NodeData(b.node, "input", list(b.features), tuple(arr.shape[1:])))
        n = len(arr) if n is None else n
    y: dict[str, np.ndarray] = {}
    for b in spec.outputs:
        arr = get(b.targets[0], b.node)
        task = _array_task(arr, b.task)
        node = NodeData(b.node, "output", list(b.targets), (), task, loss=b.loss, weight=b.weight)
        if task == "classification":
            values = np.unique(arr)
            node.class_names = [str(v) for v in values.tolist()]
            node.num_classes = len(values)
            arr = np.searchsorted(values, arr.reshape(len(arr))).astype(np.int32)
        else:
            arr = arr.astype(np.float32)
            arr = arr.reshape(len(arr), 1) if arr.ndim == 1 else arr
            node.shape = tuple(arr.shape[1:])
        y[b.node] = arr
        nodes.append(node)
    for name, arr in list(x.items()) + list(y.items()):
        if len(arr) != n:
            raise DataError(f"{path}: the arrays bound to the nodes have different numbers of samples "
                            f"({n} and {len(arr)} for node {name!r}); every array needs one row per sample")
    info = DatasetInfo(kind="npz", path=str(path), num_samples=int(n or 0))
    first = nodes[0]
    info.feature_shape = first.shape
    info.features = [name for b in spec.inputs for name in b.features]
    info.targets = [name for b in spec.outputs for name in b.targets]
    out0 = next(nd for nd in nodes if nd.role == "output")
    info.task = out0.task or "regression"
    info.num_classes = out0.num_classes
    info.class_names = list(out0.class_names)
    info.split_sizes = split_sizes([int(n or 0)], spec.split.validation, spec.split.test)
    info.spec = spec.to_dict()
    keep = np.ones(int(n or 0), dtype=bool)
    for arr in x.values():
        keep &= np.isfinite(arr.reshape(len(arr), -1)).all(axis=1)
    return info, nodes, {"x": x, "scaled": scaled, "source": None}, y, keep


# --- public --------------------------------------------------------------------------------------
def describe_bound(spec: DatasetSpec, base_dir: Any = None) -> tuple[DatasetInfo, list[NodeData]]:
    """The dataset's info (of its first output) and what each bound node gets."""
    _require_bindings(spec, spec.path, twice=False)  # a column bound twice: an error on the node (binding.check)
    if spec.kind == "npz":
        info, nodes, _, _, _ = _arrays(spec, base_dir)
    elif spec.image.column:  # each row names an image file
        from studio.data import image_table

        info, nodes, _, _, _ = image_table.read(spec, base_dir)
    else:
        info, nodes, _ = _describe_table(spec, base_dir)
    info.spec = spec.to_dict()
    info.bound = [nd.to_dict() for nd in nodes]
    return info, nodes


@dataclass
class BoundPrepared(pipeline.PreparedData):
    """`PreparedData` of a spec bound per node: tuples of inputs and targets in the model's order."""

    nodes: list[NodeData] = field(default_factory=list)
    input_order: list[str] = field(default_factory=list)
    output_order: list[str] = field(default_factory=list)

    def output_nodes(self) -> list[NodeData]:
        by_id = {nd.node: nd for nd in self.nodes if nd.role == "output"}
        return [by_id[n] for n in self.output_order]

    def wrap_model(self, model: Any, raw_text: bool = False) -> Any:
        """A keras.Model taking each input raw: its own Normalization in front, the outputs keeping
        the model's output names (so metrics are named 'OUTPUT_accuracy')."""
        return wrap_raw_inputs(model, input_norms({"preprocessing": self.preprocessing}, self.input_order))

    def preprocessing_layers(self, raw_text: bool = False) -> list:
        return []


def input_norms(spec: dict, input_order: list[str]) -> list[dict | None]:
    """Per Input node of `input_order`, how the model scales its data (``preprocessing.inputs`` of
    a prepared spec): {"normalize": {"mean", "variance"}} and/or {"rescale": factor}, or None."""
    per_input = ((spec or {}).get("preprocessing") or {}).get("inputs") or {}
    out: list[dict | None] = []
    for node in input_order:
        entry = per_input.get(node) or {}
        norm = entry.get("normalize")
        found = {}
        if isinstance(norm, dict) and norm.get("mean") is not None:
            found["normalize"] = norm
        if isinstance(entry.get("rescale"), (int, float)):
            found["rescale"] = float(entry["rescale"])
        out.append(found or None)
    return out


def wrap_raw_inputs(model: Any, norms: list[dict | None]) -> Any:
    """`model` taking each input raw: in front of input i, a Rescaling by `norms[i]["rescale"]`
    (images) and/or a Normalization with `norms[i]["normalize"]`'s mean and variance (none where it
    is None), the outputs keeping the model's output names. The model as it is when no input is
    scaled. The exported script's ``add_preprocessing`` builds the same Normalization layers."""
    import keras

    if not any(norms):
        return model
    raw, fed = [], []
    for norm, tensor in zip(norms, model.inputs):
        name = tensor.name if isinstance(getattr(tensor, "name", None), str) else f"input_{len(raw)}"
        x = keras.Input(shape=tuple(tensor.shape[1:]), dtype=tensor.dtype, name=f"{name}_raw")
        raw.append(x)
        if norm and norm.get("rescale"):
            x = keras.layers.Rescaling(norm["rescale"], name=f"{name}_rescale")(x)
        if norm and norm.get("normalize"):
            stats = norm["normalize"]
            x = keras.layers.Normalization(axis=-1, mean=np.asarray(stats["mean"], dtype="float32"),
                                           variance=np.asarray(stats["variance"], dtype="float32"),
                                           name=f"{name}_normalize")(x)
        fed.append(x)
    outs = model(fed if len(fed) > 1 else fed[0])
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    names = list(getattr(model, "output_names", None) or [])
    if len(names) == len(outs):
        outs = [keras.layers.Identity(name=n)(t) for n, t in zip(names, outs)]
    return keras.Model(raw if len(raw) > 1 else raw[0], outs if len(outs) > 1 else outs[0],
                       name=f"{model.name}_raw_inputs")


def prepare_bound(spec: DatasetSpec, base_dir: Any = None, batch_size: int = 32, seed: int | None = None,
                  input_order: list[str] | None = None, output_order: list[str] | None = None) -> BoundPrepared:
    """Split the bound data, fit each input's statistics on the training rows, and batch
    ``((x per input), (y per output))`` in `input_order` / `output_order` (node ids; default:
    the bindings' order)."""
    import tensorflow as tf

    _require_bindings(spec, spec.path)
    if spec.kind == "npz":
        info, nodes, xs, ys, keep = _arrays(spec, base_dir)
    elif spec.image.column:  # each row names an image file
        from studio.data import image_table

        info, nodes, xs, ys, keep = image_table.read(spec, base_dir, load_images=True)
    else:
        info, nodes, xs, ys, keep = _prepare_table(spec, base_dir)
    inputs = list(input_order or [b.node for b in spec.inputs])
    outputs = list(output_order or [b.node for b in spec.outputs])
    for node in inputs:
        if node not in xs["x"]:
            raise DataError(f"{spec.path}: the model's Input node {node!r} has no data; bind columns to it "
                            "(dataset.inputs)")
    for node in outputs:
        if node not in ys:
            raise DataError(f"{spec.path}: the model's output node {node!r} has no target; bind a column to it "
                            "(dataset.outputs)")
    n = info.num_samples
    split = spec.split
    labels = None
    if split.stratify:
        by_id = {nd.node: nd for nd in nodes}
        first_class = next((o for o in outputs if by_id[o].task == "classification"), None)
        if first_class is not None:
            labels = ys[first_class].astype(np.int64).reshape(n)
    assignment = splits.assign(n, split.validation, split.test, split.seed, labels, keep)
    train_rows = np.flatnonzero(assignment == splits.TRAIN)
    if len(train_rows) == 0:
        raise DataError(f"{spec.path}: no rows are left for training (every row has a missing value?); "
                        "set missing values to 'fill'")
    per_input: dict[str, dict] = {}
    for node in inputs:
        arr = xs["x"][node]
        if node in xs.get("rescale", ()):  # an image's pixels 0..255: rescaled by the model
            per_input[node] = {"rescale": 1.0 / 255.0}
            continue
        flat = arr.reshape(len(arr), -1) if arr.ndim > 2 else arr
        mean, var = pipeline.moments(flat[train_rows])
        scaled = xs["scaled"][node]
        if arr.ndim <= 2:
            mean[~scaled] = 0.0
            var[~scaled] = 1.0
        if spec.missing == "fill":
            bad = np.isnan(flat)
            if bad.any():
                flat[bad] = np.broadcast_to(mean.astype(np.float32), flat.shape)[bad]
        entry: dict = {}
        if arr.ndim <= 2 and scaled.any():
            entry["normalize"] = pipeline.normalize_entry(mean, var)
        per_input[node] = entry
    by_id = {nd.node: nd for nd in nodes}
    pre: dict = {"inputs": per_input,
                 "outputs": {o: {"class_names": list(by_id[o].class_names)} for o in outputs
                             if by_id[o].task == "classification"}}
    resolved = spec.to_dict()
    resolved["preprocessing"] = pre
    for item in resolved.get("outputs", []):  # each output's task as read from its data
        item["task"] = by_id[item["node"]].task
    info.spec = resolved
    info.bound = [nd.to_dict() for nd in nodes]
    seed = split.seed if seed is None else int(seed)
    datasets, counts = [], {}
    for part, name in ((splits.TRAIN, "train"), (splits.VALIDATION, "validation"), (splits.TEST, "test")):
        idx = np.flatnonzero(assignment == part)
        counts[name] = int(len(idx))
        if len(idx) == 0 and part != splits.TRAIN:
            datasets.append(None)
            continue
        if part == splits.TRAIN:
            idx = idx[np.random.default_rng(seed).permutation(len(idx))]
        x_part = tuple(xs["x"][node][idx] for node in inputs)
        y_part = tuple(ys[node][idx] for node in outputs)
        element = (x_part if len(x_part) > 1 else x_part[0], y_part if len(y_part) > 1 else y_part[0])
        ds = tf.data.Dataset.from_tensor_slices(element)
        datasets.append(pipeline.finish(ds, batch_size, part == splits.TRAIN, seed, cache=False))
    test_samples = None
    source = xs.get("source")
    if xs.get("samples"):
        test_samples = dict(xs["samples"], refs=np.flatnonzero(assignment == splits.TEST).tolist())
    elif source is not None:
        test_samples = {"kind": "table", "path": str(source.path),
                        "refs": np.flatnonzero(assignment == splits.TEST).tolist(),
                        "format": source.scan.fmt.settings() if source.scan else None}
    return BoundPrepared(train=datasets[0], validation=datasets[1], test=datasets[2], info=info, spec=resolved,
                         batch_size=batch_size, counts=counts, test_samples=test_samples, nodes=nodes,
                         input_order=inputs, output_order=outputs)
