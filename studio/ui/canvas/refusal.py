"""Fixes for a refused wire (pure Python, no Qt).

The graph's wire rules say why a wire is refused and, where one exists, what
to insert ("...; insert a Reshape to (28, 28, 1) to add a channels axis",
"...; insert Flatten or a global pooling layer before it"). `fixes` reads
those suggestions and turns each into one edit that inserts the layer between
the two ends (midway, at a free spot; the target and what follows it move right
when there is no room, in the same undo step) and wires it, kept only when the
wires it makes are allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from studio.graph.edits import AddNode, Batch, Connect, Edit, MoveNodes
from studio.graph.layout import NODE_HEIGHT, between_spot
from studio.graph.model import Edge, Graph

_RESHAPE = re.compile(r"insert a Reshape to \(([-\d,\s]+)\)", re.IGNORECASE)
_FLATTEN = re.compile(r"insert (?:a )?Flatten\b", re.IGNORECASE)


@dataclass(frozen=True)
class Fix:
    label: str  # what the button says, e.g. "Insert Reshape to (28, 28, 1)"
    edit: Edit
    nodes: tuple[str, ...] = ()  # the source, the inserted layer and the target: to keep in sight


def fixes(graph: Graph, edge: Edge, reason: str, height: Callable[[str], float] = lambda _n: NODE_HEIGHT) -> list[Fix]:
    """The layers the refusal `reason` suggests inserting into `edge`, each as one edit that
    works (checked on a copy of the graph). `height(node_id)`: how tall a node is drawn."""
    found: list[tuple[str, str, dict]] = []
    match = _RESHAPE.search(reason)
    if match:
        dims = [int(d) for d in match.group(1).replace(" ", "").split(",") if d]
        if dims:
            shape = "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"
            found.append((f"Insert Reshape to {shape}", "Reshape", {"target_shape": dims}))
    if _FLATTEN.search(reason):
        found.append(("Insert Flatten", "Flatten", {}))
    out = []
    for label, spec_id, params in found:
        inserted = _insert(graph, edge, spec_id, params, label, height)
        if inserted is not None:
            edit, node_id = inserted
            out.append(Fix(label, edit, (edge.source, node_id, edge.target)))
    return out


def _insert(graph: Graph, edge: Edge, spec_id: str, params: dict, label: str,
            height: Callable[[str], float]) -> tuple[Edit, str] | None:
    from studio.ui.operations import new_node  # studio.ui.operations imports nothing of the canvas

    spec = graph.catalog.find(spec_id)
    if spec is None:
        return None
    spot, shifts = between_spot(graph, edge.source, edge.target, height)
    node = new_node(graph, spec, spot)
    node.params.update(params)
    edits: list[Edit] = [MoveNodes(shifts, label)] if shifts else []
    edits += [AddNode(node), Connect(Edge(edge.source, node.id, edge.source_port, 0)),
              Connect(Edge(node.id, edge.target, 0, edge.target_port))]
    batch = Batch(edits, label)
    try:
        batch.apply(graph.copy())
    except Exception:  # noqa: BLE001 - any refusal means this fix does not work here
        return None
    return batch, node.id
