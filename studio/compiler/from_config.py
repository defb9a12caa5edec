"""A Keras model config (`model.get_config()`) -> an editable `Graph` (pure).

Layers become nodes: a layer whose class the catalog knows gets its catalog
type and, as params, the config keys whose values differ from the defaults;
any other layer becomes an opaque node that keeps its whole config. Inbound
nodes become edges; nested models are flattened into the outer graph; nodes
are laid out left to right by `studio.graph.layout` (as Auto layout does).

Keras itself is not imported here: the caller passes `layer_defaults`, a
function giving the config Keras writes for a layer built from given params,
so values can be compared in Keras' own form.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from studio.compiler.keras_required import REQUIRED
from studio.core.errors import StudioError
from studio.graph.catalog import Catalog, default_catalog
from studio.graph.layout import apply_layout
from studio.graph.model import Edge, Graph, Node
from studio.graph.spec import LayerSpec

MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})
UNSAFE_CLASSES = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})

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


def graph_from_config(config: dict, catalog: Catalog | None = None,
                      keras_config: KerasConfig | None = None) -> ImportedGraph:
    """Convert a functional or sequential model config into a graph."""
    builder = _Builder(catalog or default_catalog(), keras_config)
    outputs = builder.model(config, (), None, trainable=bool(config.get("trainable", True)))
    builder.finish(outputs)
    apply_layout(builder.graph)  # the canvas' Auto layout algorithm
    return ImportedGraph(builder.graph, builder.origin, outputs, builder.warnings)


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


def _refs_list(value: Any) -> list[tuple[str, int, int]]:
    """`input_layers` / `output_layers`: one [name, node, tensor] or a list/dict of them."""
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs_list(v)]
    return _history(value)


class _Builder:
    def __init__(self, catalog: Catalog, keras_config: KerasConfig | None) -> None:
        self.catalog = catalog
        self.keras_config = keras_config
        self.graph = Graph(catalog)
        self.origin: dict[str, tuple[str, ...]] = {}
        self.warnings: list[str] = []

    # -- nodes --------------------------------------------------------------
    def node(self, entry: dict, path: tuple[str, ...], trainable: bool) -> str:
        class_name = entry.get("class_name")
        config = entry.get("config") or {}
        name = config.get("name") or entry.get("name") or str(class_name)
        where = "/".join(path + (name,))
        if class_name in UNSAFE_CLASSES:
            raise ModelImportError(f"layer '{where}' is a {class_name} layer, which runs arbitrary Python code "
                                   "and is never loaded from a file; rebuild it from built-in layers")
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
        self.graph.add_node(node)
        self.origin[node.id] = path + (name,)
        return node.id

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
             calls: int) -> list[TensorRef]:
        """One call of a layer (or nested model) on `refs`; its outputs."""
        config = entry.get("config") or {}
        name = config.get("name") or entry.get("name") or "layer"
        if calls > 1:
            raise ModelImportError(
                f"layer '{'/'.join(path + (name,))}' is used {calls} times with shared weights, which a graph "
                "of separate nodes cannot represent; give each use its own layer and save the model again"
            )
        if entry.get("class_name") in MODEL_CLASSES or "layers" in config:
            return self.model(config, path + (name,), refs,
                              trainable and bool(config.get("trainable", True)))
        node_id = self.node(entry, path, trainable)
        self.connect(refs, node_id)
        spec = self.graph.spec(node_id)
        count = self.graph.num_outputs(self.graph.node(node_id)) if spec is not None else 1
        return [(node_id, i) for i in range(max(1, count))]

    def functional(self, config: dict, path: tuple[str, ...], bound: list[TensorRef] | None,
                   trainable: bool) -> list[TensorRef]:
        entries = list(config.get("layers") or [])
        inputs = _refs_list(config.get("input_layers"))
        produced: dict[tuple[str, int], list[TensorRef]] = {}
        by_name = {(e.get("config") or {}).get("name") or e.get("name"): e for e in entries}
        for i, (name, node_index, _) in enumerate(inputs):
            entry = by_name.get(name)
            if entry is None:
                raise ModelImportError(f"model input '{name}' is not among the model's layers")
            if bound is None:
                produced[(name, node_index)] = [(self.node(entry, path, trainable), 0)]
            else:
                if i >= len(bound):
                    raise ModelImportError(f"nested model '{'/'.join(path)}' gets fewer inputs than it declares")
                produced[(name, node_index)] = [bound[i]]
        pending = []
        for entry in entries:
            name = (entry.get("config") or {}).get("name") or entry.get("name")
            inbound = entry.get("inbound_nodes") or []
            if entry.get("class_name") == "InputLayer":
                continue
            for k, call in enumerate(inbound):
                pending.append((entry, name, k, call, len(inbound)))
        while pending:
            progress = []
            for item in pending:
                entry, name, k, call, calls = item
                refs = self._call_refs(call, path + (name,))
                if all((src, ni) in produced for src, ni, _ in refs):
                    resolved = [self._pick(produced[(src, ni)], ti, src) for src, ni, ti in refs]
                    produced[(name, k)] = self.call(entry, path, resolved, trainable, calls)
                    progress.append(item)
            if not progress:
                entry, name = pending[0][0], pending[0][1]
                raise ModelImportError(f"layer '{'/'.join(path + (name,))}' takes inputs that no layer of the model "
                                       "produces; the file's model config is inconsistent")
            pending = [p for p in pending if p not in progress]
        outputs = []
        for name, node_index, tensor_index in _refs_list(config.get("output_layers")):
            if (name, node_index) not in produced:
                raise ModelImportError(f"model output '{name}' is not produced by any layer")
            outputs.append(self._pick(produced[(name, node_index)], tensor_index, name))
        return outputs

    def _call_refs(self, call: Any, where: tuple[str, ...]) -> list[tuple[str, int, int]]:
        if isinstance(call, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            refs = _history(call.get("args", []))
            kwargs = call.get("kwargs") or {}
            for key, value in kwargs.items():
                found = _history(value)
                if found:
                    refs.extend(found)
                elif value not in (None, False, {}, []) and key not in ("training", "mask"):
                    self.warnings.append(f"layer '{'/'.join(where)}' was called with {key}={value!r}, "
                                         "which the graph does not keep")
            return refs
        return _history(call)  # Keras 2: [[name, node, tensor, kwargs], ...]

    def _pick(self, outputs: list[TensorRef], tensor_index: int, name: str) -> TensorRef:
        if tensor_index < len(outputs):
            return outputs[tensor_index]
        if len(outputs) == 1:  # an opaque layer with several outputs: ports are tensor indices
            node_id, _ = outputs[0]
            return (node_id, tensor_index)
        raise ModelImportError(f"layer '{name}' has no output {tensor_index}")

    def finish(self, outputs: list[TensorRef]) -> None:
        """Warn where the graph's outputs (nodes feeding nothing) differ from the model's."""
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
