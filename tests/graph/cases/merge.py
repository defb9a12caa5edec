"""Harness cases for studio/graph/layers/merge.py."""

from tests.graph.cases.base import Case

_SAME = [
    [(None, 4), (None, 4)],
    [(None, 4), (None, 4), (None, 4)],
    [(None, 3, 5), (None, 3, 5)],
    [(None, 4), (None, 1)],  # broadcast
    [(None, 3, 1), (None, 1, 5)],  # broadcast both ways
    [(None, 4), (None, 6)],  # refused
    [(None, 4), (None, 3, 4)],  # different ranks: aligned from the right
    [(2, 4), (None, 4)],  # one known batch size
    [(2, 4), (3, 4)],  # different batch sizes: refused
    [(None, None, 4), (None, 7, 4)],
]

CASES = {
    "Add": Case(inputs=_SAME),
    "Subtract": Case(inputs=[s for s in _SAME if len(s) == 2]),
    "Multiply": Case(inputs=_SAME),
    "Average": Case(inputs=_SAME),
    "Maximum": Case(inputs=_SAME),
    "Minimum": Case(inputs=_SAME),
    "Concatenate": Case(inputs=[
        [(None, 4), (None, 6)],
        [(None, 4), (None, 6), (None, 2)],
        [(None, 3, 4), (None, 5, 4)],
        [(None, 3, 4), (None, 3, 6)],
        [(None, None, 4), (None, 3, 6)],
        [(None, 3, None), (None, 3, 6)],
        [(None, 8, 8, 3), (None, 8, 8, 5)],
        [(None, 4), (None, 3, 4)],
        [(2, 4), (3, 4)],
    ]),
    "Dot": Case(inputs=[
        [(None, 4), (None, 4)],
        [(None, 5, 4), (None, 7, 4)],
        [(None, 5, 4), (None, 4, 7)],
        [(None, 4), (None, 4, 6)],
        [(None, 5, 3), (None, 5, 2)],
        [(None, None, 4), (None, None, 4)],
        [(None, 3, 4, 5), (None, 5, 2)],
    ]),
}
