"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization,
UnitNormalization.

Weight counts mirror Keras 3: gamma (scale) and beta (center) are trainable, one
value per normalized position; BatchNormalization also keeps a moving mean and
variance (non-trainable) and, with `renorm`, three more non-trainable vectors.
"""

from __future__ import annotations

from studio.graph.layers._shapes import fmt, only_input
from studio.graph.spec import INITIALIZERS, LayerSpec, ParamSpec, ShapeError

CATEGORY = "Normalization"


def _initializer(key: str, default: str, what: str) -> ParamSpec:
    return ParamSpec(key, "initializer", default, f"Starting value of {what}.", choices=INITIALIZERS,
                     advanced=True)


def _regularizer(key: str, what: str) -> ParamSpec:
    return ParamSpec(key, "regularizer", None, f"Penalty on {what}, added to the loss.", optional=True,
                     advanced=True)


def _constraint(key: str, what: str) -> ParamSpec:
    return ParamSpec(key, "constraint", None, f"Limit applied to {what} after each update.", optional=True,
                     advanced=True)


EPSILON = ParamSpec("epsilon", "float", 1e-3, "Small number added to the variance so the division never "
                    "blows up.", minimum=0.0, maximum=1.0, examples=(1e-3, 1e-5), advanced=True)
CENTER = ParamSpec("center", "bool", True, "Learn an offset beta added after normalizing.")
SCALE = ParamSpec("scale", "bool", True, "Learn a factor gamma multiplied after normalizing.")

GAMMA_BETA = (
    _initializer("beta_initializer", "zeros", "the offset beta"),
    _initializer("gamma_initializer", "ones", "the scale gamma"),
    _regularizer("beta_regularizer", "beta"),
    _regularizer("gamma_regularizer", "gamma"),
    _constraint("beta_constraint", "beta"),
    _constraint("gamma_constraint", "gamma"),
)


def _axis_dim(name: str, shape: tuple, axis: int, what: str = "normalized", known: bool = True):
    """The size of `shape[axis]` (known unless `known` is False), or a ShapeError naming the fix."""
    rank = len(shape)
    if not -rank <= axis < rank:
        raise ShapeError(
            f"{name}: axis {axis} does not exist in a {rank}-D input {fmt(shape)}; "
            f"use an axis from {-rank} to {rank - 1} (usually -1, the features/channels)"
        )
    dim = shape[axis]
    if dim is None and known:
        raise ShapeError(
            f"{name} needs the size of the {what} axis {axis} of {fmt(shape)} to be known, because it "
            "learns one value per position along it; set that size on the Input layer"
        )
    return dim


def _axes(value) -> list[int]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


# --- BatchNormalization ---------------------------------------------------------
def _bn_shape(params, input_shapes):
    shape = only_input("BatchNormalization", input_shapes)
    _axis_dim("BatchNormalization", shape, params["axis"], "channel")
    if params.get("renorm"):
        clipping = params.get("renorm_clipping") or {}
        if not isinstance(clipping, dict) or set(clipping) - {"rmax", "rmin", "dmax"}:
            raise ShapeError("BatchNormalization: renorm_clipping may only hold the keys rmax, rmin and dmax")
        rmax, rmin, dmax = clipping.get("rmax"), clipping.get("rmin"), clipping.get("dmax")
        if rmax is not None and rmin is not None and rmax < rmin:
            raise ShapeError("BatchNormalization: renorm_clipping rmax must be at least rmin")
        if dmax is not None and dmax < 0:
            raise ShapeError("BatchNormalization: renorm_clipping dmax must not be negative")
    return [shape]


def _bn_params(params, input_shapes):
    dim = _axis_dim("BatchNormalization", tuple(input_shapes[0]), params["axis"], "channel")
    trainable = dim * (int(bool(params["scale"])) + int(bool(params["center"])))
    non_trainable = 2 * dim + (3 * dim if params.get("renorm") else 0)  # moving mean/var (+ renorm stats)
    return (trainable, non_trainable)


def _bn_advice(params, input_shapes):
    shape = tuple(input_shapes[0])
    advice = []
    axis = params["axis"] % len(shape) if shape else params["axis"]
    if len(shape) == 4 and axis == 2:
        advice.append(("warning", f"axis {params['axis']} of {fmt(shape)} is a spatial axis (height or width), "
                                  "not the channels; use axis=-1 for channels_last images (or axis=1 for "
                                  "channels_first)"))
    if params["momentum"] < 0.9:
        advice.append(("warning", f"momentum {params['momentum']:g} keeps little of the running statistics "
                                  "used at inference, so predictions get noisy; 0.9-0.99 is usual"))
    if shape and shape[0] is not None and shape[0] < 8:
        advice.append(("warning", f"a batch of {shape[0]} samples gives noisy batch statistics; use batches "
                                  "of 16 or more, or LayerNormalization/GroupNormalization instead"))
    return advice


BATCH_NORMALIZATION = LayerSpec(
    id="BatchNormalization",
    class_name="BatchNormalization",
    category=CATEGORY,
    description=(
        "Normalizes each channel with the mean and variance of the current batch, then rescales: "
        "y = gamma · (x - mean) / sqrt(var + epsilon) + beta. Speeds up and stabilizes training of deep "
        "networks; put it after a Conv2D/Dense (before the activation). During training it also "
        "tracks moving averages of mean and variance (non-trainable) used at inference. Needs "
        "reasonably large batches."
    ),
    params=(
        ParamSpec("axis", "int", -1, "The channel axis to normalize per value: -1 for channels_last "
                  "data, 1 for channels_first.", minimum=-8, maximum=8, examples=(-1, 1, 2, -2, 0)),
        ParamSpec("momentum", "float", 0.99, "How much of the running mean/variance is kept at each step "
                  "(0.99 = slow, smooth averages).", minimum=0.0, maximum=1.0, examples=(0.99, 0.9)),
        EPSILON,
        CENTER,
        SCALE,
        *GAMMA_BETA[:2],
        _initializer("moving_mean_initializer", "zeros", "the moving mean"),
        _initializer("moving_variance_initializer", "ones", "the moving variance"),
        *GAMMA_BETA[2:],
        ParamSpec("renorm", "bool", False, "Batch renormalization: corrects batch statistics toward the "
                  "moving averages; helps with small or non-i.i.d. batches.", advanced=True),
        ParamSpec("renorm_clipping", "json", None, "With renorm: limits {'rmax', 'rmin', 'dmax'} on the "
                  "corrections.", optional=True, advanced=True),
        ParamSpec("renorm_momentum", "float", 0.99, "With renorm: momentum of the renorm statistics.",
                  minimum=0.0, maximum=1.0, examples=(0.99,), advanced=True),
        ParamSpec("synchronized", "bool", False, "Compute batch statistics over all replicas when training "
                  "on several GPUs (TensorFlow only).", advanced=True),
    ),
    infer_shape=_bn_shape,
    count_params=_bn_params,
    advise=_bn_advice,
)


# --- LayerNormalization ---------------------------------------------------------
def _ln_has_weights(params) -> bool:
    rms = bool(params.get("rms_scaling"))  # deprecated Keras key, accepted from imported configs
    return bool(params["scale"] or rms or params["center"])


def _ln_gamma_size(params, shape):
    size = 1
    weights = _ln_has_weights(params)
    for axis in sorted(_axes(params["axis"])):
        dim = _axis_dim("LayerNormalization", shape, axis, known=weights)
        size *= dim or 0
    return size


def _ln_shape(params, input_shapes):
    shape = only_input("LayerNormalization", input_shapes)
    _ln_gamma_size(params, shape)
    return [shape]


def _ln_params(params, input_shapes):
    size = _ln_gamma_size(params, tuple(input_shapes[0]))
    rms = bool(params.get("rms_scaling"))
    gamma = params["scale"] or rms
    beta = params["center"] and not rms
    return (size * (int(bool(gamma)) + int(bool(beta))), 0)


def _ln_advice(params, input_shapes):
    shape = tuple(input_shapes[0])
    if any(a % len(shape) == 0 for a in _axes(params["axis"])):
        return [("warning", "the axis list includes the batch axis 0, which mixes different samples; "
                            "normalize over the feature axes (e.g. -1) instead")]
    return []


LAYER_NORMALIZATION = LayerSpec(
    id="LayerNormalization",
    class_name="LayerNormalization",
    category=CATEGORY,
    description=(
        "Normalizes each sample on its own over the chosen axes (by default its features), then "
        "rescales: y = gamma · (x - mean) / sqrt(var + epsilon) + beta. Unlike BatchNormalization it "
        "does not depend on the batch, so it suits small batches, RNNs and Transformers (used around "
        "every attention block)."
    ),
    params=(
        ParamSpec("axis", "axis", -1, "Axis or list of axes to normalize over; gamma and beta have one "
                  "value per position on them.", examples=(-1, 1, [1, 2], [-2, -1], 3)),
        EPSILON,
        CENTER,
        SCALE,
        *GAMMA_BETA,
    ),
    infer_shape=_ln_shape,
    count_params=_ln_params,
    advise=_ln_advice,
)


# --- GroupNormalization -----------------------------------------------------------
def _gn_groups(params, shape) -> tuple[int, int]:
    dim = _axis_dim("GroupNormalization", shape, params["axis"], "channel")
    groups = params["groups"]
    if groups == 0:
        raise ShapeError("GroupNormalization: groups must be a positive number, or -1 for one group per "
                         "channel (instance normalization)")
    if groups == -1:
        groups = dim
    if dim < groups or dim % groups:
        divisors = [g for g in range(1, dim + 1) if dim % g == 0]
        hint = ", ".join(str(g) for g in divisors[:8]) + ("…" if len(divisors) > 8 else "")
        raise ShapeError(
            f"GroupNormalization: {groups} groups do not divide the {dim} channels of {fmt(shape)}; "
            f"set groups to a divisor of {dim} ({hint})"
        )
    return dim, groups


def _gn_shape(params, input_shapes):
    shape = only_input("GroupNormalization", input_shapes)
    _gn_groups(params, shape)
    return [shape]


def _gn_params(params, input_shapes):
    dim, _ = _gn_groups(params, tuple(input_shapes[0]))
    return (dim * (int(bool(params["scale"])) + int(bool(params["center"]))), 0)


def _gn_advice(params, input_shapes):
    shape = tuple(input_shapes[0])
    dim, groups = _gn_groups(params, shape)
    if groups == 1:
        return [("info", "one group normalizes all channels together, like LayerNormalization")]
    if groups == dim and dim > 1:
        return [("info", "one group per channel is instance normalization (common in style transfer)")]
    return []


GROUP_NORMALIZATION = LayerSpec(
    id="GroupNormalization",
    class_name="GroupNormalization",
    category=CATEGORY,
    description=(
        "Splits the channels into groups and normalizes each group within each sample, then rescales "
        "with a learned gamma and beta per channel. Independent of the batch size, so it works well "
        "for images with small batches (detection, segmentation). groups must divide the number of "
        "channels; groups=1 is like LayerNormalization, groups=-1 (one per channel) is instance "
        "normalization."
    ),
    params=(
        ParamSpec("groups", "int", 32, "How many groups the channels are split into; must divide the "
                  "channel count (-1: one group per channel).", minimum=-1, maximum=100_000,
                  examples=(-1, 1, 2, 3, 4, 32)),
        ParamSpec("axis", "int", -1, "The channel axis (-1 for channels_last).", minimum=-8, maximum=8,
                  examples=(-1, 1, 2)),
        EPSILON,
        CENTER,
        SCALE,
        *GAMMA_BETA,
    ),
    infer_shape=_gn_shape,
    count_params=_gn_params,
    key_params=("groups",),
    advise=_gn_advice,
)


# --- UnitNormalization ------------------------------------------------------------
def _unit_shape(params, input_shapes):
    shape = only_input("UnitNormalization", input_shapes)
    rank = len(shape)
    for axis in _axes(params["axis"]):
        if not -rank <= axis < rank:
            raise ShapeError(
                f"UnitNormalization: axis {axis} does not exist in a {rank}-D input {fmt(shape)}; "
                f"use an axis from {-rank} to {rank - 1}"
            )
    return [shape]


UNIT_NORMALIZATION = LayerSpec(
    id="UnitNormalization",
    class_name="UnitNormalization",
    category=CATEGORY,
    description=(
        "Scales each sample so its values along the axis have length 1: y = x / ||x||₂. No weights. "
        "Use it before a cosine-similarity comparison or to keep embeddings on the unit sphere "
        "(metric learning, retrieval)."
    ),
    params=(
        ParamSpec("axis", "axis", -1, "Axis or list of axes along which the length is measured.",
                  examples=(-1, 1, [1, 2], 4)),
    ),
    infer_shape=_unit_shape,
)

SPECS = [BATCH_NORMALIZATION, LAYER_NORMALIZATION, GROUP_NORMALIZATION, UNIT_NORMALIZATION]
