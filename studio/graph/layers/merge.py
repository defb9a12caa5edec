"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

Each takes a list of tensors (one per input port) and returns one tensor.
The shape rules mirror Keras 3's `Merge.build` / `compute_output_shape`
exactly: element-wise merges align the non-batch axes from the right and
broadcast axes of size 1 (numpy style), an unknown (None) axis stays unknown.
Where Keras accepts a combination symbolically that fails when the model runs,
`advise` reports it as an error instead of `infer_shape` refusing it.
"""

from __future__ import annotations

from typing import Optional, Sequence

from studio.graph.layers._shapes import fmt
from studio.graph.spec import LayerSpec, ParamSpec, Shape, ShapeError

# -- element-wise merges ----------------------------------------------------


def _need_inputs(name: str, input_shapes: Sequence[Shape], exactly: Optional[int] = None) -> list[Shape]:
    shapes = [tuple(s) for s in input_shapes]
    if exactly is not None and len(shapes) != exactly:
        raise ShapeError(f"{name} takes exactly {exactly} inputs but got {len(shapes)}; wire exactly {exactly} branches into it")
    if len(shapes) < 2:
        raise ShapeError(f"{name} merges at least 2 inputs but got {len(shapes)}; wire another branch into it")
    for s in shapes:
        if len(s) < 1:
            raise ShapeError(f"{name} needs inputs with a batch axis but got {fmt(s)}")
    return shapes


def _check_batch(name: str, shapes: list[Shape]) -> Optional[int]:
    batches = {s[0] for s in shapes} - {None}
    if len(batches) > 1:
        listed = " and ".join(fmt(s) for s in shapes)
        raise ShapeError(f"{name} cannot merge tensors with different batch sizes: {listed}; "
                         "give every Input the same batch size (or None)")
    return next(iter(batches)) if batches else None


def _mismatch_fix(name: str, a: Shape, b: Shape) -> str:
    """The advice for two element-wise inputs that cannot be broadcast."""
    if len(a) == len(b) and a[:-1] == b[:-1] and a[-1] is not None and b[-1] is not None:
        small, big = (a, b) if a[-1] < b[-1] else (b, a)
        return (f"insert a Dense({big[-1]}) after the branch giving {fmt(small)} so both end in {big[-1]}, "
                "or use Concatenate to keep both")
    return "make the branches the same shape (Dense, Reshape, pooling) or use Concatenate to keep both"


def _broadcast(name: str, shapes: list[Shape]) -> Shape:
    """Keras' `_compute_elemwise_op_output_shape` folded over the inputs (batch excluded)."""
    out: tuple = shapes[0][1:]
    first = shapes[0]
    for s in shapes[1:]:
        other = s[1:]
        longer, shorter = (out, other) if len(out) >= len(other) else (other, out)
        if not shorter:
            out = longer
            continue
        merged = list(longer[: len(longer) - len(shorter)])
        for i, j in zip(longer[len(longer) - len(shorter):], shorter):
            if i is None or j is None:
                merged.append(None)
            elif i == 1:
                merged.append(j)
            elif j == 1:
                merged.append(i)
            elif i != j:
                raise ShapeError(f"{name} needs inputs of the same shape but got {fmt(first)} and {fmt(s)}; "
                                 + _mismatch_fix(name, first, s))
            else:
                merged.append(i)
        out = tuple(merged)
    return out


def _elementwise_shape(name: str, exactly: Optional[int] = None):
    def infer(params, input_shapes):
        shapes = _need_inputs(name, input_shapes, exactly)
        batch = _check_batch(name, shapes)
        return [(batch,) + _broadcast(name, shapes)]

    return infer


def _elementwise_advice(name: str):
    def advise(params, input_shapes):
        shapes = [tuple(s) for s in input_shapes]
        if len(shapes) < 2:
            return []
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            listed = ", ".join(fmt(s) for s in shapes)
            return [("warning", f"inputs have different ranks ({listed}); Keras inserts size-1 axes after the "
                                "batch axis of the shorter ones and broadcasts; Reshape the branches if that is "
                                "not what you mean")]
        rows = list(zip(*[s[1:] for s in shapes]))
        if any(len({d for d in row if d is not None}) > 1 for row in rows):
            listed = ", ".join(fmt(s) for s in shapes)
            return [("info", f"inputs {listed} are broadcast: axes of size 1 are repeated to match the others")]
        return []

    return advise


_ELEMENTWISE = (
    ("Add", "Adds its inputs element by element: y = a + b (+ ...). This is how residual (skip) connections "
            "are made in ResNets and Transformers: add a block's input to its output. All inputs need the "
            "same shape (axes of size 1 are broadcast).", None),
    ("Subtract", "Subtracts the second input from the first, element by element: y = a - b. Takes exactly two "
                 "inputs of the same shape, e.g. to compare two embeddings in a siamese network.", 2),
    ("Multiply", "Multiplies its inputs element by element: y = a * b. Used for gating (a sigmoid branch that "
                 "scales another branch, as in squeeze-and-excitation or GLU blocks). All inputs need the same "
                 "shape (axes of size 1 are broadcast).", None),
    ("Average", "The element-wise mean of its inputs: y = (a + b + ...) / n. Handy to ensemble the outputs of "
                "several branches or models with the same output shape.", None),
    ("Maximum", "The element-wise maximum of its inputs: y = max(a, b, ...). Keeps the strongest response of "
                "several parallel branches (a maxout-style merge). All inputs need the same shape.", None),
    ("Minimum", "The element-wise minimum of its inputs: y = min(a, b, ...). Keeps the weakest response of "
                "several parallel branches. All inputs need the same shape.", None),
)


def _elementwise_spec(name: str, description: str, exactly: Optional[int]) -> LayerSpec:
    return LayerSpec(
        id=name,
        class_name=name,
        category="Merge",
        description=description,
        infer_shape=_elementwise_shape(name, exactly),
        min_inputs=2,
        max_inputs=exactly,
        input_names=("a", "b") if exactly == 2 else (),
        advise=_elementwise_advice(name),
        is_merge=True,
    )


# -- Concatenate ---------------------------------------------------------------


def _check_axis(axis: int, shape: Shape) -> None:
    rank = len(shape)
    if not -rank <= axis < rank:
        raise ShapeError(f"Concatenate axis {axis} does not exist in the {rank}-D input {fmt(shape)}; "
                         f"pick an axis between {-rank} and {rank - 1} (-1 is the last, the features)")


def _concat_shape(params, input_shapes):
    shapes = _need_inputs("Concatenate", input_shapes)
    axis = params["axis"]
    # Keras' build: drop the concatenation axis, the rest must agree (None matches anything).
    reduced = []
    for s in shapes:
        r = list(s)
        if len(r) > axis:  # always true for a negative axis (Keras skips the others)
            _check_axis(axis, s)
            del r[axis]
        reduced.append(tuple(r))
    if len(set(reduced)) > 1:
        for s in shapes:
            _check_axis(axis, s)  # name a missing axis before comparing the others
        listed = " and ".join(fmt(s) for s in shapes)
        if len({len(r) for r in reduced}) > 1:
            raise ShapeError(f"Concatenate needs inputs of the same rank but got {listed}; "
                             "Reshape or Flatten the branches so they have the same number of axes")
        for i in range(len(reduced[0])):
            dims = {r[i] for r in reduced} - {None}
            if len(dims) > 1:
                raise ShapeError(f"Concatenate along axis {axis} needs all other axes to match but got {listed}; "
                                 "resize a branch (pooling, Cropping, Reshape) or concatenate along the axis "
                                 "that differs")
    # Keras' compute_output_shape: the first input's shape, sizes summed along the axis.
    _check_axis(axis, shapes[0])
    out = list(shapes[0])
    for s in shapes[1:]:
        if out[axis] is None:
            break
        _check_axis(axis, s)
        if s[axis] is None:
            out[axis] = None
            break
        out[axis] += s[axis]
    return [tuple(out)]


def _concat_advice(params, input_shapes):
    shapes = [tuple(s) for s in input_shapes]
    if not shapes:
        return []
    rank = len(shapes[0])
    axis = params["axis"]
    if -rank <= axis < rank and axis % rank == 0:
        return [("error", "Concatenate along axis 0 joins samples of the batch, not features; "
                          "use axis -1 (features) or another axis")]
    return []


CONCATENATE = LayerSpec(
    id="Concatenate",
    class_name="Concatenate",
    category="Merge",
    description=(
        "Joins its inputs side by side along one axis (the last, features, by default): (None, 8) and "
        "(None, 24) give (None, 32). Every other axis must match. Use it to combine branches that see "
        "different inputs or different views (Inception blocks, U-Net skip connections, multi-input models)."
    ),
    params=(
        ParamSpec("axis", "int", -1, "The axis to join along; -1 is the last (features). The other axes must match.",
                  examples=(-1, 1, 2, -2)),
    ),
    infer_shape=_concat_shape,
    min_inputs=2,
    max_inputs=None,
    key_params=("axis",),
    advise=_concat_advice,
    is_merge=True,
)


# -- Dot -----------------------------------------------------------------------


def _dot_axes(params, s1: Shape, s2: Shape) -> tuple[int, int]:
    """The two axes as Keras' Dot picks them (int: same axis; negative taken modulo the rank)."""
    axes = params["axes"]
    if isinstance(axes, (list, tuple)):
        if len(axes) != 2:
            raise ShapeError(f"Dot 'axes' must be one axis or a pair [axis of a, axis of b]; got {list(axes)}")
        a, b = int(axes[0]), int(axes[1])
    else:
        a = b = int(axes)
        if a < 0:
            a, b = a % len(s1), b % len(s2)
    for ax, s, which in ((a, s1, "first"), (b, s2, "second")):
        if not -len(s) <= ax < len(s):
            raise ShapeError(f"Dot axis {ax} does not exist in the {which} input {fmt(s)}; "
                             f"pick an axis between 1 and {len(s) - 1}")
    return a, b


def _dot_shape(params, input_shapes):
    s1, s2 = _need_inputs("Dot", input_shapes, exactly=2)
    a, b = _dot_axes(params, s1, s2)
    if s1[a] != s2[b]:
        raise ShapeError(
            f"Dot multiplies axis {a} of {fmt(s1)} with axis {b} of {fmt(s2)} but their sizes differ "
            f"({'None' if s1[a] is None else s1[a]} vs {'None' if s2[b] is None else s2[b]}); "
            "pick axes of the same known size or insert a Dense on one branch to match them"
        )
    out1, out2 = list(s1), list(s2)
    out1.pop(a)
    out2.pop(b)
    out2.pop(0)
    out = out1 + out2
    if len(out) == 1:
        out.append(1)
    return [tuple(out)]


def _dot_advice(params, input_shapes):
    shapes = [tuple(s) for s in input_shapes]
    if len(shapes) != 2:
        return []
    try:
        a, b = _dot_axes(params, shapes[0], shapes[1])
    except ShapeError:
        return []
    if a % len(shapes[0]) == 0 or b % len(shapes[1]) == 0:
        return [("error", "Dot cannot multiply along the batch axis (axis 0); Keras fails when the model runs. "
                          "Use axes 1 or higher (-1 is the last axis)")]
    return []


DOT = LayerSpec(
    id="Dot",
    class_name="Dot",
    category="Merge",
    description=(
        "The dot product of two inputs per sample, summed over one axis of each: for two (None, 64) vectors "
        "with axes=1 it gives their similarity, shape (None, 1). With normalize=True both are L2-normalized "
        "first, so the result is the cosine similarity. Also computes attention-style score matrices: "
        "(None, 5, 8) · (None, 7, 8) with axes=[2, 2] gives (None, 5, 7)."
    ),
    params=(
        ParamSpec("axes", "axis", -1, "The axis to sum over: one number for both inputs, or a pair "
                  "[axis of the first, axis of the second]. Never 0 (the batch).",
                  examples=(1, 2, -1, [1, 2], [2, 1], [1, 1], [2, 2], [-1, -2])),
        ParamSpec("normalize", "bool", False, "L2-normalize both inputs along the axes first "
                  "(the result is then the cosine similarity)."),
    ),
    infer_shape=_dot_shape,
    min_inputs=2,
    max_inputs=2,
    input_names=("a", "b"),
    key_params=("axes", "normalize"),
    advise=_dot_advice,
    is_merge=True,
)


SPECS = [_elementwise_spec(n, d, e) for n, d, e in _ELEMENTWISE] + [CONCATENATE, DOT]
