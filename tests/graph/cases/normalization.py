"""Harness cases for studio/graph/layers/normalization.py."""

from tests.graph.cases.base import Case

CASES = {
    "BatchNormalization": Case(
        inputs=[[(None, 4)], [(None, 8, 8, 3)], [(None, 5, 6)], [(8, 3)], [(None, None, 2)]],
        params={"renorm_clipping": [None, {"rmax": 3.0, "rmin": 0.3, "dmax": 5.0}, {"rmax": 1.0, "rmin": 2.0},
                                    {"dmax": -1.0}, {"bogus": 1.0}]},
    ),
    "LayerNormalization": Case(
        inputs=[[(None, 4)], [(None, 5, 6)], [(None, 4, 4, 3)], [(None, None, 3)], [(2, 3)]],
    ),
    "GroupNormalization": Case(
        inputs=[[(None, 6)], [(None, 8, 8, 32)], [(None, 5, 12)], [(None, 4, None)], [(None, 3, 4, 4)]],
        params={"groups": [-1, 0, 1, 2, 3, 4, 5, 8, 32]},
        max_dim=16,
    ),
    "UnitNormalization": Case(inputs=[[(None, 4)], [(None, 5, 6)], [(None, 2, 3, 4)]]),
}
