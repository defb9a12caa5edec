"""Pooling layers: Max/AveragePooling1D-3D and their Global versions.

Pooling has no weights. A window of `pool_size` slides by `strides` (None =
`pool_size`, windows side by side) and keeps the maximum or the mean; the
channels are untouched. Output length per axis (Keras' rule):
'valid': floor((in - pool) / strides) + 1, 'same': ceil(in / strides).
"""

from __future__ import annotations

from typing import Optional, Sequence

from studio.graph.layers._shapes import (
    SPATIAL_NAMES,
    conv_length,
    fmt,
    fmt_size,
    join_channels,
    only_input,
    spatial_hint,
    split_channels,
)
from studio.graph.layers.convolution import DATA_FORMAT, WHAT, looks_channels_last
from studio.graph.spec import LayerSpec, ParamSpec, Shape, ShapeError

MAX, AVERAGE = "Max", "Average"


def _rank_error(name: str, family: str, n: int, shape: Shape, data_format: str) -> ShapeError:
    msg = f"{name} needs a {n + 2}-D input {spatial_hint(n, data_format)} but got {fmt(shape)}"
    fixes = []
    if len(shape) == n + 1 and all(d is not None for d in shape[1:]):
        target = shape[1:] + (1,) if data_format == "channels_last" else (1,) + shape[1:]
        fixes.append(f"insert a Reshape to {fmt(target)} to add a channels axis")
    have = len(shape) - 2
    if have in (1, 2, 3) and have != n:
        fixes.append(f"use {family}{have}D for {WHAT[have]}")
    return ShapeError(msg + ("; " + ", or ".join(fixes) if fixes else ""))


def _strides(params: dict) -> list[int]:
    strides = params["strides"]
    return list(params["pool_size"]) if strides is None else list(strides)


# --- windowed pooling ---------------------------------------------------------------
def _make_infer(mode: str, n: int):
    name = f"{mode}Pooling{n}D"

    def infer(params: dict, input_shapes: Sequence[Shape]) -> list[Shape]:
        shape = only_input(name, input_shapes)
        data_format = params["data_format"]
        if len(shape) != n + 2:
            raise _rank_error(name, f"{mode}Pooling", n, shape, data_format)
        batch, spatial, channels = split_channels(shape, data_format)
        pool, strides = params["pool_size"], _strides(params)
        out: list[Optional[int]] = []
        for length, p, s in zip(spatial, pool, strides):
            size = conv_length(length, p, s, params["padding"])
            if size is not None and size <= 0:
                what = f"a pool of {p}" if n == 1 else f"the {fmt_size(pool)} pool"
                msg = (f"{name}: {what} does not fit the {fmt_size(spatial)} input with padding 'valid'; "
                       "use padding 'same' or a smaller pool_size")
                if looks_channels_last(shape, data_format):
                    msg += f", or set data_format to 'channels_last' (axis 1 of {fmt(shape)} is read as the channels)"
                else:
                    msg += ", or remove this pooling (the input is already small)"
                raise ShapeError(msg)
            out.append(size)
        return [join_channels(batch, out, channels, data_format)]

    return infer


def _make_advise(mode: str, n: int):
    def advise(params: dict, input_shapes: Sequence[Shape]) -> list[tuple[str, str]]:
        shape = tuple(input_shapes[0])
        out: list[tuple[str, str]] = []
        _, spatial, channels = split_channels(shape, params["data_format"])
        pool, strides = params["pool_size"], _strides(params)
        if looks_channels_last(shape, params["data_format"]):
            out.append(("warning", f"data_format 'channels_first' reads axis 1 ({channels}) as the channels, "
                                   f"but {fmt(shape)} looks like channels-last data (last axis {shape[-1]}); "
                                   "set data_format to 'channels_last'"))
            return out
        if any(s > p for s, p in zip(strides, pool)):
            out.append(("warning", f"strides {fmt_size(strides)} are larger than the {fmt_size(pool)} pool, so some "
                                   "inputs are skipped entirely; use strides no larger than pool_size"))
        if params["padding"] == "valid":
            names = SPATIAL_NAMES[n]
            for axis, (length, p, s) in enumerate(zip(spatial, pool, strides)):
                if length is None or length < p:
                    continue
                used = ((length - p) // s) * s + p
                if used < length:
                    where = f"{length} steps" if n == 1 else f"{length} positions along {names[axis]}"
                    out.append(("info", f"padding 'valid' ignores the last {length - used} of the {where}; "
                                        "use padding 'same' to keep them"))
        return out

    return advise


POOL_DESCRIPTIONS = {
    MAX: (
        "Shrinks the {what} by keeping only the largest value in each window of pool_size ({k} by "
        "default, which halves {halves}). It keeps the strongest responses of the previous convolution, "
        "makes the network tolerant to small shifts and saves computation. Channels are unchanged and it "
        "has no weights. Output size with 'valid' padding: floor((in - pool_size) / strides) + 1."
    ),
    AVERAGE: (
        "Shrinks the {what} by averaging each window of pool_size ({k} by default, which halves "
        "{halves}). Smoother than max pooling: it summarises a region instead of keeping its peak. "
        "Channels are unchanged and it has no weights. Output size with 'valid' padding: "
        "floor((in - pool_size) / strides) + 1."
    ),
}
HALVES = {1: "the length", 2: "height and width", 3: "every spatial axis"}


def _pool_spec(mode: str, n: int) -> LayerSpec:
    name = f"{mode}Pooling{n}D"
    return LayerSpec(
        id=name,
        class_name=name,
        category="Pooling",
        description=POOL_DESCRIPTIONS[mode].format(what=WHAT[n], k=fmt_size([2] * n).replace("x", "×"),
                                                   halves=HALVES[n]),
        params=(
            ParamSpec("pool_size", "ints", [2] * n, "Size of the window, one number per spatial axis.",
                      length=n, minimum=1, maximum=1_000),
            ParamSpec("strides", "ints", None,
                      "How far the window moves; None means pool_size (windows side by side).",
                      length=n, minimum=1, maximum=1_000, optional=True, examples=(None, None, 1, 2, 3)),
            ParamSpec("padding", "choice", "valid",
                      "'valid': drop windows that would run past the edge; 'same': pad so the output is "
                      "ceil(in / strides).",
                      choices=("valid", "same")),
            DATA_FORMAT,
        ),
        infer_shape=_make_infer(mode, n),
        key_params=("pool_size", "strides"),
        advise=_make_advise(mode, n),
    )


# --- global pooling ---------------------------------------------------------------------
def _make_global_infer(mode: str, n: int):
    name = f"Global{mode}Pooling{n}D"

    def infer(params: dict, input_shapes: Sequence[Shape]) -> list[Shape]:
        shape = only_input(name, input_shapes)
        data_format = params["data_format"]
        if len(shape) != n + 2:
            raise _rank_error(name, f"Global{mode}Pooling", n, shape, data_format)
        batch, _, channels = split_channels(shape, data_format)
        if params["keepdims"]:
            return [join_channels(batch, (1,) * n, channels, data_format)]
        return [(batch, channels)]

    return infer


def _make_global_advise(n: int):
    def advise(params: dict, input_shapes: Sequence[Shape]) -> list[tuple[str, str]]:
        shape = tuple(input_shapes[0])
        if looks_channels_last(shape, params["data_format"]):
            return [("warning", f"data_format 'channels_first' keeps axis 1 ({shape[1]}) as the channels, "
                                f"but {fmt(shape)} looks like channels-last data (last axis {shape[-1]}); "
                                "set data_format to 'channels_last'")]
        return []

    return advise


GLOBAL_DESCRIPTIONS = {
    MAX: (
        "Keeps the largest value of each channel over the whole {what}: {shape_in} becomes "
        "(batch, channels). It answers 'does this pattern appear anywhere?', works for any input size "
        "and has no weights; use it between the convolutions and the final Dense layers."
    ),
    AVERAGE: (
        "Averages each channel over the whole {what}: {shape_in} becomes (batch, channels). The usual "
        "bridge from convolutions to the final Dense classifier: no weights, far fewer parameters "
        "downstream than Flatten, and it works for any input size."
    ),
}


def _global_spec(mode: str, n: int) -> LayerSpec:
    name = f"Global{mode}Pooling{n}D"
    return LayerSpec(
        id=name,
        class_name=name,
        category="Pooling",
        description=GLOBAL_DESCRIPTIONS[mode].format(what=WHAT[n][:-1], shape_in=spatial_hint(n)),
        params=(
            DATA_FORMAT,
            ParamSpec("keepdims", "bool", False,
                      "Keep the spatial axes with size 1, e.g. (batch, 1, 1, channels) instead of "
                      "(batch, channels)."),
        ),
        infer_shape=_make_global_infer(mode, n),
        key_params=("keepdims",),
        advise=_make_global_advise(n),
    )


SPECS = [
    *(_pool_spec(MAX, n) for n in (1, 2, 3)),
    *(_pool_spec(AVERAGE, n) for n in (1, 2, 3)),
    *(_global_spec(MAX, n) for n in (1, 2, 3)),
    *(_global_spec(AVERAGE, n) for n in (1, 2, 3)),
]
