"""Harness cases for studio/graph/layers/regularization.py."""

from tests.graph.cases.base import Case

_NOISE = [None, [None, 1, None], [None, 1], [1, 1, 1, 1], [None, None, None, 3]]

CASES = {
    "Dropout": Case(inputs=[[(None, 4)], [(None, 5, 6)], [(None, 8, 8, 3)], [(None,)]],
                    params={"noise_shape": _NOISE}),
    "SpatialDropout1D": Case(inputs=[[(None, 10, 4)], [(None, None, 3)], [(None, 4)]]),
    "SpatialDropout2D": Case(inputs=[[(None, 8, 8, 3)], [(None, 3, 8, 8)], [(None, 5, 6)]]),
    "SpatialDropout3D": Case(inputs=[[(None, 4, 8, 8, 3)], [(None, 8, 8, 3)]]),
    "GaussianNoise": Case(inputs=[[(None, 4)], [(None, 5, 6)], [(None, 8, 8, 3)]]),
    "GaussianDropout": Case(inputs=[[(None, 4)], [(None, 5, 6)]]),
    "AlphaDropout": Case(inputs=[[(None, 4)], [(None, 5, 6)]], params={"noise_shape": _NOISE}),
    "ActivityRegularization": Case(inputs=[[(None, 4)], [(None, 5, 6)]]),
}
