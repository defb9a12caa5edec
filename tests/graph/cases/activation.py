"""Harness cases for studio/graph/layers/activation.py."""

from tests.graph.cases.base import Case

CASES = {
    "ReLU": Case(inputs=[[(None, 4)], [(None, 5, 6)], [(None, 8, 8, 3)]]),
    "LeakyReLU": Case(inputs=[[(None, 4)], [(None, 5, 6)]]),
    "PReLU": Case(
        inputs=[[(None, 4)], [(None, 5, 6)], [(None, 8, 8, 3)], [(None, None, 3)], [(None, None, None, 2)], [(None,)]],
        params={"shared_axes": [None, [1], [1, 2], 2, [3], 0, [-1], [1, 2, 3]]},
    ),
    "ELU": Case(inputs=[[(None, 4)], [(None, 5, 6)]]),
    "Softmax": Case(inputs=[[(None, 4)], [(None, 5, 6)], [(None, 1)]]),
}
