"""Harness cases for studio/graph/layers/convolution.py."""

from tests.graph.cases.base import Case

# Inputs include the wrong rank, unknown spatial sizes, unknown channels and a
# fixed batch, so both refusals and None propagation are exercised.
_1D = [[(None, 10, 3)], [(None, 7, 4)], [(None, None, 2)], [(4, 5, 6)], [(None, 1, 8)], [(None, 12, 12)],
       [(None, 10)]]
_2D = [[(None, 8, 8, 3)], [(None, 5, 7, 4)], [(None, None, None, 2)], [(2, 6, 9, 6)], [(None, 3, 8, 1)],
       [(None, 12, 12, 12)], [(None, 10, 3)]]
_3D = [[(None, 6, 6, 6, 2)], [(None, 4, 5, 7, 3)], [(None, None, 6, None, 4)], [(None, 3, 4, 4, 1)],
       [(None, 6, 7, 8, 6)], [(None, 8, 8, 3)]]

_STRIDES = {1: [1, 1, 2, 3, [1]], 2: [1, 1, 2, [1, 2], [3, 1]], 3: [1, 1, 2, [1, 2, 1]]}
_DILATION = {1: [1, 1, 1, 1, 2, [3]], 2: [1, 1, 1, 1, 2, [1, 2]], 3: [1, 1, 1, 1, [2, 1, 1]]}
_KERNEL = {1: [1, 2, 3, 5, [4]], 2: [1, 2, 3, [1, 3], [4, 2], 5], 3: [1, 2, 3, [1, 2, 3]]}


def _params(n: int, **extra) -> dict:
    return {"kernel_size": _KERNEL[n], "strides": _STRIDES[n], "dilation_rate": _DILATION[n], **extra}


_INPUTS = {1: _1D, 2: _2D, 3: _3D}

CASES = {}
for _n in (1, 2, 3):
    CASES[f"Conv{_n}D"] = Case(inputs=_INPUTS[_n], params=_params(_n, groups=[1, 1, 1, 2, 3], filters=[1, 2, 4, 6, 12]))
    CASES[f"Conv{_n}DTranspose"] = Case(
        inputs=_INPUTS[_n], params=_params(_n, output_padding=[None, None, None, 0, 1, [1, 0, 0][:_n]])
    )
for _n in (1, 2):
    CASES[f"SeparableConv{_n}D"] = Case(inputs=_INPUTS[_n], params=_params(_n))
    CASES[f"DepthwiseConv{_n}D"] = Case(inputs=_INPUTS[_n], params=_params(_n))
