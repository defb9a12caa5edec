"""`BuildPlan` + project settings -> a standalone Python script (pure).

The script has `build_model()` (the network, one line per layer, only the
arguments the user changed), `add_preprocessing(model)` (when the dataset
has fitted scaling: the same Rescaling/Normalization layers the app puts in
front of the model it trains, so the saved model takes raw inputs),
`compile_model(model)` (the project's optimizer, loss and metrics, resolved
by the same `compile_args` the app uses), the learning-rate schedule and
early stopping (`make_callbacks`), `load_data()` (the project's data loader,
or a stub to fill in when the project has no dataset), `fit_model()` and a
`main()` that builds, compiles, trains when there is data (else prints the
summary) and saves the model (and, with `checkpoint_best`, the best
epoch's model beside it), on the project's training device. See
`studio.export.script_parts`. Normalization layers drawn without a mean and
variance are fitted on the training split before `fit_model()`, as the app's
training does (`adapt_normalization`, `studio.export.script_adapt`).

It reads the same `BuildPlan` as `studio.compiler.keras_build`, so the model
the script builds is the model the app trains. Imports neither TensorFlow
nor numpy; the text is never executed here.

No text from the project becomes code (DESIGN.md 3): class names and modules
are looked up in `studio.graph.keras_names`, config keys become keyword
arguments only when they are plain names, and every value is written by
`pyformat.literal`; anything else refuses the export naming the node and the
parameter (`studio.export.script_safety`), and the finished text is checked
once more by `script_safety.check_script` before it is returned.
"""

from __future__ import annotations

import builtins
import keyword
import textwrap
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from studio.compiler.compile_args import compile_args, training_config
from studio.compiler.keras_required import REQUIRED
from studio.compiler.plan import LIST, OP, POSITIONAL, BuildPlan, LayerCall
from studio.core.errors import ExportError
from studio.export import script_adapt
from studio.export import script_parts as parts
from studio.export import script_safety as safety
from studio.export import script_strategy as strategy
from studio.export import script_transfer as transfer
from studio.export.pyformat import INDENT, Call, Raw, Seq, is_name, literal, render, statement
from studio.graph.catalog import Catalog, default_catalog
from studio.graph.keras_names import (
    BUILTIN_LAYERS,
    OPS,
    UNSAFE,
    builtin_layer,
    is_keras_class,
    script_reference,
)
from studio.graph.model import KEYWORD_INPUTS

# Names the generated code uses itself; a layer with one of these names gets
# a trailing underscore on its variable (the Keras layer name is unchanged).
RESERVED = frozenset(
    {"keras", "layers", "np", "tf", "Path", "model", "data", "train", "validation", "main", "fit",
     "build_model", "compile_model", "load_data", "callbacks", "history", "x", "y"}
    | {cls for cls, _ in BUILTIN_LAYERS}
    | set(dir(builtins))
)

# Keras layers whose `from_config` is not `cls(**config)`: built with
# `layers.deserialize` so their config round-trips exactly.
DESERIALIZE_CLASSES = frozenset({"Discretization", "TextVectorization", "FeatureSpace", "Pipeline"})

# Config entries that only restate Keras' defaults, left out of every call.
_TRIVIAL = {"trainable": True, "dtype": "float32"}


@dataclass
class ScriptSettings:
    """What the script needs besides the network.

    `output_units` (size of each output's last axis) is read from the plan's
    shape report when left None; it lets `loss="auto"` pick like the app.
    """

    name: str = "model"
    training: Any = None  # TrainingConfig, project.training dict, or None
    dataset: Optional[dict] = None
    task: str = "classification"
    label_encoding: str = "index"
    num_classes: Optional[int] = None
    output_units: Optional[list] = None
    weights_file: Optional[str] = None  # loaded by main() when it exists beside the script
    save_file: Optional[str] = None  # default: NAME.keras beside the script
    data_source: Optional[str] = None  # source of load_data(); None: from the dataset or a stub
    data_base_dir: Optional[str] = None  # the project folder: relative data paths start there
    # The folder the script is written to: data below it is found relative to the script.
    script_dir: Optional[str] = None
    # Files the export copies beside the script ({source path: path relative to the script}):
    # Network Studio's samples, so the script runs where Network Studio is not installed.
    data_copies: dict = field(default_factory=dict)
    # The dataset's fitted scaling ({"rescale", "normalize"}, as `PreparedData.preprocessing`).
    # None: known without the data (images, texts) or taken from `dataset["preprocessing"]`.
    preprocessing: Optional[dict] = None
    extra: dict = field(default_factory=dict)


def generate_script(plan: BuildPlan, settings: ScriptSettings | None = None,
                    catalog: Catalog | None = None) -> str:
    """The whole script as text (ends with a newline)."""
    settings = settings or ScriptSettings(name=plan.name)
    if settings.dataset and (settings.dataset.get("inputs") or settings.dataset.get("outputs")):
        # data bound per node: the loader yields in the model's order
        from studio.data.codegen import in_model_order

        settings = replace(settings, dataset=in_model_order(settings.dataset, list(plan.inputs),
                                                            [node for node, _ in plan.outputs]))
    catalog = catalog or default_catalog()
    name = settings.name or plan.name
    config = training_config(settings.training)
    scale = input_scaling(settings)
    if scale and len(plan.inputs) != 1:
        raise ExportError(f"{name}: the dataset's scaling needs a model with one input, this one has "
                          f"{len(plan.inputs)}; export without the dataset or give the model one input")
    from studio.data.codegen import bound_scaling

    # data bound per Input: each its own Normalization, so the saved model takes raw inputs
    bound = None if scale else bound_scaling(settings.dataset)
    adapt = bool(script_adapt.adapted_layers(plan))
    constants = _constants(name, settings)
    data_paths = _data_constants(settings)
    if data_paths:
        constants += "\n\n" + data_paths
    if adapt:
        constants += "\n" + script_adapt.adapt_constant()
    if scale:
        constants += "\n\n" + parts.scaling_constants(scale)
    if bound:
        constants += "\n\n" + bound[0]
    head = "\n\n".join([_header(settings), _imports(config, builtin_imports(plan)), constants])
    blocks = [
        head,
        transfer.source(plan),  # Hub modules' layer code, backbones' builder
        build_model_source(plan, catalog),
        parts.add_preprocessing_source(scale) if scale else bound[1] if bound else "",
        compile_model_source(plan, settings),
        parts.schedule_source(config),
        parts.callbacks_source(config),
        load_data_source(settings),
        script_adapt.adapt_source(bool(scale), bool(settings.weights_file)) if adapt else "",
        parts.fit_source(config),
        strategy.distributed_source(bool(parts.callback_calls(config)), config.checkpoint_best),
        parts.device_source(config),
        parts.mixed_precision_source(config),
        strategy.arguments_source(bool(data_paths)),
        strategy.strategy_source(config),
        parts.main_source(bool(settings.weights_file), bool(scale or bound), config, adapt=adapt,
                          data_argument=bool(data_paths)),
    ]
    text = "\n\n\n".join(block.strip("\n") for block in blocks if block) + "\n"
    safety.check_script(text)
    return text


def check_plan(plan: BuildPlan, catalog: Catalog | None = None) -> None:
    """ExportError, naming the node and the parameter, when a layer of `plan` holds a
    class name, module or config key the script cannot write (before anything
    is built, written or run)."""
    build_model_source(plan, catalog)


def input_scaling(settings: ScriptSettings) -> dict:
    """The dataset's scaling the script puts in front of the model ({} for none).

    Raises ExportError when the dataset needs statistics fitted on its data
    and `settings` has none (`studio.export.project_export` fits them).
    """
    if settings.preprocessing is not None:
        return parts.scaling(settings.preprocessing)
    if not settings.dataset:
        return {}
    from studio.data.codegen import fixed_preprocessing

    fixed = fixed_preprocessing(settings.dataset)
    if fixed is not None:
        return parts.scaling(fixed)
    stored = settings.dataset.get("preprocessing")
    if isinstance(stored, dict) and stored:
        return parts.scaling(stored)
    raise ExportError(f"{settings.name}: the input scaling of the {settings.dataset.get('kind', '?')!r} dataset "
                      "is fitted on its data and was not given; export with `studio export`, which fits it")


# --- build_model ---------------------------------------------------------------------
def variable_names(plan: BuildPlan) -> dict[str, str]:
    """A Python variable per node: its layer name, made safe."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for call in plan.calls:
        var = call.name if is_name(call.name) else "layer"
        if keyword.iskeyword(var) or var in RESERVED:
            var += "_"
        base, k = var, 1
        while var in used:
            k += 1
            var = f"{base}_{k}"
        used.add(var)
        out[call.node_id] = var
    return out


def build_model_source(plan: BuildPlan, catalog: Catalog | None = None) -> str:
    catalog = catalog or default_catalog()
    names = variable_names(plan)
    calls = plan.by_id()
    shared = {call.shares for call in plan.calls if call.shares}
    layer_vars: dict[str, str] = {}  # a shared layer's own variable, unique among the tensors'
    for owner in sorted(shared, key=list(names).index):
        var, k = names[owner] + "_layer", 1
        while var in names.values() or var in layer_vars.values():
            k += 1
            var = f"{names[owner]}_layer_{k}"
        layer_vars[owner] = var
    lines = [
        "def build_model() -> keras.Model:",
        f'{INDENT}"""The network as drawn in Network Studio."""',
    ]
    for call in plan.calls:
        var = names[call.node_id]
        if call.is_input:
            lines.append(statement(var, input_expr(call)))
            continue
        refs = [_ref(names, calls, src, port) for src, port in call.inputs]
        keywords = _keyword_refs(call, names, calls)
        if call.call_style == OP:
            lines.append(statement(var, operation_expr(call, refs)))
            continue
        if transfer.is_transfer(call):  # a Hub module or a backbone (studio.export.script_transfer)
            lines.append(transfer.call_statement(call, var, refs))
            continue
        if call.call_style == POSITIONAL:
            tail = "(" + ", ".join(refs + keywords) + ")"
        elif call.call_style == LIST:
            tail = "([" + ", ".join(refs) + "]" + "".join(", " + k for k in keywords) + ")"
        else:
            tail = "(" + ", ".join(refs + keywords) + ")"
        if call.node_id in shared or call.shares:  # one layer called at several sites: one set of weights
            layer_var = layer_vars[call.shares or call.node_id]
            if not call.shares:
                lines.append(statement(layer_var, layer_expr(call, catalog)))
            lines.append(f"{INDENT}{var} = {layer_var}{tail}")
            continue
        lines.append(statement(var, layer_expr(call, catalog), tail=tail))
    inputs = [names[nid] for nid in plan.inputs]
    outputs = [_ref(names, calls, nid, port) for nid, port in plan.outputs]
    model = Call("keras.Model", kwargs=(
        ("inputs", Raw(inputs[0]) if len(inputs) == 1 else Seq(tuple(Raw(v) for v in inputs))),
        ("outputs", Raw(outputs[0]) if len(outputs) == 1 else Seq(tuple(Raw(v) for v in outputs))),
        ("name", plan.name),
    ))
    lines.append(INDENT + "return " + render(model, 1, len("return ")))
    return "\n".join(lines)


def _keyword_refs(call: LayerCall, names: dict[str, str], calls: dict[str, LayerCall]) -> list[str]:
    """`mask=x_2` for each tensor wired into a keyword argument (names from `KEYWORD_INPUTS` only)."""
    out = []
    for key, (src, port) in call.keyword_inputs:
        if key not in KEYWORD_INPUTS:
            raise ExportError(f"'{call.label}': a wire feeds the keyword argument {literal(str(key)[:40])}, which "
                              f"is not one of {', '.join(KEYWORD_INPUTS)}; remove that wire")
        if call.call_style == OP or transfer.is_transfer(call):
            raise ExportError(f"'{call.label}': takes no {key} wire; remove that wire")
        out.append(f"{key}={_ref(names, calls, src, port)}")
    return out


def _ref(names: dict[str, str], calls: dict[str, LayerCall], node_id: str, port: int) -> str:
    var = names[node_id]
    return f"{var}[{literal(int(port))}]" if calls[node_id].num_outputs > 1 else var


def input_expr(call: LayerCall) -> Call:
    config = call.config
    shape = list(config["batch_shape"])
    kwargs: list[tuple[str, Any]] = []
    if shape and shape[0] is None:
        kwargs.append(("shape", tuple(shape[1:])))
    else:
        kwargs.append(("batch_shape", tuple(shape)))
    dtype = config.get("dtype") or "float32"
    if dtype != "float32":
        kwargs.append(("dtype", dtype))
    for key in ("sparse", "ragged", "optional"):
        if config.get(key):
            kwargs.append((key, True))
    kwargs.append(("name", call.name))
    try:
        safety.data([value for _, value in kwargs], "batch_shape")
    except safety.Refused as refusal:
        raise refusal.for_node(call.label or call.name) from None
    return Call("keras.Input", kwargs=tuple(kwargs))


def operation_expr(call: LayerCall, refs: list[str]) -> Call:
    """`keras.ops.add(x, 3.0)`: an operation node as the call of its `keras.ops` function, with
    the function and its keyword names from `keras_names.OPS` and every value a literal.

    ExportError naming the node when its operation is not in the table or a value is not data."""
    op = OPS.get(call.class_name)
    try:
        if op is None:
            raise safety.Refused("class_name", f"{safety.show(call.class_name, 40)} is not a Keras operation "
                                 "the exported script may call")
        config = call.config
        tensors = [Raw(ref) for ref in refs]
        if op.tensors == "list":
            args: tuple = (Seq(tuple(tensors), "list"),)
        elif op.tensors == "two" and config.get("constant") is not None:
            constant = config["constant"]
            if isinstance(constant, (list, dict)):
                raise safety.Refused("constant", "the constant must be a number")
            constant = safety.scalar(constant, "constant")
            if len(tensors) != 1:
                raise safety.Refused("constant", f"an operation with a constant takes one tensor, not {len(tensors)}")
            args = (constant, tensors[0]) if config.get("constant_first") else (tensors[0], constant)
        else:
            args = tuple(tensors)
        defaults = call.defaults or {}
        kwargs = tuple((key, safety.data(config[key], key)) for key in op.keys
                       if key in config and (key in op.required or not (key in defaults
                                                                        and _same(config[key], defaults[key]))))
    except safety.Refused as refusal:
        raise refusal.for_node(call.label or call.name) from None
    return Call(f"keras.ops.{op.function}", args, kwargs)


def builtin_imports(plan: BuildPlan) -> list[str]:
    """`from keras.src.applications.convnext import LayerScale` for each layer of Keras'
    applications the plan uses: fixed lines of `keras_names.BUILTIN_LAYERS`."""
    used = {(call.class_name, call.module) for call in plan.calls if builtin_layer(call.module, call.class_name)}
    return [f"from {BUILTIN_LAYERS[key]} import {key[0]}" for key in sorted(used)]


def layer_expr(call: LayerCall, catalog: Catalog | None = None) -> Call:
    """`layers.Dense(units=64, activation="relu", name="hidden")`: the
    layer's constructor with only the arguments that differ from its defaults.

    ExportError naming the node and the parameter when the layer's class is not
    a public Keras layer or its config holds what the script cannot write."""
    catalog = catalog or default_catalog()
    try:
        return _layer_expr(call, catalog)
    except safety.Refused as refusal:
        raise refusal.for_node(call.label or call.name) from None


def _layer_expr(call: LayerCall, catalog: Catalog) -> Call:
    config = dict(call.config)
    reference = script_reference(call.module, call.class_name)
    if reference is None and builtin_layer(call.module, call.class_name) is not None:
        reference = call.class_name  # imported by its fixed line (builtin_imports)
    if call.class_name in UNSAFE:
        raise safety.Refused("class_name", f"{call.class_name} runs arbitrary Python code and is never exported")
    if reference is None:
        raise safety.Refused("class_name", f"{safety.show(call.class_name, 40)} is not a public layer of "
                             "keras.layers; the exported script builds only Keras' own layers")
    if call.is_opaque and call.class_name in DESERIALIZE_CLASSES:
        record = {"module": call.module, "class_name": call.class_name, "config": safety.data(config, "")}
        return Call(f"{reference.rsplit('.', 1)[0]}.deserialize", (record,))
    kwargs = _kwargs(config, call.defaults, catalog, REQUIRED.get(call.class_name, ()))
    return Call(reference, kwargs=tuple(kwargs))


def _kwargs(config: dict, defaults: Optional[dict], catalog: Catalog,
            required: tuple[str, ...] = (), path: str = "") -> list[tuple[str, Any]]:
    """Keyword arguments from a layer config; `path` is where the config is (for messages)."""
    kwargs = []
    name = config.pop("name", None)
    for key, value in config.items():
        where = safety.join(path, key)
        safety.keyword(key, where)
        value = _simplify(value)
        if key in required:
            pass  # Keras has no default for it: always written
        elif key in _TRIVIAL and _same(value, _TRIVIAL[key]):
            continue
        elif defaults is not None and key in defaults and _same(value, _simplify(defaults[key])):
            continue
        kwargs.append((key, value_expr(value, catalog, where)))
    if name is not None:
        kwargs.append(("name", value_expr(name, catalog, safety.join(path, "name"))))
    return kwargs


def _simplify(value: Any) -> Any:
    """A dtype policy dict -> its name; other values unchanged."""
    if isinstance(value, dict) and value.get("class_name") == "DTypePolicy" and isinstance(
        value.get("config"), dict
    ):
        return value["config"].get("name", "float32")
    return value


def _same(a: Any, b: Any) -> bool:
    return _normal(a) == _normal(b)


def _normal(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def value_expr(value: Any, catalog: Catalog, path: str = "") -> Any:
    """A config value as a Python expression: nested layer configs become
    constructor calls, allowlisted Keras objects `keras.<module>.<Class>(...)`,
    lists of sizes tuples, everything else literal data.

    `path` is where the value is (`kernel_initializer`), for the `Refused` raised
    when it holds a Keras object outside the allowlist or a key that is not a
    plain name."""
    if isinstance(value, dict):
        found = safety.keras_object(value, path)
        if found is not None:
            module, cls, cfg = found
            spec = catalog.for_class(cls)
            if module == "keras.layers" or (module is None and spec is not None
                                            and is_keras_class("keras.layers", cls)):
                defaults = spec.defaults() if spec is not None and spec.class_name == cls else None
                if cls in DESERIALIZE_CLASSES:
                    return Call("layers.deserialize", (safety.data({"module": "keras.layers", **value}, path),))
                required = REQUIRED.get(cls, ())
                return Call(script_reference("keras.layers", cls),  # type: ignore[arg-type]
                            kwargs=tuple(_kwargs(dict(cfg), defaults, catalog, required,
                                                 safety.join(path, "config"))))
            reference = script_reference(module, cls)
            if reference is not None:
                inner = safety.join(path, "config")
                kwargs = tuple((safety.keyword(k, safety.join(inner, k)),
                                value_expr(v, catalog, safety.join(inner, k)))
                               for k, v in cfg.items() if v is not None)
                return Call(reference, kwargs=kwargs)
        return {safety.scalar(k, path): value_expr(v, catalog, safety.join(path, k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = tuple(value_expr(v, catalog, f"{path}[{i}]") for i, v in enumerate(value))
        if value and all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in value):
            return Seq(items, "tuple")
        return Seq(items, "list")
    return safety.scalar(value, path)


# --- compile_model -----------------------------------------------------------------
def compile_model_source(plan: BuildPlan, settings: ScriptSettings) -> str:
    units = settings.output_units
    if units is None:
        units = _output_units(plan)
    outputs = None
    if settings.dataset and settings.dataset.get("outputs"):
        # each output's loss and metrics from its own data
        from studio.data.codegen import output_tasks

        outputs = output_tasks(settings.dataset)
    args = compile_args(settings.training, task=settings.task, label_encoding=settings.label_encoding,
                        num_classes=settings.num_classes, output_units=units, outputs=outputs)
    opt = args.optimizer
    reference = script_reference("keras.optimizers", opt["class_name"])
    try:
        if reference is None:
            raise safety.Refused("optimizer", f"{safety.show(opt['class_name'], 40)} is not a Keras optimizer")
        optimizer = Call(reference, kwargs=tuple(
            (safety.keyword(k, f"optimizer_params.{k}"),
             Raw("LEARNING_RATE") if k == "learning_rate" else safety.data(v, f"optimizer_params.{k}"))
            for k, v in opt.get("config", {}).items()))
        safety.data([args.loss, args.metrics, args.loss_weights], "loss")
    except safety.Refused as refusal:
        raise ExportError(f"training setting {refusal}; the Python export was refused") from None
    kwargs: list[tuple[str, Any]] = [("optimizer", optimizer), ("loss", args.loss), ("metrics", args.metrics)]
    if args.loss_weights is not None:
        kwargs.append(("loss_weights", args.loss_weights))
    if args.steps_per_execution != 1:
        kwargs.append(("steps_per_execution", args.steps_per_execution))
    compile_call = Call("model.compile", kwargs=tuple(kwargs))
    return "\n".join([
        "def compile_model(model: keras.Model) -> keras.Model:",
        f'{INDENT}"""Optimizer, loss and metrics from the project\'s training settings."""',
        INDENT + render(compile_call, 1),
        f"{INDENT}return model",
    ])


def _output_units(plan: BuildPlan) -> list:
    report = plan.report
    units: list = []
    for node_id, port in plan.outputs:
        shapes = report.outputs.get(node_id) if report is not None else None
        shape = shapes[port] if shapes and port < len(shapes) else None
        units.append(shape[-1] if shape else None)
    return units


# --- load_data ------------------------------------------------------------------------
_STUB = '''def load_data():
    """Return the data to train on, or None to skip training.

    This project has no dataset. To train, return (train, validation, test):
    batched tf.data datasets of (inputs, targets) matching the model's inputs
    and outputs; validation and test may be None.
    """
    return None'''


def load_data_source(settings: ScriptSettings) -> str:
    if settings.data_source is not None:
        return settings.data_source
    if not settings.dataset:
        return _STUB
    try:
        from studio.data.codegen import loader_source
    except ImportError:
        raise ExportError(
            f"{settings.name}: this version cannot write a data loader for its "
            f"{settings.dataset.get('kind', 'unknown')!r} dataset; export without the dataset or update"
        ) from None
    return loader_source(settings.dataset, settings.data_base_dir, script_paths(settings))


def script_paths(settings: ScriptSettings) -> Any:
    """Where the script finds its data (`studio.data.codegen.ScriptPaths`)."""
    from studio.data.codegen import ScriptPaths

    return ScriptPaths(settings.data_base_dir, settings.script_dir, settings.data_copies)


def sample_copy(settings: ScriptSettings) -> Optional[tuple[str, str]]:
    """(source, name) of the Network Studio sample the script's data is, to copy beside the script
    (`studio.data.codegen.sample_copy`); None for other data."""
    if not settings.dataset:
        return None
    from studio.data.codegen import sample_copy as find

    return find(settings.dataset, settings.data_base_dir)


def _data_constants(settings: ScriptSettings) -> str:
    """DATA_PATH and DATA_NAME when the script's loader reads a path ('' otherwise)."""
    if settings.data_source is not None or not settings.dataset:
        return ""
    try:
        from studio.data.codegen import data_constants
    except ImportError:
        return ""
    return data_constants(settings.dataset, script_paths(settings))


# --- module parts ------------------------------------------------------------------
def _header(settings: ScriptSettings) -> str:
    """The module docstring: fixed text only (file names are in the constants below it)."""
    what = ("trains it on the project's data with the project's training settings"
            if settings.dataset else "prints its summary")
    text = f"Run this script with Python to build and compile the model; it {what} and saves the model " \
           "to SAVE_PATH beside it."
    if settings.dataset and training_config(settings.training).checkpoint_best:
        text += " The best epoch's model goes to BEST_PATH."
    if settings.weights_file:
        text += " Weights are loaded from WEIGHTS_PATH when that file is present."
    lines = ['"""A Keras model exported from Network Studio.', "", *textwrap.wrap(text, 79), '"""']
    return "\n".join(lines)


def _imports(config: Any, extra: list[str] = ()) -> str:  # type: ignore[assignment]
    # argparse, json, os and tf: the command line and its --strategy (studio.export.script_strategy)
    math = "import math\n" if config.lr_schedule == "cosine" else ""
    temp = "import tempfile\n" if config.checkpoint_best else ""  # the other workers' checkpoints
    std = f"import argparse\nimport json\n{math}import os\n{temp}from pathlib import Path"
    more = "".join(f"\n{line}" for line in extra)
    return std + f"\n\nimport keras\nimport tensorflow as tf\nfrom keras import layers{more}"


def _constants(name: str, settings: ScriptSettings) -> str:
    config = training_config(settings.training)
    save = settings.save_file or f"{name}.keras"
    lines = [
        f"EPOCHS = {literal(config.epochs)}",
        f"BATCH_SIZE = {literal(config.batch_size)}",
        f"LEARNING_RATE = {literal(config.learning_rate)}",
        f"SEED = {literal(config.seed)}",
        f"SAVE_PATH = Path(__file__).with_name({_q(save)})",
    ]
    if config.checkpoint_best:
        lines.append(f"BEST_PATH = Path(__file__).with_name({_q(parts.best_file(save))})")
    if settings.weights_file:
        lines.append(f"WEIGHTS_PATH = Path(__file__).with_name({_q(settings.weights_file)})")
    device = parts.device_constant(config)
    if device:
        lines.append(device)
    return "\n".join(lines)


def _q(text: str) -> str:
    return literal(text)
