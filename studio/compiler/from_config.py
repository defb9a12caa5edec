"""A Keras model config (`model.get_config()`) -> an editable `Graph` (pure).

Layers become nodes: a layer whose class the catalog knows gets its catalog
type and, as params, the config keys whose values differ from the defaults;
any other layer becomes an opaque node that keeps its whole config. Inbound
nodes become edges; nested models are flattened into the outer graph, their
nodes recorded as a group (`Graph.groups`, named after the nested model, collapsed); a
layer called several times (a shared embedding, a tower model applied twice)
becomes one node per call, each later call sharing the first call's layer
(`Node.shares`). The app's own run model (`best.keras`: the network nested in the
raw-input wrapper, `run_wrapper`) gives back the designed graph: the network's own
Inputs and outputs, no group, with the run's fitted input scaling kept as a
Normalization node right after its Input (an imported file has no dataset whose
scaling could hold it, and the node keeps the project's answers on raw inputs
identical to the file's). A tensor passed as `mask=` (or another of
`KEYWORD_INPUTS`) is a wire into that keyword argument, except the masks Keras
propagates itself (`mask_only_operations`). Nodes are laid out left to right by
`studio.graph.layout` (as Auto layout does).

Keras itself is not imported here: the caller passes `layer_defaults`, a
function giving the config Keras writes for a layer built from given params,
so values can be compared in Keras' own form.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from studio.compiler.keras_required import REQUIRED
from studio.core.errors import StudioError
from studio.core.ids import new_id
from studio.graph.catalog import Catalog, default_catalog
from studio.graph.groups import collapse_all
from studio.graph.keras_names import CLASSES, OPS, TF_OP_LAMBDAS, UNSAFE, builtin_layer, operation
from studio.graph.layers.builtins import PLACEHOLDER
from studio.graph.layers.operations import TF_FUNCTION_NODES
from studio.graph.layout import apply_layout
from studio.graph.model import KEYWORD_INPUTS, Edge, Graph, Group, Node
from studio.graph.spec import LayerSpec

MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})
UNSAFE_CLASSES = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})
OPS_MODULES = ("keras.src.ops.", "keras.ops.")

# (class name, params) -> the config Keras writes for that layer, or None if Keras refuses it.
KerasConfig = Callable[[str, dict], Optional[dict]]
TensorRef = tuple[str, int]


class ModelImportError(StudioError):
    """A model file that cannot become a project; the message names the layer."""


@dataclass
class ImportedGraph:
    graph: Graph
    # node id -> names leading to the Keras layer: (nested model..., layer name)
    origin: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outputs: list[TensorRef] = field(default_factory=list)  # the model's outputs, in order
    warnings: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)  # where each placeholder stands


def graph_from_config(config: dict, catalog: Catalog | None = None,
                      keras_config: KerasConfig | None = None) -> ImportedGraph:
    """Convert a functional or sequential model config into a graph."""
    builder = _Builder(catalog or default_catalog(), keras_config)
    outputs = builder.model(config, (), None, trainable=bool(config.get("trainable", True)))
    builder.finish(outputs)
    apply_layout(builder.graph)  # the canvas' Auto layout algorithm
    collapse_all(builder.graph)  # each nested model opens as one group node
    return ImportedGraph(builder.graph, builder.origin, outputs, builder.warnings, builder.placeholders)


# --- values ---------------------------------------------------------------------------
def simplify(value: Any) -> Any:
    """Keras' serialized dtype policies -> their name; tuples -> lists."""
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy" and isinstance(value.get("config"), dict):
            return value["config"].get("name", "float32")
        return {k: simplify(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [simplify(v) for v in value]
    return value


def layer_params(class_name: str, config: dict, spec: LayerSpec | None,
                 keras_config: KerasConfig | None) -> dict:
    """Node params for one layer config: everything but the name (and the
    trainable flag, kept on the node); for a catalog layer, only the values
    that differ from its defaults.

    Keras writes some values resolved from others (MaxPooling's `strides`
    defaults to its `pool_size`), so a value equal to the default layer's is
    dropped only if rebuilding from the remaining params gives it back.
    """
    params = {k: copy.deepcopy(v) for k, v in config.items() if k not in ("name", "trainable")}
    if spec is None:
        return params
    keras_defaults = simplify(keras_config(class_name, spec.defaults()) or {}) if keras_config else {}
    spec_defaults = simplify(spec.defaults())
    required = REQUIRED.get(class_name, ())
    out = {}
    for key, value in params.items():
        plain = simplify(value)
        if key in required:
            pass  # Keras has no default: kept, so a change of the catalog's default cannot change the model
        elif key in keras_defaults and plain == keras_defaults[key]:
            continue
        elif key in spec_defaults and plain == spec_defaults[key]:
            continue
        elif key == "dtype" and plain == "float32":
            continue
        out[key] = plain
    if keras_config is None:
        return out
    for _ in range(3):  # put back what the rebuilt layer would not reproduce
        rebuilt = keras_config(class_name, spec.resolve(out))
        if rebuilt is None:
            break
        rebuilt = simplify(rebuilt)
        missing = [k for k in params if k not in out and k in rebuilt and simplify(params[k]) != rebuilt[k]]
        if not missing:
            break
        for key in missing:
            out[key] = simplify(params[key])
    return out


# --- what a config entry is -----------------------------------------------------------
def is_operation_module(module: Any) -> bool:
    """A module Keras writes for an operation of a functional model (`keras.src.ops.numpy`)."""
    return isinstance(module, str) and (module == "keras.ops" or module.startswith(OPS_MODULES))


def is_custom(class_name: Any, module: Any, registered: Any) -> bool:
    """True for a class registered by user code or living outside Keras."""
    if not isinstance(class_name, str) or ">" in class_name or (
            isinstance(registered, str) and registered and (registered != class_name or ">" in registered)):
        return True  # a registered custom object ("package>Class")
    return isinstance(module, str) and not (module == "keras" or module.startswith("keras."))


def placeholder_reason(entry: dict) -> Optional[str]:
    """Why a layer entry of a functional model becomes a placeholder, or None when it loads.

    Operations that `keras_names.OPS` lists, Keras 2 TFOpLambda layers of plain arithmetic
    (`TF_OP_LAMBDAS`), layers of `keras.layers` and Keras' own application layers load;
    a Lambda, any other TFOpLambda, a custom class or another operation does not."""
    class_name, module = entry.get("class_name"), entry.get("module")
    registered = entry.get("registered_name")
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    if class_name in MODEL_CLASSES or class_name == "InputLayer":
        return None
    if class_name == "TFOpLambda":
        function = config.get("function")
        if isinstance(function, str) and function in TF_OP_LAMBDAS:
            return None
        shown = f"tf.{function}" if isinstance(function, str) else "a TensorFlow function"
        node = TF_FUNCTION_NODES.get(function) if isinstance(function, str) else None
        use = (f"replace it with an {node} node (Operations) with the same arguments" if node
               else "use the matching keras.ops operation or a built-in layer")
        return f"a Keras 2 TFOpLambda calling {shown[:80]}, which this version maps only for plain arithmetic; {use}"
    if class_name in UNSAFE_CLASSES or class_name in UNSAFE:
        return (f"a {class_name} layer runs Python code stored in the file, which is never loaded; "
                "rebuild what it computes with built-in layers or keras.ops operations")
    if is_custom(class_name, module, registered):
        shown = registered if isinstance(registered, str) and registered else class_name
        return (f"'{str(shown)[:80]}' is a custom class, not built into Keras, and custom code is never loaded "
                "from a file; use built-in layers that compute the same")
    if is_operation_module(module):
        if operation(module, class_name) is not None:
            return None
        return (f"the Keras operation {str(module)[:60]}.{str(class_name)[:60]} is not one this version "
                "supports; use a supported keras.ops operation or a built-in layer")
    if builtin_layer(module, class_name) is not None or class_name in CLASSES["keras.layers"]:
        return None
    return (f"'{str(class_name)[:80]}' is not a layer built into Keras; use built-in layers that compute "
            "the same")


def _tensor_shapes(value: Any, found: dict) -> None:
    """Collect `(layer, node, tensor) -> shape` from every Keras 3 tensor record in `value`."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            inner = value.get("config") if isinstance(value.get("config"), dict) else {}
            hist, shape = inner.get("keras_history"), inner.get("shape")
            if isinstance(hist, (list, tuple)) and len(hist) >= 3 and isinstance(shape, (list, tuple)):
                try:
                    found.setdefault((str(hist[0]), int(hist[1]), int(hist[2])), list(shape))
                except (TypeError, ValueError):
                    pass
            return
        for item in value.values():
            _tensor_shapes(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _tensor_shapes(item, found)


def _is_tensor(value: Any) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def _scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, float)) and not (isinstance(value, float) and value != value)


# --- conversion -------------------------------------------------------------------------
def _history(arg: Any) -> list[tuple[str, int, int]]:
    """Every Keras tensor reference inside a call argument, in order."""
    if isinstance(arg, dict):
        if arg.get("class_name") == "__keras_tensor__":
            hist = arg.get("config", {}).get("keras_history")
            if isinstance(hist, (list, tuple)) and len(hist) >= 3:
                return [(str(hist[0]), int(hist[1]), int(hist[2]))]
            return []
        return [r for v in arg.values() for r in _history(v)]
    if isinstance(arg, (list, tuple)):
        if len(arg) >= 3 and isinstance(arg[0], str) and isinstance(arg[1], int) and isinstance(arg[2], int):
            return [(arg[0], arg[1], arg[2])]  # Keras 2 style [name, node, tensor, kwargs]
        return [r for v in arg for r in _history(v)]
    return []


def mask_only_operations(config: dict) -> set[str]:
    """Names of the operations a Keras 3 functional config holds only to compute the masks Keras
    propagates itself: an Embedding(mask_zero=True) records `ops.not_equal(ids, 0)` (a Masking
    layer `ops.any(ops.not_equal(x, mask_value), axis=-1)`) and passes it as `mask=` to the
    layers after it. Every use of such an operation is a `mask` argument (or another such
    operation), and its group of mask operations starts from the input of such a masking
    layer. They stay out of the graph: rebuilt, the model propagates the same masks itself (and
    the import compares the outputs). A mask computed by hand (`ops.not_equal(ids, 0)` passed as
    `mask=` beside an Embedding without mask_zero) is not Keras' own: its operations are nodes
    and the mask a `mask=` wire. `config`: a functional model's config ("layers", "output_layers")."""
    uses: dict[str, list[Optional[str]]] = {}  # producer -> consumers (None: a mask argument)
    for name, _, _ in _refs_list(config.get("output_layers")):
        uses.setdefault(name, []).append("")  # a model output is more than a mask
    operations: dict[str, tuple[str, list]] = {}  # name -> (class name, call args)
    masked: dict[tuple[str, int, int], list] = {}  # a masking layer's input tensor -> its mask values
    for entry in config.get("layers") or []:
        if not isinstance(entry, dict):
            return set()
        inner = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        name = inner.get("name") or entry.get("name")
        calls = entry.get("inbound_nodes") or []
        if is_operation_module(entry.get("module")):
            first = calls[0] if calls and isinstance(calls[0], dict) else {}
            args = list(first["args"]) if isinstance(first.get("args"), (list, tuple)) else []
            operations[name] = (str(entry.get("class_name")), args)
        own = (0 if entry.get("class_name") == "Embedding" and inner.get("mask_zero") is True
               else inner.get("mask_value", 0.0) if entry.get("class_name") == "Masking" else None)
        for call in calls:
            if not isinstance(call, dict):
                return set()  # Keras 2 records no mask operations
            refs = _history(call.get("args", []))
            if own is not None and len(refs) == 1:
                masked.setdefault(refs[0], []).append(own)
            for src, _, _ in refs:
                uses.setdefault(src, []).append(name)
            for key, value in (call.get("kwargs") or {}).items():
                for src, _, _ in _history(value):
                    uses.setdefault(src, []).append(None if key == "mask" else name)
    found = {name for name in operations if uses.get(name)}
    while True:
        kept = {name for name in found if all(use is None or use in found for use in uses[name])}
        if kept == found:
            break
        found = kept
    # Keep the groups (connected through each other) that hold a masking layer's own
    # `not_equal(input, mask value)`.
    group = {name: name for name in found}

    def root(name: str) -> str:
        while group[name] != name:
            group[name] = group[group[name]]
            name = group[name]
        return name

    for name in found:
        for src, _, _ in _history(operations[name][1]):
            if src in found:
                group[root(src)] = root(name)
    own_groups = set()
    for name in found:
        class_name, args = operations[name]
        refs = _history(args)
        constants = [a for a in args if _scalar(a)]
        if (class_name == "NotEqual" and len(args) == 2 and len(refs) == 1 and len(constants) == 1
                and constants[0] in masked.get(refs[0], [])):
            own_groups.add(root(name))
    return {name for name in found if root(name) in own_groups}


def _tf_op_call(inbound: Any) -> Optional[tuple[list, Any, bool, dict]]:
    """A Keras 2 TFOpLambda call `[x, node, tensor, {"y": ..., "name": None}]` ->
    (tensor refs in call order, the constant operand or None, whether the constant
    comes first, the other keyword arguments); None when it is not of that form."""
    if isinstance(inbound, list) and inbound and isinstance(inbound[0], str):
        first = inbound  # Keras 2 writes a TFOpLambda's node unwrapped: [x, node, tensor, kwargs]
    elif isinstance(inbound, list) and len(inbound) == 1 and isinstance(inbound[0], list):
        first = inbound[0]
    else:
        return None
    if len(first) < 3 or not isinstance(first[0], str):
        return None
    kwargs = first[3] if len(first) > 3 and isinstance(first[3], dict) else {}
    rest = {k: v for k, v in kwargs.items() if k not in ("y", "name") and v is not None}
    refs: list = []
    constant, first_is_constant = None, False
    if first[0] == "_CONSTANT_VALUE":
        if not _scalar(first[2]):
            return None
        constant, first_is_constant = first[2], True
    elif isinstance(first[1], int) and isinstance(first[2], int):
        refs.append((first[0], first[1], first[2]))
    else:
        return None
    if "y" in kwargs:
        y = kwargs["y"]
        found = _history(y) if isinstance(y, list) else []
        if len(found) == 1:
            refs.append(found[0])
        elif _scalar(y) and constant is None:
            constant = y
        else:
            return None
    return refs, constant, first_is_constant, rest


def _keras2(entries: list) -> bool:
    """True for a Keras 2 (tf_keras) config: its calls are lists, Keras 3's are {"args", "kwargs"}."""
    return any(isinstance(node, list) for entry in entries for node in entry.get("inbound_nodes") or [])


def _first_node_index(entry: dict, keras2: bool) -> int:
    """The node index the config gives the first call of `entry`'s layer: 0, except in a
    Keras 2 config for a model used as a layer whose node 0 is its own (input -> output)
    node, a functional model or a Sequential that starts with an InputLayer: Keras 2 numbers
    its calls from 1. (Keras 3 numbers a model's calls from 0 in the wires and from 1 in
    `output_layers` only: see `functional`.)"""
    if not keras2 or entry.get("class_name") not in MODEL_CLASSES:
        return 0
    if entry.get("class_name") != "Sequential":
        return 1
    layers = (entry.get("config") or {}).get("layers") or []
    return 1 if layers and isinstance(layers[0], dict) and layers[0].get("class_name") == "InputLayer" else 0


def _refs_list(value: Any) -> list[tuple[str, int, int]]:
    """`input_layers` / `output_layers`: one [name, node, tensor] or a list/dict of them."""
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs_list(v)]
    return _history(value)


PREPROCESSING_CLASSES = frozenset({"Normalization", "Rescaling", "TextVectorization"})


@dataclass
class _RunWrapper:
    """The raw-input wrapper the app trains and saves a network in (`studio.data` wrap_model):
    each Input -> fixed preprocessing layers (Normalization, Rescaling) -> the network, one
    nested model called once -> the outputs, optionally renamed by Identity layers."""

    network: str  # the nested model's name
    inputs: dict[str, dict]  # outer Input's name -> the network's own InputLayer entry
    renames: set[str]  # the Identity layers that only rename the network's outputs


def run_wrapper(config: dict) -> Optional[_RunWrapper]:
    """`config`'s `_RunWrapper` when the functional model has exactly the wrapper's structure,
    else None. Decided by structure alone (names are not trusted): the answer changes only how
    the graph is drawn (the network's layers not in a group, its own Inputs, no renaming
    Identity nodes), never what runs; the import still compares the outputs."""
    entries = config.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return None
    by_name = {(e.get("config") or {}).get("name") or e.get("name"): e for e in entries}
    outer = [name for name, _, _ in _refs_list(config.get("input_layers"))]
    networks = [e for e in entries if e.get("class_name") in ("Functional", "Model")]
    if len(networks) != 1 or len(by_name) != len(entries) or not outer:
        return None
    network = networks[0]
    net_name = (network.get("config") or {}).get("name") or network.get("name")
    calls = network.get("inbound_nodes") or []
    inner = network.get("config") or {}
    if len(calls) != 1 or not isinstance(calls[0], dict) or "input_layers" not in inner:
        return None

    def one_source(entry: dict) -> Optional[str]:
        calls_ = entry.get("inbound_nodes") or []
        if len(calls_) != 1 or not isinstance(calls_[0], dict):
            return None
        refs = _history(calls_[0].get("args", []))
        kwargs = calls_[0].get("kwargs") or {}
        if len(refs) != 1 or any(_history(v) for v in kwargs.values()):
            return None
        return refs[0][0]

    renames: set[str] = set()
    for entry in entries:
        cls = entry.get("class_name")
        name = (entry.get("config") or {}).get("name") or entry.get("name")
        if entry is network or (cls == "InputLayer" and name in outer):
            continue
        source = one_source(entry)
        if cls == "Identity" and source == net_name:
            renames.add(name)
        elif cls not in PREPROCESSING_CLASSES or source is None or source == net_name or source in renames:
            return None
    fed = _history(calls[0].get("args", []))
    if any(_history(v) for v in (calls[0].get("kwargs") or {}).values()):
        return None
    own_inputs = _refs_list(inner.get("input_layers"))
    if len(fed) != len(outer) or len(own_inputs) != len(outer):
        return None
    inner_entries = {(e.get("config") or {}).get("name") or e.get("name"): e
                     for e in inner.get("layers") or [] if isinstance(e, dict)}
    inputs: dict[str, dict] = {}
    for (source, _, _), (own, _, _), raw in zip(fed, own_inputs, outer):
        seen = set()
        while source not in outer:  # back through the preprocessing chain to an Input
            entry = by_name.get(source)
            if entry is None or source in seen:
                return None
            seen.add(source)
            source = one_source(entry)
        if source != raw:
            return None  # the network's inputs in another order than the wrapper's
        own_entry, raw_entry = inner_entries.get(own), by_name.get(raw)
        if not own_entry or own_entry.get("class_name") != "InputLayer":
            return None
        own_cfg, raw_cfg = own_entry.get("config") or {}, raw_entry.get("config") or {}
        shape = lambda c: list(c.get("batch_shape") or c.get("batch_input_shape") or [])  # noqa: E731
        if shape(own_cfg) == shape(raw_cfg) and simplify(own_cfg.get("dtype")) == simplify(raw_cfg.get("dtype")):
            inputs[raw] = own_entry  # (a text wrapper takes strings: its own Input stays)
    for name, _, _ in _refs_list(config.get("output_layers")):
        if name != net_name and name not in renames:
            return None
    return _RunWrapper(str(net_name), inputs, renames)


class _Builder:
    def __init__(self, catalog: Catalog, keras_config: KerasConfig | None) -> None:
        self.catalog = catalog
        self.keras_config = keras_config
        self.graph = Graph(catalog)
        self.origin: dict[str, tuple[str, ...]] = {}
        self.warnings: list[str] = []
        # (model path, layer, node, tensor) -> the shape the file records for that tensor
        self.recorded: dict[tuple[tuple[str, ...], str, int, int], list] = {}
        self.placeholders: list[str] = []  # where each placeholder stands ("encoder/sampling")
        # Keras layer (model path + name) -> the node of its first call: later calls share it.
        self.owners: dict[tuple[str, ...], str] = {}
        # (model path, name) of the operations that only compute masks (`mask_only_operations`)
        self.mask_only: set[tuple[tuple[str, ...], str]] = set()
        # (model path, name) of nested models drawn without a group (the app's own run network)
        self.ungrouped: set[tuple[tuple[str, ...], str]] = set()

    # -- nodes --------------------------------------------------------------
    def node(self, entry: dict, path: tuple[str, ...], trainable: bool, inbound: Any = None,
             node_index: int = 0) -> str:
        """The node of one layer entry. `inbound` (the call's inbound node) is given for
        the layers of a functional model, where operations and placeholders can be made."""
        class_name = entry.get("class_name")
        config = entry.get("config") or {}
        name = config.get("name") or entry.get("name") or str(class_name)
        where = "/".join(path + (name,))
        reason = placeholder_reason(entry) if inbound is not None else None
        if reason is None and inbound is not None and class_name == "TFOpLambda":
            node = self._tf_op_node(entry, name, inbound)
            reason = None if node is not None else "a Keras 2 TFOpLambda called with arguments this version does not map"
        elif reason is None and inbound is not None and is_operation_module(entry.get("module")):
            node = self._operation_node(entry, name, inbound)
            reason = None if node is not None else (f"the operation {class_name} was called with arguments this "
                                                    "version does not support (only tensors and one number)")
        else:
            node = None
        if reason is not None:
            node = self._placeholder(entry, name, path, node_index, inbound, reason)
        elif node is not None:
            pass
        elif class_name in UNSAFE_CLASSES:
            raise ModelImportError(f"layer '{where}' is a {class_name} layer, which runs arbitrary Python code "
                                   "and is never loaded from a file; rebuild it from built-in layers")
        else:
            spec = self.catalog.for_class(class_name) if isinstance(class_name, str) else None
            if class_name == "InputLayer":
                node = Node(type=spec.id if spec else "Input", title=name,
                            params=self._input_params(config, where))
            elif spec is not None:
                node = Node(type=spec.id, title=name,
                            params=layer_params(class_name, config, spec, self.keras_config))
            else:
                node = Node(type=str(class_name), title=name, params=layer_params(class_name, config, None, None))
        node.trainable = trainable and bool(config.get("trainable", True))
        where_key = path + (name,)
        owner = self.owners.get(where_key)
        spec = self.catalog.find(node.type)
        holds_layer = reason is None and (spec is None or (spec.max_inputs != 0 and spec.call_style != "op"))
        if owner is not None and holds_layer:
            node.shares = owner  # another call of the same Keras layer: one set of weights
        elif holds_layer:
            self.owners[where_key] = node.id
        self.graph.add_node(node)
        self.origin[node.id] = where_key
        return node.id

    # -- operations and placeholders ----------------------------------------------
    def _operation_node(self, entry: dict, name: str, inbound: Any) -> Optional[Node]:
        """An `ops.*` node for a Keras 3 operation called with tensors (and at most one number
        beside a tensor), or None when the call holds anything else."""
        op = operation(entry.get("module"), entry.get("class_name"))
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        if op is None or not isinstance(inbound, dict) or set(config) - {"name", *op.keys}:
            return None
        args = list(inbound["args"]) if isinstance(inbound.get("args"), (list, tuple)) else []
        kwargs = inbound.get("kwargs") if isinstance(inbound.get("kwargs"), dict) else {}
        if any(value is not None for value in kwargs.values()):
            return None
        params = {key: simplify(config[key]) for key in op.keys if key in config}
        if op.tensors == "list":
            if len(args) != 1 or not isinstance(args[0], (list, tuple)) or not all(_is_tensor(a) for a in args[0]):
                return None
        elif op.tensors == "two":
            if len(args) != 2 or not any(_is_tensor(a) for a in args):
                return None
            constants = [a for a in args if not _is_tensor(a)]
            if constants:
                if not _scalar(constants[0]) or op.function == "matmul":
                    return None
                params["constant"] = constants[0]
                if not _is_tensor(args[0]):
                    params["constant_first"] = True
        elif len(args) != 1 or not _is_tensor(args[0]):
            return None
        return self._op_node(op.function, name, params)

    def _op_node(self, function: str, name: str, params: dict) -> Node:
        spec = self.catalog.get(f"ops.{function}")
        defaults = simplify(spec.defaults())
        kept = {k: v for k, v in params.items() if k not in defaults or simplify(v) != defaults[k]}
        return Node(type=spec.id, title=name, params=kept)

    def _tf_op_node(self, entry: dict, name: str, inbound: Any) -> Optional[Node]:
        """The `ops.*` node of a Keras 2 TFOpLambda of plain arithmetic (`tf.math.add(x, 3.0)`)."""
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        parsed = _tf_op_call(inbound)
        class_name = TF_OP_LAMBDAS.get(config.get("function"))  # type: ignore[arg-type]
        if parsed is None or class_name is None:
            return None
        _, constant, first_is_constant, rest = parsed
        op = OPS[class_name]
        if rest or (op.tensors == "one" and (constant is not None or first_is_constant)):
            return None
        params: dict = {}
        if op.tensors == "two":
            if constant is None and len(parsed[0]) != 2:
                return None
            if constant is not None:
                params["constant"] = constant
                if first_is_constant:
                    params["constant_first"] = True
        return self._op_node(op.function, name, params)

    def _placeholder(self, entry: dict, name: str, path: tuple[str, ...], node_index: int, inbound: Any,
                     reason: str) -> Node:
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        outputs = sorted((t, shape) for (p, layer, ni, t), shape in self.recorded.items()
                         if p == path and layer == name and ni == node_index)
        found: dict = {}
        _tensor_shapes(inbound, found)  # the shapes of its own inputs, in call order
        inputs = list(found.values())
        self.placeholders.append("/".join(path + (name,)))
        params = {
            "class_name": str(entry.get("class_name"))[:200],
            "module": entry.get("module") if isinstance(entry.get("module"), str) else None,
            "config": json.dumps(config, default=str, sort_keys=True),
            "input_shapes": inputs or None,
            "output_shapes": [shape for _, shape in outputs] if outputs and
            [t for t, _ in outputs] == list(range(len(outputs))) else [],
            "reason": reason,
        }
        return Node(type=PLACEHOLDER, title=name, params=params)

    def _placeholder_outputs(self, outputs: list[TensorRef], path: tuple[str, ...], name: str,
                             node_index: int) -> None:
        """A placeholder that gives a nested model's output has no consumer inside that model to
        record its shape; the outer model's consumers record it as the nested model's output."""
        for t, (node_id, port) in enumerate(outputs):
            node = self.graph.node(node_id)
            shape = self.recorded.get((path, name, node_index, t))
            shapes = list(node.params.get("output_shapes") or []) if node.type == PLACEHOLDER else None
            if shape is not None and shapes is not None and port == len(shapes):
                node.params = {**node.params, "output_shapes": shapes + [shape]}

    def _input_params(self, config: dict, where: str) -> dict:
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        if shape is None:
            raise ModelImportError(f"input '{where}' has no shape; build the model with keras.Input(shape=...) "
                                   "and save it again")
        params: dict = {"batch_shape": list(shape)}
        dtype = simplify(config.get("dtype")) or "float32"
        if isinstance(dtype, str) and dtype != "float32":
            params["dtype"] = dtype
        for key in ("sparse", "ragged", "optional"):
            if config.get(key):
                params[key] = True
        return params

    def connect(self, refs: list[TensorRef], target: str) -> None:
        for port, (source, source_port) in enumerate(refs):
            self.graph.connect(Edge(source, target, source_port, port), check_shapes=False)

    # -- models -------------------------------------------------------------
    def model(self, config: dict, path: tuple[str, ...], bound: list[TensorRef] | None,
              trainable: bool) -> list[TensorRef]:
        if "input_layers" in config:
            return self.functional(config, path, bound, trainable)
        return self.sequential(config, path, bound, trainable)

    def sequential(self, config: dict, path: tuple[str, ...], bound: list[TensorRef] | None,
                   trainable: bool) -> list[TensorRef]:
        entries = list(config.get("layers") or [])
        current: list[TensorRef] | None = bound
        if entries and entries[0].get("class_name") == "InputLayer":
            first = entries.pop(0)
            if current is None:
                current = [(self.node(first, path, trainable), 0)]
        if current is None:
            shape = config.get("build_input_shape")
            if not shape:
                name = config.get("name", "model")
                raise ModelImportError(f"model '{name}' was never built, so its input shape is unknown; "
                                       "call it on data or start it with keras.Input(shape=...) and save it again")
            entry = {"class_name": "InputLayer", "config": {"batch_shape": shape, "name": "input"}}
            current = [(self.node(entry, path, trainable), 0)]
        for entry in entries:
            current = self.call(entry, path, current, trainable, len(entry.get("inbound_nodes") or [1]))
        return current

    def call(self, entry: dict, path: tuple[str, ...], refs: list[TensorRef], trainable: bool,
             calls: int, inbound: Any = None, node_index: int = 0,
             keywords: Optional[list[tuple[str, TensorRef]]] = None) -> list[TensorRef]:
        """One call of a layer (or nested model) on `refs`; its outputs. `keywords`: the
        tensors passed as keyword arguments (`mask=`), wired as keyword-argument edges."""
        config = entry.get("config") or {}
        name = config.get("name") or entry.get("name") or "layer"
        if entry.get("class_name") in MODEL_CLASSES or ("layers" in config and (
                inbound is None or placeholder_reason(entry) is None)):
            for key, _ in keywords or []:
                self.warnings.append(f"model '{'/'.join(path + (name,))}' was called with a {key} tensor, which "
                                     "the graph keeps only for layers; the nested model runs without it")
            # A model used as a layer: its layers join the graph as a group (called again, its
            # layers are called again: the new nodes share the first call's weights).
            before = len(self.graph.nodes)
            outputs = self.model(config, path + (name,), refs,
                                 trainable and bool(config.get("trainable", True)))
            members = [n.id for n in self.graph.nodes[before:]]
            if members and (path, name) not in self.ungrouped:
                self.graph.add_group(Group(id=new_id(), name=str(name), members=members))
            self._placeholder_outputs(outputs, path, name, node_index)
            return outputs
        node_id = self.node(entry, path, trainable, inbound, node_index)
        self.connect(refs, node_id)
        for i, (key, (source, source_port)) in enumerate(keywords or []):
            self.graph.connect(Edge(source, node_id, source_port, len(refs) + i, argument=key), check_shapes=False)
        spec = self.graph.spec(node_id)
        count = self.graph.num_outputs(self.graph.node(node_id)) if spec is not None else 1
        return [(node_id, i) for i in range(max(1, count))]

    def functional(self, config: dict, path: tuple[str, ...], bound: list[TensorRef] | None,
                   trainable: bool) -> list[TensorRef]:
        entries = list(config.get("layers") or [])
        inputs = _refs_list(config.get("input_layers"))
        produced: dict[tuple[str, int], list[TensorRef]] = {}
        by_name = {(e.get("config") or {}).get("name") or e.get("name"): e for e in entries}
        wrapper = run_wrapper(config) if not path and bound is None else None
        if wrapper is not None:  # the app's own run model: the network as it was designed
            self.ungrouped.add((path, wrapper.network))
        for i, (name, node_index, _) in enumerate(inputs):
            entry = by_name.get(name)
            if entry is None:
                raise ModelImportError(f"model input '{name}' is not among the model's layers")
            if bound is None and wrapper is not None and name in wrapper.inputs:
                produced[(name, node_index)] = [(self.node(wrapper.inputs[name], (wrapper.network,), trainable), 0)]
            elif bound is None:
                produced[(name, node_index)] = [(self.node(entry, path, trainable), 0)]
            else:
                if i >= len(bound):
                    raise ModelImportError(f"nested model '{'/'.join(path)}' gets fewer inputs than it declares")
                produced[(name, node_index)] = [bound[i]]
        pending = []
        shifted: set = set()
        keras2 = _keras2(entries)
        found: dict = {}
        for entry in entries:
            _tensor_shapes(entry.get("inbound_nodes"), found)
        for (layer, ni, ti), shape in found.items():
            self.recorded[(path, layer, ni, ti)] = shape
        self.mask_only |= {(path, name) for name in mask_only_operations(config)}
        for entry in entries:
            name = (entry.get("config") or {}).get("name") or entry.get("name")
            inbound = entry.get("inbound_nodes") or []
            if entry.get("class_name") == "InputLayer" or (path, name) in self.mask_only:
                continue
            first = _first_node_index(entry, keras2)
            if entry.get("class_name") == "Functional" and not keras2:
                shifted.add(name)  # its calls are 1, 2... in output_layers (its node 0 is its own)
            for k, call in enumerate(inbound):
                pending.append((entry, name, first + k, call, len(inbound)))
        while pending:
            progress = []
            for item in pending:
                entry, name, k, call, calls = item
                keywords: list[tuple[str, tuple[str, int, int]]] = []
                if entry.get("class_name") == "TFOpLambda":
                    parsed = _tf_op_call(call)
                    refs = parsed[0] if parsed is not None else _history(call)
                else:
                    refs, keywords = self._call_refs(call, path + (name,), entry)
                if all((src, ni) in produced for src, ni, _ in refs + [ref for _, ref in keywords]):
                    resolved = [self._pick(produced[(src, ni)], ti, src) for src, ni, ti in refs]
                    if wrapper is not None and name in wrapper.renames:  # only names an output
                        produced[(name, k)] = resolved
                        progress.append(item)
                        continue
                    wired = [(key, self._pick(produced[(src, ni)], ti, src)) for key, (src, ni, ti) in keywords]
                    produced[(name, k)] = self.call(entry, path, resolved, trainable, calls, call, k, wired)
                    progress.append(item)
            if not progress:
                entry, name = pending[0][0], pending[0][1]
                raise ModelImportError(f"layer '{'/'.join(path + (name,))}' takes inputs that no layer of the model "
                                       "produces; the file's model config is inconsistent")
            pending = [p for p in pending if p not in progress]
        outputs = []
        for name, node_index, tensor_index in _refs_list(config.get("output_layers")):
            if name in shifted:
                node_index -= 1
            if (name, node_index) not in produced:
                raise ModelImportError(f"model output '{name}' is not produced by any layer")
            outputs.append(self._pick(produced[(name, node_index)], tensor_index, name))
        return outputs

    def _call_refs(self, call: Any, where: tuple[str, ...], entry: Optional[dict] = None
                   ) -> tuple[list[tuple[str, int, int]], list[tuple[str, tuple[str, int, int]]]]:
        """The tensors of one call: (positional inputs, [(keyword argument, tensor)] for the
        tensors passed as `mask=` and the like, `KEYWORD_INPUTS`)."""
        keywords: list[tuple[str, tuple[str, int, int]]] = []
        if isinstance(call, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            refs = _history(call.get("args", []))
            kwargs = call.get("kwargs") or {}
            quiet = entry is not None and (is_operation_module(entry.get("module"))
                                           or placeholder_reason(entry) is not None)
            for key, value in kwargs.items():
                found = _history(value)
                if key == "mask" and found and all((where[:-1], src) in self.mask_only for src, _, _ in found):
                    continue  # the mask Keras propagates itself: the rebuilt model computes it again
                if found and key in KEYWORD_INPUTS and not quiet:
                    if len(found) == 1 and _is_tensor(value):
                        keywords.append((key, found[0]))
                    else:
                        self.warnings.append(f"layer '{'/'.join(where)}' was called with a list of {key} tensors, "
                                             "which the graph does not keep")
                    continue
                if found:
                    refs.extend(found)
                elif quiet:
                    continue  # an operation keeps its arguments (or becomes a placeholder that does)
                elif value not in (None, False, {}, []) and key not in ("training", "mask"):
                    self.warnings.append(f"layer '{'/'.join(where)}' was called with {key}={value!r}, "
                                         "which the graph does not keep")
            return refs, keywords
        return _history(call), keywords  # Keras 2: [[name, node, tensor, kwargs], ...]

    def _pick(self, outputs: list[TensorRef], tensor_index: int, name: str) -> TensorRef:
        if tensor_index < len(outputs):
            return outputs[tensor_index]
        if len(outputs) == 1:  # an opaque layer with several outputs: ports are tensor indices
            node_id, _ = outputs[0]
            return (node_id, tensor_index)
        raise ModelImportError(f"layer '{name}' has no output {tensor_index}")

    def finish(self, outputs: list[TensorRef]) -> None:
        """Mark the model's outputs that also feed other layers as outputs (`Node.output`) and
        warn where the graph's outputs still differ from the model's."""
        feeding = {e.source for e in self.graph.edges}
        for node_id, _ in outputs:
            if node_id in feeding:
                self.graph.node(node_id).output = True
        graph_outputs = [(n.id, p) for n in self.graph.output_nodes()
                         for p in range(max(1, self.graph.num_outputs(n)))]
        if set(graph_outputs) != set(outputs):
            names = ", ".join(self.graph.label(n) for n, _ in outputs)
            self.warnings.append(f"the model's outputs ({names}) are not exactly the layers that feed "
                                 "nothing; the graph's outputs are those layers")
            return
        # Put output nodes last, in the model's output order, so the graph lists them the same way.
        for node_id in dict.fromkeys(n for n, _ in outputs):
            node = self.graph.node(node_id)
            edges = self.graph.edges_of(node_id)
            self.graph.remove_node(node_id)
            self.graph.add_node(node)
            for edge in edges:
                self.graph.connect(edge, check_shapes=False)
