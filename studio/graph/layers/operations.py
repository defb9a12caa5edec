"""Operations: Keras 3 functions applied to tensors inside a functional model (DESIGN.md 3).

A Keras 3 functional model records `x + 3.0`, `x * gate`, `ops.not_equal(ids, 0)`
or `ops.mean(x, axis=1)` as *operation* nodes (`keras.src.ops.*`), not layers,
even when a layer has the same name (`keras.layers.Add`). Each spec here is one
such operation: its id is `ops.<function>` (the public `keras.ops` function),
its `class_name` the operation class Keras writes in a model config, its params
the operation's arguments other than tensors (a constant operand, `axis`,
`dtype`...), its inputs the tensors (one or two, a list for `concatenate`).

Shapes follow Keras' own `compute_output_spec` of each operation exactly
(numpy broadcasting over every axis, the batch axis included);
tests/graph/test_catalog_vs_keras.py checks them against Keras. Operations hold
no weights.

The operation classes, their Keras modules and the keyword arguments each
takes are listed in `studio.graph.keras_names.OPS`; the model build, import and
the code generator read that table, never a module named by a file.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from studio.graph.keras_names import OPS
from studio.graph.layers._shapes import fmt
from studio.graph.spec import LayerSpec, ParamSpec, Shape, ShapeError

CATEGORY = "Operations"
OP_MODULE = "keras.ops"  # LayerSpec.module of every operation
OP_STYLE = "op"  # LayerSpec.call_style of every operation


# --- Keras' shape rules ------------------------------------------------------------------
def broadcast(name: str, shape1: Shape, shape2: Shape) -> Shape:
    """`keras.src.ops.numpy.broadcast_shapes`, step by step (None is unknown)."""
    a, b = list(shape1), list(shape2)
    if len(a) > len(b):
        b = [1] * (len(a) - len(b)) + b
    if len(a) < len(b):
        a = [1] * (len(b) - len(a)) + a
    out = list(a)
    for i, (x, y) in enumerate(zip(a, b)):
        if x == 1:
            out[i] = y
        elif x is None:
            out[i] = None if y == 1 else y
        elif y == 1 or y is None or y == x:
            out[i] = x
        else:
            raise ShapeError(f"{name} cannot broadcast {fmt(shape1)} with {fmt(shape2)}: axis {i} has sizes "
                             f"{x} and {y}; give both the same size, or size 1 on one side")
    return tuple(out)


def canonical_axis(name: str, axis: Any, rank: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ShapeError(f"{name}: axis must be a whole number, got {axis!r}")
    if not -rank <= axis < rank:
        raise ShapeError(f"{name}: axis {axis} does not exist in a {rank}-D input; pick one from {-rank} "
                         f"to {rank - 1}")
    return axis + rank if axis < 0 else axis


def _axes(value: Any) -> Optional[list]:
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _one(name: str, input_shapes: Sequence[Shape]) -> Shape:
    if len(input_shapes) != 1:
        raise ShapeError(f"{name} takes one tensor, got {len(input_shapes)}; wire exactly one input into it")
    return tuple(input_shapes[0])


# --- binary operations: two tensors, or a tensor and a constant -------------------------
def _constant(name: str, value: Any) -> None:
    if isinstance(value, bool) or (isinstance(value, (int, float)) and math.isfinite(value)):
        return
    raise ShapeError(f"{name}: the constant must be a finite number or true/false, got {value!r}")


def binary_operands(name: str, params: dict, input_shapes: Sequence[Shape]) -> tuple[Shape, Shape]:
    """The two operand shapes in call order (a constant has shape ())."""
    constant = params.get("constant")
    shapes = [tuple(s) for s in input_shapes]
    if constant is None:
        if len(shapes) != 2:
            raise ShapeError(f"{name} needs two tensors (or one tensor and a constant) but has "
                             f"{len(shapes)}; wire a second input or set 'constant'")
        return shapes[0], shapes[1]
    _constant(name, constant)
    if len(shapes) != 1:
        raise ShapeError(f"{name} with a constant takes one tensor but has {len(shapes)}; remove a wire or "
                         "clear 'constant'")
    return ((), shapes[0]) if params.get("constant_first") else (shapes[0], ())


def _binary_shape(name: str):
    def infer(params, input_shapes):
        a, b = binary_operands(name, params, input_shapes)
        return [broadcast(name, a, b)]

    return infer


def _matmul_shape(params, input_shapes):
    if len(input_shapes) != 2:
        raise ShapeError(f"matmul multiplies two tensors but has {len(input_shapes)}; wire both inputs")
    s1, s2 = (tuple(s) for s in input_shapes)
    if not s1 or not s2:
        raise ShapeError("matmul needs tensors with at least one axis")
    one1, one2 = len(s1) == 1, len(s2) == 1
    a = (1, s1[0]) if one1 else s1
    b = (s2[0], 1) if one2 else s2
    if a[-1] is not None and b[-2] is not None and a[-1] != b[-2]:
        raise ShapeError(f"matmul: the last axis of {fmt(s1)} ({a[-1]}) must equal the second-to-last of "
                         f"{fmt(s2)} ({b[-2]})")
    out = list(broadcast("matmul", a[:-2], b[:-2])) + [a[-2], b[-1]]
    if one1:
        del out[-2]
    if one2:
        del out[-1]
    return [tuple(out)]


# --- one-tensor operations ------------------------------------------------------------------
def _same_shape(name: str):
    def infer(params, input_shapes):
        return [_one(name, input_shapes)]

    return infer


def _softmax_shape(name: str):
    def infer(params, input_shapes):
        shape = _one(name, input_shapes)
        axes = _axes(params["axis"])
        for a in axes or ():
            canonical_axis(name, a, len(shape))
        return [shape]

    return infer


def _reduce_shape(name: str):
    def infer(params, input_shapes):
        shape = list(_one(name, input_shapes))
        axes = _axes(params["axis"])
        if axes is None:
            return [tuple(1 for _ in shape) if params["keepdims"] else ()]
        axes = [canonical_axis(name, a, len(shape)) for a in axes]
        if params["keepdims"]:
            for a in axes:
                shape[a] = 1
        else:
            for a in sorted(axes, reverse=True):
                if a >= len(shape):
                    raise ShapeError(f"{name}: axis {params['axis']} lists an axis twice")
                del shape[a]
        return [tuple(shape)]

    return infer


def _reshape_shape(params, input_shapes):
    shape = _one("reshape", input_shapes)
    newshape = params["newshape"]
    if not isinstance(newshape, (list, tuple)):
        raise ShapeError(f"reshape: newshape must be a list of sizes, got {newshape!r}")
    new = list(newshape)
    for d in new:
        if isinstance(d, bool) or not isinstance(d, int) or d < -1:
            raise ShapeError(f"reshape: each size must be a whole number (or -1 for 'the rest'), got {d!r}")
    if new.count(-1) > 1:
        raise ShapeError("reshape: only one size may be -1")
    if None in shape:
        return [tuple(None if d == -1 else d for d in new)]
    size = math.prod(shape)
    if -1 not in new:
        if size != math.prod(new):
            raise ShapeError(f"reshape cannot turn {fmt(shape)} ({size} values) into {fmt(tuple(new))} "
                             f"({math.prod(new)} values)")
        return [tuple(new)]
    known = math.prod(d for d in new if d != -1)
    if known == 0 or size % known:
        raise ShapeError(f"reshape cannot turn {fmt(shape)} ({size} values) into {fmt(tuple(new))}: "
                         f"{size} is not a multiple of {known}")
    return [tuple(size // known if d == -1 else d for d in new)]


def _transpose_shape(params, input_shapes):
    shape = _one("transpose", input_shapes)
    axes = params["axes"]
    if axes is None:
        return [tuple(reversed(shape))]
    axes = _axes(axes)
    rank = len(shape)
    if len(axes) != rank:
        raise ShapeError(f"transpose: axes {axes} must list each of the {rank} axes of {fmt(shape)} once")
    norm = [canonical_axis("transpose", a, rank) for a in axes]
    if len(set(norm)) != rank:
        raise ShapeError(f"transpose: axes {axes} is not a permutation of the {rank} axes of {fmt(shape)}")
    return [tuple(shape[a] for a in norm)]


def _expand_dims_shape(params, input_shapes):
    shape = _one("expand_dims", input_shapes)
    axes = _axes(params["axis"])
    rank = len(shape) + len(axes)
    norm = [canonical_axis("expand_dims", a, rank) for a in axes]
    if len(set(norm)) != len(norm):
        raise ShapeError(f"expand_dims: axis {params['axis']} lists an axis twice")
    it = iter(shape)
    return [tuple(1 if i in norm else next(it) for i in range(rank))]


def _squeeze_shape(params, input_shapes):
    shape = list(_one("squeeze", input_shapes))
    axes = _axes(params["axis"])
    if axes is None:
        return [tuple(d for d in shape if d != 1)]
    for a in axes:
        canonical_axis("squeeze", a, len(shape))
        if shape[a] != 1:
            raise ShapeError(f"squeeze: axis {a} of {fmt(tuple(shape))} has size "
                             f"{'None' if shape[a] is None else shape[a]}, not 1")
    for a in sorted((canonical_axis("squeeze", a, len(shape)) for a in axes), reverse=True):
        del shape[a]
    return [tuple(shape)]


def _concatenate_shape(params, input_shapes):
    shapes = [tuple(s) for s in input_shapes]
    if not shapes:
        raise ShapeError("concatenate needs at least one tensor")
    first = shapes[0]
    axis = canonical_axis("concatenate", params["axis"], len(first))
    total: Optional[int] = 0
    for s in shapes:
        same = len(s) == len(first) and all(
            i == axis or a is None or b is None or a == b for i, (a, b) in enumerate(zip(s, first)))
        if not same:
            raise ShapeError(f"concatenate along axis {params['axis']}: {fmt(s)} and {fmt(first)} must agree "
                             "on every other axis")
        total = None if total is None or s[axis] is None else total + s[axis]
    out = list(first)
    out[axis] = total
    return [tuple(out)]


# --- the specs --------------------------------------------------------------------------------
def _spec(fn: str, description: str, infer, params: tuple = (), min_inputs: int = 1, max_inputs: Optional[int] = 1,
          input_names: tuple = (), key_params: tuple = ()) -> LayerSpec:
    class_name = next(cls for cls, op in OPS.items() if op.function == fn)
    return LayerSpec(id=f"ops.{fn}", class_name=class_name, category=CATEGORY, description=description,
                     infer_shape=infer, params=params, min_inputs=min_inputs, max_inputs=max_inputs,
                     input_names=input_names, key_params=key_params, module=OP_MODULE, call_style=OP_STYLE)


_CONSTANT = (
    ParamSpec("constant", "json", None, "A number used as the second operand instead of a second tensor "
              "(x + 3.0); leave empty to combine two wired tensors.", optional=True),
    ParamSpec("constant_first", "bool", False, "Put the constant first (3.0 - x instead of x - 3.0)."),
)

_BINARY = (
    ("add", "x + y"), ("subtract", "x - y"), ("multiply", "x * y"), ("divide", "x / y"),
    ("true_divide", "x / y (Python's / operator)"), ("floor_divide", "x // y"), ("mod", "x % y"),
    ("power", "x ** y"), ("maximum", "max(x, y)"), ("minimum", "min(x, y)"), ("equal", "x == y (true/false)"),
    ("not_equal", "x != y (true/false; the mask of `mask_zero`)"), ("greater", "x > y (true/false)"),
    ("greater_equal", "x >= y (true/false)"), ("less", "x < y (true/false)"),
    ("less_equal", "x <= y (true/false)"), ("logical_and", "x and y on booleans"),
    ("logical_or", "x or y on booleans"),
)

_UNARY = (
    ("negative", "-x"), ("absolute", "|x|"), ("sqrt", "the square root"), ("square", "x squared"),
    ("exp", "e to the power x"), ("log", "the natural logarithm"), ("tanh", "the hyperbolic tangent"),
    ("floor", "rounded down"), ("sign", "the sign (-1, 0 or 1)"), ("logical_not", "not x on booleans"),
    ("relu", "max(x, 0)"), ("relu6", "min(max(x, 0), 6)"), ("sigmoid", "1 / (1 + e^-x)"),
    ("hard_sigmoid", "the piecewise-linear sigmoid relu6(x + 3) / 6 (MobileNetV3)"),
    ("hard_silu", "x * hard_sigmoid(x), the hard swish of MobileNetV3"), ("silu", "x * sigmoid(x) (swish)"),
    ("softplus", "log(1 + e^x)"),
)


def _binary_spec(fn: str, formula: str) -> LayerSpec:
    return _spec(fn, f"The operation keras.ops.{fn} element by element: {formula}. Keras records it when a model "
                     "applies it (or the Python operator) to tensors; it takes two tensors, or one tensor and a "
                     "constant, broadcast numpy style.", _binary_shape(fn), _CONSTANT, 1, 2, ("x1", "x2"),
                 ("constant",))


def _unary_spec(fn: str, formula: str) -> LayerSpec:
    return _spec(fn, f"The operation keras.ops.{fn} element by element: {formula}. Keras records it when a model "
                     "applies the function to a tensor; the output has the input's shape.", _same_shape(fn))


_AXIS_NONE = ParamSpec("axis", "axis", None, "The axis or axes to reduce; empty reduces every axis, the "
                       "batch included.", optional=True, examples=(None, 1, -1, [1, 2]))
_KEEPDIMS = ParamSpec("keepdims", "bool", False, "Keep each reduced axis with size 1.")

SPECS = (
    [_binary_spec(fn, formula) for fn, formula in _BINARY]
    + [_spec("matmul", "The operation keras.ops.matmul: the matrix product of two tensors over their last two axes "
                       "(the leading axes are broadcast), as in attention scores q @ k^T.", _matmul_shape,
             (), 2, 2, ("x1", "x2"))]
    + [_unary_spec(fn, formula) for fn, formula in _UNARY]
    + [
        _spec("gelu", "The operation keras.ops.gelu element by element: the Gaussian error linear unit, "
                      "with its tanh approximation when 'approximate' is on.", _same_shape("gelu"),
              (ParamSpec("approximate", "bool", True, "Use the tanh approximation."),), key_params=("approximate",)),
        _spec("softmax", "The operation keras.ops.softmax: exponentials normalised to sum to 1 along an axis "
                         "(the last by default); the output has the input's shape.", _softmax_shape("softmax"),
              (ParamSpec("axis", "axis", -1, "The axis (or axes) to normalise over.", optional=True,
                         examples=(-1, 1)),), key_params=("axis",)),
        _spec("log_softmax", "The operation keras.ops.log_softmax: the logarithm of the softmax along an axis; "
                             "the output has the input's shape.", _softmax_shape("log_softmax"),
              (ParamSpec("axis", "axis", -1, "The axis (or axes) to normalise over.", optional=True,
                         examples=(-1, 1)),), key_params=("axis",)),
        _spec("cast", "The operation keras.ops.cast: the same values in another dtype (a boolean mask to "
                      "float32, token ids to float); the shape is unchanged.", _same_shape("cast"),
              (ParamSpec("dtype", "dtype", "float32", "The dtype of the result."),), key_params=("dtype",)),
        _spec("reshape", "The operation keras.ops.reshape: the same values in a new shape. Unlike the Reshape "
                         "layer, the new shape includes the batch axis; one size may be -1 (the rest).",
              _reshape_shape, (ParamSpec("newshape", "json", [-1], "The new shape, batch axis included; one "
                                         "size may be -1."),), key_params=("newshape",)),
        _spec("transpose", "The operation keras.ops.transpose: the axes reordered (the batch axis included); "
                           "empty axes reverse them all.", _transpose_shape,
              (ParamSpec("axes", "axis", None, "The new order of the axes.", optional=True,
                         examples=(None, [0, 2, 1], [0, 1, 2])),), key_params=("axes",)),
        _spec("expand_dims", "The operation keras.ops.expand_dims: inserts an axis of size 1 at the given "
                             "position (the batch axis counts).", _expand_dims_shape,
              (ParamSpec("axis", "axis", -1, "Where the new axis goes.", examples=(-1, 1, 0, 2)),),
              key_params=("axis",)),
        _spec("squeeze", "The operation keras.ops.squeeze: removes axes of size 1 (all of them when axis is "
                         "empty).", _squeeze_shape,
              (ParamSpec("axis", "axis", None, "The size-1 axis (or axes) to remove.", optional=True,
                         examples=(None, 1, -1)),), key_params=("axis",)),
        _spec("concatenate", "The operation keras.ops.concatenate: joins its tensors along an axis (axis 0, the "
                             "batch, by default, unlike the Concatenate layer); the other axes must agree.",
              _concatenate_shape, (ParamSpec("axis", "int", 0, "The axis to join along (0 is the batch).",
                                             examples=(0, 1, -1)),), 1, None, key_params=("axis",)),
        _spec("mean", "The operation keras.ops.mean: the average over the given axes (all of them, the batch "
                      "included, when empty).", _reduce_shape("mean"), (_AXIS_NONE, _KEEPDIMS),
              key_params=("axis", "keepdims")),
        _spec("sum", "The operation keras.ops.sum: the sum over the given axes (all of them, the batch "
                     "included, when empty).", _reduce_shape("sum"), (_AXIS_NONE, _KEEPDIMS),
              key_params=("axis", "keepdims")),
        _spec("max", "The operation keras.ops.max: the largest value over the given axes (all of them when "
                     "empty).", _reduce_shape("max"),
              (_AXIS_NONE, _KEEPDIMS, ParamSpec("initial", "json", None, "A value included in the maximum.",
                                                optional=True)), key_params=("axis", "keepdims")),
        _spec("min", "The operation keras.ops.min: the smallest value over the given axes (all of them when "
                     "empty).", _reduce_shape("min"),
              (_AXIS_NONE, _KEEPDIMS, ParamSpec("initial", "json", None, "A value included in the minimum.",
                                                optional=True)), key_params=("axis", "keepdims")),
    ]
)


def is_operation(spec: Optional[LayerSpec]) -> bool:
    return spec is not None and spec.call_style == OP_STYLE


# TensorFlow functions of Keras 2 TFOpLambda layers (their "function") that compute what an
# operation node here computes, given the same arguments. Plain arithmetic
# (`keras_names.TF_OP_LAMBDAS`) imports as its operation node directly; a TFOpLambda of one of
# these stays a placeholder (its other arguments are not read from the file), whose error names
# the node that replaces it.
TF_FUNCTION_NODES: dict[str, str] = {
    "math.reduce_mean": "ops.mean", "reduce_mean": "ops.mean", "math.reduce_sum": "ops.sum",
    "reduce_sum": "ops.sum", "math.reduce_max": "ops.max", "reduce_max": "ops.max", "math.reduce_min": "ops.min",
    "reduce_min": "ops.min", "reshape": "ops.reshape", "transpose": "ops.transpose",
    "expand_dims": "ops.expand_dims", "squeeze": "ops.squeeze", "concat": "ops.concatenate", "cast": "ops.cast",
    "nn.softmax": "ops.softmax", "math.softmax": "ops.softmax", "nn.log_softmax": "ops.log_softmax",
    "nn.gelu": "ops.gelu", "linalg.matmul": "ops.matmul", "matmul": "ops.matmul", "math.not_equal": "ops.not_equal",
    "math.equal": "ops.equal", "math.greater": "ops.greater", "math.greater_equal": "ops.greater_equal",
    "math.less": "ops.less", "math.less_equal": "ops.less_equal", "math.logical_and": "ops.logical_and",
    "math.logical_or": "ops.logical_or", "math.logical_not": "ops.logical_not", "math.floor": "ops.floor",
    "math.sign": "ops.sign", "math.floordiv": "ops.floor_divide", "math.floormod": "ops.mod",
    "nn.silu": "ops.silu", "nn.swish": "ops.silu", "math.softplus": "ops.softplus", "nn.softplus": "ops.softplus",
}
