"""`BuildPlan` -> `keras.Model`, and compiling it with a training config.

Keras is imported inside the functions only: importing this module is free.
Every failure Keras reports while building a node's layer becomes a
`BuildError` naming that node (`error.node_id`), with Keras' own reason in one
line, and carrying it as a `Diagnostic` (`error.diagnostics`, like the
errors `make_plan` finds) so the canvas and the diagnostics panel can show it
on that node; `diagnose(plan)` returns those diagnostics without raising.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, Mapping

from studio.compiler.plan import LIST, OP, POSITIONAL, BuildPlan, LayerCall
from studio.core.errors import BuildError
from studio.graph.inference import ERROR, Diagnostic
from studio.graph.keras_names import OPS, builtin_layer

if TYPE_CHECKING:  # pragma: no cover
    import keras

# keras.Input accepts these InputLayer config keys besides batch_shape/dtype/name.
_INPUT_EXTRA_KEYS = ("sparse", "ragged", "optional")


def keras_reason(exc: BaseException, limit: int = 300) -> str:
    """Keras' own explanation of an exception, as one line.

    Keras wraps deserialization errors several times ("could not be
    deserialized properly ... Exception encountered: ..."); the innermost
    reason is the useful one.
    """
    text = str(exc) or type(exc).__name__
    marker = "Exception encountered:"
    if marker in text:
        text = text.rsplit(marker, 1)[1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = " ".join(lines[:2]) if lines else type(exc).__name__
    line = re.sub(r"\s+", " ", line)
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return line


def with_modules(value: Any) -> Any:
    """Add `"module": "keras.layers"` to nested layer configs that lack one.

    Keras 3 resolves `{"class_name": "LSTM", "config": {...}}` only with its
    module; node params (e.g. a Bidirectional's `layer`) are written without it.
    """
    import keras

    if isinstance(value, dict):
        value = {k: with_modules(v) for k, v in value.items()}
        cls = value.get("class_name")
        if isinstance(cls, str) and "config" in value and "module" not in value:
            if isinstance(getattr(keras.layers, cls, None), type):
                value["module"] = "keras.layers"
        return value
    if isinstance(value, list):
        return [with_modules(v) for v in value]
    return value


def builtin_class(module: Any, class_name: Any) -> Any:
    """The class of a layer Keras ships in `keras.src.applications` (LayerScale...), looked up
    through the fixed table `keras_names.BUILTIN_LAYERS`; None for any other (module, class)."""
    import importlib

    source = builtin_layer(module, class_name)
    if source is None:
        return None
    return getattr(importlib.import_module(source), class_name, None)


def operation_class(class_name: str) -> Any:
    """The Keras operation class of `keras_names.OPS[class_name]` (its module is the table's)."""
    import importlib

    return getattr(importlib.import_module(OPS[class_name].module), class_name)


def apply_operation(class_name: str, config: dict, tensors: list) -> Any:
    """Create the operation `class_name` from a node's config (its `OPS` keys and name) and apply it
    to `tensors` as Keras does when it loads a functional model: `op(x)`, `op(x1, x2)` (a
    `constant` param takes one side) or `op([x, ...])`."""
    op = OPS[class_name]
    own = {key: copy.deepcopy(config[key]) for key in op.keys if key in config}
    if "name" in config:
        own["name"] = config["name"]
    instance = operation_class(class_name).from_config(own)
    if op.tensors == "list":
        return instance(list(tensors))
    if op.tensors == "two":
        constant = config.get("constant")
        if constant is not None:
            if len(tensors) != 1:
                raise ValueError(f"takes one tensor with a constant, got {len(tensors)}")
            return instance(constant, tensors[0]) if config.get("constant_first") else instance(tensors[0], constant)
        if len(tensors) != 2:
            raise ValueError(f"takes two tensors, got {len(tensors)}")
        return instance(tensors[0], tensors[1])
    if len(tensors) != 1:
        raise ValueError(f"takes one tensor, got {len(tensors)}")
    return instance(tensors[0])


def make_layer(call: LayerCall) -> keras.layers.Layer:
    """The Keras layer of one call (not yet called on tensors)."""
    import keras

    config = {"module": call.module, "class_name": call.class_name, "config": copy.deepcopy(call.config)}
    try:
        cls = builtin_class(call.module, call.class_name)
        if cls is not None:
            return cls.from_config(with_modules(config["config"]))
        return keras.layers.deserialize(with_modules(config))
    except Exception as exc:  # Keras raises TypeError/ValueError/... for bad configs
        raise BuildError(f"{call.label}: Keras cannot create this {call.class_name} layer: {keras_reason(exc)}",
                         call.node_id) from exc


def make_input(call: LayerCall) -> Any:
    import keras

    config = call.config
    kwargs = {
        "batch_shape": tuple(config["batch_shape"]),
        "dtype": config.get("dtype") or "float32",
        "name": call.name,
    }
    for key in _INPUT_EXTRA_KEYS:
        if config.get(key):
            kwargs[key] = config[key]
    try:
        return keras.Input(**kwargs)
    except Exception as exc:
        raise BuildError(f"{call.label}: Keras refuses this Input: {keras_reason(exc)}", call.node_id) from exc


def call_layer(call: LayerCall, layer: Any, args: list, kwargs: Mapping[str, Any] | None = None) -> Any:
    """`layer` applied to its input tensors as the plan says; `kwargs`: the tensors wired
    into keyword arguments (`mask=`)."""
    kwargs = dict(kwargs or {})
    try:
        if call.call_style == POSITIONAL:
            return layer(*args, **kwargs)
        if call.call_style == LIST:
            return layer(list(args), **kwargs)
        if len(args) != 1:
            raise BuildError(f"{call.label}: takes one input but {len(args)} are wired into it", call.node_id)
        return layer(args[0], **kwargs)
    except BuildError:
        raise
    except Exception as exc:
        raise BuildError(f"{call.label}: Keras cannot apply this {call.class_name} layer to its input: "
                         f"{keras_reason(exc)}", call.node_id) from exc


def call_operation(call: LayerCall, args: list) -> Any:
    """An operation node applied to its input tensors (`apply_operation`)."""
    if call.class_name not in OPS:
        raise BuildError(f"{call.label}: {call.class_name} is not an operation this version builds", call.node_id)
    try:
        return apply_operation(call.class_name, call.config, args)
    except Exception as exc:
        raise BuildError(f"{call.label}: Keras cannot apply keras.ops.{OPS[call.class_name].function} to its "
                         f"input: {keras_reason(exc)}", call.node_id) from exc


def _output(tensors: Mapping[str, Any], ref: tuple[str, int], plan: BuildPlan) -> Any:
    node_id, port = ref
    value = tensors[node_id]
    if isinstance(value, (list, tuple)):
        if port >= len(value):
            label = plan.call(node_id).label
            raise BuildError(f"{label}: has only {len(value)} output(s), but output {port} is used", node_id)
        return value[port]
    if port != 0:
        label = plan.call(node_id).label
        raise BuildError(f"{label}: has one output, but output {port} is used", node_id)
    return value


def build_model(plan: BuildPlan) -> keras.Model:
    """Build the functional `keras.Model` the plan describes.

    One input/output is passed as a tensor, several as lists (in plan order).
    Raises `BuildError(node_id=...)` naming the node whose layer Keras refused,
    with `error.diagnostics` holding that refusal as an error `Diagnostic`.
    """
    try:
        return _build(plan)
    except BuildError as exc:
        if not getattr(exc, "diagnostics", None):
            exc.diagnostics = [Diagnostic(exc.node_id, ERROR, str(exc))]  # type: ignore[attr-defined]
        raise


def diagnose(plan: BuildPlan) -> list[Diagnostic]:
    """Keras' verdict on the plan as diagnostics: [] when it builds, else the
    error on the node Keras refused (for a background check of the graph)."""
    try:
        build_model(plan)
    except BuildError as exc:
        return list(exc.diagnostics)  # type: ignore[attr-defined]
    return []


def _build(plan: BuildPlan) -> keras.Model:
    import keras

    tensors: dict[str, Any] = {}
    layers: dict[str, Any] = {}  # node id -> the layer its call made (for shared layers)
    for call in plan.calls:
        if call.is_input:
            tensors[call.node_id] = make_input(call)
            continue
        args = [_output(tensors, ref, plan) for ref in call.inputs]
        kwargs = {key: _output(tensors, ref, plan) for key, ref in call.keyword_inputs}
        if kwargs and (call.call_style == OP or call.module == "studio.hub"):
            raise BuildError(f"{call.label}: takes no {', '.join(kwargs)} wire; remove that wire", call.node_id)
        if call.call_style == OP:
            tensors[call.node_id] = call_operation(call, args)
            continue
        if call.shares:  # another call of an earlier node's layer: the same weights
            tensors[call.node_id] = call_layer(call, layers[call.shares], args, kwargs)
            continue
        special = SPECIAL_BUILDERS.get(call.class_name) if call.module == "studio.hub" else None
        if special is not None:
            tensors[call.node_id] = special(call, args)
            continue
        layer = layers[call.node_id] = make_layer(call)
        tensors[call.node_id] = call_layer(call, layer, args, kwargs)
    inputs = [tensors[nid] for nid in plan.inputs]
    outputs = [_output(tensors, ref, plan) for ref in plan.outputs]
    if not inputs:
        raise BuildError("the model has no Input layer; add one from the Input category")
    if not outputs:
        raise BuildError("the model has no output; wire a layer after the Input")
    try:
        return keras.Model(
            inputs=inputs[0] if len(inputs) == 1 else inputs,
            outputs=outputs[0] if len(outputs) == 1 else outputs,
            name=plan.name,
        )
    except Exception as exc:
        raise BuildError(f"Keras cannot assemble the model: {keras_reason(exc)}") from exc


# --- transfer learning (issue 13): nodes built through studio.hub, not keras.layers -------------
def _build_hub_module(call: LayerCall, args: list) -> Any:
    """A HubModule node: our TFSMLayer subclass, resolved from the node's handle."""
    from studio.hub.module_layer import make_hub_module

    if len(args) != 1:
        raise BuildError(f"{call.label}: takes one input but {len(args)} are wired into it", call.node_id)
    try:
        layer = make_hub_module(call.config)
        layer.check_input(args[0])  # the module's own dtype/shape message, not Keras' wrapped one
    except Exception as exc:  # HubError (offline, not a SavedModel...) or TensorFlow's own
        raise BuildError(f"{call.label}: {keras_reason(exc)}", call.node_id) from exc
    layer.studio_base = True  # a transfer-learning base (studio.hub.backbones.BASE_ATTR): two-phase fine-tuning
    return call_layer(call, layer, args)


def _build_backbone(call: LayerCall, args: list) -> Any:
    """A Backbone node: preprocessing + a Keras Application, as a functional sub-model."""
    from studio.hub.backbones import build_backbone

    if len(args) != 1:
        raise BuildError(f"{call.label}: takes one input but {len(args)} are wired into it", call.node_id)
    config = call.config
    try:
        model = build_backbone(config["backbone"], tuple(args[0].shape[1:]), weights=config.get("weights", "none"),
                               weights_file=config.get("weights_file") or "", pooling=config.get("pooling", "avg"),
                               trainable=config.get("trainable", True),
                               freeze_up_to=int(config.get("freeze_up_to") or 0), layer_name=call.name,
                               lr_multiplier=float(config.get("lr_multiplier", 1.0)))
    except Exception as exc:
        raise BuildError(f"{call.label}: {keras_reason(exc)}", call.node_id) from exc
    return call_layer(call, model, args)


def _build_preset(call: LayerCall, args: list) -> Any:
    """A KerasHubPreset node: the preset's image scaling + its KerasHub backbone + pooling, as a sub-model."""
    from studio.hub.presets import build_preset

    if len(args) != 1:
        raise BuildError(f"{call.label}: takes one input but {len(args)} are wired into it", call.node_id)
    config = call.config
    try:
        model = build_preset(config.get("preset") or "", tuple(args[0].shape[1:]), pooling=config.get("pooling", "avg"),
                             pixels=config.get("pixels", "0-255"), trainable=config.get("trainable", True),
                             freeze_up_to=int(config.get("freeze_up_to") or 0), layer_name=call.name,
                             lr_multiplier=float(config.get("lr_multiplier", 1.0)))
    except Exception as exc:
        raise BuildError(f"{call.label}: {keras_reason(exc)}", call.node_id) from exc
    return call_layer(call, model, args)


#: Node classes built by a function of (call, input tensors) instead of keras.layers.deserialize.
SPECIAL_BUILDERS = {"HubModule": _build_hub_module, "Backbone": _build_backbone, "KerasHubPreset": _build_preset}


def build_model_from_graph(graph: Any, name: str = "model") -> keras.Model:
    """Convenience: `build_model(make_plan(graph, name))`."""
    from studio.compiler.plan import make_plan

    return build_model(make_plan(graph, name))


def compile_model(
    model: keras.Model,
    training: Any = None,
    *,
    task: str = "classification",
    label_encoding: str = "index",
    num_classes: int | None = None,
    outputs: list | None = None,
) -> keras.Model:
    """Compile `model` with the project's training settings and return it.

    `training` is a `TrainingConfig`, `project.training` (a dict) or None for
    the defaults; `task`/`label_encoding` resolve `loss="auto"` (see
    `TrainingConfig.resolve_loss`). A setting Keras refuses raises
    `TrainingError` naming it.
    """
    import keras

    from studio.compiler.compile_args import compile_args
    from studio.core.errors import TrainingError

    units = [t.shape[-1] if len(t.shape) else None for t in model.outputs]
    args = compile_args(training, task=task, label_encoding=label_encoding, num_classes=num_classes,
                        output_units=units, outputs=outputs)  # outputs: per-output tasks (data bound per node)
    try:
        optimizer = keras.optimizers.deserialize(with_modules_optimizer(args.optimizer))
    except Exception as exc:
        raise TrainingError(f"training setting 'optimizer': Keras refuses {args.optimizer['class_name']}: "
                            f"{keras_reason(exc)}") from exc
    for name in dict.fromkeys(args.loss if isinstance(args.loss, list) else [args.loss]):
        try:
            keras.losses.get(name)
        except Exception:
            raise TrainingError(f"training setting 'loss': Keras has no loss called {name!r}; choose one such "
                                "as 'sparse_categorical_crossentropy' or 'mean_squared_error'") from None
    from studio.hub.backbones import apply_lr_multipliers

    apply_lr_multipliers(optimizer, model)  # backbones' learning-rate multipliers (Backbone nodes)
    try:
        model.compile(optimizer=optimizer, loss=args.loss, metrics=args.metrics,
                      loss_weights=args.loss_weights, steps_per_execution=args.steps_per_execution)
    except Exception as exc:
        raise TrainingError(f"training settings: Keras cannot compile the model with loss {args.loss!r} and "
                            f"metrics {args.metrics!r}: {keras_reason(exc)}") from exc
    return model


def with_modules_optimizer(config: dict) -> dict:
    """Optimizer configs name their module so Keras 3 finds the class."""
    return {"module": "keras.optimizers", **config}


# --- stored weights (issue 12): the per-node store of studio.project.weights ---------------------
def _as_numpy(array: Any) -> Any:
    """A stored weight (`studio.project.weights.Array`: dtype, shape, bytes) or a numpy array, as numpy."""
    import numpy as np

    data = getattr(array, "data", None)
    if isinstance(data, bytes):
        return np.frombuffer(data, dtype=np.dtype(array.dtype)).reshape(array.shape)
    return np.asarray(array)


def weight_layers(model: Any, plan: BuildPlan) -> dict[str, Any]:
    """node id -> the model's layer for that node, for the nodes whose layer has weights."""
    found = {}
    for call in plan.calls:
        if call.is_input or call.call_style == OP or getattr(call, "shares", None):
            continue  # a node that shares an earlier node's layer: its weights are stored on that node
        try:
            layer = model.get_layer(call.name)
        except ValueError:
            continue
        if layer.weights:
            found[call.node_id] = layer
    return found


def apply_weights(model: Any, plan: BuildPlan, stored: Mapping[str, Any]) -> tuple[list[str], list[str], int]:
    """Set each layer's weights from `stored` (node id -> list of arrays in `get_weights()` order)
    where the shapes match. Returns `(applied node ids, warnings, layers with weights)`: a node
    whose stored shapes no longer fit keeps its random weights and gets a warning naming it."""
    layers = weight_layers(model, plan)
    applied, warnings = [], []
    labels = {call.node_id: call.label for call in plan.calls}
    for node_id, layer in layers.items():
        arrays = stored.get(node_id)
        if arrays is None:
            continue
        arrays = list(getattr(arrays, "arrays", arrays))
        wanted = [tuple(w.shape) for w in layer.weights]
        have = [tuple(getattr(a, "shape", ())) for a in arrays]
        if wanted != have:
            warnings.append(f"{labels.get(node_id) or node_id}: its stored weights ({_shapes(have)}) do not fit "
                            f"the layer any more ({_shapes(wanted)}); it starts from random weights")
            continue
        try:
            layer.set_weights([_as_numpy(a) for a in arrays])
        except Exception as exc:  # a dtype Keras refuses
            warnings.append(f"{labels.get(node_id) or node_id}: its stored weights cannot be used "
                            f"({keras_reason(exc)}); it starts from random weights")
            continue
        applied.append(node_id)
    return applied, warnings, len(layers)


def _shapes(shapes: list) -> str:
    return ", ".join("x".join(str(d) for d in s) or "scalar" for s in shapes) or "none"


def layer_weights(model: Any, plan: BuildPlan) -> dict[str, list]:
    """node id -> its layer's `get_weights()` in `model` (a run's model or one built from `plan`),
    found by the layer name the compiler gives the node. A run's model that wraps the network
    in preprocessing layers is searched inside too. Nodes not found are left out."""
    import keras

    candidates = [model] + [layer for layer in getattr(model, "layers", []) if isinstance(layer, keras.Model)]
    found: dict[str, list] = {}
    for call in plan.calls:
        if call.is_input or call.call_style == OP or getattr(call, "shares", None):
            continue
        for candidate in candidates:
            try:
                layer = candidate.get_layer(call.name)
            except ValueError:
                continue
            weights = layer.get_weights()
            if weights:
                found[call.node_id] = weights
            break
    return found


def legacy_weights(plan: BuildPlan, path: Any) -> dict[str, list]:
    """The per-node weights in an older project's Keras `.weights.h5` (written by
    `model.save_weights` of the model `plan` builds): the model is built once and
    loaded. Raises `BuildError` naming the file when they no longer fit the graph."""
    model = build_model(plan)
    try:
        model.load_weights(str(path))
    except Exception as exc:
        raise BuildError(f"{path}: the project's old weights file does not fit the graph any more "
                         f"({keras_reason(exc)})") from exc
    return layer_weights(model, plan)


def stored_weights(plan: BuildPlan, store: Any) -> tuple[dict[str, list], dict[str, str], list[str]]:
    """What `apply_weights` should set, from a `studio.project.weights.WeightStore` (read through
    its attributes: `entries`, `legacy`, `skip`): `(node id -> arrays, node id -> origin, warnings)`.
    An older project's Keras `.weights.h5` (`legacy`) is read by building the model once; it gives
    the nodes without an entry of their own that were not reset since."""
    arrays = {node_id: list(entry.arrays) for node_id, entry in store.entries.items()}
    origins = {node_id: entry.origin for node_id, entry in store.entries.items()}
    warnings: list[str] = []
    legacy = getattr(store, "legacy", None)
    if legacy is not None:
        try:
            found = legacy_weights(plan, legacy)
        except BuildError as exc:
            warnings.append(f"{exc}; its layers start from random weights")
            found = {}
        skip = getattr(store, "skip", set())
        for node_id, weights in found.items():
            if node_id not in arrays and node_id not in skip:
                arrays[node_id] = weights
                origins[node_id] = "imported"
    return arrays, origins, warnings
