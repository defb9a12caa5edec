"""Preprocessing layers: Rescaling, Normalization, and the image layers (Resizing, crops and
random augmentations).

The image layers work on batches of images (batch, height, width, channels) or, with
data_format="channels_first", (batch, channels, height, width). Keras only checks their rank
when the model runs, so we check it here. The random augmentation layers act only while
training; at inference they pass images through unchanged. None of them has weights; an
un-adapted Normalization keeps its mean, variance and sample count as non-trainable weights.
"""

from __future__ import annotations

from studio.graph.layers._shapes import fmt, only_input
from studio.graph.spec import LayerSpec, ParamSpec, ShapeError, param_count

CATEGORY = "Preprocessing"

DATA_FORMAT = ParamSpec("data_format", "choice", "channels_last", "Where the channels are: last "
                        "(batch, height, width, channels) or first (batch, channels, height, width).",
                        choices=("channels_last", "channels_first"), advanced=True)
SEED = ParamSpec("seed", "int", None, "Fix the random numbers for repeatable runs; None picks a new seed.",
                 minimum=0, maximum=2**31 - 1, optional=True, advanced=True, examples=(None, 42))
FILL_MODE = ParamSpec("fill_mode", "choice", "reflect", "How to fill the area outside the moved image: "
                      "reflect (mirror the edge), wrap (tile), constant (fill_value) or nearest (repeat "
                      "the edge pixel).", choices=("reflect", "wrap", "constant", "nearest"))
INTERPOLATION = ParamSpec("interpolation", "choice", "bilinear", "How new pixel values are computed.",
                          choices=("bilinear", "nearest"), advanced=True)
FILL_VALUE = ParamSpec("fill_value", "float", 0.0, "Value of the filled area when fill_mode is constant.",
                       minimum=-1e9, maximum=1e9, examples=(0.0,), advanced=True)
VALUE_RANGE = ParamSpec("value_range", "json", [0, 255], "[low, high] range of the input pixel values: "
                        "[0, 255] for raw images, [0, 1] after Rescaling(1/255).", advanced=True)


def _size(key: str, default: int, what: str) -> ParamSpec:
    return ParamSpec(key, "int", default, what, minimum=1, maximum=100_000, examples=(1, 5, 32, 224))


def _same_shape(name: str):
    def infer(params, input_shapes):
        return [only_input(name, input_shapes)]

    return infer


def _image(name: str, input_shapes, data_format: str) -> tuple[tuple, int, int]:
    """The input shape and its (height, width) axes; refuses anything but a batch of images."""
    shape = only_input(name, input_shapes)
    if len(shape) != 4:
        if data_format == "channels_first":
            layout = "(batch, channels, height, width)"
        else:
            layout = "(batch, height, width, channels)"
        fix = "add a channels axis with Reshape, e.g. (28, 28) -> (28, 28, 1)" if len(shape) == 3 else \
            "it works on images; put it right after an image Input"
        raise ShapeError(f"{name} needs a batch of images {layout} but got {fmt(shape)}; {fix}")
    if data_format == "channels_first":
        return shape, 2, 3
    return shape, 1, 2


def _with_size(shape: tuple, h: int, w: int, height: int, width: int) -> tuple:
    out = list(shape)
    out[h], out[w] = height, width
    return tuple(out)


# --- factor checks (Keras' rules, which it applies when the layer is created) ------------------
def _is_number(value) -> bool:
    return isinstance(value, (int, float))


def _factor_pair(name: str, key: str, factor, low: float, high: float, open_low: bool = False):
    """Validate a factor (number or [a, b]) like Keras does; return (lower, upper)."""
    lo_text = f"({low:g}" if open_low else f"[{low:g}"
    bad = ShapeError(
        f"{name}: {key} must be a number or a pair [low, high] within {lo_text}, {high:g}]; got {factor!r}"
    )

    def check(x):
        if not _is_number(x) or x > high or x < low or (open_low and x == low):
            raise bad

    if isinstance(factor, (list, tuple)):
        if len(factor) != 2:
            raise bad
        check(factor[0])
        check(factor[1])
        return tuple(sorted(factor))
    if _is_number(factor):
        check(factor)
        return (-abs(factor), abs(factor))
    raise bad


def _base_factor(name: str, factor, low: float, high: float, empty_is_zero: bool = True) -> tuple:
    """BaseImagePreprocessingLayer's rule: only the pair's ends are compared with the bounds.

    Layers that hand `factor` to the base class turn an empty value (None, 0, []) into 0.
    """
    if empty_is_zero:
        factor = factor or 0.0
    bad = ShapeError(f"{name}: factor must be a number or a pair [low, high] within [{low:g}, {high:g}]; "
                     f"got {factor!r}")
    if isinstance(factor, (list, tuple)):
        if len(factor) != 2 or not all(_is_number(x) for x in factor):
            raise bad
        if factor[0] > high or factor[1] < low:
            raise bad
        return tuple(sorted(factor))
    if _is_number(factor):
        if factor < low or factor > high:
            raise bad
        return (max(-abs(factor), low), abs(factor))
    raise bad


# --- Rescaling ---------------------------------------------------------------------------
def _rescaling_advice(params, input_shapes):
    if params["scale"] == 1.0 and params["offset"] == 0.0:
        return [("info", "scale 1 and offset 0 leave the values unchanged; for 0-255 images use "
                         "scale 1/255 (to [0, 1]) or 1/127.5 with offset -1 (to [-1, 1])")]
    return []


RESCALING = LayerSpec(
    id="Rescaling",
    class_name="Rescaling",
    category=CATEGORY,
    description=(
        "Multiplies every value by `scale` and adds `offset`: y = x · scale + offset. Put it right "
        "after an image Input to bring raw pixels 0-255 into [0, 1] (scale 1/255) or [-1, 1] "
        "(scale 1/127.5, offset -1), so the preprocessing travels with the saved model."
    ),
    params=(
        ParamSpec("scale", "float", 1 / 255, "Factor every value is multiplied by.", minimum=-1e9, maximum=1e9,
                  examples=(1 / 255, 1 / 127.5, 2.0)),
        ParamSpec("offset", "float", 0.0, "Value added after scaling.", minimum=-1e9, maximum=1e9,
                  examples=(0.0, -1.0)),
    ),
    infer_shape=_same_shape("Rescaling"),
    advise=_rescaling_advice,
)


# --- Normalization -----------------------------------------------------------------------
def _array_shape(value, key: str) -> tuple:
    """np.shape of a nested list of numbers, without numpy; refuses ragged or non-numeric values."""
    if _is_number(value):
        return ()
    if isinstance(value, (list, tuple)):
        inner = [_array_shape(v, key) for v in value]
        if any(s != inner[0] for s in inner[1:]):
            raise ShapeError(f"Normalization: {key} is a ragged list; give one number per position")
        return (len(value),) + (inner[0] if inner else ())
    raise ShapeError(f"Normalization: {key} must be a number or a list of numbers, got {value!r}")


def _flat(value) -> list:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    return [value]


def _norm_axes(params) -> tuple:
    axis = params["axis"]
    if axis is None:
        return ()
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _norm_keep(params, shape: tuple) -> list[int]:
    """The kept (per-position) axes, as Keras computes them when building the layer."""
    axes = _norm_axes(params)
    mean, variance = params.get("mean"), params.get("variance")
    if (mean is None) != (variance is None):
        raise ShapeError("Normalization: set both mean and variance, or neither (then the layer is "
                         "adapted to the training data)")
    mean_shape = None
    if mean is not None:
        mean_shape = _array_shape(mean, "mean")
        if _array_shape(variance, "variance") != mean_shape:
            raise ShapeError(f"Normalization: mean and variance must have the same shape; mean is "
                             f"{fmt(mean_shape)}, variance {fmt(_array_shape(variance, 'variance'))}")
        if len(mean_shape) > len(axes):
            raise ShapeError(f"Normalization: mean has {len(mean_shape)} dimensions but axis has only "
                             f"{len(axes)} entries; give one mean per position along the axis")
    ndim = len(shape)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"Normalization: axis {a} does not exist in a {ndim}-D input {fmt(shape)}; use an "
                             f"axis from {-ndim} to {ndim - 1} (usually -1, the features)")
    keep = sorted(a % ndim for a in axes)
    for d in keep:
        if shape[d] is None:
            raise ShapeError(f"Normalization keeps one mean and variance per position along axis {d} of "
                             f"{fmt(shape)}, so that size must be known; set it on the Input layer")
    if mean_shape:
        expanded = [1] * ndim
        for i in range(1, len(mean_shape) + 1):
            expanded[keep[-i]] = mean_shape[-i]
        target = [shape[d] if d in keep else 1 for d in range(ndim)]
        fits = param_count(expanded) == param_count(mean_shape) and all(
            e in (1, t) for e, t in zip(expanded, target))
        if not fits:
            sizes = tuple(shape[d] for d in keep)
            raise ShapeError(f"Normalization: mean/variance of shape {fmt(mean_shape)} do not fit the input "
                             f"{fmt(shape)}; give one value per position, shape {fmt(sizes)}, or a single number")
    return keep


def _normalization_shape(params, input_shapes):
    shape = only_input("Normalization", input_shapes)
    _norm_keep(params, shape)
    return [shape]


def _normalization_params(params, input_shapes):
    shape = tuple(input_shapes[0])
    keep = _norm_keep(params, shape)
    if params.get("mean") is not None:
        return (0, 0)  # fixed statistics are constants, not weights
    per_position = param_count([shape[d] for d in keep])
    return (0, 2 * per_position + 1)  # adapted mean, variance (+ the sample count)


def _normalization_advice(params, input_shapes):
    advice = []
    if params.get("mean") is None:
        advice.append(("info", "no mean/variance given: they are fitted on the training split when "
                               "training starts (adapt) and saved with the model; set mean and variance "
                               "(one per feature) to fix them instead"))
    elif any(_is_number(v) and v < 0 for v in _flat(params["variance"])):
        advice.append(("warning", "variance has negative values; a variance is never below 0"))
    if 0 in _norm_keep(params, tuple(input_shapes[0])):
        advice.append(("warning", "axis includes the batch axis 0; keep the feature axes (e.g. -1)"))
    return advice


NORMALIZATION = LayerSpec(
    id="Normalization",
    class_name="Normalization",
    category=CATEGORY,
    description=(
        "Standardizes inputs with fixed statistics: y = (x - mean) / sqrt(variance), one mean and "
        "variance per position along `axis` (per feature by default). Either give mean and variance, or "
        "leave them empty: training then adapts the layer to the training split first and stores them "
        "(non-trainable weights). "
        "Put it first, after the Input, for numeric features on different scales. invert=True undoes it."
    ),
    params=(
        ParamSpec("axis", "axis", [-1], "Axis or axes that keep a separate mean and variance per position; "
                  "None: one mean and variance for everything.", optional=True,
                  examples=([-1], None, [1], [1, 2], -1, 3)),
        ParamSpec("mean", "json", None, "Fixed mean: a number, or one per position along axis. Leave empty "
                  "to adapt to data.", optional=True),
        ParamSpec("variance", "json", None, "Fixed variance, same shape as mean.", optional=True),
        ParamSpec("invert", "bool", False, "Undo a normalization instead: y = x · sqrt(variance) + mean.",
                  advanced=True),
    ),
    infer_shape=_normalization_shape,
    count_params=_normalization_params,
    advise=_normalization_advice,
)


# --- Resizing ----------------------------------------------------------------------------
def _resizing_shape(params, input_shapes):
    shape, h, w = _image("Resizing", input_shapes, params["data_format"])
    return [_with_size(shape, h, w, params["height"], params["width"])]


def _resizing_advice(params, input_shapes):
    if params["crop_to_aspect_ratio"] and params["pad_to_aspect_ratio"]:
        return [("error", "crop_to_aspect_ratio and pad_to_aspect_ratio cannot both be on; the model "
                          "fails when it runs. Turn one off")]
    return []


RESIZING = LayerSpec(
    id="Resizing",
    class_name="Resizing",
    category=CATEGORY,
    description=(
        "Resizes every image of the batch to height x width (channels are kept). Use it to feed images "
        "of any size to a network that expects a fixed size, e.g. 224x224 for most pretrained models. "
        "crop_to_aspect_ratio / pad_to_aspect_ratio keep the proportions instead of stretching."
    ),
    params=(
        _size("height", 224, "Output height in pixels."),
        _size("width", 224, "Output width in pixels."),
        ParamSpec("interpolation", "choice", "bilinear", "How new pixel values are computed.",
                  choices=("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")),
        ParamSpec("crop_to_aspect_ratio", "bool", False, "Crop the centre to the target proportions "
                  "first, so nothing is stretched."),
        ParamSpec("pad_to_aspect_ratio", "bool", False, "Pad to the target proportions first, so nothing "
                  "is stretched or lost."),
        ParamSpec("fill_mode", "choice", "constant", "How the padding is filled.", choices=("constant",),
                  advanced=True),
        ParamSpec("fill_value", "float", 0.0, "Value of the padding.", minimum=-1e9, maximum=1e9,
                  examples=(0.0,), advanced=True),
        ParamSpec("antialias", "bool", False, "Smooth before shrinking to avoid aliasing.", advanced=True),
        DATA_FORMAT,
    ),
    infer_shape=_resizing_shape,
    key_params=("height", "width"),
    advise=_resizing_advice,
)


# --- CenterCrop / RandomCrop -----------------------------------------------------------
def _crop_shape(name: str):
    def infer(params, input_shapes):
        shape, h, w = _image(name, input_shapes, params["data_format"])
        return [_with_size(shape, h, w, params["height"], params["width"])]

    return infer


def _crop_advice(params, input_shapes):
    shape, h, w = _image("crop", input_shapes, params["data_format"])
    small = [(what, shape[axis], params[what]) for what, axis in (("height", h), ("width", w))
             if shape[axis] is not None and shape[axis] < params[what]]
    if small:
        what, have, want = small[0]
        return [("warning", f"the crop {what} {want} is larger than the image {what} {have}; the images are "
                            f"resized up instead of cropped. Set {what} to at most {have}")]
    return []


CENTER_CROP = LayerSpec(
    id="CenterCrop",
    class_name="CenterCrop",
    category=CATEGORY,
    description=(
        "Cuts the central height x width window out of every image, discarding the borders. Use it to "
        "remove uninformative edges or to match a network's input size without distortion."
    ),
    params=(
        _size("height", 224, "Height of the window kept."),
        _size("width", 224, "Width of the window kept."),
        DATA_FORMAT,
    ),
    infer_shape=_crop_shape("CenterCrop"),
    key_params=("height", "width"),
    advise=_crop_advice,
)

RANDOM_CROP = LayerSpec(
    id="RandomCrop",
    class_name="RandomCrop",
    category=CATEGORY,
    description=(
        "During training, cuts a height x width window at a random position out of every image (a "
        "classic augmentation, e.g. 32x32 -> 28x28); at inference it takes the central window, so the "
        "output size is always height x width."
    ),
    params=(
        _size("height", 224, "Height of the window kept."),
        _size("width", 224, "Width of the window kept."),
        SEED,
        DATA_FORMAT,
    ),
    infer_shape=_crop_shape("RandomCrop"),
    key_params=("height", "width"),
    advise=_crop_advice,
)


# --- random augmentations ---------------------------------------------------------------
def _image_same(name: str, check=None):
    def infer(params, input_shapes):
        if check is not None:
            check(params)
        shape, _, _ = _image(name, input_shapes, params.get("data_format", "channels_last"))
        return [shape]

    return infer


RANDOM_FLIP = LayerSpec(
    id="RandomFlip",
    class_name="RandomFlip",
    category=CATEGORY,
    description=(
        "During training, flips each image left-right and/or upside down at random (augmentation), so "
        "the model sees more varied examples and overfits less. Choose 'horizontal' for photos, where an "
        "upside-down world is unrealistic. Inactive at inference."
    ),
    params=(
        ParamSpec("mode", "choice", "horizontal_and_vertical", "Which flips are allowed.",
                  choices=("horizontal_and_vertical", "horizontal", "vertical")),
        SEED,
        DATA_FORMAT,
    ),
    infer_shape=_image_same("RandomFlip"),
    key_params=("mode",),
)


def _check_rotation(params):
    _base_factor("RandomRotation", params["factor"], -1.0, 1.0)


RANDOM_ROTATION = LayerSpec(
    id="RandomRotation",
    class_name="RandomRotation",
    category=CATEGORY,
    description=(
        "During training, rotates each image by a random angle (augmentation). factor is a fraction of "
        "a full turn: 0.1 or [-0.1, 0.1] rotates by up to ±36°. The corners left empty are filled as "
        "fill_mode says. Inactive at inference."
    ),
    params=(
        ParamSpec("factor", "json", [-0.1, 0.1], "Rotation range as a fraction of a full turn: a number f "
                  "means [-f, f], or give [low, high].", examples=([-0.1, 0.1],)),
        FILL_MODE,
        INTERPOLATION,
        SEED,
        FILL_VALUE,
        DATA_FORMAT,
    ),
    infer_shape=_image_same("RandomRotation", _check_rotation),
)


def _check_zoom(params):
    _factor_pair("RandomZoom", "height_factor", params["height_factor"], -1.0, 1.0, open_low=True)
    if params["width_factor"] is not None:
        _factor_pair("RandomZoom", "width_factor", params["width_factor"], -1.0, 1.0, open_low=True)


RANDOM_ZOOM = LayerSpec(
    id="RandomZoom",
    class_name="RandomZoom",
    category=CATEGORY,
    description=(
        "During training, zooms each image in or out at random (augmentation). height_factor 0.2 zooms "
        "the height by a random amount in [-20%, +20%] (negative values zoom in, positive zoom out); "
        "width_factor None keeps the proportions. Inactive at inference."
    ),
    params=(
        ParamSpec("height_factor", "json", 0.1, "Zoom range for the height: a number f means [-f, f], "
                  "or give [low, high], within (-1, 1].", examples=(0.1,)),
        ParamSpec("width_factor", "json", None, "Zoom range for the width; None zooms both sides alike.",
                  optional=True),
        FILL_MODE,
        INTERPOLATION,
        SEED,
        FILL_VALUE,
        DATA_FORMAT,
    ),
    infer_shape=_image_same("RandomZoom", _check_zoom),
    key_params=("height_factor",),
)


def _check_translation(params):
    for key in ("height_factor", "width_factor"):
        _factor_pair("RandomTranslation", key, params[key], -1.0, 1.0)


RANDOM_TRANSLATION = LayerSpec(
    id="RandomTranslation",
    class_name="RandomTranslation",
    category=CATEGORY,
    description=(
        "During training, shifts each image up/down and left/right by a random amount (augmentation), "
        "as a fraction of its size: height_factor 0.1 moves it by up to 10% of its height. The uncovered "
        "area is filled as fill_mode says. Inactive at inference."
    ),
    params=(
        ParamSpec("height_factor", "json", 0.1, "Vertical shift range as a fraction of the height: a number "
                  "f means [-f, f], or give [low, high], within [-1, 1].", examples=(0.1,)),
        ParamSpec("width_factor", "json", 0.1, "Horizontal shift range as a fraction of the width.",
                  examples=(0.1,)),
        FILL_MODE,
        INTERPOLATION,
        SEED,
        FILL_VALUE,
        DATA_FORMAT,
    ),
    infer_shape=_image_same("RandomTranslation", _check_translation),
    key_params=("height_factor", "width_factor"),
)


def _check_contrast(params):
    _base_factor("RandomContrast", params["factor"], 0.0, 1.0, empty_is_zero=False)


RANDOM_CONTRAST = LayerSpec(
    id="RandomContrast",
    class_name="RandomContrast",
    category=CATEGORY,
    description=(
        "During training, changes the contrast of each image by a random factor (augmentation): pixels "
        "move away from or toward the image mean, y = (x - mean) · c + mean, with c drawn from "
        "[1 - low, 1 + high] for factor [low, high]. Note: a single number f gives c in [1, 1 + f] in "
        "Keras 3. Set value_range to the range of the pixels. Inactive at inference."
    ),
    params=(
        ParamSpec("factor", "json", [0.2, 0.2], "[low, high] within [0, 1]: the contrast factor is drawn "
                  "from [1 - low, 1 + high].", examples=([0.2, 0.2],)),
        VALUE_RANGE,
        SEED,
        DATA_FORMAT,
    ),
    infer_shape=_image_same("RandomContrast", _check_contrast),
)


def _check_brightness(params):
    _base_factor("RandomBrightness", params["factor"], -1.0, 1.0)
    value_range = params["value_range"]
    if not isinstance(value_range, (list, tuple)) or len(value_range) != 2:
        raise ShapeError(f"RandomBrightness: value_range must be a pair [low, high], got {value_range!r}")


RANDOM_BRIGHTNESS = LayerSpec(
    id="RandomBrightness",
    class_name="RandomBrightness",
    category=CATEGORY,
    description=(
        "During training, brightens or darkens each image by a random amount (augmentation): adds "
        "delta · (high - low) of value_range, delta drawn from factor (0.2 means [-0.2, 0.2]), and clips "
        "to value_range. Set value_range to the range of the pixels ([0, 1] after Rescaling(1/255)). "
        "Inactive at inference."
    ),
    params=(
        ParamSpec("factor", "json", [-0.2, 0.2], "Brightness change range within [-1, 1]: a number f means "
                  "[-f, f], or give [low, high].", examples=([-0.2, 0.2],)),
        VALUE_RANGE,
        SEED,
        DATA_FORMAT,
    ),
    infer_shape=_image_same("RandomBrightness", _check_brightness),
)

SPECS = [
    RESCALING,
    NORMALIZATION,
    RESIZING,
    CENTER_CROP,
    RANDOM_CROP,
    RANDOM_FLIP,
    RANDOM_ROTATION,
    RANDOM_ZOOM,
    RANDOM_TRANSLATION,
    RANDOM_CONTRAST,
    RANDOM_BRIGHTNESS,
]
