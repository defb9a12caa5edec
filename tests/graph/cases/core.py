"""Harness cases for studio/graph/layers/core.py."""

from tests.graph.cases.base import Case

CASES = {
    "Input": Case(inputs=[[]], params={"batch_shape": [[None, 4], [None, 28, 28, 1], [8, 10], [None, None, 3],
                                                      [None], [None, 2, 3, 4, 5]]},
                  mutate=False),
    "Dense": Case(inputs=[[(None, 4)], [(None, 5, 3)], [(None, 2, 3, 4)], [(None, None)], [(None,)], [(16, 7)]]),
    "Activation": Case(inputs=[[(None, 4)], [(None, 5, 3)], [(None, 8, 8, 3)], [(None,)]]),
    "Embedding": Case(inputs=[[(None, 10)], [(None, None)], [(None, 3, 4)], [(None,)]], dtype="int32"),
}
