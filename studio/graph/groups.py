"""What a group (the layers of a model used as a layer) is from outside: its ports, their shapes and
its parameter count, for the canvas to draw a collapsed group as ONE node (issue 12, point 4).

Pure: reads the graph and a `ShapeReport`. A group is a view of the graph: nothing here changes what
check, compile or export see.

* Inputs: each distinct tensor from outside (source node, output port) that feeds a member, in the
  order the members take them (member order, then input port). One tensor feeding several members
  is one input, as a nested model's Input feeds each of its first layers.
* Outputs: each member output that leaves the group (feeds a node outside) or is a model output,
  in member order, then port.
* Parameters: Keras' count of the nested model: each layer once (members calling one shared layer
  count it once; a second call of a nested model shares its layers with the first call's group and
  still shows the nested model's full count, as `nested.count_params()` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from studio.graph.inference import ShapeReport
from studio.graph.layout import COLUMN
from studio.graph.model import Edge, Graph, Group

Ref = tuple[str, int]  # (node id, output port)


@dataclass(frozen=True)
class GroupPorts:
    inputs: tuple[Ref, ...]  # tensors from outside, each one input port of the collapsed node
    outputs: tuple[Ref, ...]  # member outputs seen from outside
    # (member, is_output, port) -> the collapsed node's port index a wire there attaches to
    attach: dict


def group_ports(graph: Graph, group_id: str) -> GroupPorts:
    members = graph.group_members(group_id)
    inside = set(members)
    inputs: dict[Ref, int] = {}
    outputs: dict[Ref, int] = {}
    attach: dict[tuple[str, bool, int], int] = {}
    model_outputs = {n.id for n in graph.output_nodes()}
    for member in members:
        for edge in graph.inputs_of(member):
            if edge.source not in inside:
                ref = (edge.source, edge.source_port)
                attach[(member, False, edge.target_port)] = inputs.setdefault(ref, len(inputs))
    for member in members:
        leaving: list[Edge] = sorted((e for e in graph.outputs_of(member) if e.target not in inside),
                                     key=lambda e: e.source_port)
        ports = [e.source_port for e in leaving]
        if member in model_outputs:
            ports += list(range(graph.num_outputs(graph.node(member))))
        for port in sorted(set(ports)):
            attach[(member, True, port)] = outputs.setdefault((member, port), len(outputs))
    return GroupPorts(tuple(inputs), tuple(outputs), attach)


def group_params(graph: Graph, report: ShapeReport, group_id: str) -> Optional[tuple[int, int]]:
    """(trainable, non_trainable) of the group's layers, each layer once; None while a member's
    count is unknown."""
    trainable = non_trainable = 0
    seen: set[str] = set()
    for member in graph.group_members(group_id):
        layer = report.shared.get(member, member)
        if layer in seen:
            continue
        seen.add(layer)
        counts = report.params.get(member)
        if counts is None:
            return None
        trainable += counts[0]
        non_trainable += counts[1]
    return trainable, non_trainable


def ref_shape(report: ShapeReport, ref: Ref) -> Optional[tuple]:
    outs = report.outputs.get(ref[0])
    if not outs or ref[1] >= len(outs):
        return None
    return outs[ref[1]]


def group_anchor(graph: Graph, group: Group) -> tuple[float, float]:
    """Where the collapsed node sits: at its first layer (the nested model's entry; a backbone
    expanded to its layers puts that one where the backbone was)."""
    members = graph.group_members(group.id)
    if not members:
        return 0.0, 0.0
    x, y = graph.node(members[0]).position[:2]
    return float(x), float(y)


def standing_in(graph: Graph) -> dict[str, str]:
    """node id -> the collapsed group drawn in its place (the biggest, when groups nest)."""
    found: dict[str, str] = {}
    groups = sorted((g for g in graph.groups if g.collapsed), key=lambda g: -len(graph.group_members(g.id)))
    for group in groups:
        for member in graph.group_members(group.id):
            found.setdefault(member, group.id)
    return found


# -- room for a group's layers ---------------------------------------------------------
# Collapsed, a group takes one column; expanded, its layers run left to right from the group node's
# place. Expanding pushes what lies to the right of the group node just clear of its last layer;
# collapsing pulls it back by at most the group's width, so expand then collapse puts every node
# back where it was.
Moves = dict[str, tuple[float, float]]


def _extent(graph: Graph, group_id: str) -> tuple[float, float]:
    """(x of the group node, x of its right-most layer seen while it is expanded): layers hidden in
    a collapsed group inside it do not count, that group's node does."""
    members = graph.group_members(group_id)
    hidden: set[str] = set()
    for other in graph.groups:
        inner = graph.group_members(other.id)
        if other.id != group_id and other.collapsed and set(inner) < set(members):
            hidden.update(inner[1:])
    x0 = float(graph.node(members[0]).position[0])
    return x0, max(float(graph.node(m).position[0]) for m in members if m not in hidden)


def _room(graph: Graph, group_id: str, collapsing: bool) -> Moves:
    members = set(graph.group_members(group_id))
    if not members:
        return {}
    x0, x1 = _extent(graph, group_id)
    right = [n.id for n in graph.nodes if n.id not in members and n.position[0] > (x1 if collapsing else x0)]
    if not right:
        return {}
    nearest = min(float(graph.node(n).position[0]) for n in right)
    shift = -min(nearest - x0 - COLUMN, x1 - x0) if collapsing else x1 + COLUMN - nearest
    if (shift >= 0) if collapsing else (shift <= 0):
        return {}
    moved = {}
    for node_id in right:
        x, y = graph.node(node_id).position[:2]
        moved[node_id] = (float(x) + shift, float(y))
    return moved


def expand_moves(graph: Graph, group_id: str) -> Moves:
    """Where the nodes right of a collapsed group go when it expands (none when they are clear)."""
    return _room(graph, group_id, collapsing=False)


def collapse_moves(graph: Graph, group_id: str) -> Moves:
    """Where the nodes right of an expanded group go when it collapses to one node: left, closing
    the room its layers took (by at most the group's width, never past one column after it)."""
    return _room(graph, group_id, collapsing=True)


def collapse_all(graph: Graph) -> None:
    """Collapse every group of a graph being built (an imported model's nested models), the nodes
    after each pulled in (see `collapse_moves`)."""
    for group in graph.groups:
        graph.set_group_collapsed(group.id, True)
    _close_collapsed(graph)


def _close_collapsed(graph: Graph) -> None:
    for group in sorted((g for g in graph.groups if g.collapsed), key=lambda g: len(graph.group_members(g.id))):
        for node_id, position in collapse_moves(graph, group.id).items():  # inner groups first
            graph.move(node_id, position)


def closed_positions(graph: Graph, positions: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """`positions` (a layout of every node, hidden ones too) with each collapsed group's room
    closed, as if each had been collapsed there: Auto layout keeps collapsed groups one node wide."""
    if not any(g.collapsed for g in graph.groups):
        return dict(positions)
    copy = Graph.from_dict(graph.to_dict())
    for node_id, position in positions.items():
        copy.move(node_id, position)
    _close_collapsed(copy)
    return {n.id: (float(n.position[0]), float(n.position[1])) for n in copy.nodes}


def drawn_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    """node id -> where it is drawn: a collapsed group's layers at the group node's place."""
    stand = standing_in(graph)
    anchors = {g: group_anchor(graph, graph.group(g)) for g in set(stand.values())}
    return {n.id: anchors[stand[n.id]] if n.id in stand else (float(n.position[0]), float(n.position[1]))
            for n in graph.nodes}
