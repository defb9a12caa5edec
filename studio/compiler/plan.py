"""Graph -> `BuildPlan`: the graph in topological order as layer calls (pure).

Both `studio.compiler.keras_build` (which makes a `keras.Model`) and
`studio.export.codegen` (which writes Python source) read the same plan, so
the model that trains and the code that is exported cannot disagree.

A catalog node of type T becomes a call of `spec.class_name` with config
`{**spec.resolve(node.params), "name": <unique name>}`; an opaque node (a type
the catalog does not know, e.g. an imported custom layer) keeps its params as
its full Keras config with `class_name = node.type`. Input nodes become
`keras.Input(batch_shape=..., dtype=..., name=...)`.

This module imports neither TensorFlow nor numpy.
"""

from __future__ import annotations

import copy
import functools
import keyword
import re
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from studio.core.errors import BuildError
from studio.graph.inference import ShapeReport, analyse
from studio.graph.model import Graph, Node
from studio.graph.spec import LayerSpec

# How a layer is called with its input tensors.
SINGLE = "single"  # layer(x)
LIST = "list"  # layer([a, b, ...])
POSITIONAL = "positional"  # layer(a, b, c), e.g. MultiHeadAttention(query, value, key)
OP = "op"  # a Keras operation (keras.ops.add(x, 3.0)): class_name is a keras_names.OPS key

# Layers that run arbitrary Python code: never built from a file (DESIGN.md 4).
UNSAFE_CLASSES = frozenset({"Lambda"})

TensorRef = tuple[str, int]  # (node id, output port)


@dataclass(frozen=True)
class LayerCall:
    """One layer of the model: build `class_name` from `config`, call it on `inputs`.

    * `config` is the complete Keras config, `name` included (and
      `"trainable": False` for a frozen node).
    * `inputs` are `(node_id, output_port)` pairs in input-port order.
    * `defaults` holds the catalog's default for every parameter, so code
      generation can leave out arguments the user did not change; it is
      None for opaque nodes (layers outside the catalog).
    """

    node_id: str
    class_name: str
    name: str
    config: dict
    inputs: tuple[TensorRef, ...] = ()
    call_style: str = SINGLE
    num_outputs: int = 1
    module: str = "keras.layers"
    label: str = ""  # the node as the user sees it, for messages
    type_id: str = ""  # the node's catalog type (or class name for opaque nodes)
    defaults: Optional[dict] = None
    # The node id of an earlier call whose layer this call uses again (shared weights), or "":
    # the builder and the code generator make one layer and call it at each site.
    shares: str = ""
    # Keyword arguments fed by wires (`layer(x, mask=m)`): (name from `KEYWORD_INPUTS`, tensor).
    keyword_inputs: tuple[tuple[str, TensorRef], ...] = ()

    @property
    def is_input(self) -> bool:
        return self.class_name == "InputLayer"

    @property
    def is_opaque(self) -> bool:
        return self.defaults is None and not self.is_input


@dataclass(frozen=True)
class BuildPlan:
    """The whole model: calls in topological order, its inputs and outputs."""

    calls: tuple[LayerCall, ...]
    inputs: tuple[str, ...]  # node ids of the Input calls, in model input order
    outputs: tuple[TensorRef, ...]  # model outputs, in order
    name: str = "model"
    report: Optional[ShapeReport] = field(default=None, compare=False, repr=False)

    def call(self, node_id: str) -> LayerCall:
        for c in self.calls:
            if c.node_id == node_id:
                return c
        raise KeyError(node_id)

    def by_id(self) -> dict[str, LayerCall]:
        return {c.node_id: c for c in self.calls}

    @property
    def layer_calls(self) -> list[LayerCall]:
        """The calls other than Inputs."""
        return [c for c in self.calls if not c.is_input]


# --- names ---------------------------------------------------------------------
_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@functools.lru_cache(maxsize=4096)  # a big graph asks for the same few types thousands of times
def snake_case(text: str) -> str:
    """'Conv2D' -> 'conv2d', 'BatchNormalization' -> 'batch_normalization',
    'Hidden layer 1' -> 'hidden_layer_1'."""
    # Keras' own rule (keras.src.utils.naming.to_snake_case), then spaces and
    # punctuation to underscores.
    text = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", text.strip())
    text = re.sub(r"([a-z])([A-Z])", r"\1_\2", text)
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


MAX_NAME = 64  # characters of a layer name made from a title (a 10 MB title is not a name)


def valid_name(text: str) -> str:
    """A Keras layer name that is also a Python identifier, or '' if none."""
    text = text.strip()[: 2 * MAX_NAME]
    if _VALID_NAME.match(text) and not keyword.iskeyword(text):
        return text[:MAX_NAME]
    name = snake_case(text)[:MAX_NAME].rstrip("_")
    if not name:
        return ""
    if name[0].isdigit():
        name = "layer_" + name
    if keyword.iskeyword(name):
        name += "_"
    return name


def layer_names(graph: Graph, order: list[str] | None = None) -> dict[str, str]:
    """A unique valid layer name per node: from its title, else the snake_case
    of its type with a counter (dense_1, dense_2...)."""
    order = order if order is not None else [n.id for n in graph.nodes]
    nodes = {n.id: n for n in graph.nodes}
    names: dict[str, str] = {}
    taken: set[str] = set()
    # Titled nodes claim their names first, so an untitled node never steals one; nodes that
    # call another node's layer (shared weights) after the others: their name is no layer's.
    titled = [nid for nid in order if valid_name(nodes[nid].title) and not nodes[nid].shares]
    titled += [nid for nid in order if valid_name(nodes[nid].title) and nodes[nid].shares]
    counters: dict[str, int] = {}
    for nid in titled:
        base = valid_name(nodes[nid].title)
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        names[nid] = name
        taken.add(name)
    for nid in order:
        if nid in names:
            continue
        base = snake_case(nodes[nid].type) or "layer"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = "layer_" + base
        while True:
            counters[base] = counters.get(base, 0) + 1
            name = f"{base}_{counters[base]}"
            if name not in taken:
                break
        names[nid] = name
        taken.add(name)
    return names


# --- the plan --------------------------------------------------------------------
def make_plan(graph: Graph, name: str = "model", report: ShapeReport | None = None) -> BuildPlan:
    """Turn a graph into a `BuildPlan`, or raise `BuildError` listing its errors.

    The first line of the error names the first faulty node and its problem;
    the following lines list the others. `error.node_id` is that node and
    `error.diagnostics` all error diagnostics.
    """
    report = report if report is not None else analyse(graph)
    errors = report.errors
    if errors:
        raise _diagnostics_error(graph, errors)
    order = report.order or graph.topological_order()
    nodes = {n.id: n for n in graph.nodes}
    for nid in order:
        node = nodes[nid]
        class_name = _class_name(graph, node)
        if class_name in UNSAFE_CLASSES:
            raise BuildError(
                f"'{graph.label(nid)}' is a Lambda layer, which runs arbitrary Python code and is never "
                "built from a file; replace it with built-in layers",
                nid,
            )
    names = layer_names(graph, order)
    calls = tuple(_call(graph, nodes[nid], names[nid], _has_weights(report, nid)) for nid in order)
    if report.shared:
        calls = _share_layers(calls, report.shared)
    inputs = tuple(c.node_id for c in calls if c.is_input)
    by_id = {c.node_id: c for c in calls}
    outputs: list[TensorRef] = []
    for node in graph.output_nodes():
        for port in range(by_id[node.id].num_outputs):
            outputs.append((node.id, port))
    return BuildPlan(calls=calls, inputs=inputs, outputs=tuple(outputs), name=valid_name(name) or "model",
                     report=report)


def _share_layers(calls: tuple[LayerCall, ...], shared: dict[str, str]) -> tuple[LayerCall, ...]:
    """Point each call of a shared layer at the first call of that layer in the plan's order
    (the owner node may come later, e.g. A(B(A(x))), so the first call makes the layer)."""
    first: dict[str, str] = {}
    out = []
    for call in calls:
        root = shared.get(call.node_id, call.node_id)
        maker = first.setdefault(root, call.node_id)
        out.append(call if maker == call.node_id else replace(call, shares=maker))
    return tuple(out)


def _diagnostics_error(graph: Graph, errors: list) -> BuildError:
    lines = []
    for d in errors:
        where = f"'{graph.label(d.node)}'" if d.node and graph.has_node(d.node) else "model"
        text = d.message
        # Most messages already start with the node's label; do not repeat it.
        if d.node and graph.has_node(d.node) and graph.label(d.node) not in text:
            text = f"{where}: {text}"
        lines.append(text)
    more = len(lines) - 1
    head = lines[0] + (f" (and {more} more error{'s' if more > 1 else ''})" if more else "")
    error = BuildError("\n".join([head] + [f"  - {line}" for line in lines[1:]]), errors[0].node)
    error.diagnostics = list(errors)  # type: ignore[attr-defined]
    return error


def _class_name(graph: Graph, node: Node) -> str:
    spec = graph.spec(node)
    return spec.class_name if spec is not None else node.type


def _has_weights(report: ShapeReport, node_id: str) -> bool:
    """False only when the layer is known to hold no weights.

    Freezing such a layer changes nothing, and some Keras layers (e.g.
    SpatialDropout1D) refuse a `trainable` argument, so it is left out."""
    counts = report.params.get(node_id)
    return counts is None or sum(counts) > 0


def _call(graph: Graph, node: Node, name: str, has_weights: bool = True) -> LayerCall:
    spec: LayerSpec | None = graph.spec(node)
    inputs = tuple((e.source, e.source_port) for e in graph.positional_inputs(node.id))
    keywords = tuple((e.argument, (e.source, e.source_port)) for e in graph.keyword_inputs(node.id))
    label = graph.label(node.id)
    num_outputs = graph.num_outputs(node)
    if spec is None:  # opaque: params are the full Keras config
        config = copy.deepcopy(node.params)
        config.pop("name", None)
        config = {"name": name, **config}
        _name_nested_layers(config, name, {k for k in config if k in _NESTED_LAYER_KEYS})
        if not node.trainable:
            config["trainable"] = False
        style = SINGLE if len(inputs) == 1 else LIST
        return LayerCall(node.id, node.type, name, config, inputs, style, num_outputs, "keras.layers", label,
                         node.type, None, keyword_inputs=keywords)
    resolved = spec.resolve(copy.deepcopy(node.params))
    resolved.pop("name", None)
    if spec.max_inputs == 0:  # Input
        config = {"batch_shape": list(resolved.pop("batch_shape")), "dtype": resolved.pop("dtype", "float32"),
                  **resolved, "name": name}
        return LayerCall(node.id, "InputLayer", name, config, (), SINGLE, 1, spec.module, label, spec.id,
                         spec.defaults())
    config = {**resolved, "name": name}
    _name_nested_layers(config, name, {p.key for p in spec.params if p.kind == "layer"})
    if not node.trainable and has_weights:
        config["trainable"] = False
    if spec.call_style == OP:
        style = OP
    elif spec.call_style == POSITIONAL:
        style = POSITIONAL
    elif spec.max_inputs == 1:
        style = SINGLE
    else:
        style = LIST
    return LayerCall(node.id, spec.class_name, name, config, inputs, style, num_outputs, spec.module, label,
                     spec.id, spec.defaults(), keyword_inputs=keywords)


# Config keys of wrapped layers in configs of layers outside the catalog.
_NESTED_LAYER_KEYS = frozenset({"layer", "backward_layer", "forward_layer", "cell"})


def _name_nested_layers(config: dict, name: str, keys: set[str]) -> None:
    """Give wrapped layers without a name a fixed one (`<outer>_<class>`).

    Otherwise Keras names them from a global counter (lstm, lstm_1...), and
    two builds of the same plan would differ in their configs.
    """
    for key in keys:
        value = config.get(key)
        if (isinstance(value, dict) and isinstance(value.get("class_name"), str)
                and isinstance(value.get("config"), dict) and not value["config"].get("name")):
            config[key] = {**value, "config": {**value["config"], "name": f"{name}_{snake_case(value['class_name'])}"}}


def plan_to_dict(plan: BuildPlan) -> dict[str, Any]:
    """A JSON-ready record of the plan (for run snapshots and debugging)."""
    return {
        "name": plan.name,
        "inputs": list(plan.inputs),
        "outputs": [list(o) for o in plan.outputs],
        "calls": [
            {
                "node_id": c.node_id,
                "class_name": c.class_name,
                "module": c.module,
                "name": c.name,
                "config": copy.deepcopy(c.config),
                "inputs": [list(i) for i in c.inputs],
                "call_style": c.call_style,
                "num_outputs": c.num_outputs,
                **({"shares": c.shares} if c.shares else {}),
                **({"keyword_inputs": [[k, list(ref)] for k, ref in c.keyword_inputs]} if c.keyword_inputs else {}),
            }
            for c in plan.calls
        ],
    }
