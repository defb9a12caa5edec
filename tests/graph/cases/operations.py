"""Harness cases for studio/graph/layers/operations.py and builtins.py."""

from studio.graph.keras_names import OPS
from tests.graph.cases.base import Case

_PAIRS = [
    [(None, 4), (None, 4)],
    [(None, 3, 5), (None, 3, 5)],
    [(None, 4), (None, 1)],
    [(None, 3, 1), (None, 1, 5)],
    [(None, 4), (None, 6)],  # refused
    [(None, 4), (None, 3, 4)],  # ranks aligned from the right
    [(2, 4), (None, 4)],
    [(2, 4), (3, 4)],  # refused
    [(None, None, 4), (None, 7, 4)],
    [(None, 1, 1, 16), (None, 8, 8, 16)],  # squeeze-and-excitation gate
]
_ONE = [[(None, 4)], [(None, 3, 5)], [(None, 8, 8, 3)], [(2, 4, 1)], [(None, None, 6)]]
_CONSTANTS = (None, None, 3.0, 0.16666666666666666, 2, 0, True)


def _binary(fn: str) -> Case:
    logical = fn.startswith("logical_")
    return Case(inputs=_PAIRS + _ONE, params={"constant": (None, True, False) if logical else _CONSTANTS},
                dtype="bool" if logical else "float32")


CASES = {
    **{f"ops.{op.function}": _binary(op.function) for op in OPS.values() if op.tensors == "two"
       and op.function != "matmul"},
    "ops.matmul": Case(inputs=[
        [(None, 4, 5), (None, 5, 3)],
        [(None, 4, 5), (None, 6, 3)],  # refused
        [(None, 2, 4, 5), (None, 1, 5, 3)],
        [(None, 4, 5), (5, 3)],
        [(None, 5), (5,)],
        [(5,), (None, 5, 2)],
        [(None, None, 8), (None, 8, None)],
    ], mutate=False),
    **{f"ops.{op.function}": Case(inputs=_ONE, dtype="bool" if op.function == "logical_not" else "float32")
       for op in OPS.values() if op.tensors == "one" and not op.keys},
    "ops.gelu": Case(inputs=_ONE),
    "ops.softmax": Case(inputs=_ONE, params={"axis": (-1, 1, 2, 3, [1, 2], [1, 1], -4, None)}),
    "ops.log_softmax": Case(inputs=_ONE, params={"axis": (-1, 1, 2, 3, [1, 2], None)}),
    "ops.cast": Case(inputs=_ONE, params={"dtype": ("float32", "int32", "bool", "float16")}),
    "ops.reshape": Case(inputs=_ONE + [[(2, 3, 4)]], params={"newshape": (
        [-1], [-1, 4], [2, -1], [-1, 2, 2], [2, 12], [-1, -1], [4, 6], [-1, 0], [0, -1], 6, [-2, 4])}),
    "ops.transpose": Case(inputs=_ONE, params={"axes": (None, [0, 2, 1], [0, 1], [1, 0], [0, 2, 3, 1], [2, 0, 1],
                                                        [0, 0, 1], [0, -1, 1], [0, 3, 1])}),
    "ops.expand_dims": Case(inputs=_ONE, params={"axis": (-1, 0, 1, 2, 3, 5, -5, [1, 2], [1, 1], [0, -1])}),
    "ops.squeeze": Case(inputs=_ONE + [[(None, 1, 4)], [(None, 4, 1, 1)], [(1, 3)]],
                        params={"axis": (None, 1, -1, 2, [1, 2], 0, 4)}),
    "ops.concatenate": Case(inputs=[
        [(None, 4), (None, 6)],
        [(None, 3, 4), (None, 5, 4), (None, 1, 4)],
        [(None, 3, 4), (None, 3, 6)],
        [(None, None, 4), (None, 3, 6)],
        [(2, 4), (3, 4)],
        [(None, 4), (None, 3, 4)],
        [(None, 4)],
    ], params={"axis": (0, 1, -1, 2, -2, 3)}),
    **{f"ops.{fn}": Case(inputs=_ONE, params={"axis": (None, 1, -1, 0, [1, 2], [1, 1], [2, -1], 3, -4)})
       for fn in ("mean", "sum", "max", "min")},
    "LayerScale": Case(inputs=_ONE + [[(None, 8, 8, 4)], [(None, 1)]], params={"projection_dim": (4, 8, 1, 3)}),
    "CustomScaleLayer": Case(inputs=_PAIRS),
}
