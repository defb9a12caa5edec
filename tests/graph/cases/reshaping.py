"""Harness cases for studio/graph/layers/reshaping.py."""

from tests.graph.cases.base import Case

_SEQ = [[(None, 10, 3)], [(None, 7, 4)], [(None, None, 2)], [(4, 5, None)], [(None, 2, 8)], [(None, 10)]]
_IMG = [[(None, 8, 8, 3)], [(None, 5, 7, 4)], [(None, None, None, 2)], [(2, 6, 9, None)], [(None, 2, 3, 1)],
        [(None, 10, 3)]]
_VOL = [[(None, 6, 6, 6, 2)], [(None, 4, 5, 7, 3)], [(None, None, 6, None, 4)], [(None, 3, 2, 4, 1)],
        [(None, 8, 8, 3)]]
_INPUTS = {1: _SEQ, 2: _IMG, 3: _VOL}

_PAD = {
    2: [0, 1, 3, [1, 2], [[0, 1], [2, 0]], [1, [0, 2]], [[1, 1], 2]],
    3: [0, 1, 2, [1, 0, 2], [[0, 1], [2, 0], [1, 1]], [1, [0, 2], 0]],
}

CASES = {
    "Flatten": Case(inputs=[[(None, 4)], [(None, 5, 3)], [(None, 2, 3, 4)], [(None, None, 3)], [(3, 2, 2, 2, 2)],
                            [(None,)]]),
    "Reshape": Case(
        inputs=[[(None, 12)], [(None, 3, 4)], [(None, 2, 3, 2)], [(None, None, 4)], [(5, 6)], [(None, 7)]],
        params={"target_shape": [[-1], [12], [3, 4], [4, -1], [-1, 2, 3], [2, 2, 3], [6, 2, 1], [5], [-1, 5],
                                 [-1, -1], [2, 0], [0]]},
    ),
    "Permute": Case(
        inputs=[[(None, 3, 4)], [(None, 2, 3, 4)], [(None, None, 5)], [(None, 2, 3, 4, 5)], [(None, 6)]],
        params={"dims": [[2, 1], [1, 2], [1], [3, 1, 2], [2, 3, 1], [1, 2, 3], [4, 3, 2, 1], [1, 3], [2, 2]]},
    ),
    "RepeatVector": Case(inputs=[[(None, 4)], [(None, None)], [(3, 7)], [(None, 5, 3)]]),
}
for _n in (1, 2, 3):
    CASES[f"UpSampling{_n}D"] = Case(inputs=_INPUTS[_n], params={} if _n == 1 else
                                     {"size": [1, 2, 3, [1, 2, 3][:_n], [3, 1, 2][:_n]]})
    CASES[f"ZeroPadding{_n}D"] = Case(inputs=_INPUTS[_n], params={} if _n == 1 else {"padding": _PAD[_n]})
    CASES[f"Cropping{_n}D"] = Case(
        inputs=_INPUTS[_n],
        params={"cropping": [0, 1, 2, [1, 0], [3, 4]]} if _n == 1 else {"cropping": _PAD[_n]},
    )
