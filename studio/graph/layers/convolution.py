"""Convolution layers: Conv1D/2D/3D, their transposes, separable and depthwise.

All ten share one shape rule per axis (see `_shapes.conv_length` and
`_shapes.deconv_length`) and differ in their weights:

* ConvND:          kernel k1*..*kn * (channels / groups) * filters  (+ filters bias)
* ConvNDTranspose: kernel k1*..*kn * filters * channels              (+ filters bias)
* DepthwiseConvND: kernel k1*..*kn * channels * depth_multiplier     (+ channels * depth_multiplier bias)
* SeparableConvND: depthwise k1*..*kn * channels * depth_multiplier
                   + pointwise channels * depth_multiplier * filters (+ filters bias)
"""

from __future__ import annotations

from typing import Optional, Sequence

from studio.graph.layers._shapes import (
    conv_length,
    deconv_length,
    fmt,
    fmt_size,
    join_channels,
    only_input,
    spatial_hint,
    split_channels,
)
from studio.graph.layers.core import ACT, _constraint, _initializer, _regularizer
from studio.graph.spec import LayerSpec, ParamSpec, Shape, ShapeError, param_count

CONV, TRANSPOSE, SEPARABLE, DEPTHWISE = "conv", "transpose", "separable", "depthwise"
WHAT = {1: "sequences", 2: "images", 3: "volumes"}

DATA_FORMAT = ParamSpec(
    "data_format", "choice", "channels_last",
    "Where the channels axis is: 'channels_last' = (batch, ..., channels), the usual layout; "
    "'channels_first' = (batch, channels, ...), common in PyTorch-style data.",
    choices=("channels_last", "channels_first"), advanced=True,
)


def _class_name(kind: str, n: int) -> str:
    return {
        CONV: f"Conv{n}D",
        TRANSPOSE: f"Conv{n}DTranspose",
        SEPARABLE: f"SeparableConv{n}D",
        DEPTHWISE: f"DepthwiseConv{n}D",
    }[kind]


def _family_ranks(kind: str) -> tuple[int, ...]:
    return (1, 2, 3) if kind in (CONV, TRANSPOSE) else (1, 2)


# --- params ------------------------------------------------------------------
def _params(kind: str, n: int) -> tuple[ParamSpec, ...]:
    filters = ParamSpec(
        "filters", "int", 32,
        "Number of filters = number of output channels; each filter learns to detect one pattern.",
        minimum=1, maximum=100_000, examples=(1, 2, 5, 8),
    )
    depth_multiplier = ParamSpec(
        "depth_multiplier", "int", 1,
        "How many filters each input channel gets on its own (output channels = channels × this).",
        minimum=1, maximum=1_000, examples=(1, 2, 3),
    )
    padding_choices = ("valid", "same", "causal") if kind == CONV and n == 1 else ("valid", "same")
    padding_help = (
        "'valid': no padding, the output shrinks by kernel_size - 1; 'same': pad with zeros so "
        "the output keeps the input size (divided by strides)."
    )
    if "causal" in padding_choices:
        padding_help += " 'causal': pad only the start, so step t never sees later steps (time series)."
    common = [
        ParamSpec("kernel_size", "ints", [3] * n,
                  "Length of the sliding window, in steps." if n == 1 else
                  f"Size of the sliding window, one number per axis (3 means {fmt_size([3] * n)}).",
                  length=n, minimum=1, maximum=1_000),
        ParamSpec("strides", "ints", [1] * n,
                  "How far the window moves each time; 2 halves the size." if kind != TRANSPOSE
                  else "Upsampling factor: 2 doubles the size.",
                  length=n, minimum=1, maximum=1_000),
        ParamSpec("padding", "choice", "valid", padding_help, choices=padding_choices),
    ]
    if kind == TRANSPOSE:
        common.append(ParamSpec(
            "output_padding", "ints", None,
            "Extra rows/columns added to one side of the output, each smaller than strides; "
            "None lets Keras choose.",
            length=n, minimum=0, maximum=1_000, optional=True, advanced=True, examples=(None, None, 0, 1),
        ))
    common += [
        DATA_FORMAT,
        ParamSpec("dilation_rate", "ints", [1] * n,
                  "Spacing between the kernel's taps: 2 makes a 3-wide kernel cover 5 inputs "
                  "(a wider view for the same weights)."
                  + (" Cannot be combined with strides > 1." if kind in (CONV, TRANSPOSE) else ""),
                  length=n, minimum=1, maximum=1_000, advanced=True),
    ]
    if kind == CONV:
        common.append(ParamSpec(
            "groups", "int", 1,
            "Split channels into this many groups convolved separately (fewer weights); "
            "input channels and filters must both be divisible by it.",
            minimum=1, maximum=100_000, advanced=True, examples=(1, 2, 3),
        ))
    common += [ACT, ParamSpec("use_bias", "bool", True, "Add a learned bias to each output channel.")]

    if kind in (CONV, TRANSPOSE):
        weights = [
            _initializer("kernel_initializer", "glorot_uniform"),
            _initializer("bias_initializer", "zeros"),
            _regularizer("kernel_regularizer"),
            _regularizer("bias_regularizer"),
            _regularizer("activity_regularizer"),
            _constraint("kernel_constraint"),
            _constraint("bias_constraint"),
        ]
        return (filters, *common, *weights)
    if kind == DEPTHWISE:
        weights = [
            _initializer("depthwise_initializer", "glorot_uniform"),
            _initializer("bias_initializer", "zeros"),
            _regularizer("depthwise_regularizer"),
            _regularizer("bias_regularizer"),
            _regularizer("activity_regularizer"),
            _constraint("depthwise_constraint"),
            _constraint("bias_constraint"),
        ]
        return (depth_multiplier, *common, *weights)
    weights = [
        _initializer("depthwise_initializer", "glorot_uniform"),
        _initializer("pointwise_initializer", "glorot_uniform"),
        _initializer("bias_initializer", "zeros"),
        _regularizer("depthwise_regularizer"),
        _regularizer("pointwise_regularizer"),
        _regularizer("bias_regularizer"),
        _regularizer("activity_regularizer"),
        _constraint("depthwise_constraint"),
        _constraint("pointwise_constraint"),
        _constraint("bias_constraint"),
    ]
    return (depth_multiplier, filters, *common, *weights)


# --- shapes ------------------------------------------------------------------
def _rank_message(name: str, kind: str, n: int, shape: Shape, data_format: str) -> str:
    msg = f"{name} needs a {n + 2}-D input {spatial_hint(n, data_format)} but got {fmt(shape)}"
    fixes = []
    have = len(shape) - 2
    if len(shape) == n + 1 and all(d is not None for d in shape[1:]):
        target = shape[1:] + (1,) if data_format == "channels_last" else (1,) + shape[1:]
        fixes.append(f"insert a Reshape to {fmt(target)} to add a channels axis")
    elif len(shape) < n + 2:
        fixes.append("insert a Reshape to give it the missing axes")
    if have in _family_ranks(kind) and have != n:
        fixes.append(f"use {_class_name(kind, have)} for {WHAT[have]}")
    elif len(shape) == 2 and kind in (CONV, SEPARABLE, DEPTHWISE) and n != 1:
        fixes.append(f"use {_class_name(kind, 1)} on a Reshape to ({shape[1] or 'steps'}, 1) for a sequence")
    return msg + ("; " + ", or ".join(fixes) if fixes else "")


def _check_args(name: str, kind: str, params: dict) -> None:
    """The argument combinations Keras refuses when the layer is created."""
    strides, dilation = params["strides"], params["dilation_rate"]
    if kind in (CONV, TRANSPOSE) and max(strides) > 1 and max(dilation) > 1:
        raise ShapeError(
            f"{name} cannot combine strides {fmt_size(strides)} with dilation_rate {fmt_size(dilation)}; "
            "set one of them to 1"
        )
    if kind == CONV and params["filters"] % params["groups"]:
        raise ShapeError(
            f"{name}: filters ({params['filters']}) must be a multiple of groups ({params['groups']}); "
            "change filters or groups"
        )
    if kind == TRANSPOSE and params["output_padding"] is not None:
        for op, s in zip(params["output_padding"], strides):
            if op >= s:
                raise ShapeError(
                    f"{name}: output_padding {fmt_size(params['output_padding'])} must be smaller than "
                    f"strides {fmt_size(strides)} on every axis; lower it or leave it None"
                )


def _input(name: str, kind: str, n: int, params: dict, input_shapes: Sequence[Shape]):
    """Check the input and return (batch, spatial dims, channels)."""
    shape = only_input(name, input_shapes)
    data_format = params["data_format"]
    _check_args(name, kind, params)
    if len(shape) != n + 2:
        raise ShapeError(_rank_message(name, kind, n, shape, data_format))
    batch, spatial, channels = split_channels(shape, data_format)
    if channels is None:
        where = "last" if data_format == "channels_last" else "second"
        raise ShapeError(
            f"{name} needs to know the number of input channels (the {where} axis) but got "
            f"{fmt(shape)}; set it on the Input layer"
        )
    if kind == CONV and channels % params["groups"]:
        raise ShapeError(
            f"{name}: the {channels} input channels must be divisible by groups ({params['groups']}); "
            "change groups or the number of channels"
        )
    return batch, spatial, channels


def looks_channels_last(shape: Shape, data_format: str) -> bool:
    """channels_first chosen, but the data looks like (batch, ..., 1 or 3 channels)."""
    return data_format == "channels_first" and shape[-1] in (1, 3) and (shape[1] or 0) > 4


def _fit_error(name: str, n: int, params: dict, shape: Shape) -> ShapeError:
    kernel, dilation = params["kernel_size"], params["dilation_rate"]
    _, spatial, channels = split_channels(shape, params["data_format"])
    if n == 1:
        what, where = f"a kernel of {kernel[0]} steps", f"the {spatial[0]}-step input"
    else:
        what, where = f"the {fmt_size(kernel)} kernel", f"the {fmt_size(spatial)} input"
    if max(dilation) > 1:
        span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
        what += f" with dilation {fmt_size(dilation)} spans {fmt_size(span)} and"
    msg = f"{name}: {what} does not fit {where} with padding 'valid'; use padding 'same' or a smaller kernel"
    if looks_channels_last(shape, params["data_format"]):
        msg += f", or set data_format to 'channels_last' (axis 1 of {fmt(shape)} is read as the channels)"
    elif n == 1 and spatial[0] == 1 and channels > 1:
        msg += (f" (the input has 1 step of {channels} channels: if those {channels} values are a sequence, "
                f"Reshape it to ({channels}, 1))")
    return ShapeError(msg)


def _make_infer(kind: str, n: int):
    name = _class_name(kind, n)

    def infer(params: dict, input_shapes: Sequence[Shape]) -> list[Shape]:
        batch, spatial, channels = _input(name, kind, n, params, input_shapes)
        kernel, strides, dilation = params["kernel_size"], params["strides"], params["dilation_rate"]
        padding = params["padding"]
        out: list[Optional[int]] = []
        for i, length in enumerate(spatial):
            if kind == TRANSPOSE:
                op = params["output_padding"]
                out.append(deconv_length(length, kernel[i], strides[i], padding,
                                         None if op is None else op[i], dilation[i]))
                continue
            size = conv_length(length, kernel[i], strides[i], padding, dilation[i])
            if size is not None and size <= 0:
                raise _fit_error(name, n, params, tuple(input_shapes[0]))
            out.append(size)
        if kind == DEPTHWISE:
            out_channels = channels * params["depth_multiplier"]
        else:
            out_channels = params["filters"]
        return [join_channels(batch, out, out_channels, params["data_format"])]

    return infer


def _make_count(kind: str, n: int):
    name = _class_name(kind, n)

    def count(params: dict, input_shapes: Sequence[Shape]) -> tuple[int, int]:
        _, _, channels = _input(name, kind, n, params, input_shapes)
        window = param_count(params["kernel_size"])
        bias = params["use_bias"]
        if kind == CONV:
            filters = params["filters"]
            total = window * (channels // params["groups"]) * filters + (filters if bias else 0)
        elif kind == TRANSPOSE:
            filters = params["filters"]
            total = window * filters * channels + (filters if bias else 0)
        elif kind == DEPTHWISE:
            depth = channels * params["depth_multiplier"]
            total = window * depth + (depth if bias else 0)
        else:
            depth = channels * params["depth_multiplier"]
            filters = params["filters"]
            total = window * depth + depth * filters + (filters if bias else 0)
        return (total, 0)

    return count


# --- advice --------------------------------------------------------------------
def _make_advise(kind: str, n: int):
    def advise(params: dict, input_shapes: Sequence[Shape]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        shape = tuple(input_shapes[0])
        kernel, strides, dilation = params["kernel_size"], params["strides"], params["dilation_rate"]
        _, spatial, channels = split_channels(shape, params["data_format"])
        one_step = n == 1 and spatial[0] == 1 and kernel[0] > 1 and (channels or 0) > 1
        if looks_channels_last(shape, params["data_format"]):
            out.append(("warning", f"data_format 'channels_first' reads axis 1 ({channels}) as the channels, "
                                   f"but {fmt(shape)} looks like channels-last data (last axis {shape[-1]}); "
                                   "set data_format to 'channels_last'"))
        elif one_step:
            out.append(("warning", f"the input has 1 step of {channels} channels, so the kernel has nothing to "
                                   f"slide over; if those {channels} values are a sequence, Reshape it to "
                                   f"({channels}, 1)"))
        elif kind != TRANSPOSE and params["padding"] != "valid" and all(d is not None for d in spatial):
            span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
            if any(s > length for s, length in zip(span, spatial)):
                out.append(("warning", f"the {fmt_size(span)} window is larger than the {fmt_size(spatial)} "
                                       "input, so most of it sees only zero padding; use a smaller kernel"))
        if kind != TRANSPOSE and any(s > k for s, k in zip(strides, kernel)):
            out.append(("warning", f"strides {fmt_size(strides)} are larger than the {fmt_size(kernel)} kernel, "
                                   "so some inputs are skipped entirely; use strides no larger than kernel_size"))
        if kind == TRANSPOSE and any(s > 1 and k % s for k, s in zip(kernel, strides)):
            out.append(("info", f"a {fmt_size(kernel)} kernel with strides {fmt_size(strides)} overlaps unevenly "
                                "and can leave checkerboard artifacts; use a kernel_size that is a multiple of "
                                f"strides, or UpSampling{n}D followed by Conv{n}D"))
        out += _runtime_advice(kind, n, params)
        return out

    return advise


def _runtime_advice(kind: str, n: int, params: dict) -> list[tuple[str, str]]:
    """Combinations Keras accepts when building but TensorFlow refuses when the model runs.

    Measured with TensorFlow 2.20 on the CPU with TF_ENABLE_ONEDNN_OPTS=0 (as the app runs it).
    """
    name = _class_name(kind, n)
    out: list[tuple[str, str]] = []
    kernel, strides, dilation = params["kernel_size"], params["strides"], params["dilation_rate"]
    # Keras compiles 3-D and grouped convolutions with XLA, which accepts channels_first.
    plain_conv = kind == CONV and n < 3 and params["groups"] == 1
    if params["data_format"] == "channels_first" and (kind == TRANSPOSE or plain_conv):
        out.append(("warning", f"TensorFlow runs {name} with data_format 'channels_first' only on a GPU; on the "
                               "CPU the model fails when it runs; use 'channels_last' unless you train on a GPU"))
    if kind == TRANSPOSE and max(dilation) > 1:
        out.append(("warning", f"TensorFlow runs {name} with dilation_rate > 1 only on a GPU; on the CPU the "
                               "model fails when it runs; set dilation_rate to 1 unless you train on a GPU"))
    op = params.get("output_padding")
    if kind == TRANSPOSE and params["padding"] == "same" and op is not None:
        even = [(k - 1) * d + 1 for k, d, o in zip(kernel, dilation, op) if o == 0 and ((k - 1) * d + 1) % 2 == 0]
        if even:
            out.append(("warning", f"with padding 'same', an even kernel ({even[0]}) and output_padding 0, Keras "
                                   "predicts an output size TensorFlow cannot produce, so the model fails when it "
                                   "runs; leave output_padding None or use an odd kernel_size"))
    # With strides > 1 and dilation > 1 together Keras decomposes the op, which avoids the limit.
    decomposed = max(strides) > 1 and max(dilation) > 1
    if kind in (DEPTHWISE, SEPARABLE) and n == 2 and strides[0] != strides[1] and not decomposed:
        out.append(("warning", f"TensorFlow's depthwise convolution needs the same stride on both axes, so "
                               f"{name} with strides {fmt_size(strides)} fails when the model runs; use equal "
                               "strides"))
    return out


# --- specs ------------------------------------------------------------------------
DESCRIPTIONS = {
    CONV: (
        "Slides small learned {k} filters (kernels) over the {what} and records how strongly each "
        "pattern appears at each position: out[pos, f] = activation(sum(window · W_f) + b_f). "
        "Weights are shared across positions, so it needs far fewer parameters than Dense and "
        "finds a pattern wherever it is. Stack several, with pooling or strides, to see larger patterns. "
        "Output size per axis with 'valid' padding: floor((in - kernel) / strides) + 1."
    ),
    TRANSPOSE: (
        "The 'reverse' of a {conv}: each input position paints a learned {k} patch into a larger output, "
        "so strides 2 doubles the size of the {what}. Use it in decoders, autoencoders and segmentation "
        "networks to go back up to full resolution. Output size per axis with 'same' padding: in × strides."
    ),
    SEPARABLE: (
        "A lighter {conv}: first a depthwise step filters each channel on its own with a {k} kernel, then "
        "a 1×1 pointwise step mixes the channels into `filters` outputs. It learns almost as well as a "
        "full convolution with many fewer weights (MobileNet, Xception)."
    ),
    DEPTHWISE: (
        "Filters each input channel on its own with its own {k} kernel, never mixing channels "
        "(output channels = channels × depth_multiplier). Cheap spatial filtering; follow it with a 1×1 "
        "convolution to mix channels, as MobileNet does."
    ),
}


def _spec(kind: str, n: int) -> LayerSpec:
    name = _class_name(kind, n)
    description = DESCRIPTIONS[kind].format(
        k="3-step" if n == 1 else "×".join("3" * n), what=WHAT[n], conv=f"Conv{n}D",
    )
    if kind == CONV and n == 1:
        description += " For time series, padding 'causal' keeps each step from seeing later steps."
    if kind == CONV:
        key_params: tuple[str, ...] = ("filters", "kernel_size", "activation")
    elif kind == TRANSPOSE:
        key_params = ("filters", "kernel_size", "strides", "activation")
    elif kind == SEPARABLE:
        key_params = ("filters", "kernel_size", "activation")
    else:
        key_params = ("kernel_size", "depth_multiplier", "activation")
    return LayerSpec(
        id=name,
        class_name=name,
        category="Convolution",
        description=description,
        params=_params(kind, n),
        infer_shape=_make_infer(kind, n),
        count_params=_make_count(kind, n),
        key_params=key_params,
        advise=_make_advise(kind, n),
    )


SPECS = [
    _spec(CONV, 1),
    _spec(CONV, 2),
    _spec(CONV, 3),
    _spec(TRANSPOSE, 1),
    _spec(TRANSPOSE, 2),
    _spec(TRANSPOSE, 3),
    _spec(SEPARABLE, 1),
    _spec(SEPARABLE, 2),
    _spec(DEPTHWISE, 1),
    _spec(DEPTHWISE, 2),
]
