"""Does the model fit the data? Diagnostics keyed by node id, and undoable fixes (pure).

`check(graph, info)` compares the dataset's per-sample feature shape with the
Input node's ``batch_shape`` and the targets with the output node's shape,
and says how to fix a mismatch ("the data has 10 classes but the last Dense
has 5 units; set units to 10"). `fix_edits(graph, info)` returns the
`studio.graph.edits.Batch` that sets the Input shape (and the output units)
from the data, so the UI can push it as one undo step.
"""

from __future__ import annotations

from typing import Optional

from studio.data.info import DatasetInfo, format_shape
from studio.data.spec import DatasetSpec, used_twice
from studio.graph.edits import Batch, Edit, SetParam
from studio.graph.inference import ERROR, INFO, WARNING, Diagnostic, ShapeReport, analyse
from studio.graph.model import Graph, Node

INT_DTYPES = ("int32", "int64")
PROBABILITY = ("softmax", "sigmoid")


def _label(node: Node) -> str:
    return node.title or node.type


def _activation(node: Node, graph: Graph) -> Optional[str]:
    spec = graph.spec(node)
    if spec is None or "activation" not in spec.param_map:
        return None
    value = spec.resolve(node.params).get("activation")
    if isinstance(value, dict):
        return str(value.get("class_name", "")).lower() or None
    return value or "linear"


def _sample_shape(node: Node, graph: Graph) -> Optional[tuple]:
    spec = graph.spec(node)
    if spec is None:
        return None
    shape = spec.resolve(node.params).get("batch_shape")
    if not isinstance(shape, (list, tuple)) or not shape:
        return None
    return tuple(shape[1:])


def _compatible(expected: tuple, actual: tuple) -> bool:
    return len(expected) == len(actual) and all(e is None or e == a for e, a in zip(expected, actual))


def check(graph: Graph, info: DatasetInfo, report: ShapeReport | None = None) -> list[Diagnostic]:
    """Diagnostics about the model against the data (empty when they fit)."""
    diags: list[Diagnostic] = []
    inputs = graph.input_nodes()
    outputs = graph.output_nodes()
    if not inputs or not outputs:
        return diags  # analyse() already says the model has no input/output
    report = report or analyse(graph)
    if info.bound:
        return check_bound(graph, info, report)
    feature = tuple(info.feature_shape)
    if len(inputs) > 1:
        diags.append(Diagnostic(inputs[1].id, ERROR,
                                f"the data gives one input of shape {format_shape(feature)} but the model has "
                                f"{len(inputs)} Input layers; bind columns to each Input in the Data panel's "
                                "'Inputs & outputs' tab (dataset.inputs), or remove the extra ones"))
    node = inputs[0]
    expected = _sample_shape(node, graph)
    if expected is not None and not _compatible(expected, feature):
        diags.append(Diagnostic(node.id, ERROR,
                                f"'{_label(node)}' expects samples of shape {format_shape(expected)} but the data "
                                f"has {format_shape(feature)}; set batch_shape to "
                                f"{_shape_text((None,) + feature)} (or use Fit model to data)", "batch_shape"))
    dtype = graph.spec(node).resolve(node.params).get("dtype") if graph.spec(node) else None
    if info.feature_dtype == "int32" and dtype not in INT_DTYPES + ("float32",):
        diags.append(Diagnostic(node.id, WARNING, f"'{_label(node)}' has dtype {dtype} but the data are token "
                                "ids; set dtype to int32", "dtype"))
    if info.feature_dtype == "int32" and not _feeds(graph, node, "Embedding"):
        diags.append(Diagnostic(node.id, WARNING,
                                f"the data are word ids (0..{info.spec.get('text', {}).get('max_tokens', 'N')}); "
                                f"put an Embedding layer after '{_label(node)}'"))
    diags.extend(_check_embeddings(graph, node, info))
    if len(outputs) > 1:
        diags.append(Diagnostic(outputs[1].id, ERROR,
                                f"the data has one target but the model has {len(outputs)} outputs "
                                f"('{_label(outputs[0])}', '{_label(outputs[1])}'); wire the extra ones into the "
                                "rest of the model, delete them, or bind a target to each output in the Data panel's "
                                "'Inputs & outputs' tab (dataset.outputs)"))
        return diags
    out = outputs[0]
    shapes = report.outputs.get(out.id)
    if not shapes:
        return diags  # shape unknown: analyse() explains why
    diags.extend(_check_output(graph, out, tuple(shapes[0]), info))
    return diags


def bound_problems(graph: Graph, spec: DatasetSpec) -> list[Diagnostic]:
    """Errors of data bound per node (pure, no file read): an Input without data, an output without
    a target, a column bound to two nodes, a binding to a node that is not an Input/output."""
    diags: list[Diagnostic] = []
    inputs = {n.id: n for n in graph.input_nodes()}
    outputs = {n.id: n for n in graph.output_nodes()}
    bound_in = {b.node for b in spec.inputs or []}
    bound_out = {b.node for b in spec.outputs or []}
    for node_id, node in inputs.items():
        if node_id not in bound_in:
            diags.append(Diagnostic(node_id, ERROR, f"Input '{_label(node)}' has no data; bind columns to it in the "
                                    f"Data panel (dataset.inputs: {{\"node\": \"{node_id}\", \"features\": [...]}})"))
    for node_id, node in outputs.items():
        if node_id not in bound_out:
            diags.append(Diagnostic(node_id, ERROR, f"output '{_label(node)}' has no target; bind a column to it in "
                                    f"the Data panel (dataset.outputs: {{\"node\": \"{node_id}\", \"targets\": [...]}})"))
    for key, bindings, nodes, what, it in (("inputs", spec.inputs, inputs, "an Input node", "columns"),
                                           ("outputs", spec.outputs, outputs, "an output of the model", "a target")):
        for b in bindings or []:
            if b.node in nodes:
                continue
            where = graph.node(b.node) if graph.has_node(b.node) else None
            why = f"'{_label(where)}' is not {what}" if where else f"there is no node {b.node!r}"
            diags.append(Diagnostic(b.node if where else next(iter(nodes), None), ERROR,
                                    f"dataset.{key} binds {it} to {b.node!r} but {why}; bind {it} to one of the "
                                    f"{'Input' if key == 'inputs' else 'output'} nodes"))
    for name, first, second in used_twice(spec):
        node = graph.node(second) if graph.has_node(second) else None
        other = graph.node(first) if graph.has_node(first) else None
        diags.append(Diagnostic(second, ERROR,
                                f"column {name!r} is bound to '{_label(other) if other else first}' and to "
                                f"'{_label(node) if node else second}'; a column feeds one node only: remove it "
                                "from one of them"))
    return diags


def check_bound(graph: Graph, info: DatasetInfo, report: ShapeReport) -> list[Diagnostic]:
    """Diagnostics of data bound per node: the binding's own errors, then each Input's shape
    against its columns and each output against its target."""
    spec = DatasetSpec.from_dict(info.spec)
    diags = bound_problems(graph, spec)
    for item in info.bound:
        node_id = item["node"]
        if not graph.has_node(node_id):
            continue
        node = graph.node(node_id)
        if item["role"] == "input":
            expected = _sample_shape(node, graph)
            shape = tuple(item["shape"])
            if expected is not None and not _compatible(expected, shape):
                diags.append(Diagnostic(node_id, ERROR,
                                        f"'{_label(node)}' expects samples of shape {format_shape(expected)} but its "
                                        f"columns ({', '.join(item['names'])}) give {format_shape(shape)}; set "
                                        f"batch_shape to {_shape_text((None,) + shape)}", "batch_shape"))
            continue
        shapes = report.outputs.get(node_id)
        if not shapes or node_id not in {n.id for n in graph.output_nodes()}:
            continue
        sub = DatasetInfo(kind=info.kind, path=info.path, task=item.get("task") or "regression",
                          num_classes=item.get("num_classes"), class_names=list(item.get("class_names") or []),
                          target_shape=tuple(item["shape"]))
        diags.extend(_check_output(graph, node, tuple(shapes[0]), sub))
    return diags


def vocabulary_need(info: DatasetInfo) -> Optional[int]:
    """The Embedding input_dim the text data needs (ids 0..need-1), or None if not text."""
    if info.feature_dtype != "int32":
        return None
    pre = info.spec.get("preprocessing") or {}
    if pre.get("vocabulary_size"):
        return int(pre["vocabulary_size"])
    max_tokens = (info.spec.get("text") or {}).get("max_tokens")
    if info.vocabulary_size is not None:
        need = info.vocabulary_size + 2  # padding and [UNK] come first
        return min(need, max_tokens) if max_tokens else need
    return max_tokens


def _check_embeddings(graph: Graph, node: Node, info: DatasetInfo) -> list[Diagnostic]:
    need = vocabulary_need(info)
    if need is None:
        return []
    out = []
    for edge in graph.outputs_of(node.id):
        target = graph.node(edge.target)
        spec = graph.spec(target)
        if target.type != "Embedding" or spec is None:
            continue
        input_dim = spec.resolve(target.params).get("input_dim")
        if isinstance(input_dim, int) and input_dim < need:
            out.append(Diagnostic(target.id, ERROR,
                                  f"'{_label(target)}' has input_dim {input_dim} but the text vocabulary has up "
                                  f"to {need} word ids; set input_dim to {need}", "input_dim"))
    return out


def _feeds(graph: Graph, node: Node, type_id: str) -> bool:
    for edge in graph.outputs_of(node.id):
        if graph.node(edge.target).type == type_id:
            return True
    return False


def _shape_text(shape: tuple) -> str:
    return "[" + ", ".join("None" if d is None else str(d) for d in shape) + "]"


def _check_output(graph: Graph, node: Node, shape: tuple, info: DatasetInfo) -> list[Diagnostic]:
    label = _label(node)
    units_key = "units" if graph.spec(node) and "units" in graph.spec(node).param_map else None
    last = shape[-1] if shape else None
    act = _activation(node, graph)
    kind = node.type
    if info.task == "classification":
        n = info.num_classes or 0
        if len(shape) != 2:
            return [Diagnostic(node.id, ERROR,
                               f"'{label}' outputs {format_shape(shape)} but a classifier needs one score per "
                               f"class, shape (None, {n}); add Flatten or GlobalAveragePooling and a Dense({n}, "
                               "softmax) at the end")]
        if last == n or (n == 2 and last == 1):
            return _activation_advice(node, label, act, info, last)
        fix = f"set units to {n}" if units_key else f"end the model with Dense({n}, softmax)"
        return [Diagnostic(node.id, ERROR,
                           f"the data has {n} classes but the last {kind} '{label}' has {last} "
                           f"{'units' if units_key else 'outputs'}; {fix} (activation softmax, loss "
                           "sparse_categorical_crossentropy)", units_key)]
    want = tuple(info.target_shape)
    if shape[1:] == want:
        return _activation_advice(node, label, act, info, last)
    size = info.target_size
    if len(want) == 1 and len(shape) == 2:
        fix = f"set units to {size}" if units_key else f"end the model with Dense({size})"
        return [Diagnostic(node.id, ERROR,
                           f"the data has {size} target value{'s' if size != 1 else ''} per sample but "
                           f"'{label}' outputs {last}; {fix} (linear activation, loss mse)", units_key)]
    return [Diagnostic(node.id, ERROR,
                       f"'{label}' outputs {format_shape(shape)} but the targets have shape "
                       f"{format_shape((None,) + want)}; end the model with Flatten and Dense({size})")]


def _activation_advice(node: Node, label: str, act: Optional[str], info: DatasetInfo,
                       units: Optional[int]) -> list[Diagnostic]:
    if act is None:
        return []
    if info.task == "classification":
        if units == 1 and act != "sigmoid":
            return [Diagnostic(node.id, WARNING, f"'{label}' has one unit for 2 classes; use activation sigmoid "
                               "(loss binary_crossentropy)", "activation")]
        if units and units > 1 and act not in PROBABILITY:
            return [Diagnostic(node.id, INFO, f"'{label}' has activation {act}; softmax gives class "
                               "probabilities (with linear, the loss must use from_logits=True)", "activation")]
        return []
    if act in PROBABILITY:
        return [Diagnostic(node.id, WARNING, f"'{label}' uses {act}, which squashes outputs into 0..1, but "
                           f"this is {info.task}; use a linear activation", "activation")]
    return []


def fix_edits(graph: Graph, info: DatasetInfo, outputs: bool = True) -> Optional[Batch]:
    """One undoable step setting the Input's batch_shape (and dtype) from the data and,
    if `outputs`, the last Dense's units/activation for the targets. None if nothing to do."""
    edits: list[Edit] = []
    inputs = graph.input_nodes()
    if len(inputs) == 1:
        node = inputs[0]
        want = [None] + [int(d) for d in info.feature_shape]
        if list(_sample_shape(node, graph) or ()) != want[1:]:
            edits.append(SetParam(node.id, "batch_shape", want))
        spec = graph.spec(node)
        dtype = spec.resolve(node.params).get("dtype") if spec else None
        wanted_dtype = info.feature_dtype if info.feature_dtype in ("int32", "string") else "float32"
        if dtype != wanted_dtype and spec is not None and "dtype" in spec.param_map:
            edits.append(SetParam(node.id, "dtype", wanted_dtype))
    outs = graph.output_nodes()
    if outputs and len(outs) == 1:
        node = outs[0]
        spec = graph.spec(node)
        if spec is not None and "units" in spec.param_map:
            units = spec.resolve(node.params).get("units")
            n = info.num_classes or 0
            fine = {n, 1} if info.task == "classification" and n == 2 else {info.target_size}
            act = _activation(node, graph) if "activation" in spec.param_map else None
            want_act = None
            if units not in fine and info.target_size:
                edits.append(SetParam(node.id, "units", info.target_size))
                units = info.target_size
                want_act = info.suggested_activation
            elif info.task != "classification" and act in PROBABILITY:
                want_act = "linear"
            elif info.task == "classification" and units == 1 and act != "sigmoid":
                want_act = "sigmoid"
            if want_act and act is not None and act != want_act:
                edits.append(SetParam(node.id, "activation", want_act))
    if not edits:
        return None
    return Batch(edits, "Fit model to data")


def input_shape_edit(graph: Graph, info: DatasetInfo) -> Optional[Batch]:
    """Only the Input shape/dtype part of `fix_edits`."""
    return fix_edits(graph, info, outputs=False)
