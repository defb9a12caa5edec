"""Auto-layout: arrange the graph left to right in layers (pure Python).

Each node goes one column right of its furthest input. A wire that skips
columns reserves a lane in every column it crosses (a "dummy" as in Sugiyama
layouts), so skip connections run beside the layers they bypass instead of
through them. Within a column a node sits level with its first input and
nodes are pushed apart so none overlap: a chain comes out as a straight line,
a residual block hangs below its skip connection.
"""

from __future__ import annotations

import math
from typing import Callable

from studio.core.errors import CycleError
from studio.graph.model import Graph

NODE_WIDTH = 200.0  # how wide the canvas draws a layer
COLUMN = 280.0  # a node and 80 px of wire
GAP = 40.0
GRID = 20.0
LANE = 60.0  # height a skipping wire reserves in a column


def layered_positions(graph: Graph, height: Callable[[str], float] = lambda _n: 80.0) -> dict[str, tuple[float, float]]:
    """New (x, y) for every node, snapped to the grid."""
    nodes = graph.nodes
    if not nodes:
        return {}
    try:
        order = graph.topological_order()
    except CycleError:
        return {n.id: ((i % 8) * COLUMN, (i // 8) * 140.0) for i, n in enumerate(nodes)}
    preds: dict[str, list[str]] = {n: [] for n in order}
    succs: dict[str, list[str]] = {n: [] for n in order}
    for e in sorted(graph.edges, key=lambda e: e.target_port):
        preds[e.target].append(e.source)
        succs[e.source].append(e.target)
    column: dict[str, int] = {}
    for nid in order:
        column[nid] = 1 + max((column[p] for p in preds[nid]), default=-1)
    # Pull sources right next to their first consumer (e.g. a second Input).
    for nid in reversed(order):
        if not preds[nid] and succs[nid]:
            column[nid] = max(0, min(column[s] for s in succs[nid]) - 1)

    # Members of each column: real nodes and lanes of wires crossing it.
    columns: dict[int, list[str]] = {}
    lane_pred: dict[str, str] = {}  # lane id -> what it continues from
    first_pred: dict[str, str | None] = {nid: (preds[nid][0] if preds[nid] else None) for nid in order}
    for nid in order:
        columns.setdefault(column[nid], []).append(nid)
    for target in order:
        for i, source in enumerate(preds[target]):
            span = column[target] - column[source]
            if span <= 1:
                continue
            prev = source
            for c in range(column[source] + 1, column[target]):
                lane = f"lane:{source}:{target}:{i}:{c}"
                lane_pred[lane] = prev
                columns.setdefault(c, []).append(lane)
                prev = lane
            if i == 0:
                first_pred[target] = prev

    def size(item: str) -> float:
        return LANE if item in lane_pred else height(item)

    y: dict[str, float] = {}
    rank = {nid: i for i, nid in enumerate(order)}
    for col in sorted(columns):
        members = columns[col]
        desired: dict[str, float] = {}
        free = []
        for item in members:
            anchor = lane_pred.get(item) if item in lane_pred else first_pred.get(item)
            if anchor is not None and anchor in y:
                # Line up port centres: a lane carries its source's port height.
                desired[item] = y[anchor] + size(anchor) / 2 - size(item) / 2
            else:
                free.append(item)
        top = max((desired[m] + size(m) for m in desired), default=0.0)
        top = top + GAP if desired else 0.0
        for item in free:
            desired[item] = top
            top += size(item) + GAP
        # Lanes keep their line, real nodes make way; ties keep the graph's order.
        # (Wires run straight at their source's height, see edge_item.wire_path.)
        sequence = sorted(members, key=lambda m: (round(desired[m] + size(m) / 2), m not in lane_pred,
                                                  rank.get(m, 0)))
        cursor = None
        for item in sequence:
            value = desired[item] if cursor is None else max(desired[item], cursor)
            y[item] = value
            cursor = value + size(item) + GAP
    return {
        nid: (round(column[nid] * COLUMN / GRID) * GRID, round(y[nid] / GRID) * GRID)
        for nid in order
    }


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
    nodes = graph.nodes
    if len(nodes) < 3 or len({float(n.position[1]) for n in nodes}) != 1:
        return False
    xs = sorted(float(n.position[0]) for n in nodes)
    x_of = {n.id: float(n.position[0]) for n in nodes}
    for e in graph.edges:
        low, high = sorted((x_of[e.source], x_of[e.target]))
        if any(low < x < high for x in xs):
            return True
    return False
