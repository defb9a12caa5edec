"""Layout: arrange a graph left to right in layers (pure Python, no Qt).

The one layout algorithm of the app: the canvas' Auto layout and `studio
import` both place nodes with `layered_positions`; positions are plain
`(x, y)` tuples in canvas pixels (a node is `NODE_WIDTH` wide).

Each node goes one column right of its furthest input. A wire that skips
columns reserves a lane in every column it crosses (a "dummy" as in Sugiyama
layouts), so skip connections run beside the layers they bypass instead of
through them. Within a column a node sits level with its top-most input and
nodes are pushed apart so none overlap: a chain comes out as a straight line,
a residual block hangs below its skip connection and the path joins it again
at the merge, so a 50-block ResNet stays two rows tall instead of stepping
down block after block. Linear in nodes plus lane crossings (600 layers in
milliseconds).
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
NODE_HEIGHT = 80.0  # height assumed for a node when the caller does not say

Position = tuple[float, float]


def layered_positions(graph: Graph, height: Callable[[str], float] = lambda _n: NODE_HEIGHT) -> dict[str, Position]:
    """New (x, y) for every node, snapped to the grid. `height(node_id)` is how tall a node is drawn."""
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
    anchors: dict[str, list[str]] = {nid: [] for nid in order}  # what each node's wires arrive from
    for nid in order:
        columns.setdefault(column[nid], []).append(nid)
    for target in order:
        for i, source in enumerate(preds[target]):
            prev = source
            for c in range(column[source] + 1, column[target]):
                lane = f"lane:{source}:{target}:{i}:{c}"
                lane_pred[lane] = prev
                columns.setdefault(c, []).append(lane)
                prev = lane
            anchors[target].append(prev)

    def size(item: str) -> float:
        return LANE if item in lane_pred else height(item)

    y: dict[str, float] = {}
    rank = {nid: i for i, nid in enumerate(order)}
    for col in sorted(columns):
        members = columns[col]
        desired: dict[str, float] = {}
        free = []
        for item in members:
            # Line up port centres with the top-most input: a lane carries its source's port height,
            # and a merge returns to the row of the path it joins.
            sources = [lane_pred[item]] if item in lane_pred else anchors.get(item, [])
            centres = [y[s] + size(s) / 2 for s in sources if s in y]
            if centres:
                desired[item] = min(centres) - size(item) / 2
            else:
                free.append(item)
        top = max((desired[m] + size(m) for m in desired), default=0.0)
        top = top + GAP if desired else 0.0
        for item in free:
            desired[item] = top
            top += size(item) + GAP
        # Lanes keep their line, real nodes make way; ties keep the graph's order.
        # (Wires run straight at their source's height, see ui/canvas/edge_item.wire_path.)
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


def apply_layout(graph: Graph, height: Callable[[str], float] = lambda _n: NODE_HEIGHT) -> None:
    """Move every node of `graph` to its `layered_positions` place (a graph being built, e.g. by import;
    the canvas pushes the positions as one undoable edit instead)."""
    for nid, position in layered_positions(graph, height).items():
        graph.move(nid, position)


def free_spot(graph: Graph, after: str, height: Callable[[str], float] = lambda _n: NODE_HEIGHT,
              new_height: float = NODE_HEIGHT) -> Position:
    """Where a layer added after node `after` goes: one column to its right, level with it, or
    lower down that column at the first place no other node covers (a gap of `GAP` around)."""
    x, y = (float(v) for v in graph.node(after).position[:2])
    x = round((x + COLUMN) / GRID) * GRID
    y = round(y / GRID) * GRID
    taken = []
    for node in graph.nodes:
        nx, ny = (float(v) for v in node.position[:2])
        if nx < x + NODE_WIDTH + GAP and x < nx + NODE_WIDTH + GAP:
            taken.append((ny, ny + height(node.id)))
    taken.sort()
    moved = True
    while moved:  # step below every node in the way until the spot is free
        moved = False
        for top, bottom in taken:
            if y < bottom + GAP and top < y + new_height + GAP:
                y = math.ceil((bottom + GAP) / GRID) * GRID
                moved = True
    return (x, y)


def between_spot(graph: Graph, source: str, target: str, height: Callable[[str], float] = lambda _n: NODE_HEIGHT,
                 new_height: float = NODE_HEIGHT) -> tuple[Position, dict[str, Position]]:
    """Where a layer inserted into the wire `source` -> `target` goes, and the nodes that move to
    make room: midway between the two (level with the middle of their ports), nudged up or down
    to a free spot. When the gap between them is narrower than a layer and two short wires, the
    target and everything downstream of it move right to leave a column's room (a wire drawn
    backwards, to a target left of the source, moves nothing)."""
    sx, sy = (float(v) for v in graph.node(source).position[:2])
    tx, ty = (float(v) for v in graph.node(target).position[:2])
    shifts: dict[str, Position] = {}
    gap = tx - (sx + NODE_WIDTH)
    if tx >= sx and gap < NODE_WIDTH + 2 * GAP:
        dx = math.ceil((NODE_WIDTH + 2 * (COLUMN - NODE_WIDTH) - gap) / GRID) * GRID
        downstream, todo = {target}, [target]
        while todo:
            for edge in graph.outputs_of(todo.pop()):
                if edge.target not in downstream and edge.target != source:
                    downstream.add(edge.target)
                    todo.append(edge.target)
        for node_id in downstream:
            x, y = (float(v) for v in graph.node(node_id).position[:2])
            shifts[node_id] = (x + dx, y)
        tx += dx
    x = round(((sx + NODE_WIDTH + tx) / 2 - NODE_WIDTH / 2) / GRID) * GRID
    middle = (sy + height(source) / 2 + ty + height(target) / 2) / 2
    y0 = round((middle - new_height / 2) / GRID) * GRID
    boxes = []
    for node in graph.nodes:
        nx, ny = shifts.get(node.id) or tuple(float(v) for v in node.position[:2])
        boxes.append((nx, ny, nx + NODE_WIDTH, ny + height(node.id)))
    margin = GAP / 2

    def free(y: float) -> bool:
        return not any(x < right + margin and left < x + NODE_WIDTH + margin
                       and y < bottom + margin and top < y + new_height + margin
                       for left, top, right, bottom in boxes)

    for step in range(60):  # 0, +20, -20, +40, -40 ... (down first)
        y = y0 + (step + 1) // 2 * GRID * (1 if step % 2 else -1)
        if free(y):
            return (x, y), shifts
    return (x, y0), shifts
