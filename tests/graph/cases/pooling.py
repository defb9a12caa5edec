"""Harness cases for studio/graph/layers/pooling.py."""

from tests.graph.cases.base import Case

_INPUTS = {
    1: [[(None, 10, 3)], [(None, 7, 4)], [(None, None, 2)], [(4, 5, None)], [(None, 1, 8)], [(None, 10)]],
    2: [[(None, 8, 8, 3)], [(None, 5, 7, 4)], [(None, None, None, 2)], [(2, 6, 9, None)], [(None, 1, 3, 1)],
        [(None, 10, 3)]],
    3: [[(None, 6, 6, 6, 2)], [(None, 4, 5, 7, 3)], [(None, None, 6, None, 4)], [(None, 3, 1, 4, 1)],
        [(None, 8, 8, 3)]],
}
_POOL = {1: [1, 2, 3, [4]], 2: [1, 2, 3, [1, 3], [4, 2]], 3: [1, 2, [1, 2, 3], [3, 1, 2]]}
_STRIDES = {1: [None, None, 1, 2, 3], 2: [None, None, 1, 2, [1, 2], [3, 1]], 3: [None, None, 1, 2, [2, 1, 3]]}

CASES = {}
for _n in (1, 2, 3):
    for _mode in ("Max", "Average"):
        CASES[f"{_mode}Pooling{_n}D"] = Case(inputs=_INPUTS[_n],
                                             params={"pool_size": _POOL[_n], "strides": _STRIDES[_n]})
        CASES[f"Global{_mode}Pooling{_n}D"] = Case(inputs=_INPUTS[_n])
