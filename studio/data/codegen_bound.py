"""The exported script's ``load_data()`` for data bound per Input and output node (pure).

A spec with ``inputs``/``outputs`` (`studio.data.spec`) in the model's order (the exporter
orders it by the plan) gives a loader returning ``((one array per Input), (one per output))``
batches: each Input's columns (or .npz arrays), each output's target, classes as indices in
the app's class order, numbers as float32. The split is the app's (seeded, stratified by the
first class output). Like the app's, the loader yields each input raw when the spec holds each
input's statistics (``preprocessing.inputs``, what `studio.data.prepare` fitted on the training
rows): the script then puts a Normalization with them in front of each Input
(`add_preprocessing_source`, the layers of `studio.data.multi.wrap_raw_inputs`), so its saved
model takes raw inputs like the app's. Without statistics the loader standardises each input on
its training rows itself (and the model takes standardised inputs).

Values from the project go through `studio.data.codegen._lit` (the literal writer only).
"""

from __future__ import annotations

from string import Template

from studio.core.errors import DataError
from studio.data import codegen
from studio.data.codegen import _MISSING_SOURCE, _SPLIT, INDENT, Seq, _lit, _read_csv, render
from studio.data.spec import DatasetSpec

_BATCHED = '''
    def batched(x, y, training):
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if training:
            ds = ds.shuffle(min(len(x[0]), 10000), seed=SEED, reshuffle_each_iteration=True)
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def standardise(xs, scaled, assignment):
        """Each input's scaled columns: minus the mean, over the deviation, of the training rows."""
        out = []
        for x, mask in zip(xs, scaled):
            train = x[assignment == 0]
            count = max(len(train), 1)
            mean = np.nansum(train, axis=0, dtype="float64") / count
            var = np.nansum((train - mean) ** 2, axis=0, dtype="float64") / count
            var[var < 1e-12] = 1.0
            mean[~mask], var[~mask] = 0.0, 1.0
            out.append(((x - mean) / var ** 0.5).astype("float32"))
        return out

    def parts(xs, ys, assignment):
        out = []
        for part in (0, 1, 2):
            sel = assignment == part
            if not sel.any() and part:
                out.append(None)
                continue
            x = tuple(a[sel] for a in xs)
            y = tuple(a[sel] for a in ys)
            out.append(batched(x if len(x) > 1 else x[0], y if len(y) > 1 else y[0], part == 0))
        return tuple(out)
'''


def _header(spec: DatasetSpec, path: str, what: str, raw: bool = False) -> str:
    note = ("Each input is raw, as in the file: add_preprocessing() puts its scaling in the model." if raw else
            "Each input's numbers are standardised here with the mean and variance of its training rows.")
    return codegen._header(spec, path, what, "((one array per Input), (one target per output)) in the model's "
                           "order", note, "stratified by the first class output" if spec.split.stratify
                           else "random")


def _classes(spec: DatasetSpec) -> list:
    """Per output (in order): its class names, or None when it predicts numbers."""
    pre = (spec.preprocessing or {}).get("outputs", {})
    out = []
    for binding in spec.outputs or []:
        names = (pre.get(binding.node) or {}).get("class_names")
        out.append(list(names or []) if binding.task == "classification" or names else None)
    return out


def bound_norms(spec: dict | None) -> list | None:
    """Per Input binding (the model's order, once `in_model_order` has sorted them), the
    {"mean", "variance"} the app standardises its data with, or None for an Input without; None
    when the spec is not bound per node or holds no statistics."""
    if not isinstance(spec, dict) or not spec.get("inputs"):
        return None
    per_input = ((spec.get("preprocessing") or {}).get("inputs") or {})
    out: list = []
    for binding in spec["inputs"]:
        norm = (per_input.get(binding.get("node")) or {}).get("normalize") if isinstance(binding, dict) else None
        ok = isinstance(norm, dict) and isinstance(norm.get("mean"), list) and isinstance(norm.get("variance"), list)
        out.append({"mean": [float(v) for v in norm["mean"]], "variance": [float(v) for v in norm["variance"]]}
                   if ok else None)
    return out if any(out) else None


def scaling_constants(norms: list) -> str:
    """``NORMALIZE``: per Input, the (mean, variance) of its values, or None."""
    lines = ["# Each Input's scaling fitted on the training split: the model takes raw inputs.",
             "# Per Input, in the model's order: (mean, variance) of its values, or None (not scaled).",
             "NORMALIZE = ["]
    for norm in norms:
        if norm is None:
            lines.append(f"{INDENT}None,")
            continue
        pair = Seq((Seq(tuple(norm["mean"]), "list"), Seq(tuple(norm["variance"]), "list")), "tuple")
        lines.append(INDENT + render(pair, 1, 0, 1) + ",")
    lines.append("]")
    return "\n".join(lines)


ADD_PREPROCESSING = '''
def add_preprocessing(model: keras.Model) -> keras.Model:
    """The model taking each input raw: its Normalization (NORMALIZE), then the network.

    These are the layers Network Studio puts in front of the model it trains; the outputs keep
    their names, so compile_model() gives each its loss and metrics.
    """
    raw, fed = [], []
    for i, (inputs, scaling) in enumerate(zip(model.inputs, NORMALIZE)):
        x = keras.Input(shape=inputs.shape[1:], dtype=inputs.dtype, name=f"raw_input_{i + 1}")
        raw.append(x)
        if scaling is not None:
            x = layers.Normalization(mean=scaling[0], variance=scaling[1], name=f"normalize_{i + 1}")(x)
        fed.append(x)
    outputs = model(fed)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    ends = model.get_config()["output_layers"]  # [name, node, tensor] per output (one output: not nested)
    names = [end[0] for end in ends] if isinstance(ends[0], list) else [ends[0]]
    outputs = [layers.Identity(name=name)(y) for name, y in zip(names, outputs)]
    return keras.Model(raw, outputs if len(outputs) > 1 else outputs[0], name=f"{model.name}_raw_inputs")
'''


def add_preprocessing_source() -> str:
    """``add_preprocessing(model)`` for a model with several Inputs (reads ``NORMALIZE``)."""
    return ADD_PREPROCESSING.strip("\n")


def bound_loader(ds: DatasetSpec, path: str) -> str:
    """Source of ``load_data(batch_size=None)`` for a table or .npz bound per node: each input raw
    when the spec holds its statistics (the model scales it), else standardised here."""
    if ds.image.column:
        raise DataError(f"{path}: the exported script cannot read images named in a table yet "
                        f"(dataset.image.column {ds.image.column!r}); export the trained model as .keras or "
                        "SavedModel, or export the script without the dataset")
    raw = bound_norms(ds.to_dict()) is not None
    return _arrays(ds, path, raw) if ds.kind == "npz" else _table(ds, path, raw)


def _finish(raw: bool, arrays: bool = False) -> str:
    if raw:
        return "return parts(xs, ys, assignment)  # raw: add_preprocessing() puts each input's scaling in the model"
    if arrays:
        return "return parts(standardise(xs, scaled, assignment) if False not in flat else xs, ys, assignment)"
    return "return parts(standardise(xs, scaled, assignment), ys, assignment)"


def _table(ds: DatasetSpec, path: str, raw: bool = False) -> str:
    delimiter = ds.delimiter or ("\t" if ds.kind == "tsv" else ",")
    header = True if ds.header is None else ds.header
    body = Template('''
    PATH = $path
    INPUTS = $inputs  # the columns of each Input, in the model's input order
    OUTPUTS = $outputs  # the target column(s) of each output, in the model's output order
    CLASSES = $classes  # per output: its class names ([]: the column's sorted values), or None (numbers)
    ONE_HOT = $onehot
    MISSING_VALUES = $missing_policy  # "error", "drop" or "fill"
    MISSING = $missing
    SKIP_ROWS = $skip  # lines above the table (notes, counts) that are not read
$read$split$batched
    def encode(names):
        """One input's columns as float32 (categories one-hot or as indices), and which are numbers."""
        pieces, numbers = [], []
        for name in names:
            values = columns[name]
            try:
                pieces.append(to_numbers(values)[:, None])
                numbers.append(True)
                continue
            except ValueError:  # text: read as categories
                cats = sorted(set(values.tolist()) - set(MISSING))
            index = np.array([cats.index(v) if v in cats else -1 for v in values.tolist()], dtype=np.int64)
            if MISSING_VALUES == "fill" and (index >= 0).any():
                index[index < 0] = np.bincount(index[index >= 0], minlength=len(cats)).argmax()
            if ONE_HOT:
                block = np.zeros((len(values), len(cats)), dtype="float32")
                block[np.flatnonzero(index >= 0), index[index >= 0]] = 1.0
                block[index < 0] = np.nan
            else:
                block = np.where(index >= 0, index, np.nan).astype("float32")[:, None]
            pieces.append(block)
            numbers += [False] * block.shape[1]
        return np.concatenate(pieces, axis=1), np.array(numbers)

    wanted = list(dict.fromkeys(c for cols in INPUTS + OUTPUTS for c in cols))
    columns = dict(zip(wanted, read_columns(PATH, wanted, $delimiter, $header, SKIP_ROWS)))
    encoded = [encode(cols) for cols in INPUTS]
    xs, scaled = [e[0] for e in encoded], [e[1] for e in encoded]
    n = len(xs[0])
    ys, labelled, labels = [], np.ones(n, dtype=bool), None
    for cols, names in zip(OUTPUTS, CLASSES):
        if names is None:
            y = np.stack([to_numbers(columns[c]) for c in cols], axis=1)
            labelled &= ~np.isnan(y).any(axis=1)
        else:
            raw = columns[cols[0]].tolist()
            names = names or sorted(set(raw) - set(MISSING))  # [] : the column's sorted values
            lookup = {name: i for i, name in enumerate(names)}
            y = np.array([lookup.get(v, -1) for v in raw], dtype="int32")
            labelled &= y >= 0
            labels = y if labels is None else labels
        ys.append(y)
    incomplete = np.zeros(n, dtype=bool)
    for x in xs:
        incomplete |= np.isnan(x).any(axis=1)
    if MISSING_VALUES == "error" and incomplete.any():
        raise ValueError(f"{PATH}: {int(incomplete.sum())} rows have missing values")
    keep = labelled & (~incomplete if MISSING_VALUES == "drop" else True)
    xs, ys = [x[keep] for x in xs], [y[keep] for y in ys]
    stratify = $stratify and labels is not None
    assignment = split(int(keep.sum()), labels[keep] if stratify else None, VALIDATION, TEST)
    for x in xs:  # missing numbers: the mean of the training rows
        missing = np.isnan(x)
        if missing.any():
            train = x[assignment == 0]
            seen = (~np.isnan(train)).sum(axis=0)
            mean = np.nansum(train, axis=0, dtype="float64") / np.maximum(seen, 1)
            x[missing] = np.broadcast_to(mean.astype("float32"), x.shape)[missing]
    $finish
''').substitute(finish=_finish(raw), path=_lit(path, "path"), inputs=_lit([b.features for b in ds.inputs or []], "inputs"),
                outputs=_lit([b.targets for b in ds.outputs or []], "outputs"),
                classes=_lit(_classes(ds), "preprocessing.outputs"), onehot=_lit(ds.categorical == "onehot"),
                missing_policy=_lit(ds.missing, "missing"), missing=_MISSING_SOURCE, read=_read_csv(ds),
                split=_SPLIT, batched=_BATCHED, delimiter=_lit(delimiter, "delimiter"),
                header=_lit(header, "header"), skip=_lit(ds.skip_rows, "skip_rows"),
                stratify=_lit(bool(ds.split.stratify)))
    return _header(ds, path, "Read each Input's columns and each output's target, and split them.", raw) + body


def _arrays(ds: DatasetSpec, path: str, raw: bool = False) -> str:
    body = Template('''
    PATH = $path
    INPUTS = $inputs  # the arrays of each Input, in the model's input order
    OUTPUTS = $outputs  # the target array of each output, in the model's output order
    CLASSES = $classes  # per output: its class names, or None (it predicts numbers)
$split$batched
    with np.load(PATH, allow_pickle=False) as archive:
        xs = []
        for names in INPUTS:
            arrays = [np.asarray(archive[k], dtype="float32") for k in names]
            arrays = [a.reshape(len(a), 1) if a.ndim == 1 else a for a in arrays]
            xs.append(np.concatenate(arrays, axis=-1) if len(arrays) > 1 else arrays[0])
        ys, labels = [], None
        for names, classes in zip(OUTPUTS, CLASSES):
            y = np.asarray(archive[names[0]])
            if classes is None:
                y = y.astype("float32")
                ys.append(y.reshape(len(y), 1) if y.ndim == 1 else y)
            else:
                lookup = {v: i for i, v in enumerate(np.unique(y).tolist())}
                y = np.array([lookup[v] for v in y.reshape(len(y)).tolist()], dtype="int32")
                labels = y if labels is None else labels
                ys.append(y)
    scaled = [np.ones(x.shape[-1], dtype=bool) for x in xs]
    assignment = split(len(xs[0]), labels if $stratify else None, VALIDATION, TEST)
    flat = [x.ndim == 2 for x in xs]
    $finish
''').substitute(finish=_finish(raw, arrays=True), path=_lit(path, "path"), inputs=_lit([b.features for b in ds.inputs or []], "inputs"),
                outputs=_lit([b.targets for b in ds.outputs or []], "outputs"),
                classes=_lit(_classes(ds), "preprocessing.outputs"), split=_SPLIT, batched=_BATCHED,
                stratify=_lit(bool(ds.split.stratify)))
    return _header(ds, path, "Read each Input's arrays and each output's target, and split them.", raw) + body
