"""No text from a project becomes code in the exported script (pure; DESIGN.md 3).

Two guards:

* while the generator builds the script, every name it takes from project
  data goes through here: a nested Keras object (`{"module", "class_name",
  "config"}`) becomes a constructor call only when its module and class are in
  `studio.graph.keras_names`; a config key becomes a keyword argument only
  when it is a plain identifier; every other value is data, written by
  `pyformat.literal`. Anything else is a `Refused` naming the parameter
  (`kernel_initializer.module`) and what is allowed, which the generator
  turns into an `ExportError` naming the node.
* `check_script(text)`, the last step of generating: the script's syntax tree
  may only import, call and read the names the generator itself writes
  (its own fixed names, the allowlisted Keras classes and the variables and
  functions it defines). A mistake that let project text through is then
  an `ExportError` too, never a script.

Imports neither TensorFlow nor numpy.
"""

from __future__ import annotations

import ast
import math
from functools import lru_cache
from typing import Any

from studio.core.errors import ExportError
from studio.core.text import show
from studio.export.pyformat import is_name
from studio.graph.keras_names import (
    ACTIVATIONS,
    APPLICATIONS,
    BUILTIN_LAYERS,
    CLASSES,
    OP_FUNCTIONS,
    SCRIPT_MODULES,
    UNSAFE,
)

# Modules of nested Keras objects written as data (a dict Keras reads), not as a call:
# dtype policies ("keras") and, in some configs, an activation serialized as a function.
_DATA_MODULES = ("keras", "keras.activations")


class Refused(ExportError):
    """A project value the script cannot hold: `path` is where, `problem` what and what is allowed."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def for_node(self, label: str) -> ExportError:
        return ExportError(f"{show(label)}: parameter {self.path}: {self.problem}; "
                           "the Python export was refused, nothing was written")


def join(path: str, key: Any) -> str:
    """`kernel_initializer` + `module` -> `kernel_initializer.module` (keys shown short)."""
    part = key if is_name(key) else show(key, 40)
    return f"{path}.{part}" if path else str(part)


def keyword(key: Any, path: str) -> str:
    """`key` as a keyword argument name, or Refused."""
    if not is_name(key):
        raise Refused(path or show(key, 40), f"the key {show(key, 40)} is not a plain Python name "
                      "(letters, digits and _), so it cannot be a keyword argument")
    return key


def scalar(value: Any, path: str) -> Any:
    """A JSON scalar the literal writer can write, or Refused."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        if abs(value) >= 10**4000:
            raise Refused(path, f"{show(value)} is too large a number to write")
        return value
    raise Refused(path, f"a {type(value).__name__} is not a value a project file holds")


def keras_object(value: dict, path: str) -> tuple[str | None, str, dict] | None:
    """`(module, class_name, config)` when `value` is a serialized Keras object, else None.

    A dict with a `class_name` and a `config` or `module` is one. Its module must be
    None, one of `SCRIPT_MODULES` (then its class must be in that module's table) or
    a module whose objects are written as data; its class a plain name; its
    `registered_name` None or the class name (anything else is a custom class).
    """
    if "class_name" not in value or not ("config" in value or "module" in value):
        return None
    module, cls, config = value.get("module"), value.get("class_name"), value.get("config")
    if not isinstance(cls, str) or not cls.isascii() or not cls.isidentifier():
        raise Refused(join(path, "class_name"), f"{show(cls, 40)} is not a Keras class name")
    if module is not None and module not in SCRIPT_MODULES and module not in _DATA_MODULES:
        allowed = ", ".join(sorted(SCRIPT_MODULES))
        raise Refused(join(path, "module"), f"{show(module, 40)} is not a Keras module the exported script "
                      f"may name (allowed: {allowed})")
    if module in SCRIPT_MODULES and cls not in CLASSES[module]:
        raise Refused(join(path, "class_name"), f"{show(cls, 40)} is not a public class of {module}")
    if cls in UNSAFE:
        raise Refused(join(path, "class_name"), f"{cls} runs arbitrary Python code and is never exported")
    if module == "keras.activations" and not (cls == "function" and config in ACTIVATIONS):
        raise Refused(join(path, "config"), f"{show(config, 40)} is not a Keras activation")
    registered = value.get("registered_name")
    if registered is not None and registered != cls:
        raise Refused(join(path, "registered_name"), f"{show(registered, 40)} names a custom class; "
                      "the exported script builds only Keras' own classes")
    if config is None:
        config = {}
    if not isinstance(config, dict) and module != "keras.activations":
        raise Refused(join(path, "config"), f"a Keras object's config must be an object, got {show(config, 40)}")
    return module, cls, config


def data(value: Any, path: str) -> Any:
    """`value` checked to be plain data (dicts, lists, scalars) with every nested Keras
    object allowlisted; returned unchanged, for the literal writer."""
    if isinstance(value, dict):
        keras_object(value, path)
        for key, item in value.items():
            scalar(key, path)
            data(item, join(path, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            data(item, f"{path}[{i}]")
    else:
        scalar(value, path)
    return value


# --- the last check: the script's syntax tree -------------------------------------------
# The imports the generator writes, as `ast.unparse` shows them.
IMPORTS = frozenset({
    "import argparse", "import math", "from pathlib import Path", "import keras", "from keras import layers",
    "import json", "import os", "import tempfile",  # the command line's --strategy (script_strategy)
    "import numpy as np", "import tensorflow as tf",
    "import tensorflow_hub",  # resolve_module(): a Hub handle downloaded into tensorflow_hub's cache
    "import keras_hub",  # keras_hub_preset(): Backbone.from_preset (script_transfer.PRESET_SOURCE)
    # the layers Keras ships in its applications (LayerScale...), one fixed line each
    *(f"from {module} import {cls}" for (cls, _), module in BUILTIN_LAYERS.items()),
})

# Builtins the generated code uses (nothing that imports, evaluates or opens files).
BUILTINS = frozenset({
    "SystemExit", "ValueError", "bool", "bytes", "dict", "enumerate", "float", "int", "isinstance", "len", "list",
    "max",
    "min", "object", "print", "range", "repr", "set", "sorted", "str", "tuple", "zip",
    "__file__", "__name__",
})

# Attribute names the generator's own code reads (numpy, tensorflow, pathlib, str, the
# model); Keras names under `keras.` and `layers.` are checked against `_keras_chains`.
ATTRIBUTES = frozenset({
    "ArgumentParser", "add_argument", "error", "parent", "parse_args", "resolve",
    "AUTOTUNE", "CsvDataset", "Dataset", "GFile", "TextVectorization", "accumulate", "adapt", "all", "any",
    "append", "arange", "argmax", "array", "asarray", "astype", "batch", "bincount", "broadcast_to", "cache",
    "char", "compile", "concatenate", "config", "constant", "cos", "data", "datasets", "decode",
    "decode_image", "default_rng", "device", "dtype", "evaluate", "exists", "experimental", "files", "find",
    "fit", "flatnonzero", "floor", "from_tensor_slices", "fromfile", "fromkeys", "full", "get", "get_config",
    "get_weights", "gfile", "glob", "ignore_errors", "image", "index", "input", "inputs", "int64", "int8",
    "io", "isdir", "isin", "isnan", "keras", "layers", "list_logical_devices", "list_physical_devices",
    "listdir", "load", "load_data", "load_weights", "loadtxt", "lower", "map", "maximum", "mnist", "name",
    "nan", "nansum", "ndim", "numpy", "ones", "permutation", "pi", "prefetch", "random", "read", "read_file",
    "repeat", "replace", "reshape", "resize", "rgb_to_grayscale", "rsplit", "rstrip", "save", "set_shape",
    "setdefault", "shape", "shuffle", "size", "stack", "startswith", "strip", "sum", "summary", "take",
    "tolist", "transpose", "uint8", "unique", "where", "with_name", "zeros",
}) | frozenset({
    # the transfer-learning code the script carries (studio.export.script_transfer): the Hub module
    # layer (a TFSMLayer subclass) and the backbone builder
    "_track_variable", "call_endpoint_fn", "expanduser", "is_dir", "isalnum", "join", "module_dtype",
    "module_keyword", "module_output", "module_training", "removesuffix", "trainable", "values",
    # the KerasHub preset builder: keras_hub.models.Backbone.from_preset(preset)
    "Backbone", "from_preset", "models",
}) | frozenset({
    # the command line's --strategy and its training loop (studio.export.script_strategy)
    "AbortedError", "AutoShardPolicy", "CancelledError", "DATA", "DeadlineExceededError", "DistributedDataset",
    "InternalError", "LogicalDeviceConfiguration", "MirroredStrategy", "MultiWorkerMirroredStrategy", "Namespace",
    "OneDeviceStrategy", "Options", "Strategy", "TemporaryDirectory", "UnavailableError", "auto_shard_policy",
    "build", "cluster", "cluster_resolver", "compute_loss", "compute_metrics", "devices", "distribute", "dumps",
    "environ", "errors", "experimental_distribute", "experimental_distribute_dataset", "filepath", "function",
    "get_strategy", "isdigit", "items", "message", "num_replicas_in_sync", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_train_begin", "on_train_end", "optimizer", "partition",
    "reduce", "reset_metrics", "run", "scope", "set_logical_device_configuration", "split", "splitlines",
    "stop_training", "strategy", "synchronized", "task_id", "task_index", "test_step", "train_step",
    "trainable_variables", "update", "upper", "with_options",
})

# Keras names the generator writes itself (besides the allowlisted classes).
_KERAS_NAMES = (
    "keras.Model", "keras.Input", "keras.callbacks.History", "keras.callbacks.CallbackList",
    "keras.callbacks.LearningRateScheduler",
    "keras.callbacks.ReduceLROnPlateau", "keras.callbacks.EarlyStopping", "keras.callbacks.ModelCheckpoint",
    "keras.utils.set_random_seed", "keras.mixed_precision.set_global_policy", "layers.deserialize",
    # the Hub module layer's own variables; the backbones (keras_names.APPLICATIONS)
    "keras.Variable", *(f"keras.applications.{name}" for name in sorted(APPLICATIONS)),
)

# The one use of `globals` (a standalone `load_data()` reads the script's BATCH_SIZE when there is one).
_GLOBALS = "globals().get('BATCH_SIZE', 32)"


@lru_cache(maxsize=1)
def _keras_chains() -> frozenset[str]:
    """Every dotted name under `keras`/`layers` the script may use, with its prefixes."""
    names = set(_KERAS_NAMES)
    names.update(f"keras.ops.{function}" for function in OP_FUNCTIONS)  # operations (keras_names.OPS)
    for module, classes in CLASSES.items():
        names.update(f"{SCRIPT_MODULES[module]}.{cls}" for cls in classes)
    chains = set()
    for name in names:
        parts = name.split(".")
        chains.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(chains)


def _dotted(node: ast.AST) -> str | None:
    """`keras.layers.Dense` for a chain of attributes on a name; None otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _is_globals_get(node: ast.AST) -> bool:
    """`node` is `globals().get('BATCH_SIZE', 32)`."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "globals" and ast.unparse(node) == _GLOBALS)


def _bound(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def check_script(text: str) -> None:
    """ExportError unless every import, call, name and attribute of the script is one the
    generator writes (see the module docstring)."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ExportError(f"internal error: the generated script does not parse (line {exc.lineno}: "
                          f"{exc.msg}); nothing was written") from None
    bound = _bound(tree) - {"globals"}
    chains = _keras_chains()
    allowed_globals = {id(node.func.value.func) for node in ast.walk(tree) if _is_globals_get(node)}
    for node in ast.walk(tree):
        problem = None
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if ast.unparse(node) not in IMPORTS:
                problem = ast.unparse(node)
        elif isinstance(node, ast.Name):
            if node.id.startswith("__") and node.id not in BUILTINS:
                problem = node.id
            elif isinstance(node.ctx, ast.Load) and node.id not in bound and node.id not in BUILTINS \
                    and id(node) not in allowed_globals:
                problem = node.id
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            root = dotted.split(".", 1)[0] if dotted else None
            if node.attr.startswith("__"):
                problem = node.attr
            elif root in ("keras", "layers") and dotted not in chains:
                problem = dotted
            elif root not in ("keras", "layers") and node.attr not in ATTRIBUTES:
                problem = f".{node.attr}"
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, (ast.Name, ast.Attribute, ast.Call)):
                problem = ast.unparse(node.func)[:60]
            for kw in node.keywords:
                if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    problem = "allow_pickle"
        elif isinstance(node, ast.Subscript):
            index = node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, str) and index.value.startswith("__"):
                problem = index.value
        elif isinstance(node, ast.Constant) and isinstance(node.value, float) and not math.isfinite(node.value):
            problem = repr(node.value)
        if problem is not None:
            raise ExportError(f"internal error: the generated script would use {show(problem, 60)} (line "
                              f"{getattr(node, 'lineno', '?')}), which is not a name the generator writes; "
                              "nothing was written")
