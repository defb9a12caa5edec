"""Keras Applications as backbones: a pure table, and `build_backbone`.

`BACKBONES` describes each supported application with include_top=False: its Keras function, the
default and minimum input size, its preprocessing, its feature channels, its parameter counts for a
3-channel input, and how it shrinks the image (so shape inference stays pure). The numbers are
Keras' own: tests/hub/test_backbones.py builds each application and compares.

`build_backbone(...)` makes a small functional model: the application's preprocessing (visible as
its first layers: Rescaling / Normalization, or none when the application preprocesses inside
itself), then the application, called with `training=False` when any of it is frozen (Keras'
fine-tuning recipe: frozen BatchNormalization keeps its moving statistics). Weights: None, a local
weights file (loaded with `load_weights`; a damaged or mismatched file is one clear `HubError`), or
"imagenet" through Keras' own download (offline: one line naming the file and the folder
`KERAS_HOME/models` to put it in).

No TensorFlow or Keras import at module level.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

from studio.graph.layers.transfer import (  # the pure table, shared with shape inference
    BACKBONES,
    POOLING,
    WEIGHTS,
    Backbone,
    backbone_problems,
    get_backbone,
    node_param_counts,
    output_shape,
    param_counts,
)
from studio.hub.resolve import HubError

__all__ = ["BACKBONES", "BASE_ATTR", "LR_MULTIPLIER_ATTR", "POOLING", "WEIGHTS", "Backbone", "apply_lr_multipliers",
           "build_backbone", "load_weights_file", "node_param_counts", "output_shape", "param_counts"]

# Attributes our builders set on the Keras layer of a transfer-learning node (a Backbone's sub-model, a
# HubModule layer), read by compile (learning-rate multipliers) and by training (two-phase fine-tuning,
# cached features). Plain Python attributes: not saved in a .keras file; the project's node params are.
BASE_ATTR = "studio_base"
LR_MULTIPLIER_ATTR = "studio_lr_multiplier"
_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)

# --- building (Keras) ---------------------------------------------------------------------
def keras_home() -> Path:
    """Where Keras keeps downloads: Keras reads KERAS_HOME once, when it is imported, so once it is
    loaded its own answer is the one that counts (and the one messages must name)."""
    import sys

    if "keras" in sys.modules:
        try:
            from keras.src.backend import config

            return Path(config.keras_home())
        except (ImportError, AttributeError):
            pass
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def _preprocess(x: Any, mode: str, name: str) -> Any:
    import keras

    if mode == "tf":  # [0, 255] -> [-1, 1]
        return keras.layers.Rescaling(1 / 127.5, offset=-1.0, name=f"{name}_preprocess")(x)
    if mode == "torch":  # [0, 255] -> [0, 1] -> ImageNet mean/std
        x = keras.layers.Rescaling(1 / 255.0, name=f"{name}_rescale")(x)
        return keras.layers.Normalization(mean=list(_TORCH_MEAN), variance=[s * s for s in _TORCH_STD],
                                          name=f"{name}_preprocess")(x)
    if mode == "caffe":  # RGB -> BGR, minus the ImageNet mean (BGR)
        flip = keras.layers.Conv2D(3, 1, use_bias=True, trainable=False, name=f"{name}_preprocess",
                                   kernel_initializer=keras.initializers.Constant(
                                       [[[[0, 0, 1], [0, 1, 0], [1, 0, 0]]]]),
                                   bias_initializer=keras.initializers.Constant([-m for m in _CAFFE_MEAN]))
        return flip(x)
    return x  # "model": the application preprocesses inside itself


def build_backbone(name: str, input_shape: tuple, weights: str = "none", weights_file: str = "",
                   pooling: str = "none", trainable: bool = True, freeze_up_to: int = 0,
                   layer_name: str | None = None, lr_multiplier: float = 1.0) -> Any:
    """A functional model: preprocessing -> the application (include_top=False) -> features.

    `input_shape` is (height, width, channels). `freeze_up_to` N freezes the application's first N
    layers (its InputLayer counted, as `base.layers[:N]`); `trainable=False` freezes all of it.
    """
    import keras

    spec = get_backbone(name)
    layer_name = layer_name or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    problems = backbone_problems(name, (None, *input_shape), weights)
    if problems:
        raise HubError(problems[0])
    if weights not in WEIGHTS:
        raise HubError(f"backbone weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    fn = getattr(keras.applications, spec.name)
    kwargs: dict = {"include_top": False, "input_shape": tuple(input_shape),
                    "pooling": None if pooling == "none" else pooling}
    try:
        with warnings.catch_warnings():
            # An input size without its own ImageNet weights gets the 224x224 ones (the convolutions
            # do not depend on the size): Keras says so in a warning, which is expected here.
            warnings.filterwarnings("ignore", message=".*Weights for input shape.*will be loaded as the default")
            base = fn(weights="imagenet" if weights == "imagenet" else None, **kwargs)
    except Exception as exc:
        raise HubError(_weights_download_message(name, exc) if weights == "imagenet" else
                       f"Keras cannot build {name} for input {tuple(input_shape)}: {_reason(exc)}") from None
    if weights == "file":
        load_weights_file(base, weights_file, name)
    if not trainable:
        base.trainable = False
    elif freeze_up_to:
        for layer in base.layers[:freeze_up_to]:
            layer.trainable = False
    inputs = keras.Input(shape=tuple(input_shape), name=f"{layer_name}_input")
    x = _preprocess(inputs, spec.preprocessing, layer_name)
    frozen = not trainable or freeze_up_to > 0
    outputs = base(x, training=False) if frozen else base(x)
    model = keras.Model(inputs, outputs, name=layer_name)
    setattr(model, BASE_ATTR, True)
    setattr(model, LR_MULTIPLIER_ATTR, float(lr_multiplier))
    return model


# --- learning-rate multipliers ---------------------------------------------------------------
def _marked_layers(model: Any, attr: str) -> list:
    """Layers of `model` (nested models searched too) that carry `attr`, outermost first."""
    found, stack = [], list(getattr(model, "layers", []) or [])
    while stack:
        layer = stack.pop(0)
        if getattr(layer, attr, None) is not None:
            found.append(layer)
        else:
            stack.extend(getattr(layer, "layers", []) or [])
    return found


def apply_lr_multipliers(optimizer: Any, model: Any) -> int:
    """Make `optimizer` train each backbone's variables at its node's learning-rate multiplier.

    Works with every Keras optimizer: the optimizer becomes an instance of a subclass of its own class
    (same class name, module and config, so saved models reload it as the plain optimizer) whose
    `update_step` multiplies the learning rate for those variables. Scaling the *step*, not the
    gradient, keeps the meaning for Adam-like optimizers (they divide gradient scale away). A multiplier
    0 also keeps weight decay (AdamW) off those variables, so the base does not move at all; other
    multipliers decay at the optimizer's rate. Call before the optimizer is built (compile does not
    build it). Returns how many variables got a multiplier other than 1.
    """
    rates: dict[Any, float] = {}
    still: list = []
    for layer in _marked_layers(model, LR_MULTIPLIER_ATTR):
        rate = float(getattr(layer, LR_MULTIPLIER_ATTR))
        if rate == 1.0:
            continue
        for variable in layer.weights:
            rates[optimizer._var_key(variable)] = rate
            if rate == 0.0:
                still.append(variable)
    if not rates:
        return 0
    optimizer.__class__ = _scaled_class(type(optimizer))
    object.__setattr__(optimizer, "studio_rates", rates)  # a plain dict: not tracked as optimizer state
    if still and getattr(optimizer, "weight_decay", None):
        optimizer.exclude_from_weight_decay(var_list=still)
    return len(rates)


_SCALED: dict[type, type] = {}


def _scaled_class(cls: type) -> type:
    if getattr(cls, "_studio_scaled", False):
        return cls
    if cls not in _SCALED:
        def update_step(self: Any, gradient: Any, variable: Any, learning_rate: Any) -> Any:
            rate = self.studio_rates.get(self._var_key(variable), 1.0)
            return cls.update_step(self, gradient, variable, learning_rate * rate if rate != 1.0 else learning_rate)

        scaled = type(cls.__name__, (cls,), {"update_step": update_step, "_studio_scaled": True,
                                             "__module__": cls.__module__, "__qualname__": cls.__qualname__})
        _SCALED[cls] = scaled
    return _SCALED[cls]


def load_weights_file(model: Any, path: str, name: str) -> None:
    """Load a local weights file into the application, or one clear HubError."""
    if not path:
        raise HubError(f"{name}: weights 'file' is chosen but no weights file is given; choose a .weights.h5 "
                       "or .h5 file saved from the same backbone (include_top=False)")
    file = Path(path).expanduser()
    if not file.is_file():
        raise HubError(f"{name}: the weights file {file} does not exist")
    if not file.name.endswith(".h5"):
        raise HubError(f"{name}: {file.name} is not a Keras weights file (.weights.h5 or .h5)")
    try:
        model.load_weights(str(file))
    except Exception as exc:
        raise HubError(f"{name}: the weights file {file} cannot be loaded into {name} (include_top=False, "
                       f"input {tuple(model.input_shape[1:])}): {_reason(exc)}; it may be damaged or saved "
                       "from another network or input size") from None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:240]


def _weights_download_message(name: str, exc: BaseException) -> str:
    text = str(exc)
    found = re.search(r"https?://\S+?\.h5", text)
    folder = keras_home() / "models"
    if found:
        file = found.group(0).rsplit("/", 1)[1]
        return (f"{name}: the ImageNet weights cannot be downloaded ({_reason(exc)[:120]}). On a machine with a "
                f"connection download {found.group(0)} and put {file} into {folder}; or choose weights 'none' "
                "or a local weights file")
    return (f"{name}: Keras cannot load the ImageNet weights: {_reason(exc)}. Put the weights file Keras "
            f"names into {folder}, or choose weights 'none' or a local weights file")
