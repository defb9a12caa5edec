"""Undoable edits: `apply(graph)` / `revert(graph)`; `Batch` makes one gesture
one undo step (STYLE.md 2, 3). Edits touch only the model; the UI wraps them
in `QUndoCommand`s and views follow the graph's events."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Sequence

from studio.graph.groups import collapse_moves, expand_moves
from studio.graph.model import Edge, Graph, Group, Node


class Edit:
    text = "Edit"

    def apply(self, graph: Graph) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def revert(self, graph: Graph) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class AddNode(Edit):
    def __init__(self, node: Node, index: int | None = None) -> None:
        self.node = node.clone()
        self.index = index
        self.text = f"Add {node.title or node.type}"

    def apply(self, graph: Graph) -> None:
        graph.add_node(self.node.clone(), self.index)

    def revert(self, graph: Graph) -> None:
        graph.remove_node(self.node.id)


class RemoveNode(Edit):
    """Remove a node with its wires; revert puts both back where they were."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self.text = "Delete node"
        self._node: Node | None = None
        self._index = 0
        self._edges: list[tuple[int, Edge]] = []

    def apply(self, graph: Graph) -> None:
        node = graph.node(self.node_id)
        self.text = f"Delete {node.title or node.type}"
        self._node = node.clone()
        self._index = graph.node_index(self.node_id)
        self._edges = sorted((graph.edge_index(e), e) for e in graph.edges_of(self.node_id))
        # Nodes sharing this node's layer keep sharing it: the first becomes its owner.
        sharers = [n.id for n in graph.nodes if n.shares == self.node_id]
        self._sharers = sharers
        for k, sharer in enumerate(sharers):
            graph.set_shares(sharer, sharers[0] if k else "")
        graph.remove_node(self.node_id)

    def revert(self, graph: Graph) -> None:
        assert self._node is not None
        graph.add_node(self._node.clone(), self._index)
        for index, edge in self._edges:
            graph.connect(edge, check_shapes=False, index=index)
        for sharer in getattr(self, "_sharers", []):
            graph.set_shares(sharer, self.node_id)


class Connect(Edit):
    def __init__(self, edge: Edge, check_shapes: bool = True) -> None:
        self.edge = edge
        self.check_shapes = check_shapes
        self.text = "Connect"

    def apply(self, graph: Graph) -> None:
        graph.connect(self.edge, check_shapes=self.check_shapes)
        self.check_shapes = False  # redo must not fail on later shape changes

    def revert(self, graph: Graph) -> None:
        graph.disconnect(self.edge)


class Disconnect(Edit):
    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.text = "Disconnect"
        self._index = 0

    def apply(self, graph: Graph) -> None:
        self._index = graph.edge_index(self.edge)
        graph.disconnect(self.edge)

    def revert(self, graph: Graph) -> None:
        graph.connect(self.edge, check_shapes=False, index=self._index)


class SetParam(Edit):
    """Set (or with `Graph.ABSENT`, reset to default) one parameter."""

    def __init__(self, node_id: str, key: str, value: Any) -> None:
        self.node_id, self.key, self.value = node_id, key, value
        self.text = f"Change {key}"
        self._old: Any = Graph.ABSENT
        self._others: dict[str, Any] = {}

    def apply(self, graph: Graph) -> None:
        self._old = copy.deepcopy(graph.node(self.node_id).params.get(self.key, Graph.ABSENT))
        graph.set_param(self.node_id, self.key, self.value)
        # Nodes over one shared layer are one layer: the change applies to each of them.
        others = [n for n in graph.sharing(self.node_id) if n != self.node_id]
        self._others = {n: copy.deepcopy(graph.node(n).params.get(self.key, Graph.ABSENT)) for n in others}
        value = graph.node(self.node_id).params.get(self.key, Graph.ABSENT)
        for other in others:
            graph.set_param(other, self.key, copy.deepcopy(value), validate=False)

    def revert(self, graph: Graph) -> None:
        # The old value is put back verbatim, even if it never validated.
        for other, old in self._others.items():
            graph.set_param(other, self.key, old, validate=False)
        graph.set_param(self.node_id, self.key, self._old, validate=False)


class SetTitle(Edit):
    def __init__(self, node_id: str, title: str) -> None:
        self.node_id, self.title = node_id, title
        self.text = "Rename"
        self._old = ""

    def apply(self, graph: Graph) -> None:
        self._old = graph.node(self.node_id).title
        graph.set_title(self.node_id, self.title)

    def revert(self, graph: Graph) -> None:
        graph.set_title(self.node_id, self._old)


class SetTrainable(Edit):
    def __init__(self, node_id: str, trainable: bool) -> None:
        self.node_id, self.trainable = node_id, trainable
        self.text = "Freeze" if not trainable else "Unfreeze"
        self._old = True

    def apply(self, graph: Graph) -> None:
        self._old = graph.node(self.node_id).trainable
        self._others = {n: graph.node(n).trainable for n in graph.sharing(self.node_id) if n != self.node_id}
        graph.set_trainable(self.node_id, self.trainable)
        for other in self._others:  # one shared layer is frozen at every call
            graph.set_trainable(other, self.trainable)

    def revert(self, graph: Graph) -> None:
        for other, old in getattr(self, "_others", {}).items():
            graph.set_trainable(other, old)
        graph.set_trainable(self.node_id, self._old)


class ShareWeights(Edit):
    """"Share weights with...": `node_id` calls the layer of `owner` (the owner of `owner`'s
    layer when `owner` itself shares), taking its parameters and frozen flag so the two
    are one layer; the nodes that shared `node_id`'s layer follow it. `owner=""` stops
    sharing (the node keeps a copy of the parameters)."""

    def __init__(self, node_id: str, owner: str) -> None:
        self.node_id, self.owner = node_id, owner
        self.text = "Share weights" if owner else "Stop sharing weights"
        self._old: dict[str, tuple[str, dict, bool]] = {}  # node id -> (shares, params, trainable)

    def apply(self, graph: Graph) -> None:
        node = graph.node(self.node_id)
        self._old = {}
        if not self.owner:
            self._old[self.node_id] = (node.shares, copy.deepcopy(node.params), node.trainable)
            graph.set_shares(self.node_id, "")
            return
        root = graph.node(self.owner).shares or self.owner
        if root == self.node_id or root == node.shares:
            return  # already over that layer
        owner = graph.node(root)
        if node.type != owner.type:
            from studio.core.errors import GraphError

            raise GraphError(f"'{graph.label(self.node_id)}' ({node.type}) cannot share weights with "
                             f"'{graph.label(root)}' ({owner.type}): only layers of the same type can", self.node_id)
        # The node and the nodes that shared its layer become calls of the owner's layer.
        for nid in [self.node_id] + [n.id for n in graph.nodes if n.shares == self.node_id]:
            moving = graph.node(nid)
            self._old[nid] = (moving.shares, copy.deepcopy(moving.params), moving.trainable)
            _set_params(graph, nid, owner.params)
            if moving.trainable != owner.trainable:
                graph.set_trainable(nid, owner.trainable)
            graph.set_shares(nid, root)

    def revert(self, graph: Graph) -> None:
        for nid, (shares, params, trainable) in reversed(list(self._old.items())):
            _set_params(graph, nid, params)
            if graph.node(nid).trainable != trainable:
                graph.set_trainable(nid, trainable)
            graph.set_shares(nid, shares)


def _set_params(graph: Graph, node_id: str, params: dict) -> None:
    """Make the node's params equal `params`, key by key (each change announced)."""
    node = graph.node(node_id)
    for key in sorted(set(node.params) | set(params)):
        value = params.get(key, Graph.ABSENT)
        if node.params.get(key, Graph.ABSENT) != value:
            graph.set_param(node_id, key, copy.deepcopy(value), validate=False)


def share_candidates(graph: Graph, node_id: str, report: Any = None) -> list[str]:
    """The nodes `node_id` can share weights with (the "Share weights with..." menu): other
    nodes of the same type holding a layer, not already over the same layer. With `report`
    (an up-to-date `analyse(graph)`), a layer known to hold no weights (Subtract, Dropout...)
    shares nothing."""
    node = graph.node(node_id)
    spec = graph.spec(node)
    if spec is not None and (spec.max_inputs == 0 or spec.call_style == "op"):
        return []  # Inputs and operations hold no layer
    if report is not None and report.params.get(node_id) == (0, 0):
        return []
    mine = set(graph.sharing(node_id))
    return [n.id for n in graph.nodes if n.type == node.type and n.id not in mine]


class MoveNodes(Edit):
    """Move several nodes at once (one drag = one undo step)."""

    def __init__(self, positions: dict[str, tuple], text: str = "Move") -> None:
        self.positions = {k: tuple(v) for k, v in positions.items()}
        self.text = text
        self._old: dict[str, tuple] = {}

    def apply(self, graph: Graph) -> None:
        self._old = {k: graph.node(k).position for k in self.positions}
        for node_id, pos in self.positions.items():
            graph.move(node_id, pos)

    def revert(self, graph: Graph) -> None:
        for node_id, pos in self._old.items():
            graph.move(node_id, pos)


class SetGroupCollapsed(Edit):
    """Draw a group (a nested model's layers) as one node, or show its layers again: a view of
    the graph, saved with the project and undoable like any edit; the model is unchanged. The
    nodes right of the group make room for its layers (expand) or close up (collapse) in the
    same step (`studio.graph.groups.expand_moves` / `collapse_moves`)."""

    def __init__(self, group_id: str, collapsed: bool, name: str = "") -> None:
        self.group_id, self.collapsed = group_id, bool(collapsed)
        self.text = f"{'Collapse' if collapsed else 'Expand'} group {name or 'group'}"
        self._old = False
        self._moved: dict[str, tuple] = {}  # node id -> where it was, for the nodes making room

    def apply(self, graph: Graph) -> None:
        self._old = graph.group(self.group_id).collapsed
        moves = {}
        if self._old != self.collapsed:
            moves = (collapse_moves if self.collapsed else expand_moves)(graph, self.group_id)
        self._moved = {n: graph.node(n).position for n in moves}
        for node_id, position in moves.items():
            graph.move(node_id, position)
        graph.set_group_collapsed(self.group_id, self.collapsed)

    def revert(self, graph: Graph) -> None:
        graph.set_group_collapsed(self.group_id, self._old)
        for node_id, position in self._moved.items():
            graph.move(node_id, position)


class AddGroup(Edit):
    """Add a group of existing nodes (a backbone expanded to its layers)."""

    def __init__(self, group: Group) -> None:
        self.group = Group.from_dict(group.to_dict())
        self.text = f"Group {group.name}"

    def apply(self, graph: Graph) -> None:
        graph.add_group(Group.from_dict(self.group.to_dict()))

    def revert(self, graph: Graph) -> None:
        graph.remove_group(self.group.id)


@dataclass
class Batch(Edit):
    """Several edits as one undo step; a failure part-way rolls back."""

    edits: Sequence[Edit] = field(default_factory=list)
    text: str = "Edit"

    def apply(self, graph: Graph) -> None:
        done: list[Edit] = []
        try:
            for edit in self.edits:
                edit.apply(graph)
                done.append(edit)
        except Exception:
            for edit in reversed(done):
                edit.revert(graph)
            raise

    def revert(self, graph: Graph) -> None:
        for edit in reversed(list(self.edits)):
            edit.revert(graph)


def remove_nodes(node_ids: Sequence[str], text: str = "Delete") -> Batch:
    return Batch([RemoveNode(n) for n in node_ids], text)


class History:
    """A plain undo stack for headless use and tests (the UI uses QUndoStack)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._done: list[Edit] = []
        self._undone: list[Edit] = []

    def push(self, edit: Edit) -> None:
        edit.apply(self.graph)
        self._done.append(edit)
        self._undone.clear()

    def undo(self) -> bool:
        if not self._done:
            return False
        edit = self._done.pop()
        edit.revert(self.graph)
        self._undone.append(edit)
        return True

    def redo(self) -> bool:
        if not self._undone:
            return False
        edit = self._undone.pop()
        edit.apply(self.graph)
        self._done.append(edit)
        return True
