"""Transfer learning: a TensorFlow Hub / SavedModel module node and a Keras Applications backbone node.

Pure (no TensorFlow): shapes and parameter counts come from facts stored in the node's params (a
module's signature, discovered by `studio.hub.module_layer.discover` in a background job) or from
the table of backbones below (Keras' own numbers, checked by tests/hub/test_backbones.py). The
compiler builds both through `studio.hub` (`studio.compiler.keras_build.SPECIAL_BUILDERS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from studio.graph.layers._shapes import fmt, only_input
from studio.graph.spec import LayerSpec, ParamSpec, ShapeError

CATEGORY = "Transfer learning"
HUB_MODULE = "HubModule"
BACKBONE = "Backbone"

# Preprocessing modes of keras.applications.imagenet_utils.preprocess_input, and "model" for the
# applications that preprocess inside themselves (EfficientNet, EfficientNetV2, ConvNeXt, MobileNetV3).
PREPROCESSING = ("tf", "torch", "caffe", "model")

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


def get_backbone(name: str) -> Backbone:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ShapeError(f"no backbone called {name!r}; choose one of {', '.join(BACKBONES)}") from None


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
    spec = get_backbone(name)
    if pooling != "none":
        return (input_shape[0], spec.channels)
    return (input_shape[0], _shrink(input_shape[1], spec.steps), _shrink(input_shape[2], spec.steps),
            spec.channels)


def param_counts(name: str, channels: int) -> tuple[int, int]:
    """(trainable, non_trainable) of the application with `channels` input channels, all trainable."""
    spec = get_backbone(name)
    extra = channels - 3
    return spec.trainable + spec.per_channel * extra, spec.non_trainable + spec.norm_per_channel * extra


def node_param_counts(name: str, channels: int, trainable: bool = True) -> tuple[int, int]:
    """(trainable, non_trainable) of the built backbone node: the application plus its preprocessing
    (caffe's fixed 1x1 colour flip holds 12 non-trainable numbers)."""
    tr, nt = param_counts(name, channels)
    if get_backbone(name).preprocessing == "caffe":
        nt += 12
    if not trainable:
        return 0, tr + nt
    return tr, nt


def backbone_problems(name: str, input_shape: tuple, weights: str) -> list[str]:
    """Problems with an input (batch, h, w, c) for this backbone, as sentences (empty: fine)."""
    spec = get_backbone(name)
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


# --- palette explanations (what it was trained on, input size, parameters, when to pick it) --------
_WHEN = {
    "MobileNetV2": "small and fast: the usual first choice for a few hundred photos, phones and CPUs",
    "MobileNetV3Small": "the smallest and fastest here; pick it for tiny devices or when speed matters more "
                        "than the last points of accuracy",
    "MobileNetV3Large": "fast like MobileNetV2 and a little more accurate; a good default for mobile",
    "EfficientNetB0": "accurate for its size; a strong default when a GPU or a few minutes per epoch is fine",
    "EfficientNetB1": "a step up from B0 (more accurate, slower); for larger images or harder classes",
    "EfficientNetB2": "more accurate than B1 at 260x260; for fine details when you have time to train",
    "EfficientNetB3": "the largest EfficientNet here (300x300); for the hardest image sets, slow on a CPU",
    "EfficientNetV2B0": "trains faster than EfficientNetB0 at similar accuracy",
    "ResNet50": "the classic: well understood, robust to fine-tune; large (23M parameters)",
    "ResNet50V2": "ResNet50 with pre-activation blocks; often fine-tunes a little better",
    "DenseNet121": "accurate with few parameters (7M) but slower than its size suggests; medical images "
                   "often use it",
    "InceptionV3": "multi-scale features at 299x299; good for objects of varied size",
    "Xception": "depthwise-separable Inception (299x299); accurate, heavier than EfficientNetB0",
    "ConvNeXtTiny": "a modern convolutional network with transformer-era training; the most accurate here, "
                    "and the heaviest (28M)",
}


PREPROCESSING_TEXT = {"tf": "scales pixels from [0, 255] to [-1, 1] (Rescaling)",
                      "torch": "scales pixels to [0, 1] and normalizes with the ImageNet mean and deviation",
                      "caffe": "turns RGB into BGR and subtracts the ImageNet mean",
                      "model": "is inside the network itself"}


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f}M"


def backbone_explanation(name: str) -> str:
    """One paragraph for the palette: training data, input size, parameters, when to pick it."""
    spec = get_backbone(name)
    total = spec.trainable + spec.non_trainable
    inside = f"its preprocessing {PREPROCESSING_TEXT[spec.preprocessing]}" + (
        "" if spec.preprocessing == "model" else ", added in front automatically")
    return (f"{name} (Keras Applications), pretrained on ImageNet-1k (1.3 million photos, 1000 classes) with "
            f"weights 'imagenet', or random with weights 'none'. Input: {spec.default_size}x{spec.default_size} "
            f"RGB images by default (at least {spec.min_size}x{spec.min_size}), pixels in [0, 255]; {inside}. "
            f"{_millions(total)} parameters without its classifier; {spec.channels} features per image with "
            f"pooling avg. When to pick it: {_WHEN.get(name, 'a general-purpose image network')}.")


HUB_EXPLANATION = (
    "A pretrained module from TensorFlow Hub / Kaggle Models, or any TensorFlow SavedModel folder, used as one "
    "layer: an image feature vector (e.g. MobileNet or EfficientNet trained on ImageNet, 224x224 images in "
    "[0, 1]) or a text embedding (sentences as strings -> vectors, e.g. nnlm or Universal Sentence Encoder). "
    "Its input size, output size and parameter count are read from the module when it is loaded. Pick it when "
    "the network you want is published as a Hub module rather than in Keras Applications, or for text. "
    "Adding it asks for a handle (URL, Kaggle model path) or a local folder; downloads are kept in the "
    "module cache folder."
)


# --- the HubModule node -------------------------------------------------------------------
def _hub_shape(params: dict, input_shapes) -> list:
    shape = only_input("HubModule", input_shapes)
    handle = params.get("handle") or ""
    if not handle:
        raise ShapeError("no module chosen: give a TensorFlow Hub or Kaggle URL, a Kaggle model path or a local "
                         "SavedModel folder as the handle")
    out = params.get("output_shape")
    if not out:
        raise ShapeError(f"module '{handle}' is not loaded yet: its signature and shapes are discovered when it "
                         "is loaded (Load module); until then its output shape is unknown")
    want = params.get("input_shape")
    if want is not None and (len(want) != len(shape) or any(
            w is not None and g is not None and w != g for w, g in zip(want[1:], shape[1:]))):
        raise ShapeError(f"module '{handle}' takes input of shape {fmt(tuple(want))} but the wired input is "
                         f"{fmt(tuple(shape))}; change the Input's shape or resize before the module")
    return [(shape[0], *out[1:])]


def _hub_count(params: dict, input_shapes) -> tuple[int, int]:
    counts = params.get("param_counts") or [0, 0]
    return int(counts[0]), int(counts[1])


def _hub_advice(params: dict, input_shapes) -> list:
    # A wired Input of another dtype is one error on the node (the window's Hub job, the build).
    return []


HUB_MODULE_SPEC = LayerSpec(
    id=HUB_MODULE,
    class_name=HUB_MODULE,
    category=CATEGORY,
    module="studio.hub",
    description=(
        "A pretrained module from TensorFlow Hub or Kaggle, or any TensorFlow SavedModel folder, used as one "
        "layer: an image feature vector, a text embedding... Give its handle (URL, Kaggle model path or local "
        "folder); it is downloaded once into the module cache and its signature, input and output shapes are "
        "discovered when loaded. Untick 'trainable' to keep its weights fixed (feature extraction); leave it on "
        "to fine-tune them with the rest of the model."
    ),
    infer_shape=_hub_shape,
    count_params=_hub_count,
    advise=_hub_advice,
    params=(
        ParamSpec("handle", "str", "", "TensorFlow Hub or Kaggle URL, Kaggle model path "
                  "(owner/model/framework/variation/version) or a local SavedModel folder."),
        ParamSpec("signature", "str", "", "The module's endpoint to call; empty: its __call__ (TF2 Hub modules) "
                  "or its serving signature.", advanced=True),
        ParamSpec("output_key", "str", "", "Which output to use when the endpoint returns several.",
                  advanced=True),
        ParamSpec("input_shape", "shape", None, "Discovered: the module's input shape (batch included).",
                  optional=True, advanced=True),
        ParamSpec("input_dtype", "str", "", "Discovered: the module's input dtype.", advanced=True),
        ParamSpec("output_shape", "shape", None, "Discovered: the module's output shape (batch included).",
                  optional=True, advanced=True),
        ParamSpec("output_dtype", "str", "", "Discovered: the module's output dtype.", advanced=True),
        ParamSpec("param_counts", "json", None, "Discovered: [trainable, non-trainable] numbers in the module.",
                  optional=True, advanced=True),
        ParamSpec("endpoint", "str", "", "Discovered: the endpoint the layer calls.", advanced=True),
        ParamSpec("input_keyword", "str", "", "Discovered: the input's keyword when the endpoint is a signature.",
                  advanced=True),
        ParamSpec("takes_training", "bool", False, "Discovered: whether the endpoint takes a training argument.",
                  advanced=True),
    ),
    key_params=("handle",),
)


# --- the Backbone node --------------------------------------------------------------------
def _backbone_shape(params: dict, input_shapes) -> list:
    shape = only_input("Backbone", input_shapes)
    problems = backbone_problems(params["backbone"], shape, params["weights"])
    if problems:
        raise ShapeError(problems[0])
    return [output_shape(params["backbone"], shape, params["pooling"])]


def frozen_counts(name: str, channels: int, freeze_up_to: int) -> tuple[int, int]:
    """(trainable, non_trainable) of the backbone node with its first `freeze_up_to` layers frozen
    (`model.layers[:N]`, as the build does), from the per-layer table Keras gave."""
    from studio.graph.layers.backbone_counts import LAYERS

    trainable, non_trainable = node_param_counts(name, channels)
    rows = LAYERS.get(name)
    if not freeze_up_to or not rows:
        return trainable, non_trainable
    kept = sum(count for index, count in rows if index >= freeze_up_to)
    if rows[0][0] >= freeze_up_to:  # the first convolution, the one that grows with the input's channels
        kept += get_backbone(name).per_channel * (channels - 3)
    return kept, trainable + non_trainable - kept


def _backbone_count(params: dict, input_shapes) -> tuple[int, int]:
    shape = tuple(input_shapes[0])
    channels = shape[-1] if len(shape) == 4 and shape[-1] is not None else 3
    return frozen_counts(params["backbone"], channels, int(params.get("freeze_up_to") or 0))


def _backbone_advice(params: dict, input_shapes) -> list:
    out = []  # (its preprocessing is told in the palette's explanation: PREPROCESSING_TEXT)
    if params["weights"] == "file" and not params.get("weights_file"):
        out.append(("warning", "weights 'file' is chosen but no weights file is given"))
    rate = params.get("lr_multiplier", 1.0)
    if rate != 1.0:
        out.append(("info", f"the backbone's weights train at {rate:g} x the optimizer's learning rate"
                            + (" (0: they stay as they are)" if rate == 0 else "")))
    return out


BACKBONE_SPEC = LayerSpec(
    id=BACKBONE,
    class_name=BACKBONE,
    category=CATEGORY,
    module="studio.hub",
    description=(
        "A well-known image network from Keras Applications (MobileNet, EfficientNet, ResNet, DenseNet, "
        "Inception, Xception, ConvNeXt) without its classifier (include_top off): it turns images into "
        "features for your own layers. Weights: none (random), ImageNet (downloaded once) or a local weights "
        "file. Its matching preprocessing is added in front automatically. Freeze it (untick trainable) to "
        "train only your layers, or freeze its first N layers to fine-tune the rest."
    ),
    infer_shape=_backbone_shape,
    count_params=_backbone_count,
    advise=_backbone_advice,
    params=(
        ParamSpec("backbone", "choice", "MobileNetV2", "Which network.", choices=tuple(BACKBONES)),
        ParamSpec("weights", "choice", "none", "none: random start; imagenet: pretrained on ImageNet "
                  "(downloaded once into KERAS_HOME/models); file: a local weights file.", choices=WEIGHTS),
        ParamSpec("weights_file", "str", "", "A .weights.h5 / .h5 file saved from the same network "
                  "(include_top off), for weights 'file'."),
        ParamSpec("pooling", "choice", "avg", "none: the feature map (batch, h, w, channels); avg / max: one "
                  "vector per image (batch, channels).", choices=POOLING),
        ParamSpec("freeze_up_to", "int", 0, "Freeze the network's first N layers (0: none); fine-tunes the "
                  "rest.", minimum=0, maximum=10_000),
        ParamSpec("lr_multiplier", "float", 1.0, "Learning-rate multiplier for the backbone's weights: 0.1 "
                  "fine-tunes them 10x more gently than your layers; 0 keeps them as they are.",
                  minimum=0.0, maximum=10.0, advanced=True),
    ),
    key_params=("backbone", "weights", "pooling"),
)

SPECS = [HUB_MODULE_SPEC, BACKBONE_SPEC]
