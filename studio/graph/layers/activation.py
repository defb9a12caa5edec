"""Activation layers with parameters: ReLU, LeakyReLU, PReLU, ELU, Softmax.

(The plain `Activation` layer, which takes a function name, is in core.py.)
All keep the shape of their input; only PReLU has weights.
"""

from __future__ import annotations

from studio.graph.layers._shapes import fmt, only_input
from studio.graph.spec import INITIALIZERS, LayerSpec, ParamSpec, ShapeError, param_count

CATEGORY = "Activation"


def _same_shape(name: str):
    def infer(params, input_shapes):
        return [only_input(name, input_shapes)]

    return infer


# --- ReLU ---------------------------------------------------------------------------
def _relu_advice(params, input_shapes):
    if params["max_value"] is not None and params["max_value"] <= params["threshold"]:
        return [("warning", f"max_value {params['max_value']:g} is not above threshold "
                            f"{params['threshold']:g}, so every positive output is clipped to the "
                            "same value and nothing can be learned through it")]
    return []


RELU = LayerSpec(
    id="ReLU",
    class_name="ReLU",
    category=CATEGORY,
    description=(
        "Rectified linear unit: y = x for x ≥ threshold, else negative_slope · (x - threshold), "
        "optionally capped at max_value. With the defaults it is max(0, x), the standard activation "
        "of hidden layers; max_value=6 gives ReLU6 (mobile networks), a small negative_slope a leaky ReLU."
    ),
    params=(
        ParamSpec("max_value", "float", None, "Cap on the output (None: no cap; 6 gives ReLU6).",
                  minimum=0.0, maximum=1e9, optional=True, examples=(None, 6.0, 1.0, 0.0)),
        ParamSpec("negative_slope", "float", 0.0, "Slope below the threshold (0: outputs 0 there).",
                  minimum=0.0, maximum=1e9, examples=(0.0, 0.1)),
        ParamSpec("threshold", "float", 0.0, "Inputs below this value are cut (or sloped).", minimum=0.0,
                  maximum=1e9, examples=(0.0, 0.5), advanced=True),
    ),
    infer_shape=_same_shape("ReLU"),
    key_params=("max_value",),
    advise=_relu_advice,
)


# --- LeakyReLU ------------------------------------------------------------------------
def _leaky_advice(params, input_shapes):
    slope = params["negative_slope"]
    if slope == 1.0:
        return [("warning", "negative_slope 1 makes LeakyReLU the identity, so it adds no non-linearity; "
                            "use a small slope such as 0.01-0.3")]
    if slope > 1.0:
        return [("warning", f"negative_slope {slope:g} is steeper below zero than above; a slope between "
                            "0.01 and 0.3 is usual")]
    return []


LEAKY_RELU = LayerSpec(
    id="LeakyReLU",
    class_name="LeakyReLU",
    category=CATEGORY,
    description=(
        "A ReLU that lets a little signal through for negative inputs: y = x for x ≥ 0, else "
        "negative_slope · x. Avoids 'dead' neurons that never recover once their input turns "
        "negative; common in GANs."
    ),
    params=(
        ParamSpec("negative_slope", "float", 0.3, "Slope for negative inputs.", minimum=0.0, maximum=1e9,
                  examples=(0.3, 0.01, 0.0, 1.0)),
    ),
    infer_shape=_same_shape("LeakyReLU"),
    key_params=("negative_slope",),
    advise=_leaky_advice,
)


# --- PReLU -------------------------------------------------------------------------------
def _shared_axes(params) -> list[int]:
    shared = params.get("shared_axes")
    if shared is None:
        return []
    return list(shared) if isinstance(shared, (list, tuple)) else [shared]


def _prelu_alpha_shape(params, shape: tuple) -> list:
    """The shape of the learned slopes: the input without batch, 1 on shared axes (Keras' rule)."""
    alpha = list(shape[1:])
    for axis in _shared_axes(params):
        if not -len(alpha) <= axis - 1 < len(alpha):
            raise ShapeError(
                f"PReLU: shared axis {axis} does not exist in the input {fmt(shape)}; shared_axes "
                f"counts from 1 (the first axis after the batch) to {len(shape) - 1}"
            )
        alpha[axis - 1] = 1
    if any(d is None for d in alpha):
        raise ShapeError(
            f"PReLU learns one slope per position of its input {fmt(shape)} and needs every size known; "
            "set the sizes on the Input layer or share the unknown axes with shared_axes (e.g. [1])"
        )
    return alpha


def _prelu_shape(params, input_shapes):
    shape = only_input("PReLU", input_shapes)
    _prelu_alpha_shape(params, shape)
    return [shape]


def _prelu_params(params, input_shapes):
    return (param_count(_prelu_alpha_shape(params, tuple(input_shapes[0]))), 0)


def _prelu_advice(params, input_shapes):
    shape = tuple(input_shapes[0])
    n = param_count(_prelu_alpha_shape(params, shape))
    if len(shape) >= 4 and not _shared_axes(params) and n > 1000:
        spatial = list(range(1, len(shape) - 1))
        return [("info", f"PReLU learns a slope for every one of the {n} positions of {fmt(shape)}; for "
                         f"images share them across space with shared_axes={spatial} (one slope per channel)")]
    return []


PRELU = LayerSpec(
    id="PReLU",
    class_name="PReLU",
    category=CATEGORY,
    description=(
        "Parametric ReLU: y = x for x ≥ 0, else alpha · x, where the slope alpha is learned, one per "
        "input position (batch excluded). Set shared_axes to learn one slope per channel instead, e.g. "
        "shared_axes=[1, 2] for images (batch, height, width, channels)."
    ),
    params=(
        ParamSpec("alpha_initializer", "initializer", "zeros", "Starting value of the slopes.",
                  choices=INITIALIZERS, advanced=True),
        ParamSpec("alpha_regularizer", "regularizer", None, "Penalty on the slopes.", optional=True,
                  advanced=True),
        ParamSpec("alpha_constraint", "constraint", None, "Limit applied to the slopes after each update.",
                  optional=True, advanced=True),
        ParamSpec("shared_axes", "axis", None, "Axes (counting from 1 after the batch) along which one "
                  "slope is shared.", optional=True, examples=(None, [1], [1, 2], 2, [3])),
    ),
    infer_shape=_prelu_shape,
    count_params=_prelu_params,
    key_params=("shared_axes",),
    advise=_prelu_advice,
)


# --- ELU ------------------------------------------------------------------------------------
def _elu_advice(params, input_shapes):
    if params["alpha"] < 0:
        return [("warning", f"alpha {params['alpha']:g} makes negative inputs give positive outputs; "
                            "ELU expects alpha > 0 (1.0 is usual)")]
    return []


ELU = LayerSpec(
    id="ELU",
    class_name="ELU",
    category=CATEGORY,
    description=(
        "Exponential linear unit: y = x for x > 0, else alpha · (exp(x) - 1). Smooth, and its "
        "negative outputs push mean activations toward zero, which can speed up learning compared "
        "to ReLU."
    ),
    params=(
        ParamSpec("alpha", "float", 1.0, "Value the output approaches for very negative inputs (-alpha).",
                  minimum=-1e9, maximum=1e9, examples=(1.0, 0.5, 2.0)),
    ),
    infer_shape=_same_shape("ELU"),
    key_params=("alpha",),
    advise=_elu_advice,
)


# --- Softmax ----------------------------------------------------------------------------------
def _softmax_axes(params) -> list[int]:
    axis = params["axis"]
    return list(axis) if isinstance(axis, (list, tuple)) else [axis]


def _softmax_advice(params, input_shapes):
    shape = tuple(input_shapes[0])
    rank = len(shape)
    bad = [a for a in _softmax_axes(params) if not -rank <= a < rank]
    if bad:
        # Keras builds the layer anyway (it only checks when it runs), so this is advice, not a shape error.
        return [("error", f"axis {bad[0]} does not exist in the {rank}-D input {fmt(shape)}; the model "
                          f"will fail when it runs. Use an axis from {-rank} to {rank - 1} (usually -1)")]
    sizes = [shape[a] for a in _softmax_axes(params)]
    if sizes and all(s == 1 for s in sizes):
        return [("warning", "softmax over an axis of size 1 always outputs 1.0; for a yes/no output use "
                            "a sigmoid activation, or give the previous layer one unit per class")]
    if 0 in [a % rank for a in _softmax_axes(params)]:
        return [("warning", "softmax over the batch axis 0 makes samples compete with each other; use "
                            "axis -1 (the classes)")]
    return []


SOFTMAX = LayerSpec(
    id="Softmax",
    class_name="Softmax",
    category=CATEGORY,
    description=(
        "Turns scores into probabilities that are positive and sum to 1 along an axis: "
        "y_i = exp(x_i) / Σ_j exp(x_j). The usual last step of a multi-class classifier (one unit per "
        "class before it); the loss is then categorical cross-entropy."
    ),
    params=(
        ParamSpec("axis", "axis", -1, "Axis (or axes) along which the values sum to 1.",
                  examples=(-1, 1, [1, 2], 3)),
    ),
    infer_shape=_same_shape("Softmax"),
    advise=_softmax_advice,
)

SPECS = [RELU, LEAKY_RELU, PRELU, ELU, SOFTMAX]
