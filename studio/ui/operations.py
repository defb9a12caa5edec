"""Graph edits the GUI composes from gestures. Pure Python: no Qt here.

Each function returns one `Edit` (usually a `Batch`) for `document.push`, so a
gesture is one undo step (STYLE.md 3). Nothing here changes the graph itself.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from studio.core.ids import new_id
from studio.graph.edits import AddNode, Batch, Connect, Disconnect, Edit, MoveNodes, RemoveNode
from studio.graph.layout import free_spot
from studio.graph.model import Edge, Graph, Node
from studio.graph.spec import LayerSpec

GRID = 20.0


def snake(name: str) -> str:
    """The name Keras gives a new layer of a class (keras.src.utils.naming.to_snake_case):
    'BatchNormalization' -> 'batch_normalization', 'Conv2D' -> 'conv2d',
    'ConvLSTM2D' -> 'conv_lstm2d'. Only new titles use it: saved titles never change."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s)
    return re.sub(r"[^0-9a-zA-Z_]+", "_", s).strip("_").lower() or "layer"


def unique_title(graph: Graph, base: str, taken: set[str] | None = None) -> str:
    """'dense', then 'dense_1', 'dense_2'... like Keras names layers."""
    used = {n.title for n in graph.nodes} | (taken or set())
    if base not in used:
        return base
    i = 1
    while f"{base}_{i}" in used:
        i += 1
    return f"{base}_{i}"


def snap(pos: Iterable[float]) -> tuple[float, float]:
    x, y = pos
    return (round(x / GRID) * GRID, round(y / GRID) * GRID)


def new_node(graph: Graph, spec: LayerSpec, pos: Iterable[float], taken: set[str] | None = None) -> Node:
    """A node of `spec` at `pos`, with its main parameters written out
    explicitly (so a file does not change meaning if defaults ever do)."""
    defaults = spec.defaults()
    params = {p.key: defaults[p.key] for p in spec.params if not p.advanced}
    return Node(
        type=spec.id,
        params=params,
        title=unique_title(graph, snake(spec.id), taken),
        position=snap(pos),
        id=new_id(),
    )


def add_node(graph: Graph, spec: LayerSpec, pos: Iterable[float], on_edge: Edge | None = None) -> tuple[Edit, Node]:
    """Add a layer; dropped on a wire, insert it into that wire when it fits."""
    node = new_node(graph, spec, pos)
    if on_edge is not None:
        edit = insert_into_wire(graph, node, on_edge, add=True)
        if edit is not None:
            return edit, node
    return Batch([AddNode(node)], f"Add {spec.id}"), node


def insert_into_wire(graph: Graph, node: Node, edge: Edge, add: bool = False,
                     move: dict | None = None) -> Edit | None:
    """Edits putting `node` between the ends of `edge`, or None if it cannot
    take that wire (checked on a scratch copy of the graph)."""
    spec = graph.spec(node)
    if spec is None or spec.max_inputs == 0:
        return None
    trial = graph.copy()
    edits: list[Edit] = []
    if add:
        edits.append(AddNode(node))
    if move:
        edits.append(MoveNodes(move))
    edits += [
        Disconnect(edge),
        Connect(Edge(edge.source, node.id, edge.source_port, 0)),
        Connect(Edge(node.id, edge.target, 0, edge.target_port, edge.argument)),
    ]
    batch = Batch(edits, f"Insert {node.title or node.type}")
    try:
        batch.apply(trial)
    except Exception:
        return None
    return batch


def add_after(graph: Graph, spec: LayerSpec, after: str | None, fallback_pos: Iterable[float],
              height: Callable[[str], float] | None = None) -> tuple[Edit, Node]:
    """Add a layer right of `after` at a free spot (`height(node_id)`: how tall a node is drawn),
    wired from its first output when allowed."""
    if after is None or not graph.has_node(after):
        return add_node(graph, spec, fallback_pos)
    node = new_node(graph, spec, free_spot(graph, after, height) if height else free_spot(graph, after))
    edits: list[Edit] = [AddNode(node)]
    if spec.max_inputs != 0:
        trial = graph.copy()
        trial.add_node(node.clone())
        ok, _reason = trial.can_connect(Edge(after, node.id))
        if ok:
            edits.append(Connect(Edge(after, node.id)))
    return Batch(edits, f"Add {spec.id}"), node


def delete(graph: Graph, node_ids: Iterable[str], edges: Iterable[Edge] = ()) -> Edit | None:
    """Delete nodes (with their wires) and wires, as one step."""
    ids = [n for n in dict.fromkeys(node_ids) if graph.has_node(n)]
    gone = set(ids)
    wires = [e for e in dict.fromkeys(edges) if e.source not in gone and e.target not in gone and e in graph.edges]
    if not ids and not wires:
        return None
    text = "Delete"
    if len(ids) == 1 and not wires:
        text = f"Delete {graph.label(ids[0])}"
    elif not ids:
        text = "Delete wire" if len(wires) == 1 else f"Delete {len(wires)} wires"
    else:
        text = f"Delete {len(ids)} layers" if len(ids) > 1 else "Delete"
    return Batch([Disconnect(e) for e in wires] + [RemoveNode(n) for n in ids], text)


def add_wired(graph: Graph, spec: LayerSpec, pos: Iterable[float], node_id: str, port: int,
              from_output: bool) -> tuple[Edit, Node]:
    """Add a layer where a wire was dropped, wired to that port when allowed."""
    node = new_node(graph, spec, pos)
    edits: list[Edit] = [AddNode(node)]
    if from_output:
        edge = Edge(node_id, node.id, port, 0)
    else:
        edge = Edge(node.id, node_id, 0, port)
    trial = graph.copy()
    trial.add_node(node.clone())
    ok, _reason = trial.can_connect(edge)
    if ok:
        edits.append(Connect(edge))
    return Batch(edits, f"Add {spec.id}"), node
