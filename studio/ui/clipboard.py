"""Copy and paste of layers with their internal wires, as JSON on the system
clipboard (so it works between two windows, even two processes).

Pasted nodes get new ids and unique names; the paste is one undo step.
A group (a nested model's layers) whose layers are all copied is pasted as a
new group of the pasted layers, collapsed or not as it was; copying part of a
group pastes plain layers.
The copied layers' stored weights (`studio.project.weights`) travel beside
the JSON as a weights file under their own MIME type, and the pasted nodes
get them (origin "pasted") in the same undo step.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from studio.core.ids import new_id
from studio.graph.edits import AddGroup, AddNode, Batch, Connect
from studio.graph.model import Edge, Graph, Group, Node
from studio.project.weights import (
    PASTED,
    SetWeights,
    WeightEntry,
    WeightsFileError,
    WeightStore,
    entries_from_bytes,
    entries_to_bytes,
)
from studio.ui.operations import snap, unique_title

MIME = "application/x-network-studio-graph"
WEIGHTS_MIME = "application/x-network-studio-weights"
WEIGHTS = "_weights"  # the payload key holding {node id: WeightEntry}; never written as JSON
FORMAT = "network-studio-clipboard"
PASTE_OFFSET = 40.0


def copy_payload(graph: Graph, node_ids: Iterable[str], weights: WeightStore | None = None) -> dict | None:
    """The layers `node_ids` with their internal wires (and, given the store, their stored weights)."""
    ids = [n for n in dict.fromkeys(node_ids) if graph.has_node(n)]
    if not ids:
        return None
    chosen = set(ids)
    payload = {
        "format": FORMAT,
        "version": 1,
        "nodes": [graph.node(n).to_dict() for n in ids],
        "edges": [e.to_dict() for e in graph.edges if e.source in chosen and e.target in chosen],
    }
    groups = [{**g.to_dict(), "members": graph.group_members(g.id)} for g in graph.groups]
    groups = [g for g in groups if g["members"] and set(g["members"]) <= chosen]
    if groups:
        payload["groups"] = groups
    stored = weights.for_nodes(ids) if weights is not None else {}
    if stored:
        payload[WEIGHTS] = stored
    return payload


def put(payload: dict) -> None:
    stored = payload.get(WEIGHTS)
    text = json.dumps({k: v for k, v in payload.items() if k != WEIGHTS}, indent=1)
    data = QMimeData()
    data.setData(MIME, text.encode())
    data.setText(text)
    if stored:
        data.setData(WEIGHTS_MIME, entries_to_bytes(stored))
    QGuiApplication.clipboard().setMimeData(data)


def get() -> dict | None:
    """The layers on the clipboard, or None if it holds something else."""
    data = QGuiApplication.clipboard().mimeData()
    if data is None:
        return None
    raw = bytes(data.data(MIME).data()).decode() if data.hasFormat(MIME) else data.text()
    try:
        payload = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        return None
    payload.pop(WEIGHTS, None)
    if data.hasFormat(WEIGHTS_MIME):
        try:
            payload[WEIGHTS] = entries_from_bytes(bytes(data.data(WEIGHTS_MIME).data()))
        except WeightsFileError:
            pass  # unreadable weights: the layers paste with random weights
    return payload


def paste_edit(graph: Graph, payload: dict, at: tuple[float, float] | None = None,
               weights: WeightStore | None = None) -> tuple[Batch, list[str]] | None:
    """Edits adding the payload's layers with fresh ids; `at` places the
    top-left of the group there (else it lands offset from the originals).
    Given the project's weight store, the layers' copied weights come along."""
    nodes: list[Node] = []
    mapping: dict[str, str] = {}
    for record in payload.get("nodes", []):
        try:
            node = Node.from_dict(record)
        except (KeyError, TypeError, ValueError):
            continue
        if not isinstance(node.params, dict) or not isinstance(node.type, str):
            continue
        mapping[node.id] = new_id()
        nodes.append(node)
    if not nodes:
        return None
    xs = [float(n.position[0]) for n in nodes]
    ys = [float(n.position[1]) for n in nodes]
    if at is None:
        dx, dy = PASTE_OFFSET, PASTE_OFFSET
    else:
        dx, dy = at[0] - min(xs), at[1] - min(ys)
    taken: set[str] = set()
    edits: list[Any] = []
    for node in nodes:
        base = _strip_suffix(node.title) if node.title else ""
        title = unique_title(graph, base, taken) if base else ""
        taken.add(title)
        clone = Node(
            type=node.type,
            params=node.params,
            title=title,
            position=snap((float(node.position[0]) + dx, float(node.position[1]) + dy)),
            trainable=node.trainable,
            id=mapping[node.id],
            shares=mapping.get(node.shares, ""),  # copied with the layer it calls: still one layer
        )
        edits.append(AddNode(clone))
    for record in payload.get("edges", []):
        try:
            edge = Edge.from_dict(record)
        except (KeyError, TypeError, ValueError):
            continue
        if edge.source in mapping and edge.target in mapping:
            edits.append(Connect(Edge(mapping[edge.source], mapping[edge.target], edge.source_port, edge.target_port,
                                      edge.argument), check_shapes=False))
    for record in payload.get("groups", []) if isinstance(payload.get("groups"), list) else []:
        try:
            group = Group.from_dict(record)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if group.members and all(isinstance(m, str) and m in mapping for m in group.members):
            edits.append(AddGroup(Group(new_id(), str(group.name), [mapping[m] for m in group.members],
                                        group.collapsed)))
    stored = payload.get(WEIGHTS) if weights is not None else None
    if isinstance(stored, dict):
        carried = {mapping[n]: WeightEntry(e.arrays, PASTED) for n, e in stored.items()
                   if n in mapping and isinstance(e, WeightEntry)}
        if carried:
            edits.append(SetWeights(weights, carried, "Paste weights"))
    text = f"Paste {len(nodes)} layer{'s' if len(nodes) > 1 else ''}"
    return Batch(edits, text), [mapping[n.id] for n in nodes]


def _strip_suffix(title: str) -> str:
    """'dense_3' -> 'dense' so copies are numbered from the base name."""
    head, _, tail = title.rpartition("_")
    return head if head and tail.isdigit() else title
