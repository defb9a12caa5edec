"""Transfer learning: a KerasHub preset (the Keras team's pretrained Keras 3 backbones) as a node.

Pure (no TensorFlow, no keras_hub): the node keeps its preset (a local preset folder holding
config.json and model.weights.h5, a `kaggle://` or `hf://` handle, or a KerasHub preset name) and
the facts `studio.hub.presets.discover` reads in a background job when the preset is loaded for
the wired input: the backbone's class, its input spec, its feature shape, its parameter counts
(Keras' own) and the trainable parameters of each of its layers (so "freeze up to layer N" shows
exact counts). Shapes and counts below come only from those facts.
"""

from __future__ import annotations

from typing import Optional

from studio.graph.layers._shapes import fmt, only_input
from studio.graph.layers.transfer import CATEGORY
from studio.graph.spec import LayerSpec, ParamSpec, ShapeError, ShapePending

PRESET = "KerasHubPreset"
POOLING = ("none", "avg", "max")
#: The range of the pixel values wired into the node: a preset's image converter expects [0, 255].
PIXELS = ("0-255", "0-1")

#: The params `studio.hub.presets.discover` fills in (kept in the project file).
DISCOVERED = ("backbone_class", "input_shape", "input_dtype", "feature_shape", "discovered_for",
              "param_counts", "layer_params", "rescale")

#: KerasHub image presets worth knowing (all pretrained on ImageNet-1k at 224x224; numbers from KerasHub's
#: preset table): the dialog completes these names, the palette's explanation lists them.
POPULAR_PRESETS = (
    ("mobilenet_v3_small_100_imagenet", "MobileNetV3 Small, 0.9M parameters: the fastest, for CPUs and phones"),
    ("mobilenet_v3_large_100_imagenet", "MobileNetV3 Large, 3.0M: fast, a little more accurate"),
    ("efficientnet_b0_ra_imagenet", "EfficientNet B0, 5.3M: accurate for its size"),
    ("resnet_18_imagenet", "ResNet-18, 11.2M: a small classic"),
    ("resnet_50_imagenet", "ResNet-50, 23.6M: the classic, robust to fine-tune"),
    ("vit_base_patch16_224_imagenet", "ViT-B/16, 85.8M: a vision transformer, for a GPU"),
)

PRESET_EXPLANATION = (
    "A pretrained backbone from KerasHub, the Keras team's library of Keras 3 models (ResNet, EfficientNet, "
    "MobileNet, ViT, ConvNeXt... presets, pretrained on ImageNet), used as one node. Give a local preset "
    "folder (config.json + model.weights.h5, saved by save_to_preset or downloaded), a Kaggle handle "
    "(kaggle://keras/resnetv2/keras/resnet_50_imagenet) or a Hugging Face one (hf://...). Its input and "
    "feature shapes and its exact parameter counts are read when it is loaded; the preset's own image "
    "scaling is added in front. Text backbones (BERT, GPT-2...) take token ids (0 = padding) and give one "
    "vector per token. Pick it for a backbone that Keras Applications does not ship, or for a preset you "
    "saved yourself. Image presets (ImageNet-1k, 224x224): "
    + "; ".join(f"{name} ({text})" for name, text in POPULAR_PRESETS) + "."
)


def _shown(shape: Optional[list]) -> str:
    return fmt(tuple(shape)) if shape is not None else "?"


def _mismatch(want: Optional[list], got: tuple) -> bool:
    if want is None:
        return False
    return len(want) != len(got) or any(w is not None and g is not None and w != g
                                        for w, g in zip(want[1:], got[1:]))


def _preset_shape(params: dict, input_shapes) -> list:
    shape = only_input(PRESET, input_shapes)
    preset = (params.get("preset") or "").strip()
    if not preset:
        raise ShapePending("no preset chosen: give a local KerasHub preset folder (config.json, model.weights.h5), "
                         "a kaggle:// or hf:// handle, or a KerasHub preset name")
    feature = params.get("feature_shape")
    if not feature:
        raise ShapePending(f"preset '{preset}' is not loaded yet: its shapes and parameter counts are read when it "
                         "is loaded for the wired input")
    want = params.get("input_shape")
    if _mismatch(want, shape):
        raise ShapeError(f"preset '{preset}' takes input of shape {_shown(want)} but the wired input is "
                         f"{fmt(shape)}; change the Input's shape or resize before the backbone")
    if params.get("pooling", "avg") != "none":
        return [(shape[0], feature[-1])]
    found = params.get("discovered_for")
    if found is not None and list(found[1:]) != list(shape[1:]):
        raise ShapePending(f"preset '{preset}' was loaded for input {_shown(found)}; its feature map for "
                         f"{fmt(shape)} is read when it is loaded again (pooling avg needs no reload)")
    return [(shape[0], *feature[1:])]


def _preset_count(params: dict, input_shapes) -> tuple[int, int]:
    counts = params.get("param_counts") or [0, 0]
    trainable, frozen = int(counts[0]), int(counts[1])
    n = int(params.get("freeze_up_to") or 0)
    moved = sum(int(c) for c in (params.get("layer_params") or [])[:n])
    return trainable - moved, frozen + moved


def _preset_advice(params: dict, input_shapes) -> list:
    out = []
    rate = params.get("lr_multiplier", 1.0)
    if rate != 1.0:
        out.append(("info", f"the backbone's weights train at {rate:g} x the optimizer's learning rate"
                            + (" (0: they stay as they are)" if rate == 0 else "")))
    layers = params.get("layer_params")
    n = int(params.get("freeze_up_to") or 0)
    if layers and n > len(layers):
        out.append(("warning", f"freeze_up_to is {n} but the backbone has {len(layers)} layers: all are frozen"))
    return out


PRESET_SPEC = LayerSpec(
    id=PRESET,
    class_name=PRESET,
    category=CATEGORY,
    module="studio.hub",
    description=(
        "A pretrained KerasHub backbone (keras_hub.models.Backbone.from_preset) used as one node: a local "
        "preset folder, a kaggle:// or hf:// handle, or a KerasHub preset name. It is loaded in the "
        "background; its shapes and exact parameter counts then show on the node. The preset's own image "
        "scaling is added in front (set 'pixels' to the range of your images); a text backbone takes token ids "
        "(int, 0 = padding) and gives its sequence output. Untick trainable to train only your layers, or freeze "
        "its first N layers to fine-tune the rest."
    ),
    infer_shape=_preset_shape,
    count_params=_preset_count,
    advise=_preset_advice,
    params=(
        ParamSpec("preset", "str", "", "A local KerasHub preset folder (config.json, model.weights.h5), a "
                  "kaggle://owner/model/keras/variant[/version] or hf://owner/name handle, or a KerasHub "
                  "preset name such as resnet_50_imagenet."),
        ParamSpec("pooling", "choice", "avg", "none: the feature map (a text backbone: one vector per token); "
                  "avg / max: one vector per image or sentence (batch, channels).", choices=POOLING),
        ParamSpec("pixels", "choice", "0-255", "The range of the pixel values wired in: the preset's image "
                  "scaling expects [0, 255]; choose 0-1 when your images are scaled to [0, 1].", choices=PIXELS),
        ParamSpec("freeze_up_to", "int", 0, "Freeze the backbone's first N layers (0: none); fine-tunes the "
                  "rest.", minimum=0, maximum=10_000),
        ParamSpec("lr_multiplier", "float", 1.0, "Learning-rate multiplier for the backbone's weights: 0.1 "
                  "fine-tunes them 10x more gently than your layers; 0 keeps them as they are.",
                  minimum=0.0, maximum=10.0, advanced=True),
        ParamSpec("backbone_class", "str", "", "Discovered: the KerasHub backbone class.", advanced=True),
        ParamSpec("input_shape", "shape", None, "Discovered: the backbone's input shape (batch included).",
                  optional=True, advanced=True),
        ParamSpec("input_dtype", "str", "", "Discovered: the backbone's input dtype.", advanced=True),
        ParamSpec("feature_shape", "shape", None, "Discovered: the backbone's features for the wired input "
                  "(batch included).", optional=True, advanced=True),
        ParamSpec("discovered_for", "shape", None, "Discovered: the wired input shape the facts were read for.",
                  optional=True, advanced=True),
        ParamSpec("param_counts", "json", None, "Discovered: [trainable, non-trainable] numbers of the node.",
                  optional=True, advanced=True),
        ParamSpec("layer_params", "json", None, "Discovered: trainable numbers of each backbone layer.",
                  optional=True, advanced=True),
        ParamSpec("rescale", "json", None, "Discovered: the preset's image scaling [scale, offset] for pixels in "
                  "[0, 255] (none when the preset has no image converter).", optional=True, advanced=True),
    ),
    key_params=("preset", "pooling"),
)

SPECS = [PRESET_SPEC]
