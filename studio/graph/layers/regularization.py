"""Regularization layers: Dropout and its spatial/Gaussian/alpha variants, GaussianNoise,
ActivityRegularization.

None of them has weights and all keep the shape of their input; they act only
while training (`training=True`) and pass values through unchanged at inference.
"""

from __future__ import annotations

from studio.graph.layers._shapes import fmt, only_input, require_rank
from studio.graph.spec import LayerSpec, ParamSpec

CATEGORY = "Regularization"


def _rate(default: float, what: str = "Fraction of the values dropped during training") -> ParamSpec:
    return ParamSpec("rate", "float", default, f"{what} (0 to 1).", minimum=0.0, maximum=1.0,
                     examples=(0.0, 0.1, 0.5, 0.8, 1.0))


SEED = ParamSpec("seed", "int", None, "Fix the random numbers for repeatable runs; None picks a new seed.",
                 minimum=0, maximum=2**31 - 1, optional=True, advanced=True, examples=(None, 42))
NOISE_SHAPE = ParamSpec(
    "noise_shape", "shape", None,
    "Shape of the dropout mask, one entry per input axis (batch included); a 1 shares the same "
    "decision along that axis, None uses the input's size. E.g. (None, 1, None) drops the same "
    "features at every time step.", optional=True, advanced=True,
)
DATA_FORMAT = ParamSpec("data_format", "choice", "channels_last", "Where the channels are: last "
                        "(batch, ..., channels) or first (batch, channels, ...).",
                        choices=("channels_last", "channels_first"), advanced=True)


def _same_shape(name: str):
    def infer(params, input_shapes):
        return [only_input(name, input_shapes)]

    return infer


def _rate_advice(params, input_shapes) -> list[tuple[str, str]]:
    rate = params["rate"]
    if rate >= 1.0:
        return [("warning", "rate 1 drops every value during training, so nothing can be learned; "
                            "use 0.1-0.5")]
    if rate > 0.7:
        return [("warning", f"rate {rate:g} drops most values during training and usually stops the "
                            "model from learning; 0.1-0.5 is typical")]
    if rate == 0.0:
        return [("info", "rate 0 drops nothing: this layer has no effect")]
    return []


def _noise_shape_advice(params, input_shapes) -> list[tuple[str, str]]:
    noise = params.get("noise_shape")
    if noise is None:
        return []
    shape = tuple(input_shapes[0])
    if len(noise) != len(shape):
        return [("warning", f"noise_shape {fmt(tuple(noise))} has {len(noise)} entries but the input "
                            f"{fmt(shape)} has {len(shape)} axes; training will fail. Give one entry per "
                            "axis, batch included")]
    for n, d in zip(noise, shape):
        if n is not None and n != 1 and d is not None and n != d:
            return [("warning", f"noise_shape {fmt(tuple(noise))} does not fit the input {fmt(shape)}: "
                                "each entry must be 1, None or that axis' size; training will fail")]
    return []


def _dropout_advice(params, input_shapes):
    return _rate_advice(params, input_shapes) + _noise_shape_advice(params, input_shapes)


DROPOUT = LayerSpec(
    id="Dropout",
    class_name="Dropout",
    category=CATEGORY,
    description=(
        "During training, sets a random fraction `rate` of its inputs to 0 and scales the rest by "
        "1 / (1 - rate) so the sum stays the same; at inference it does nothing. This stops neurons "
        "relying on each other and reduces overfitting. Typical rates: 0.2-0.5 after Dense layers."
    ),
    params=(_rate(0.5), NOISE_SHAPE, SEED),
    infer_shape=_same_shape("Dropout"),
    key_params=("rate",),
    advise=_dropout_advice,
)


def _spatial(rank: int):
    name = f"SpatialDropout{rank - 2}D"
    hint = {3: "(batch, steps, channels)", 4: "(batch, height, width, channels)",
            5: "(batch, depth, height, width, channels)"}[rank]
    other = {3: "use Dropout for other inputs", 4: "use SpatialDropout1D/3D or Dropout for other inputs",
             5: "use Dropout for other inputs"}[rank]

    def infer(params, input_shapes):
        shape = only_input(name, input_shapes)
        require_rank(name, shape, rank, f"it expects {hint}; {other}")
        return [shape]

    return infer


_SPATIAL_TEXT = (
    "During training, drops whole feature maps (channels) at random instead of single values, "
    "and scales the rest by 1 / (1 - rate). Neighbouring values in a feature map are strongly "
    "correlated, so plain Dropout barely regularizes convolution outputs; dropping whole channels "
    "does. Put it after a {conv} layer. Inactive at inference."
)

SPATIAL_DROPOUT_1D = LayerSpec(
    id="SpatialDropout1D",
    class_name="SpatialDropout1D",
    category=CATEGORY,
    description=_SPATIAL_TEXT.format(conv="Conv1D (input (batch, steps, channels))"),
    params=(_rate(0.5), SEED),
    infer_shape=_spatial(3),
    key_params=("rate",),
    advise=_rate_advice,
)

SPATIAL_DROPOUT_2D = LayerSpec(
    id="SpatialDropout2D",
    class_name="SpatialDropout2D",
    category=CATEGORY,
    description=_SPATIAL_TEXT.format(conv="Conv2D (input (batch, height, width, channels))"),
    params=(_rate(0.5), DATA_FORMAT, SEED),
    infer_shape=_spatial(4),
    key_params=("rate",),
    advise=_rate_advice,
)

SPATIAL_DROPOUT_3D = LayerSpec(
    id="SpatialDropout3D",
    class_name="SpatialDropout3D",
    category=CATEGORY,
    description=_SPATIAL_TEXT.format(conv="Conv3D (input (batch, depth, height, width, channels))"),
    params=(_rate(0.5), DATA_FORMAT, SEED),
    infer_shape=_spatial(5),
    key_params=("rate",),
    advise=_rate_advice,
)


def _noise_advice(params, input_shapes):
    if params["stddev"] == 0.0:
        return [("info", "stddev 0 adds no noise: this layer has no effect")]
    return []


GAUSSIAN_NOISE = LayerSpec(
    id="GaussianNoise",
    class_name="GaussianNoise",
    category=CATEGORY,
    description=(
        "During training, adds random noise drawn from a normal distribution with mean 0 and "
        "standard deviation `stddev` to every value: y = x + N(0, stddev²). A cheap data "
        "augmentation for real-valued inputs that makes the model robust to small changes. Choose "
        "stddev relative to the scale of the data (e.g. 0.1 for inputs in [0, 1]). Inactive at inference."
    ),
    params=(
        ParamSpec("stddev", "float", 0.1, "Standard deviation of the added noise (0 to 1).", minimum=0.0,
                  maximum=1.0, examples=(0.0, 0.1, 0.5, 1.0)),
        SEED,
    ),
    infer_shape=_same_shape("GaussianNoise"),
    key_params=("stddev",),
    advise=_noise_advice,
)


def _gaussian_dropout_advice(params, input_shapes):
    if params["rate"] >= 1.0:
        return [("warning", "rate 1 makes the noise infinitely wide (sqrt(rate / (1 - rate))) and "
                            "training fails; use a rate below 1, typically 0.1-0.5")]
    return _rate_advice(params, input_shapes)


GAUSSIAN_DROPOUT = LayerSpec(
    id="GaussianDropout",
    class_name="GaussianDropout",
    category=CATEGORY,
    description=(
        "During training, multiplies every value by random noise with mean 1 and standard deviation "
        "sqrt(rate / (1 - rate)): a smooth version of Dropout that keeps the expected value of each "
        "input. Inactive at inference."
    ),
    params=(_rate(0.1, "Drop probability that sets the noise level, as in Dropout"), SEED),
    infer_shape=_same_shape("GaussianDropout"),
    key_params=("rate",),
    advise=_gaussian_dropout_advice,
)


def _alpha_advice(params, input_shapes):
    return _rate_advice(params, input_shapes) + _noise_shape_advice(params, input_shapes)


ALPHA_DROPOUT = LayerSpec(
    id="AlphaDropout",
    class_name="AlphaDropout",
    category=CATEGORY,
    description=(
        "Dropout for self-normalizing networks: dropped values are set to SELU's negative saturation "
        "value and the result is shifted and scaled so the mean and variance of the inputs are kept. "
        "Use it with the 'selu' activation and 'lecun_normal' initialization; with other activations "
        "use plain Dropout. Inactive at inference."
    ),
    params=(_rate(0.1), NOISE_SHAPE, SEED),
    infer_shape=_same_shape("AlphaDropout"),
    key_params=("rate",),
    advise=_alpha_advice,
)


def _activity_advice(params, input_shapes):
    if params["l1"] == 0.0 and params["l2"] == 0.0:
        return [("warning", "l1 and l2 are both 0, so this layer adds no penalty; set l1 (sparse "
                            "outputs) or l2 (small outputs), e.g. 0.01")]
    return []


ACTIVITY_REGULARIZATION = LayerSpec(
    id="ActivityRegularization",
    class_name="ActivityRegularization",
    category=CATEGORY,
    description=(
        "Passes its input through unchanged but adds a penalty on the values flowing through it to "
        "the loss: l1 · sum(|x|) + l2 · sum(x²). The l1 term pushes outputs toward exact zeros "
        "(sparse codes, e.g. in autoencoders); the l2 term keeps them small."
    ),
    params=(
        ParamSpec("l1", "float", 0.0, "Weight of the L1 penalty sum(|x|).", minimum=0.0, maximum=100.0,
                  examples=(0.0, 0.01)),
        ParamSpec("l2", "float", 0.0, "Weight of the L2 penalty sum(x²).", minimum=0.0, maximum=100.0,
                  examples=(0.0, 0.01)),
    ),
    infer_shape=_same_shape("ActivityRegularization"),
    key_params=("l1", "l2"),
    advise=_activity_advice,
)

SPECS = [
    DROPOUT,
    SPATIAL_DROPOUT_1D,
    SPATIAL_DROPOUT_2D,
    SPATIAL_DROPOUT_3D,
    GAUSSIAN_NOISE,
    GAUSSIAN_DROPOUT,
    ALPHA_DROPOUT,
    ACTIVITY_REGULARIZATION,
]
