"""Shapes of layers outside the catalog, computed by Keras (DESIGN.md section 3).

An opaque node (a layer type the catalog does not know, e.g. one kept from an
imported model, whose params are its whole Keras config) has no pure
`infer_shape`. Here Keras builds the layer from its config and calls it on
symbolic `keras.Input`s of the known input shapes, which gives its output
shapes and weight counts. The results feed
`studio.graph.analyse(graph, external=...)`, after which the shapes downstream
of the opaque node become known too; this repeats until nothing changes, so a
chain of opaque layers resolves in one call.

TensorFlow is imported inside the functions only: this runs in a background
job (`studio.ui.shape_job`), never on the GUI thread. Layers are deserialized
in Keras' safe mode; classes that carry code (Lambda and friends) and classes
that are not built into Keras are never built: they get a message instead.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Optional

from studio.graph.inference import ShapeReport, analyse
from studio.graph.model import Graph, Node

# Layers that run or unpickle code from their config: never built from a file.
UNSAFE_CLASSES = frozenset({"Lambda", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"})

External = dict  # node id -> (list of output shapes, (trainable, non_trainable))


@dataclass
class OpaqueShapes:
    """What Keras said about the opaque nodes of a graph.

    `shapes` is ready for `analyse(graph, external=shapes)`. `problems` holds
    one line per node Keras could not build or apply, naming the node, the
    reason and the fix. `inputs` records the input shapes each entry (either
    kind) was computed for, so a caller can tell when it has gone stale.
    """

    shapes: External = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, list] = field(default_factory=dict)


def opaque_shapes(graph: Graph, report: Optional[ShapeReport] = None,
                  known: Optional[External] = None) -> OpaqueShapes:
    """Ask Keras for the shapes of every opaque node whose input shapes are known.

    `report` is the graph's current `analyse` result (computed when omitted);
    `known` are results already at hand (kept, not recomputed). Never raises
    for a node Keras cannot handle: that node gets a line in `problems`.
    """
    result = OpaqueShapes(shapes=dict(known or {}))
    dtypes: dict[str, list[str]] = {}  # output dtypes of opaque nodes built here
    if report is None:
        report = analyse(graph, external=result.shapes)
    nodes = {n.id: n for n in graph.nodes}
    while True:
        progressed = False
        for node_id in report.order:
            node = nodes[node_id]
            if graph.catalog.find(node.type) is not None:
                continue
            if node_id in result.shapes or node_id in result.problems:
                continue
            inputs = report.inputs.get(node_id) or []
            if not inputs or any(shape is None for shape in inputs):
                continue  # wait until the shapes upstream are known
            result.inputs[node_id] = [tuple(s) for s in inputs]
            try:
                shapes, params, out_dtypes = _keras_shape(node, inputs, _input_dtypes(graph, node_id, dtypes))
            except _Refused as exc:
                result.problems[node_id] = f"{_label(node)}: {exc}"
            except Exception as exc:  # noqa: BLE001 - Keras raises many types for configs it cannot use
                result.problems[node_id] = (f"{_label(node)}: Keras cannot build this {node.type} layer on inputs "
                                            f"{_shapes_text(inputs)}: {_reason(exc)}; check its inputs and config")
            else:
                result.shapes[node_id] = (shapes, params)
                dtypes[node_id] = out_dtypes
            progressed = True
        if not progressed:
            return result
        report = analyse(graph, external=result.shapes)


class _Refused(Exception):
    """A layer we will not build; the message is shown to the user as is."""


def _label(node: Node) -> str:
    return f"'{node.title or node.type}'"


def _keras_shape(node: Node, input_shapes: list, input_dtypes: list[str]) -> tuple[list, tuple[int, int], list[str]]:
    import keras

    from studio.compiler.keras_build import with_modules

    if node.type in UNSAFE_CLASSES:
        raise _Refused(f"{node.type} layers carry Python code, which is never loaded from a file; "
                       "replace it with built-in layers")
    cls = getattr(keras.layers, node.type, None)
    if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)) or node.type in ("Layer", "Wrapper"):
        raise _Refused(f"{node.type} is not a layer built into Keras {keras.__version__}; a custom layer needs "
                       "its code, which is never loaded from a file, so its shape stays unknown. "
                       "Replace it with built-in layers")
    config = copy.deepcopy(node.params)
    config.pop("name", None)
    if not node.trainable:
        config["trainable"] = False
    record = with_modules({"module": "keras.layers", "class_name": node.type, "config": config})
    layer = keras.layers.deserialize(record)  # safe mode (the default)
    tensors = [keras.Input(batch_shape=tuple(shape), dtype=dtype) for shape, dtype in zip(input_shapes, input_dtypes)]
    # Called as the model build calls it (studio.compiler.plan): one tensor, or a list.
    out: Any = layer(tensors[0] if len(tensors) == 1 else tensors)
    return _measure(keras, layer, out)


def _measure(keras: Any, layer: Any, out: Any) -> tuple[list, tuple[int, int], list[str]]:
    outs = keras.tree.flatten(out)
    trainable = sum(_size(w.shape) for w in layer.trainable_weights)
    non_trainable = sum(_size(w.shape) for w in layer.non_trainable_weights)
    shapes = [tuple(None if d is None else int(d) for d in o.shape) for o in outs]
    return shapes, (trainable, non_trainable), [str(o.dtype) for o in outs]


def _input_dtypes(graph: Graph, node_id: str, opaque_dtypes: dict[str, list[str]]) -> list[str]:
    """The dtype of each input: an Input's own dtype, an opaque layer's output
    dtype, else float32 (what catalog layers produce)."""
    out = []
    for edge in graph.positional_inputs(node_id):
        source = graph.node(edge.source)
        spec = graph.catalog.find(source.type)
        dtype = "float32"
        if spec is not None and spec.max_inputs == 0:
            value = spec.resolve(source.params).get("dtype")
            if isinstance(value, str) and value:
                dtype = value
        elif edge.source in opaque_dtypes and edge.source_port < len(opaque_dtypes[edge.source]):
            dtype = opaque_dtypes[edge.source][edge.source_port]
        out.append(dtype)
    return out


def _size(shape: Any) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _shapes_text(shapes: list) -> str:
    from studio.graph.inference import format_shape

    return ", ".join(format_shape(s) for s in shapes)


def _reason(exc: BaseException) -> str:
    from studio.compiler.keras_build import keras_reason

    return keras_reason(exc, limit=200)
