"""What a node parameter may hold when it names Keras things (pure; DESIGN.md 3).

A project file is text anyone can write, and a node's params go to Keras
(`keras.layers.deserialize`) and into generated scripts. So `studio check` and
the inspector accept only:

* activations: a name in `keras_names.ACTIVATIONS`, or Keras' serialized form of
  one (`{"module": "builtins", "class_name": "function", "config": "relu"}`),
  or an allowlisted activation layer's config;
* initializers, regularizers, constraints: a name `keras.<kind>s.get` accepts
  (`IDENTIFIERS`), or `{module?, class_name, config, registered_name?}` where
  the module, if given, is the kind's Keras module, the class is public in it,
  the config is an object of JSON values with identifier keys, and
  registered_name is null or the class name;
* nested layer configs (wrappers): a public `keras.layers` class that builds no
  code (`NOT_NESTABLE` lists those that run code or load files), with a config
  checked the same way;
* any other value: plain JSON (finite numbers, integers that fit 64 bits, at
  most `MAX_DEPTH` levels); an object in it naming a `class_name` must be one
  of the above.

Keys a catalog spec does not model are accepted only when they are real
constructor arguments of the Keras layer (`EXTRA_KEYS`, e.g. `dtype`,
`trainable`, `lora_rank`), so an imported model's config still checks.
`tests/graph/test_keras_params.py` checks every table here against Keras.

Each check raises `ParamError` whose message names the parameter's JSON path
inside the node's params (`'kernel_initializer.module'`) and how to fix it.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from studio.core.errors import ParamError
from studio.core.text import show, show_int
from studio.graph.keras_names import ACTIVATIONS, CLASSES, UNSAFE

# Deepest nesting of lists/objects a parameter value may have.
MAX_DEPTH = 32
# Largest integer anywhere in a parameter value (Keras stores int64 at most).
MAX_INT = 2**63 - 1

# The Keras module of each kind of serialized object.
KIND_MODULES = {
    "initializer": "keras.initializers",
    "regularizer": "keras.regularizers",
    "constraint": "keras.constraints",
    "layer": "keras.layers",
}

# Names `keras.initializers.get` / `regularizers.get` / `constraints.get` accept
# as a string and turn into a usable object (base classes, `Constant` (needs a
# value) and `STFT` (needs scipy) left out; 'l1_l2' is refused by Keras 3: 'l1l2').
IDENTIFIERS: dict[str, frozenset[str]] = {
    "initializer": frozenset({
        "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "IdentityInitializer",
        "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "OrthogonalInitializer", "RandomNormal",
        "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros", "glorot_normal",
        "glorot_uniform", "he_normal", "he_uniform", "identity", "lecun_normal", "lecun_uniform",
        "normal", "one", "ones", "orthogonal", "random_normal", "random_uniform", "truncated_normal",
        "uniform", "variance_scaling", "zero", "zeros",
    }),
    "regularizer": frozenset({
        "L1", "L1L2", "L2", "OrthogonalRegularizer", "l1", "l1l2", "l2", "orthogonal_regularizer",
    }),
    "constraint": frozenset({
        "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm", "min_max_norm", "non_neg",
        "unit_norm",
    }),
}

# Base classes: public, but building one gives nothing usable.
ABSTRACT: frozenset[str] = frozenset({"Initializer", "Regularizer", "Constraint", "Layer", "Wrapper", "InputSpec"})

# keras.layers classes never accepted inside a parameter: they run Python code
# or load files (Lambda, TFSMLayer, TorchModuleWrapper, Jax/FlaxLayer), or are
# not layers one nests (InputLayer, Pipeline).
NOT_NESTABLE: frozenset[str] = UNSAFE | ABSTRACT | frozenset({
    "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer", "InputLayer", "Pipeline",
})

# Serialized dtype policies ({"module": "keras", "class_name": "DTypePolicy", ...}).
DTYPE_POLICY_MODULES = frozenset({"keras", "keras.dtype_policies"})
DTYPE_POLICIES: frozenset[str] = frozenset({
    "DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy",
    "Int4DTypePolicy", "GPTQDTypePolicy", "AWQDTypePolicy", "DTypePolicyMap",
})

# Keras config keys each catalog class accepts besides the spec's own params:
# constructor arguments Keras writes in get_config or takes from Layer
# (generated from Keras 3.15; tests/graph/test_keras_params.py rebuilds it).
_LAYER = ("activity_regularizer", "autocast", "dtype", "name", "trainable")
_CONV = ("autocast", "dtype", "name", "trainable")
_PREP = (*_LAYER, "bounding_box_format")
_X = {
    "base": frozenset(_LAYER),
    "conv": frozenset(_CONV),
    "lora": frozenset({*_CONV, "lora_alpha", "lora_rank"}),
    "prep": frozenset(_PREP),
    "prep_factor": frozenset({*_PREP, "factor"}),
    "convlstm": frozenset({*_CONV, "unroll", "zero_output_for_mask"}),
    "rnn": frozenset(_CONV),
    "rnn_cudnn": frozenset({*_CONV, "use_cudnn"}),
    "spatial_dropout": frozenset({"dtype", "name"}),
}
EXTRA_KEYS: dict[str, frozenset[str]] = {
    **{name: _X["base"] for name in (
        "Activation", "Add", "AlphaDropout", "Attention", "Average", "AveragePooling1D",
        "AveragePooling2D", "AveragePooling3D", "BatchNormalization", "Concatenate", "Cropping1D",
        "Cropping2D", "Cropping3D", "Dot", "Dropout", "ELU", "Flatten", "GaussianDropout",
        "GaussianNoise", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
        "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GroupNormalization",
        "LeakyReLU", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Maximum", "Minimum", "Multiply",
        "Normalization", "PReLU", "Permute", "ReLU", "RepeatVector", "Rescaling", "Reshape", "Softmax",
        "Subtract", "TimeDistributed", "UnitNormalization", "UpSampling1D", "UpSampling2D",
        "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    )},
    "ActivityRegularization": frozenset({"autocast", "dtype", "name", "trainable"}),
    "AdditiveAttention": frozenset({*_LAYER, "score_mode"}),
    "Bidirectional": frozenset({*_LAYER, "weights"}),
    "LayerNormalization": frozenset({*_LAYER, "rms_scaling"}),
    **{name: _X["conv"] for name in (
        "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
        "SeparableConv1D", "SeparableConv2D",
    )},
    **{name: _X["lora"] for name in ("Conv1D", "Conv2D", "Conv3D")},
    "Dense": frozenset({*_X["lora"], "quantization_config"}),
    "Embedding": frozenset({*_X["lora"], "quantization_config", "weights"}),
    "MultiHeadAttention": frozenset({*_CONV, "flash_attention"}),
    **{name: _X["convlstm"] for name in ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")},
    "SimpleRNN": _X["rnn"],
    "GRU": _X["rnn_cudnn"],
    "LSTM": _X["rnn_cudnn"],
    **{name: _X["prep"] for name in ("RandomBrightness", "RandomContrast", "RandomRotation")},
    **{name: _X["prep_factor"] for name in (
        "CenterCrop", "RandomCrop", "RandomFlip", "RandomTranslation", "RandomZoom", "Resizing",
    )},
    **{name: _X["spatial_dropout"] for name in ("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")},
    "InputLayer": frozenset({"name", "optional", "ragged", "sparse"}),
    # Layers of keras.src.applications (keras_names.BUILTIN_LAYERS).
    "LayerScale": _X["base"],
    "CustomScaleLayer": _X["base"],
}

# The keys of Keras' serialized form of an object (a built layer adds build_config).
SERIALIZED_KEYS = ("module", "class_name", "config", "registered_name", "build_config", "shared_object_id")

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DTYPE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


# --- the checks ------------------------------------------------------------------
def check_activation(value: Any, path: str) -> Any:
    """An activation name or Keras' serialized form of one."""
    if isinstance(value, str):
        if value in ACTIVATIONS:
            return value
        raise ParamError(
            f"'{path}': unknown activation {show(value)}; use one of {_some(ACTIVATIONS, value)}", key=_top(path))
    if isinstance(value, dict) and "class_name" in value:
        if value.get("class_name") == "function":  # Keras' form of a built-in function
            _only_keys(value, path, ("module", "class_name", "config", "registered_name"))
            if value.get("module", "builtins") not in ("builtins", "keras.activations"):
                raise ParamError(f"'{path}.module' must be 'builtins' for an activation function, "
                                 f"got {show(value.get('module'))}", key=_top(path))
            if value.get("registered_name", "function") not in ("function", None):
                raise ParamError(f"'{path}.registered_name' must be 'function' or null, "
                                 f"got {show(value.get('registered_name'))}", key=_top(path))
            check_activation(value.get("config"), f"{path}.config")
            return value
        check_layer(value, path)
        return value
    raise ParamError(f"'{path}' must be an activation name such as 'relu', got {show(value)}", key=_top(path))


def check_object(value: Any, kind: str, path: str) -> Any:
    """An initializer, regularizer or constraint: a name or a serialized dict."""
    if isinstance(value, str):
        if value in IDENTIFIERS[kind]:
            return value
        raise ParamError(
            f"'{path}': Keras has no {kind} called {show(value)}; use one of {_some(IDENTIFIERS[kind], value)}",
            key=_top(path))
    if isinstance(value, dict):
        _check_serialized(value, kind, path, 0)
        return value
    raise ParamError(
        f"'{path}' must be a {kind} name such as {_example(kind)} or a Keras config "
        f"{{\"class_name\": ..., \"config\": {{...}}}}, got {show(value)}", key=_top(path))


def check_layer(value: Any, path: str) -> Any:
    """A nested layer config `{"module"?, "class_name", "config", "registered_name"?}`."""
    if not isinstance(value, dict):
        raise ParamError(f"'{path}' must be a layer config {{\"class_name\": ..., \"config\": {{...}}}}, "
                         f"got {show(value)}", key=_top(path))
    _check_serialized(value, "layer", path, 0)
    return value


def check_json(value: Any, path: str, depth: int = 0) -> Any:
    """Plain JSON data; an object naming a class_name must be an allowlisted Keras object."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if -MAX_INT - 1 <= value <= MAX_INT:
            return value
        raise ParamError(f"'{path}' is too large ({show_int(value)}); use a smaller number", key=_top(path))
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise ParamError(f"'{path}' must be a finite number, got {value}", key=_top(path))
    if depth >= MAX_DEPTH:
        raise ParamError(f"'{path}' is nested more than {MAX_DEPTH} levels deep; simplify it", key=_top(path))
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_json(item, f"{path}[{i}]", depth + 1)
        return value
    if isinstance(value, dict):
        if "class_name" in value:
            _check_serialized(value, None, path, depth)
            return value
        for key, item in value.items():
            if not isinstance(key, str):
                raise ParamError(f"'{path}' has a key that is not text ({show(key)})", key=_top(path))
            check_json(item, _sub(path, key), depth + 1)
        return value
    raise ParamError(f"'{path}' is not JSON data ({type(value).__name__})", key=_top(path))


def check_extra(class_name: str, key: str, value: Any, known: Any = ()) -> Any:
    """A key the spec does not model: accepted only when Keras' `class_name` takes
    it (`EXTRA_KEYS`); its value is checked by what the key means. `known`: the
    spec's own keys, offered when the key looks like a typo of one."""
    allowed = EXTRA_KEYS.get(class_name)
    if allowed is None:  # a spec outside the generated table (tests, plug-ins): plain JSON only
        return check_json(value, key)
    if key not in allowed:
        raise ParamError(
            f"{show(key)} is not a parameter of {class_name}; {_fix_key(key, class_name, known)}", key=key)
    if key in ("trainable", "autocast"):
        if not isinstance(value, bool):
            raise ParamError(f"'{key}' must be true or false, got {show(value)}", key=key)
        return value
    if key == "name":
        if not isinstance(value, str):
            raise ParamError(f"'{key}' must be text, got {show(value)}", key=key)
        return value
    if key == "dtype":
        return check_dtype(value, key)
    if key == "activity_regularizer":
        return None if value is None else check_object(value, "regularizer", key)
    return check_json(value, key)


def check_dtype(value: Any, path: str) -> Any:
    """A dtype or dtype-policy name ('float32', 'mixed_float16') or a serialized policy."""
    if value is None or (isinstance(value, str) and _DTYPE_NAME.match(value)):
        return value
    if isinstance(value, dict) and "class_name" in value:
        _check_serialized(value, None, path, 0)
        return value
    raise ParamError(f"'{path}' must be a dtype name such as 'float32', got {show(value)}", key=_top(path))


# --- helpers ---------------------------------------------------------------------
def _check_serialized(value: dict, kind: str | None, path: str, depth: int) -> None:
    """`{module?, class_name, config, registered_name?}` naming an allowlisted class.

    `kind` None: any allowlisted module (found from `module`, or from the class name)."""
    top = _top(path)
    _only_keys(value, path, SERIALIZED_KEYS)
    class_name = value.get("class_name")
    module = value.get("module")
    if not isinstance(class_name, str):
        raise ParamError(f"'{path}.class_name' must be a Keras class name, got {show(class_name)}", key=top)
    if kind is None:
        kind = _kind_of(module, class_name, path)
        if kind == "dtype_policy":
            _check_config(value, path, depth)
            return
        if kind == "function":
            check_activation(value, path)
            return
    expected = KIND_MODULES[kind]
    if module is not None and module != expected:
        raise ParamError(
            f"'{path}.module' must be {expected!r} (or left out), got {show(module)}", key=top)
    if class_name not in CLASSES[expected] or class_name in ABSTRACT or (
            kind == "layer" and class_name in NOT_NESTABLE):
        what = "a layer that can be nested here" if kind == "layer" else f"a Keras {kind}"
        raise ParamError(
            f"'{path}.class_name': {show(class_name)} is not {what}; use one of "
            f"{_some(CLASSES[expected] - NOT_NESTABLE, class_name, classes=True)}", key=top)
    registered = value.get("registered_name")
    if registered is not None and registered != class_name:
        raise ParamError(
            f"'{path}.registered_name' must be null or {class_name!r}, got {show(registered)}", key=top)
    _check_config(value, path, depth)
    if "build_config" in value:
        check_json(value["build_config"], f"{path}.build_config", depth + 1)


def _check_config(value: dict, path: str, depth: int) -> None:
    config = value.get("config", {})
    top = _top(path)
    if not isinstance(config, dict):
        raise ParamError(f"'{path}.config' must be an object of Keras config keys, got {show(config)}", key=top)
    for key in config:
        if not isinstance(key, str) or not _IDENT.match(key):
            raise ParamError(f"'{path}.config' has a key {show(key)} that is not a Keras argument name", key=top)
    check_json(config, f"{path}.config", depth + 1)


def _kind_of(module: Any, class_name: str, path: str) -> str:
    if module is None:
        for kind, mod in KIND_MODULES.items():
            if class_name in CLASSES[mod]:
                return kind
        if class_name in DTYPE_POLICIES:
            return "dtype_policy"
    elif isinstance(module, str):
        for kind, mod in KIND_MODULES.items():
            if module == mod:
                return kind
        if module in DTYPE_POLICY_MODULES and class_name in DTYPE_POLICIES:
            return "dtype_policy"
        if module in ("builtins", "keras.activations") and class_name == "function":
            return "function"
    raise ParamError(
        f"'{path}' names {show(class_name)} from module {show(module)}, which is not a Keras "
        "layer, initializer, regularizer, constraint or dtype policy; only those can be loaded from a file",
        key=_top(path))


def _only_keys(value: dict, path: str, allowed: tuple) -> None:
    for key in value:
        if key not in allowed:
            raise ParamError(
                f"'{_sub(path, key) if isinstance(key, str) else path}' is not part of a Keras config "
                f"(expected only {', '.join(allowed[:4])}); remove it", key=_top(path))


def _sub(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENT.match(key) else f"{path}[{show(key)}]"


def _top(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


# Offered first when a name is not known.
_COMMON = ("relu", "sigmoid", "softmax", "tanh", "gelu", "linear", "glorot_uniform", "he_normal", "zeros",
           "ones", "l1", "l2", "l1l2", "max_norm", "non_neg", "unit_norm", "Dense", "LSTM", "GRU", "Conv2D")


def _some(names: Any, near: Any = None, count: int = 6, classes: bool = False) -> str:
    """A few of `names`, the closest to `near` first, then common ones: "'relu', 'sigmoid', ...".
    `classes`: offer only CamelCase class names, else only snake_case names."""
    names = sorted(n for n in names if n[:1].isupper() == classes)
    close = difflib.get_close_matches(near, names, n=3, cutoff=0.6) if isinstance(near, str) and len(near) < 100 else []
    common = [n for n in _COMMON if n in names and n not in close]
    rest = [n for n in names if n not in close and n not in common]
    shown = close + common + rest
    text = ", ".join(repr(n) for n in shown[:count])
    return text + (", ..." if len(names) > count else "")


def _example(kind: str) -> str:
    return {"initializer": "'glorot_uniform'", "regularizer": "'l2'", "constraint": "'max_norm'"}[kind]


def _fix_key(key: str, class_name: str, known: Any = ()) -> str:
    candidates = sorted({*known, *EXTRA_KEYS.get(class_name, ())})
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.7) if len(key) < 100 else []
    if close:
        return f"did you mean {close[0]!r}? Rename or remove it in the node's params"
    return "remove it from the node's params (Keras would refuse to build the layer)"
