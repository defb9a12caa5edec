"""Auto-layout: arrange the graph left to right in layers (pure Python).

Each node goes one column right of its furthest input; within a column nodes
sit near the average height of their inputs, pushed apart so none overlap.
A plain chain comes out as a straight line, branches fan out and rejoin.
"""

from __future__ import annotations

from typing import Callable

from studio.core.errors import CycleError
from studio.graph.model import Graph

COLUMN = 280.0
GAP = 40.0
GRID = 20.0


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
    for e in graph.edges:
        preds[e.target].append(e.source)
        succs[e.source].append(e.target)
    column: dict[str, int] = {}
    for nid in order:
        column[nid] = 1 + max((column[p] for p in preds[nid]), default=-1)
    # Pull sources right next to their first consumer (e.g. a second Input).
    for nid in reversed(order):
        if not preds[nid] and succs[nid]:
            column[nid] = max(0, min(column[s] for s in succs[nid]) - 1)
    columns: dict[int, list[str]] = {}
    for nid in order:
        columns.setdefault(column[nid], []).append(nid)

    y: dict[str, float] = {}
    rank = {nid: i for i, nid in enumerate(order)}
    for col in sorted(columns):
        members = columns[col]
        desired = {}
        for nid in members:
            ys = [y[p] + height(p) / 2 for p in preds[nid] if p in y]
            desired[nid] = (sum(ys) / len(ys) - height(nid) / 2) if ys else None
        # Nodes without placed inputs stack after the others.
        free = [n for n in members if desired[n] is None]
        placed = sorted((n for n in members if desired[n] is not None), key=lambda n: (desired[n], rank[n]))
        top = 0.0
        for n in free:
            desired[n] = top
            top += height(n) + GAP
        sequence = sorted(members, key=lambda n: (desired[n], rank[n])) if placed else free
        cursor = None
        ys_col: dict[str, float] = {}
        for n in sequence:
            value = desired[n] if cursor is None else max(desired[n], cursor)
            ys_col[n] = value
            cursor = value + height(n) + GAP
        if placed:
            shift = sum(desired[n] - ys_col[n] for n in placed) / len(placed)
            # Shift up to re-centre a pushed-apart group, but never above a chain's line.
            for n in sequence:
                ys_col[n] += min(0.0, shift)
        y.update(ys_col)
    return {
        nid: (round(column[nid] * COLUMN / GRID) * GRID, round(y[nid] / GRID) * GRID)
        for nid in order
    }
