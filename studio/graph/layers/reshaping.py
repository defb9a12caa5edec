"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, UpSampling,
ZeroPadding and Cropping (1D/2D/3D). None of them has weights."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from studio.graph.layers._shapes import (
    SPATIAL_NAMES,
    fmt,
    join_channels,
    only_input,
    spatial_hint,
    split_channels,
)
from studio.graph.layers.convolution import DATA_FORMAT, WHAT
from studio.graph.spec import LayerSpec, ParamSpec, Shape, ShapeError

CATEGORY = "Reshaping"
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")


def _require_rank(name: str, n: int, shape: Shape, data_format: str = "channels_last", family: str = "") -> None:
    if len(shape) == n + 2:
        return
    msg = f"{name} needs a {n + 2}-D input {spatial_hint(n, data_format)} but got {fmt(shape)}"
    have = len(shape) - 2
    if family and have in (1, 2, 3):
        msg += f"; use {family}{have}D for {WHAT[have]}"
    elif len(shape) == n + 1:
        msg += "; insert a Reshape to add a channels axis"
    raise ShapeError(msg)


# --- Flatten -------------------------------------------------------------------
def _flatten_shape(params: dict, input_shapes: Sequence[Shape]) -> list[Shape]:
    shape = only_input("Flatten", input_shapes)
    rest = shape[1:]
    if any(d is None for d in rest):
        return [(shape[0], None)]
    return [(shape[0], math.prod(rest))]


def _flatten_advice(params: dict, input_shapes: Sequence[Shape]) -> list[tuple[str, str]]:
    shape = tuple(input_shapes[0])
    rest = shape[1:]
    if any(d is None for d in rest):
        return [("warning", f"Flatten cannot know its output size because {fmt(shape)} has unknown sizes, so a "
                            "Dense after it cannot be built; set the sizes on the Input, or use "
                            "GlobalAveragePooling instead")]
    if len(shape) <= 2:
        return [("info", f"the input {fmt(shape)} is already flat; this Flatten does nothing")]
    size = math.prod(rest)
    if size > 50_000:
        return [("info", f"Flatten makes {size:,} features, so a Dense after it needs {size:,} weights per "
                         "unit; a pooling layer or GlobalAveragePooling before the Dense is far lighter")]
    return []


FLATTEN = LayerSpec(
    id="Flatten",
    class_name="Flatten",
    category=CATEGORY,
    description=(
        "Unrolls each sample into one long vector: (batch, 7, 7, 64) becomes (batch, 3136). Put it "
        "between convolution/pooling layers and Dense layers, which expect (batch, features). "
        "No weights; the batch axis is kept."
    ),
    params=(DATA_FORMAT,),
    infer_shape=_flatten_shape,
    advise=_flatten_advice,
)


# --- Reshape -----------------------------------------------------------------------
def _reshape_shape(params: dict, input_shapes: Sequence[Shape]) -> list[Shape]:
    shape = only_input("Reshape", input_shapes)
    target = tuple(params["target_shape"])
    if target.count(-1) > 1:
        raise ShapeError(f"Reshape target_shape {fmt(target)} may contain only one -1 (the size worked out "
                         "for you); give the other sizes explicitly")
    rest = shape[1:]
    if any(d is None for d in rest):
        return [(shape[0],) + tuple(None if d == -1 else d for d in target)]
    size = math.prod(rest)
    if -1 not in target:
        if math.prod(target) != size:
            raise ShapeError(
                f"Reshape cannot turn {fmt(rest)} ({size} values) into {fmt(target)} "
                f"({math.prod(target)} values); the sizes must multiply to {size}, or use -1 for one of them"
            )
        return [(shape[0],) + target]
    known = math.prod(d for d in target if d != -1)
    if known == 0 or size % known:
        raise ShapeError(
            f"Reshape cannot turn {fmt(rest)} ({size} values) into {fmt(target)}: {size} is not a multiple "
            f"of {known}; change target_shape so the known sizes divide {size}"
        )
    return [(shape[0],) + tuple(size // known if d == -1 else d for d in target)]


def _reshape_advice(params: dict, input_shapes: Sequence[Shape]) -> list[tuple[str, str]]:
    shape = tuple(input_shapes[0])
    if any(d is None for d in shape[1:]):
        return [("warning", f"the input {fmt(shape)} has unknown sizes, so this Reshape can only be checked "
                            "when the model runs; set the sizes on the Input if you can")]
    return []


RESHAPE = LayerSpec(
    id="Reshape",
    class_name="Reshape",
    category=CATEGORY,
    description=(
        "Rearranges each sample into a new shape with the same number of values, without the batch: "
        "(784) -> (28, 28, 1) turns a flat vector back into an image. One size may be -1 and is worked "
        "out for you. The values keep their order; use Permute to swap axes instead."
    ),
    params=(
        ParamSpec("target_shape", "ints", [-1],
                  "The new shape of one sample, without the batch; one entry may be -1.", minimum=-1,
                  maximum=1_000_000_000),
    ),
    infer_shape=_reshape_shape,
    key_params=("target_shape",),
    advise=_reshape_advice,
)


# --- Permute ---------------------------------------------------------------------------
def _permute_shape(params: dict, input_shapes: Sequence[Shape]) -> list[Shape]:
    shape = only_input("Permute", input_shapes)
    dims = list(params["dims"])
    if sorted(dims) != list(range(1, len(dims) + 1)):
        example = list(range(len(dims), 0, -1))
        raise ShapeError(f"Permute dims {dims} must list each axis 1..{len(dims)} exactly once (axis 0 is the "
                         f"batch), e.g. {example}")
    if len(shape) != len(dims) + 1:
        raise ShapeError(f"Permute with dims {dims} needs a {len(dims) + 1}-D input but got {fmt(shape)}; "
                         f"list all {len(shape) - 1} non-batch axes in dims")
    return [(shape[0],) + tuple(shape[d] for d in dims)]


def _permute_advice(params: dict, input_shapes: Sequence[Shape]) -> list[tuple[str, str]]:
    dims = list(params["dims"])
    if dims == sorted(dims):
        return [("info", f"dims {dims} keep every axis in place; this Permute does nothing")]
    return []


PERMUTE = LayerSpec(
    id="Permute",
    class_name="Permute",
    category=CATEGORY,
    description=(
        "Reorders the axes of each sample: dims (2, 1) turns (batch, steps, features) into "
        "(batch, features, steps). Axes are numbered from 1 (0 is the batch and never moves). "
        "Use it to switch between channels-first and channels-last data, or to feed features as steps."
    ),
    params=(ParamSpec("dims", "ints", [2, 1], "The new order of the axes, numbered from 1.", minimum=1,
                      maximum=64),),
    infer_shape=_permute_shape,
    key_params=("dims",),
    advise=_permute_advice,
)


# --- RepeatVector ----------------------------------------------------------------------
def _repeat_shape(params: dict, input_shapes: Sequence[Shape]) -> list[Shape]:
    shape = only_input("RepeatVector", input_shapes)
    if len(shape) != 2:
        raise ShapeError(f"RepeatVector needs a 2-D input (batch, features) but got {fmt(shape)}; insert "
                         "Flatten or a global pooling layer before it")
    return [(shape[0], params["n"], shape[1])]


REPEAT_VECTOR = LayerSpec(
    id="RepeatVector",
    class_name="RepeatVector",
    category=CATEGORY,
    description=(
        "Repeats a vector n times: (batch, features) becomes (batch, n, features). The classic bridge "
        "in sequence-to-sequence models: the encoder's summary vector is repeated once per output step "
        "and fed to a decoder LSTM/GRU with return_sequences=True."
    ),
    params=(ParamSpec("n", "int", 2, "How many times to repeat (the number of output steps).", minimum=1,
                      maximum=1_000_000, examples=(1, 2, 5)),),
    infer_shape=_repeat_shape,
    key_params=("n",),
)


# --- UpSampling -------------------------------------------------------------------------
def _make_upsampling(n: int):
    name = f"UpSampling{n}D"

    def infer(params: dict, input_shapes: Sequence[Shape]) -> list[Shape]:
        shape = only_input(name, input_shapes)
        data_format = params.get("data_format", "channels_last")
        _require_rank(name, n, shape, data_format, "UpSampling")
        size = [params["size"]] if n == 1 else list(params["size"])
        batch, spatial, channels = split_channels(shape, data_format)
        out = [None if d is None else d * f for d, f in zip(spatial, size)]
        return [join_channels(batch, out, channels, data_format)]

    return infer


def _upsampling_spec(n: int) -> LayerSpec:
    name = f"UpSampling{n}D"
    if n == 1:
        params: tuple[ParamSpec, ...] = (
            ParamSpec("size", "int", 2, "How many times each step is repeated.", minimum=1, maximum=1_000,
                      examples=(1, 2, 3)),
        )
    else:
        params = (
            ParamSpec("size", "ints", [2] * n, "Factor per spatial axis: 2 doubles it.", length=n, minimum=1,
                      maximum=1_000),
            DATA_FORMAT,
        )
        if n == 2:
            params += (ParamSpec("interpolation", "choice", "nearest",
                                 "How new pixels are filled: 'nearest' copies, 'bilinear' blends neighbours.",
                                 choices=INTERPOLATIONS),)
    return LayerSpec(
        id=name,
        class_name=name,
        category=CATEGORY,
        description=(
            f"Enlarges the {WHAT[n]} by repeating every value `size` times along each spatial axis "
            "(size 2 doubles it). No weights: follow it with a convolution to learn the details. The "
            "simple, artifact-free alternative to a transposed convolution in decoders and U-Nets."
        ),
        params=params,
        infer_shape=_make_upsampling(n),
        key_params=("size",),
    )


# --- ZeroPadding and Cropping -------------------------------------------------------------
def _pairs(name: str, key: str, value: Any, n: int) -> list[tuple[int, int]]:
    """Keras' forms: an int, n ints (symmetric per axis) or n pairs (before, after)."""
    forms = (f"a number, {n} numbers (one per axis) or {n} pairs [before, after]" if n > 1
             else "a number or a pair [before, after]")

    def whole(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ShapeError(f"{name}: '{key}' must be {forms} of whole numbers >= 0, got {value!r}")
        return v

    if n == 1:
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return [(whole(value[0]), whole(value[1]))]
        v = whole(value)
        return [(v, v)]
    if not isinstance(value, (list, tuple)):
        v = whole(value)
        return [(v, v)] * n
    if len(value) != n:
        raise ShapeError(f"{name}: '{key}' must be {forms}, got {value!r}")
    out = []
    for item in value:
        if isinstance(item, (list, tuple)):
            if len(item) != 2:
                raise ShapeError(f"{name}: '{key}' must be {forms}, got {value!r}")
            out.append((whole(item[0]), whole(item[1])))
        else:
            v = whole(item)
            out.append((v, v))
    return out


def _make_padding(n: int):
    name = f"ZeroPadding{n}D"

    def infer(params: dict, input_shapes: Sequence[Shape]) -> list[Shape]:
        shape = only_input(name, input_shapes)
        data_format = params["data_format"]
        pads = _pairs(name, "padding", params["padding"], n)
        _require_rank(name, n, shape, data_format, "ZeroPadding")
        batch, spatial, channels = split_channels(shape, data_format)
        out = [None if d is None else d + a + b for d, (a, b) in zip(spatial, pads)]
        return [join_channels(batch, out, channels, data_format)]

    return infer


def _make_cropping(n: int):
    name = f"Cropping{n}D"

    def infer(params: dict, input_shapes: Sequence[Shape]) -> list[Shape]:
        shape = only_input(name, input_shapes)
        data_format = params.get("data_format", "channels_last")
        crops = _pairs(name, "cropping", params["cropping"], n)
        _require_rank(name, n, shape, data_format, "Cropping")
        batch, spatial, channels = split_channels(shape, data_format)
        out: list[Optional[int]] = []
        for axis, (d, (a, b)) in enumerate(zip(spatial, crops)):
            if d is not None and d - a - b <= 0:
                where = f"{d} steps" if n == 1 else f"{d} positions along {SPATIAL_NAMES[n][axis]}"
                raise ShapeError(f"{name} removes {a} + {b} of the {where}, leaving nothing; crop less")
            out.append(None if d is None else d - a - b)
        return [join_channels(batch, out, channels, data_format)]

    return infer


def _padding_spec(n: int) -> LayerSpec:
    name = f"ZeroPadding{n}D"
    if n == 1:
        padding = ParamSpec("padding", "ints", [1, 1], "Zeros added [before, after] the steps.", length=2,
                            minimum=0, maximum=100_000)
    else:
        default = [[1, 1]] * n
        padding = ParamSpec("padding", "json", default,
                            f"Zeros added per spatial axis as [before, after] pairs, e.g. {default}; a single "
                            "number pads every side by it.", examples=(1, list(range(1, n + 1)), default))
    return LayerSpec(
        id=name,
        class_name=name,
        category=CATEGORY,
        description=(
            f"Adds rows of zeros around the {WHAT[n]} (padding 1 on a {'28' if n == 1 else '28×28'} input "
            f"gives {'30' if n == 1 else '30×30'}). Use it to control the size before a convolution with "
            "'valid' padding, or to make sizes line up before a merge. No weights."
        ),
        params=(padding, DATA_FORMAT),
        infer_shape=_make_padding(n),
    )


CROP_DESCRIPTIONS = {
    1: ("Cuts steps off the start and end of each sequence: cropping [2, 3] on 100 steps leaves 95. "
        "Use it to drop warm-up steps or to make two sequences the same length before a merge. No weights."),
    2: ("Cuts rows and columns off the edges of the images: cropping [[2, 2], [4, 4]] on a 32×32 image "
        "gives 28×24. Use it to trim borders, or to make a skip connection's size match before "
        "Concatenate in a U-Net. No weights."),
    3: ("Cuts slices off the edges of the volumes along depth, height and width: cropping 1 on an "
        "8×8×8 volume gives 6×6×6. Use it to trim borders or to match sizes before a merge. No weights."),
}


def _cropping_spec(n: int) -> LayerSpec:
    name = f"Cropping{n}D"
    defaults = {1: [1, 1], 2: [[0, 0], [0, 0]], 3: [[1, 1], [1, 1], [1, 1]]}
    if n == 1:
        params: tuple[ParamSpec, ...] = (
            ParamSpec("cropping", "ints", [1, 1], "Steps removed [at the start, at the end].", length=2,
                      minimum=0, maximum=100_000),
        )
    else:
        params = (
            ParamSpec("cropping", "json", defaults[n],
                      f"Positions removed per spatial axis as [before, after] pairs, e.g. {[[1, 1]] * n}; "
                      "a single number crops every side by it.", examples=(0, 1, [[1, 1]] * n)),
            DATA_FORMAT,
        )
    return LayerSpec(
        id=name,
        class_name=name,
        category=CATEGORY,
        description=CROP_DESCRIPTIONS[n],
        params=params,
        infer_shape=_make_cropping(n),
    )


SPECS = [
    FLATTEN,
    RESHAPE,
    PERMUTE,
    REPEAT_VECTOR,
    *(_upsampling_spec(n) for n in (1, 2, 3)),
    *(_padding_spec(n) for n in (1, 2, 3)),
    *(_cropping_spec(n) for n in (1, 2, 3)),
]
