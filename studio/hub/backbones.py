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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from studio.hub.resolve import HubError

# Preprocessing modes of keras.applications.imagenet_utils.preprocess_input, and "model" for the
# applications that preprocess inside themselves (EfficientNet, EfficientNetV2, ConvNeXt, MobileNetV3).
PREPROCESSING = ("tf", "torch", "caffe", "model")
_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)

# How a network shrinks height and width: steps of (kernel, stride, padding), "same" = ceil(n / s).
_SAME32 = (("same", 2),) * 5


@dataclass(frozen=True)
class Backbone:
    name: str  # the keras.applications function
    module: str  # keras.applications.<module>.preprocess_input
    preprocessing: str  # one of PREPROCESSING
    channels: int  # feature channels of the last layer
    trainable: int  # parameters with a 3-channel input, include_top=False
    non_trainable: int
    per_channel: int  # trainable parameters per input channel (the first convolution's)
    norm_per_channel: int  # non-trainable parameters per input channel (an in-model Normalization)
    min_size: int = 32
    default_size: int = 224
    steps: tuple = _SAME32  # (padding, stride) or (padding, stride, kernel) for "valid"


def _b(*args: Any, **kwargs: Any) -> Backbone:
    return Backbone(*args, **kwargs)


_INCEPTION = (("valid", 2, 3), ("valid", 1, 3), ("valid", 2, 3), ("valid", 1, 3), ("valid", 2, 3),
              ("valid", 2, 3), ("valid", 2, 3))
_XCEPTION = (("valid", 2, 3), ("valid", 1, 3), ("same", 2), ("same", 2), ("same", 2), ("same", 2))
_DENSENET = (("same", 2), ("same", 2), ("valid", 2, 2), ("valid", 2, 2), ("valid", 2, 2))
_CONVNEXT = (("valid", 4, 4), ("valid", 2, 2), ("valid", 2, 2), ("valid", 2, 2))

BACKBONES: dict[str, Backbone] = {b.name: b for b in (
    _b("MobileNetV2", "mobilenet_v2", "tf", 1280, 2223872, 34112, 288, 0),
    _b("MobileNetV3Small", "mobilenet_v3", "model", 576, 927008, 12112, 144, 0),
    _b("MobileNetV3Large", "mobilenet_v3", "model", 960, 2971952, 24400, 144, 0),
    _b("EfficientNetB0", "efficientnet", "model", 1280, 4007548, 42023, 288, 2),
    _b("EfficientNetB1", "efficientnet", "model", 1280, 6513184, 62055, 288, 2, default_size=240),
    _b("EfficientNetB2", "efficientnet", "model", 1408, 7700994, 67575, 288, 2, default_size=260),
    _b("EfficientNetB3", "efficientnet", "model", 1536, 10696232, 87303, 360, 2, default_size=300),
    _b("EfficientNetV2B0", "efficientnet_v2", "model", 1280, 5858704, 60608, 288, 0),
    _b("ResNet50", "resnet", "caffe", 2048, 23534592, 53120, 3136, 0),
    _b("ResNet50V2", "resnet_v2", "tf", 2048, 23519360, 45440, 3136, 0),
    _b("DenseNet121", "densenet", "torch", 1024, 6953856, 83648, 3136, 0, steps=_DENSENET),
    _b("InceptionV3", "inception_v3", "tf", 2048, 21768352, 34432, 288, 0, min_size=75, default_size=299,
       steps=_INCEPTION),
    _b("Xception", "xception", "tf", 2048, 20806952, 54528, 288, 0, min_size=71, default_size=299,
       steps=_XCEPTION),
    _b("ConvNeXtTiny", "convnext", "model", 768, 27820128, 0, 1536, 0, steps=_CONVNEXT),
)}

WEIGHTS = ("none", "imagenet", "file")
POOLING = ("none", "avg", "max")


def get(name: str) -> Backbone:
    try:
        return BACKBONES[name]
    except KeyError:
        raise HubError(f"no backbone called {name!r}; choose one of {', '.join(BACKBONES)}") from None


def _shrink(size: Optional[int], steps: tuple) -> Optional[int]:
    if size is None:
        return None
    for step in steps:
        if step[0] == "same":
            size = -(-size // step[1])
        else:
            _, stride, kernel = step
            size = (size - kernel) // stride + 1
    return size


def output_shape(name: str, input_shape: tuple, pooling: str) -> tuple:
    """(batch, h, w, channels) for pooling "none", else (batch, channels)."""
    spec = get(name)
    if pooling != "none":
        return (input_shape[0], spec.channels)
    return (input_shape[0], _shrink(input_shape[1], spec.steps), _shrink(input_shape[2], spec.steps),
            spec.channels)


def param_counts(name: str, channels: int) -> tuple[int, int]:
    """(trainable, non_trainable) of the application with `channels` input channels, all trainable."""
    spec = get(name)
    extra = channels - 3
    return spec.trainable + spec.per_channel * extra, spec.non_trainable + spec.norm_per_channel * extra


def node_param_counts(name: str, channels: int, trainable: bool = True) -> tuple[int, int]:
    """(trainable, non_trainable) of the built backbone node: the application plus its preprocessing
    (caffe's fixed 1x1 colour flip holds 12 non-trainable numbers)."""
    tr, nt = param_counts(name, channels)
    if get(name).preprocessing == "caffe":
        nt += 12
    if not trainable:
        return 0, tr + nt
    return tr, nt


def check_input(name: str, input_shape: tuple, weights: str) -> list[str]:
    """Problems with an input (batch, h, w, c) for this backbone, as sentences (empty: fine)."""
    spec = get(name)
    problems = []
    if len(input_shape) != 4:
        return [f"{name} needs images (batch, height, width, channels), got {len(input_shape)}-D input"]
    _, h, w, c = input_shape
    for what, size in (("height", h), ("width", w)):
        if size is not None and size < spec.min_size:
            problems.append(f"{name} needs images at least {spec.min_size}x{spec.min_size}; the input's {what} "
                            f"is {size} (resize the images or choose another backbone)")
    if c is None:
        problems.append(f"{name} needs the number of channels of its input to be known; set it on the Input")
    elif weights == "imagenet" and c != 3:
        problems.append(f"ImageNet weights need 3 colour channels (RGB); the input has {c}")
    return problems


# --- building (Keras) ---------------------------------------------------------------------
def keras_home() -> Path:
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
                   layer_name: str | None = None) -> Any:
    """A functional model: preprocessing -> the application (include_top=False) -> features.

    `input_shape` is (height, width, channels). `freeze_up_to` N freezes the application's first N
    layers (its InputLayer counted, as `base.layers[:N]`); `trainable=False` freezes all of it.
    """
    import keras

    spec = get(name)
    layer_name = layer_name or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    problems = check_input(name, (None, *input_shape), weights)
    if problems:
        raise HubError(problems[0])
    if weights not in WEIGHTS:
        raise HubError(f"backbone weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    fn = getattr(keras.applications, spec.name)
    kwargs: dict = {"include_top": False, "input_shape": tuple(input_shape),
                    "pooling": None if pooling == "none" else pooling}
    try:
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
    return keras.Model(inputs, outputs, name=layer_name)


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
