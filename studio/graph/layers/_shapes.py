"""Shape arithmetic shared by the layer families (pure Python)."""

from __future__ import annotations

from typing import Optional, Sequence

from studio.graph.spec import Shape, ShapeError

RANK_HINT = {
    2: "(batch, features)",
    3: "(batch, steps, features)",
    4: "(batch, height, width, channels)",
    5: "(batch, depth, height, width, channels)",
}


def fmt(shape: Shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def only_input(name: str, input_shapes: Sequence[Shape]) -> Shape:
    if len(input_shapes) != 1:
        raise ShapeError(f"{name} takes exactly one input, got {len(input_shapes)}")
    return tuple(input_shapes[0])


def require_rank(name: str, shape: Shape, rank: int, fix: str = "") -> None:
    if len(shape) != rank:
        hint = RANK_HINT.get(rank, f"rank {rank}")
        msg = f"{name} needs a {rank}-D input {hint} but got {fmt(shape)}"
        raise ShapeError(msg + (f"; {fix}" if fix else ""))


def require_min_rank(name: str, shape: Shape, rank: int, fix: str = "") -> None:
    if len(shape) < rank:
        msg = f"{name} needs an input of at least {rank} dimensions but got {fmt(shape)}"
        raise ShapeError(msg + (f"; {fix}" if fix else ""))


def require_known(name: str, dim: Optional[int], what: str) -> int:
    if dim is None:
        raise ShapeError(f"{name} needs the {what} of its input to be known; set it on the Input layer")
    return dim


def conv_length(length: Optional[int], kernel: int, stride: int, padding: str, dilation: int = 1) -> Optional[int]:
    """Output length of a convolution/pooling window along one axis (Keras' rule)."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return (length + stride - 1) // stride
    if padding == "causal":
        return (length + stride - 1) // stride
    out = (length - effective) // stride + 1
    return out


def deconv_length(length: Optional[int], kernel: int, stride: int, padding: str,
                  output_padding: Optional[int] = None, dilation: int = 1) -> Optional[int]:
    """Output length of a transposed convolution along one axis (Keras' rule)."""
    if length is None:
        return None
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(kernel - stride, 0)
        return length * stride
    pad = 0 if padding == "valid" else kernel // 2
    return (length - 1) * stride + kernel - 2 * pad + output_padding


def norm_axis(axis: int, rank: int, name: str) -> int:
    if not -rank <= axis < rank:
        raise ShapeError(f"{name}: axis {axis} is out of range for a {rank}-D input")
    return axis % rank


# --- spatial layers (convolution, pooling, resizing) -------------------------
# Added for the Convolution/Pooling/Reshaping families; they read the
# `data_format` param: "channels_last" (batch, *spatial, channels) or
# "channels_first" (batch, channels, *spatial).
SPATIAL_NAMES = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def spatial_hint(n: int, data_format: str = "channels_last") -> str:
    """'(batch, height, width, channels)' for n=2 spatial axes."""
    names = SPATIAL_NAMES.get(n, tuple(f"dim{i + 1}" for i in range(n)))
    if data_format == "channels_first":
        return "(batch, channels, " + ", ".join(names) + ")"
    return "(batch, " + ", ".join(names) + ", channels)"


def split_channels(shape: Shape, data_format: str) -> tuple[Optional[int], tuple, Optional[int]]:
    """(batch, spatial dims, channels) of a shape laid out by `data_format`."""
    if data_format == "channels_first":
        return shape[0], tuple(shape[2:]), shape[1]
    return shape[0], tuple(shape[1:-1]), shape[-1]


def join_channels(batch: Optional[int], spatial: Sequence[Optional[int]], channels: Optional[int],
                  data_format: str) -> Shape:
    """The inverse of `split_channels`."""
    if data_format == "channels_first":
        return (batch, channels) + tuple(spatial)
    return (batch,) + tuple(spatial) + (channels,)


def fmt_size(values: Sequence[Optional[int]]) -> str:
    """'3x3' for a window or a spatial size ('?' for unknown)."""
    return "x".join("?" if v is None else str(v) for v in values)
