"""Layers that ship inside Keras itself but outside `keras.layers`, and placeholders.

* `LayerScale` (every ConvNeXt) and `CustomScaleLayer` (InceptionResNetV2) live
  in Keras' own `keras.src.applications` modules. Their module is a fixed entry
  of `studio.graph.keras_names.BUILTIN_LAYERS`, never a module named by a file.
* `Placeholder` stands for a layer that cannot be loaded safely (a custom class,
  a Lambda): it keeps the layer's config as inert text and the output shapes
  recorded in the file, so the rest of the model checks and shows on the canvas,
  and it is always an error: training and export refuse it, naming it. It is
  made by model import only, never offered in the palette.
"""

from __future__ import annotations

from typing import Any

from studio.graph.layers._shapes import fmt
from studio.graph.layers.operations import broadcast
from studio.graph.spec import LayerSpec, ParamSpec, ShapeError

PLACEHOLDER = "Placeholder"
HIDDEN_CATEGORY = "Imported"  # not offered in the palette


# --- LayerScale: x * gamma, gamma a learned vector of projection_dim values -----------------
def _layer_scale_shape(params, input_shapes):
    if len(input_shapes) != 1:
        raise ShapeError(f"LayerScale takes one input, got {len(input_shapes)}")
    return [broadcast("LayerScale", tuple(input_shapes[0]), (params["projection_dim"],))]


LAYER_SCALE = LayerSpec(
    id="LayerScale",
    class_name="LayerScale",
    category="Core",
    description=(
        "Multiplies each feature by its own learned scale (gamma, one value per feature, started at "
        "init_values). ConvNeXt blocks use it on the residual branch so that deep networks start close "
        "to the identity. projection_dim is the number of features (the input's last axis)."
    ),
    params=(
        ParamSpec("init_values", "float", 1e-6, "The starting value of every scale.", minimum=0.0,
                  examples=(1e-6, 0.1, 1.0)),
        ParamSpec("projection_dim", "int", 64, "The number of features scaled (the input's last axis).",
                  minimum=1, maximum=2**31 - 1, examples=(4, 8, 1)),
    ),
    infer_shape=_layer_scale_shape,
    count_params=lambda params, shapes: (params["projection_dim"], 0),
    key_params=("projection_dim",),
    module="keras.src.applications.convnext",
)


# --- CustomScaleLayer: inputs[0] + inputs[1] * scale -------------------------------------------
def _custom_scale_shape(params, input_shapes):
    if len(input_shapes) != 2:
        raise ShapeError(f"CustomScaleLayer adds two inputs (the block's input and its branch) but got "
                         f"{len(input_shapes)}")
    a, b = (tuple(s) for s in input_shapes)
    return [broadcast("CustomScaleLayer", a, broadcast("CustomScaleLayer", b, ()))]


CUSTOM_SCALE = LayerSpec(
    id="CustomScaleLayer",
    class_name="CustomScaleLayer",
    category="Merge",
    description=(
        "The residual connection of InceptionResNetV2: the first input plus the second scaled by a fixed "
        "factor (x + branch * scale), which keeps very deep residual stacks stable. No weights."
    ),
    params=(ParamSpec("scale", "float", 1.0, "The factor applied to the second input.", examples=(0.17, 0.1, 1.0)),),
    infer_shape=_custom_scale_shape,
    min_inputs=2,
    max_inputs=2,
    input_names=("x", "branch"),
    key_params=("scale",),
    is_merge=True,
    module="keras.src.applications.inception_resnet_v2",
)


# --- Placeholder ------------------------------------------------------------------------------
def _shape_list(value: Any, params: dict) -> list:
    if not isinstance(value, list) or not value:
        raise ShapeError(placeholder_message(params) + "; the file records no output shape for it (no layer "
                         "of the model uses its output)")
    for shape in value:
        if not isinstance(shape, list) or not all(d is None or (isinstance(d, int) and not isinstance(d, bool)
                                                                and 0 <= d < 2**31) for d in shape):
            raise ShapeError(f"the recorded output shape {value!r} is not a list of sizes")
    return [tuple(s) for s in value]


def _placeholder_shape(params, input_shapes):
    return _shape_list(params["output_shapes"], params)


def _placeholder_advice(params, input_shapes):
    advice = [("error", placeholder_message(params))]
    recorded = params.get("input_shapes")
    if isinstance(recorded, list) and all(isinstance(s, list) for s in recorded):
        got = [tuple(s) for s in input_shapes]
        if len(recorded) == len(got) and [tuple(s) for s in recorded] != got:
            advice.append(("warning", "its inputs are now " + ", ".join(fmt(s) for s in got) + " but the file "
                           "recorded " + ", ".join(fmt(tuple(s)) for s in recorded) + "; the output shape "
                           "shown is the recorded one"))
    return advice


def placeholder_message(params: dict) -> str:
    """The error shown on a placeholder node."""
    cls = params.get("class_name") or "?"
    reason = params.get("reason") or "its code is never loaded from a file"
    return (f"the {cls} layer was not loaded ({reason}); it is a placeholder: replace it with built-in "
            "layers or operations before training or exporting")


PLACEHOLDER_SPEC = LayerSpec(
    id=PLACEHOLDER,
    class_name=PLACEHOLDER,
    category=HIDDEN_CATEGORY,
    description=(
        "Stands for a layer of an imported model that was not loaded because it would run code from the "
        "file (a custom class, a Lambda). Its configuration is kept as text and its output shapes are "
        "the ones the file recorded, so the rest of the model can be checked; replace it before "
        "training or exporting."
    ),
    params=(
        ParamSpec("class_name", "str", "", "The class of the layer in the file."),
        ParamSpec("module", "json", None, "The module the file names for the class (never imported).",
                  optional=True),
        ParamSpec("config", "str", "{}", "The layer's configuration as the file holds it (JSON text, never "
                  "loaded)."),
        ParamSpec("input_shapes", "json", None, "The input shapes the file recorded.", optional=True),
        ParamSpec("output_shapes", "json", [], "The output shapes the file recorded."),
        ParamSpec("reason", "str", "", "Why the layer was not loaded and what to replace it with."),
    ),
    infer_shape=_placeholder_shape,
    min_inputs=0,
    max_inputs=None,
    num_outputs=lambda params: len(params["output_shapes"]) if isinstance(params.get("output_shapes"), list)
    and params["output_shapes"] else 1,
    key_params=("class_name",),
    advise=_placeholder_advice,
    module="",
)


SPECS = [LAYER_SCALE, CUSTOM_SCALE, PLACEHOLDER_SPEC]
