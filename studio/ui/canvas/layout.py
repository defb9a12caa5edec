"""The canvas' layout helpers (pure Python).

Auto layout is `studio.graph.layout.layered_positions`, the one layout
algorithm of the app (`studio import` uses it too), re-exported here with its
constants. This module adds what only opening a file on the canvas needs:
`spread_positions` gives a cramped layout room for its wires and
`hides_wires` spots a one-row layout whose wires run behind layers.
"""

from __future__ import annotations

import bisect
import math

from studio.graph.groups import drawn_positions
from studio.graph.layout import COLUMN, GAP, GRID, LANE, NODE_WIDTH, layered_positions
from studio.graph.model import Graph

__all__ = ["COLUMN", "GAP", "GRID", "LANE", "NODE_WIDTH", "hides_wires", "layered_positions", "spread_positions"]


MIN_WIRE = 60.0  # less than this between wired neighbours reads as cramped
MAX_SPREAD = 1.6


def spread_positions(graph: Graph, width: float = NODE_WIDTH, row: float = 60.0) -> dict[str, tuple[float, float]]:
    """New positions that give a cramped left-to-right layout room for its wires.

    Cramped: two wired nodes side by side on one row (their tops within `row`)
    are less than `MIN_WIRE` apart (e.g. example files spaced 220 px). Then every x is stretched about the leftmost node, so that pair
    gets a `COLUMN` pitch; rows and columns stay aligned. Nodes that overlap
    by more than a quarter (stacked on purpose) are left out of the judgement. Empty when nothing is cramped,
    so applying it twice changes nothing.
    """
    nodes = {n.id: n for n in graph.nodes}
    pitch = math.inf
    for e in graph.edges:
        (sx, sy), (tx, ty) = nodes[e.source].position[:2], nodes[e.target].position[:2]
        dx = tx - sx
        if abs(ty - sy) <= row and dx >= 0.75 * width:
            pitch = min(pitch, dx)
    if pitch == math.inf or pitch - width >= MIN_WIRE:
        return {}
    factor = min(MAX_SPREAD, COLUMN / pitch)
    left = min(float(n.position[0]) for n in nodes.values())
    out = {}
    for nid, node in nodes.items():
        x, y = float(node.position[0]), float(node.position[1])
        new_x = left + round((x - left) * factor / GRID) * GRID
        if new_x != x:
            out[nid] = (new_x, y)
    return out


def hides_wires(graph: Graph) -> bool:
    """True for a machine-made one-row layout in which a wire runs behind other
    layers: every node on one row and some wire skips over a node (e.g. a
    residual connection drawn straight through the block it bypasses)."""
    drawn = drawn_positions(graph)  # a collapsed group's hidden layers count where its node is
    if len(drawn) < 3 or len({y for _x, y in drawn.values()}) != 1:
        return False
    xs = sorted(set(x for x, _y in drawn.values()))
    x_of = {n: x for n, (x, _y) in drawn.items()}
    for e in graph.edges:
        low, high = sorted((x_of[e.source], x_of[e.target]))
        if bisect.bisect_right(xs, low) < bisect.bisect_left(xs, high):  # some x with low < x < high
            return True
    return False
