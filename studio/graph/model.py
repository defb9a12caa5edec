"""Nodes, edges and the `Graph`: the only way to change a model.

The graph validates every change through rules that raise typed errors
(STYLE.md 5) and announces every change as an event (STYLE.md 1). The UI asks
`can_connect` before drawing a wire; views subscribe to `graph.events`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Iterable, Union

from studio.core.errors import (
    CycleError,
    DuplicateEdgeError,
    DuplicateNodeError,
    GraphError,
    ParamError,
    PortError,
    ShapeMismatch,
    UnknownNodeError,
)
from studio.core.events import Event
from studio.core.ids import new_id
from studio.core.text import shorten
from studio.graph.catalog import Catalog, default_catalog
from studio.graph.spec import LayerSpec, ShapeError, ShapePending


@dataclass
class Node:
    """One layer instance. `params` holds Keras config keys; missing keys take
    the spec's defaults. `type` is a catalog id, or for an opaque node (a
    layer outside the catalog, kept from an import or a newer version) the
    Keras class name with its whole config in `params`."""

    type: str
    params: dict = field(default_factory=dict)
    title: str = ""
    position: tuple = (0.0, 0.0)
    trainable: bool = True
    id: str = field(default_factory=new_id)
    # The id of the node whose layer (and weights) this node calls again ("" = its own layer):
    # a shared embedding or siamese tower is several nodes over one set of weights.
    shares: str = ""
    # A model output even though it feeds other layers (an imported model's output `a` that also
    # feeds the layer making its output `b`); a node feeding nothing is an output anyway.
    output: bool = False

    def to_dict(self) -> dict:
        data = {
            "id": self.id,
            "type": self.type,
            "title": self.title,
            "params": copy.deepcopy(self.params),
            "position": [float(self.position[0]), float(self.position[1])],
            "trainable": self.trainable,
        }
        if self.shares:
            data["shares"] = self.shares
        if self.output:
            data["output"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Node:
        return cls(
            id=data["id"],
            type=data["type"],
            title=data.get("title", ""),
            params=copy.deepcopy(data.get("params", {})),
            position=tuple(data.get("position", (0.0, 0.0))),
            trainable=data.get("trainable", True),
            shares=data.get("shares") or "",
            output=bool(data.get("output", False)),
        )

    def clone(self) -> Node:
        return Node.from_dict(self.to_dict())


@dataclass
class Group:
    """Nodes that came from one model used as a layer (a nested model): the canvas can show
    them collapsed to one node. `members` are node ids; ids of deleted nodes are skipped."""

    id: str
    name: str
    members: list = field(default_factory=list)
    collapsed: bool = False

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "members": list(self.members), "collapsed": self.collapsed}

    @classmethod
    def from_dict(cls, data: dict) -> Group:
        return cls(id=data["id"], name=data.get("name", ""), members=list(data.get("members", [])),
                   collapsed=bool(data.get("collapsed", False)))


# Keyword arguments a wire can feed instead of a positional input (`layer(x, mask=m)`): the
# code generator writes these names as identifiers, so they come only from this list.
KEYWORD_INPUTS = ("mask", "attention_mask", "query_mask", "value_mask", "key_mask")


@dataclass(frozen=True)
class Edge:
    """A wire: output port `source_port` of `source` feeds input port
    `target_port` of `target`. With `argument` (one of `KEYWORD_INPUTS`) it feeds
    that keyword argument of the call instead (`layer(x, mask=m)`): such a wire
    sits on an input port after the positional ones and is not one of the
    layer's inputs for shape inference."""

    source: str
    target: str
    source_port: int = 0
    target_port: int = 0
    argument: str = ""

    def to_dict(self) -> dict:
        data = {
            "source": self.source,
            "source_port": self.source_port,
            "target": self.target,
            "target_port": self.target_port,
        }
        if self.argument:
            data["argument"] = self.argument
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Edge:
        return cls(
            source=data["source"],
            target=data["target"],
            source_port=int(data.get("source_port", 0)),
            target_port=int(data.get("target_port", 0)),
            argument=str(data.get("argument") or ""),
        )


# --- events ------------------------------------------------------------------
@dataclass(frozen=True)
class NodeAdded:
    node: Node


@dataclass(frozen=True)
class NodeRemoved:
    node: Node


@dataclass(frozen=True)
class EdgeAdded:
    edge: Edge


@dataclass(frozen=True)
class EdgeRemoved:
    edge: Edge


@dataclass(frozen=True)
class NodeChanged:
    """`what` is "params", "title", "position", "trainable" or "shares"; for params,
    `key` names the parameter."""

    node_id: str
    what: str
    key: str | None = None
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class GroupsChanged:
    """A group was added, removed or changed (`group_id`)."""

    group_id: str


GraphEvent = Union[NodeAdded, NodeRemoved, EdgeAdded, EdgeRemoved, NodeChanged, GroupsChanged]


class _Absent:
    """`Graph.ABSENT`: "no value" for `set_param`. It survives copy and deepcopy
    (a bare `object()` does not, which made undo store the marker as a value)."""

    def __repr__(self) -> str:
        return "Graph.ABSENT"

    def __copy__(self) -> _Absent:
        return self

    def __deepcopy__(self, memo: dict) -> _Absent:
        return self


class Graph:
    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog if catalog is not None else default_catalog()
        self._nodes: dict[str, Node] = {}
        # Wires in order (a dict as an ordered set: O(1) membership and removal), and
        # indexed by the node they leave and enter, so connecting, the rules and the
        # queries below cost the node's own wires, not the whole graph's
        # (a 20,000-node chain loaded in O(E^2) before; bench/bench_scale.py).
        self._edges: dict[Edge, int] = {}  # wire -> a number increasing in wire order
        self._out: dict[str, dict[Edge, None]] = {}
        self._in: dict[str, dict[Edge, None]] = {}
        self._port_wire: dict[tuple[str, int], Edge] = {}  # (target, input port) -> its wire
        self._groups: dict[str, Group] = {}
        self.events: Event[GraphEvent] = Event()

    # -- queries ---------------------------------------------------------
    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes.values())

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges)

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise UnknownNodeError(f"no node with id {node_id!r}", node_id) from None

    def has_node(self, node_id: str) -> bool:
        return node_id in self._nodes

    def node_index(self, node_id: str) -> int:
        return list(self._nodes).index(node_id)

    def edge_index(self, edge: Edge) -> int:
        return list(self._edges).index(edge)

    def spec(self, node_or_id: Node | str) -> LayerSpec | None:
        """The node's spec, or None for an opaque (unknown) layer type."""
        node = self.node(node_or_id) if isinstance(node_or_id, str) else node_or_id
        return self.catalog.find(node.type)

    def inputs_of(self, node_id: str) -> list[Edge]:
        """Edges into the node, ordered by input port (keyword-argument wires included)."""
        return sorted(self._in.get(node_id, ()), key=lambda e: e.target_port)

    def positional_inputs(self, node_id: str) -> list[Edge]:
        """The wires that are the layer's inputs, ordered by input port (no `mask=` wires)."""
        return [e for e in self.inputs_of(node_id) if not e.argument]

    def keyword_inputs(self, node_id: str) -> list[Edge]:
        """The wires that feed keyword arguments of the node's call (`mask=`), by input port."""
        return [e for e in self.inputs_of(node_id) if e.argument]

    def outputs_of(self, node_id: str) -> list[Edge]:
        return list(self._out.get(node_id, ()))

    def edges_of(self, node_id: str) -> list[Edge]:
        """The node's wires, in the graph's wire order."""
        mine = set(self._out.get(node_id, ())) | set(self._in.get(node_id, ()))
        return sorted(mine, key=self._edges.__getitem__)

    def input_nodes(self) -> list[Node]:
        return [n for n in self._nodes.values() if self._is_input(n)]

    def output_nodes(self) -> list[Node]:
        """Model outputs, in node order: every node, other than an Input, that feeds nothing or
        is marked as an output (`Node.output`)."""
        feeding = {e.source for e in self._edges}
        return [n for n in self._nodes.values() if (n.id not in feeding or n.output) and not self._is_input(n)]

    def _is_input(self, node: Node) -> bool:
        spec = self.catalog.find(node.type)
        return spec is not None and spec.min_inputs == 0 and spec.max_inputs == 0

    def num_outputs(self, node: Node) -> int:
        spec = self.spec(node)
        if spec is None:
            return max([1] + [e.source_port + 1 for e in self.outputs_of(node.id)])
        return spec.num_outputs(spec.resolve(node.params))

    def topological_order(self) -> list[str]:
        """Node ids so that every node comes after its inputs (Kahn's algorithm,
        ties broken by insertion order so the result is deterministic)."""
        indegree = {nid: 0 for nid in self._nodes}
        children: dict[str, list[str]] = {nid: [] for nid in self._nodes}
        for e in self._edges:
            indegree[e.target] += 1
            children[e.source].append(e.target)
        position = {nid: i for i, nid in enumerate(self._nodes)}
        import heapq

        ready = [(position[n], n) for n, d in indegree.items() if d == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, nid = heapq.heappop(ready)
            order.append(nid)
            for child in children[nid]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    heapq.heappush(ready, (position[child], child))
        if len(order) != len(self._nodes):
            stuck = next(n for n, d in indegree.items() if d > 0)
            raise CycleError(f"the graph has a cycle through '{self.label(stuck)}'", stuck)
        return order

    def label(self, node_id: str) -> str:
        """The node's title (or type) for messages, shortened when very long."""
        node = self._nodes.get(node_id)
        if node is None:
            return shorten(node_id)
        return shorten(node.title or node.type)

    def reaches(self, start: str, goal: str) -> bool:
        """True if a path of wires leads from `start` to `goal` (walks only the
        nodes downstream of `start`)."""
        stack, seen = [start], set()
        while stack:
            nid = stack.pop()
            if nid == goal:
                return True
            if nid in seen:
                continue
            seen.add(nid)
            stack.extend(e.target for e in self._out.get(nid, ()))
        return False

    # -- rules -------------------------------------------------------------
    def check_connect(self, edge: Edge, check_shapes: bool = True, report: Any = None) -> None:
        """Raise the typed error that forbids `edge`, or return None.

        `report`: an up-to-date `analyse(self)` result to reuse (optional; the UI
        passes its cached one while a wire is dragged)."""
        source = self.node(edge.source)
        target = self.node(edge.target)
        if edge in self._edges:
            raise DuplicateEdgeError("these ports are already connected", target.id)
        if edge.source == edge.target:
            raise CycleError(f"'{self.label(target.id)}' cannot feed itself", target.id)
        if edge.source_port < 0 or edge.target_port < 0:
            raise PortError("port numbers start at 0", target.id)
        if edge.source_port >= self.num_outputs(source):
            raise PortError(f"'{self.label(source.id)}' has no output port {edge.source_port}", source.id)
        tspec = self.spec(target)
        if edge.argument:
            if edge.argument not in KEYWORD_INPUTS:
                raise PortError(f"'{self.label(target.id)}': a wire can feed only the keyword arguments "
                                f"{', '.join(KEYWORD_INPUTS)}, not {shorten(edge.argument)!r}", target.id)
            taken = next((e for e in self._in.get(edge.target, ()) if e.argument == edge.argument), None)
            if taken is not None:
                raise PortError(f"the {edge.argument} of '{self.label(target.id)}' is already wired to "
                                f"'{self.label(taken.source)}'; remove that wire first", target.id)
        if tspec is not None:
            if tspec.max_inputs == 0:
                raise PortError(f"'{self.label(target.id)}' is an Input and takes no wires", target.id)
            if tspec.max_inputs is not None and edge.target_port >= tspec.max_inputs and not edge.argument:
                raise PortError(
                    f"'{self.label(target.id)}' takes at most {tspec.max_inputs} input(s)", target.id
                )
        e = self._port_wire.get((edge.target, edge.target_port))
        if e is not None:
            raise PortError(
                f"input {edge.target_port} of '{self.label(target.id)}' is already wired to "
                f"'{self.label(e.source)}'; remove that wire first",
                target.id,
            )
        if self.reaches(edge.target, edge.source):
            raise CycleError(
                f"wiring '{self.label(source.id)}' into '{self.label(target.id)}' would make a loop",
                target.id,
            )
        if check_shapes and tspec is not None and not edge.argument:
            self._check_shapes(edge, tspec, report)

    def _check_shapes(self, edge: Edge, tspec: LayerSpec, report: Any = None) -> None:
        from studio.graph.inference import analyse

        if report is None:
            report = analyse(self)
        src_shapes = report.outputs.get(edge.source)
        if src_shapes is None or edge.source_port >= len(src_shapes):
            return  # unknown upstream shape: nothing to check yet
        shapes = []
        for e in self.positional_inputs(edge.target):
            s = report.outputs.get(e.source)
            if s is None or e.source_port >= len(s):
                return
            shapes.append((e.target_port, s[e.source_port]))
        shapes.append((edge.target_port, src_shapes[edge.source_port]))
        shapes.sort(key=lambda t: t[0])
        input_shapes = [s for _, s in shapes]
        if len(input_shapes) < tspec.min_inputs:
            return  # more wires to come; judge when complete
        target = self.node(edge.target)
        resolved, problems = tspec.validate(target.params)
        if problems:
            return
        try:
            tspec.infer_shape(resolved, input_shapes)
        except ShapePending:
            return  # known once loaded for this very wire
        except ShapeError as exc:
            raise ShapeMismatch(f"{self.label(target.id)}: {exc}", target.id) from None
        except (TypeError, ValueError, ArithmeticError, IndexError, KeyError):
            return  # a malformed free-form parameter: analyse() reports it on the node

    def can_connect(self, edge: Edge, check_shapes: bool = True, report: Any = None) -> tuple[bool, str]:
        try:
            self.check_connect(edge, check_shapes, report)
        except GraphError as exc:
            return False, str(exc)
        return True, ""

    # -- changes (each announced) -----------------------------------------------
    def add_node(self, node: Node, index: int | None = None) -> Node:
        if node.id in self._nodes:
            raise DuplicateNodeError(f"a node with id {node.id!r} exists already", node.id)
        if index is None or index >= len(self._nodes):
            self._nodes[node.id] = node
        else:
            items = list(self._nodes.items())
            items.insert(index, (node.id, node))
            self._nodes = dict(items)
        self.events.emit(NodeAdded(node))
        return node

    def remove_node(self, node_id: str) -> Node:
        """Remove a node and the wires attached to it (announced first)."""
        node = self.node(node_id)
        for edge in self.edges_of(node_id):
            self.disconnect(edge)
        del self._nodes[node_id]
        self.events.emit(NodeRemoved(node))
        return node

    def connect(self, edge: Edge, check_shapes: bool = True, index: int | None = None) -> Edge:
        self.check_connect(edge, check_shapes)
        if index is None or index >= len(self._edges):
            self._edges[edge] = next(iter(reversed(self._edges.values())), -1) + 1
            self._index(edge)
        else:  # undo puts a wire back where it was: rebuild the order and the indexes
            edges = list(self._edges)
            edges.insert(index, edge)
            self._set_edges(edges)
        self.events.emit(EdgeAdded(edge))
        return edge

    def disconnect(self, edge: Edge) -> None:
        if edge not in self._edges:
            raise GraphError("there is no such wire", edge.target)
        del self._edges[edge]
        del self._out[edge.source][edge]
        del self._in[edge.target][edge]
        if self._port_wire.get((edge.target, edge.target_port)) == edge:
            del self._port_wire[edge.target, edge.target_port]
        self.events.emit(EdgeRemoved(edge))

    def _set_edges(self, edges: list[Edge]) -> None:
        self._edges = {e: i for i, e in enumerate(edges)}
        self._out, self._in, self._port_wire = {}, {}, {}
        for e in edges:
            self._index(e)

    def _index(self, edge: Edge) -> None:
        self._out.setdefault(edge.source, {})[edge] = None
        self._in.setdefault(edge.target, {})[edge] = None
        self._port_wire[edge.target, edge.target_port] = edge

    _ABSENT = _Absent()

    def set_param(self, node_id: str, key: str, value: Any, validate: bool = True) -> None:
        """Set one parameter, validated by its ParamSpec (ParamError if bad).

        `Graph.ABSENT` as value removes the key (back to the default)."""
        node = self.node(node_id)
        spec = self.spec(node)
        if validate and value is not Graph.ABSENT and spec is not None and key in spec.param_map:
            try:
                value = spec.param_map[key].validate(value)
            except ParamError as exc:
                raise ParamError(f"{self.label(node_id)}: {exc}", node_id, key) from None
        old = node.params.get(key, Graph.ABSENT)
        if value is Graph.ABSENT:
            node.params.pop(key, None)
        else:
            node.params[key] = copy.deepcopy(value)
        self.events.emit(NodeChanged(node_id, "params", key, old, value))

    def set_title(self, node_id: str, title: str) -> None:
        node = self.node(node_id)
        old, node.title = node.title, title
        self.events.emit(NodeChanged(node_id, "title", None, old, title))

    def move(self, node_id: str, position: Iterable[float]) -> None:
        node = self.node(node_id)
        old, node.position = node.position, tuple(float(v) for v in position)
        self.events.emit(NodeChanged(node_id, "position", None, old, node.position))

    def set_trainable(self, node_id: str, trainable: bool) -> None:
        node = self.node(node_id)
        old, node.trainable = node.trainable, bool(trainable)
        self.events.emit(NodeChanged(node_id, "trainable", None, old, node.trainable))

    def set_shares(self, node_id: str, owner: str) -> None:
        """Make `node_id` call the layer of `owner` (its weights), or its own layer with "".
        Whether the two can share (same type and parameters) is a diagnostic of `analyse`."""
        node = self.node(node_id)
        if owner:
            self.node(owner)
            if owner == node_id:
                raise GraphError(f"'{self.label(node_id)}' cannot share weights with itself", node_id)
        old, node.shares = node.shares, owner
        self.events.emit(NodeChanged(node_id, "shares", None, old, owner))

    def sharing(self, node_id: str) -> list[str]:
        """The ids of the nodes over the same layer as `node_id` (itself included, owner
        first); [node_id] when it shares with nobody."""
        node = self.node(node_id)
        owner = node.shares if node.shares in self._nodes else node_id
        return [owner] + [n.id for n in self._nodes.values() if n.id != owner and n.shares == owner]

    # -- groups (nested models) ---------------------------------------------
    @property
    def groups(self) -> list[Group]:
        return list(self._groups.values())

    def group(self, group_id: str) -> Group:
        try:
            return self._groups[group_id]
        except KeyError:
            raise GraphError(f"no group with id {group_id!r}") from None

    def group_members(self, group_id: str) -> list[str]:
        """The group's nodes that exist."""
        return [m for m in self.group(group_id).members if m in self._nodes]

    def groups_of(self, node_id: str) -> list[Group]:
        return [g for g in self._groups.values() if node_id in g.members]

    def add_group(self, group: Group) -> Group:
        if group.id in self._groups:
            raise GraphError(f"a group with id {group.id!r} exists already")
        self._groups[group.id] = group
        self.events.emit(GroupsChanged(group.id))
        return group

    def remove_group(self, group_id: str) -> Group:
        group = self.group(group_id)
        del self._groups[group_id]
        self.events.emit(GroupsChanged(group_id))
        return group

    def set_group_collapsed(self, group_id: str, collapsed: bool) -> None:
        self.group(group_id).collapsed = bool(collapsed)
        self.events.emit(GroupsChanged(group_id))

    def clear(self) -> None:
        for group_id in list(self._groups):
            self.remove_group(group_id)
        for node_id in list(self._nodes):
            self.remove_node(node_id)

    # -- records ------------------------------------------------------------
    def to_dict(self) -> dict:
        data: dict = {
            "nodes": [n.to_dict() for n in self._nodes.values()],
            "edges": [e.to_dict() for e in self._edges],
        }
        groups = [{**g.to_dict(), "members": self.group_members(g.id)} for g in self._groups.values()]
        groups = [g for g in groups if g["members"]]
        if groups:
            data["groups"] = groups
        return data

    @classmethod
    def from_dict(cls, data: dict, catalog: Catalog | None = None, check_shapes: bool = False) -> Graph:
        """Build a graph from plain records, strictly (first error raises).

        Project files go through `studio.project`, which collects every problem
        first; this is for trusted records (clipboard, snapshots, templates)."""
        graph = cls(catalog)
        for nd in data.get("nodes", []):
            graph.add_node(Node.from_dict(nd))
        for ed in data.get("edges", []):
            graph.connect(Edge.from_dict(ed), check_shapes=check_shapes)
        for gd in data.get("groups", []):
            graph.add_group(Group.from_dict(gd))
        return graph

    def copy(self) -> Graph:
        return Graph.from_dict(self.to_dict(), self.catalog)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Graph) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


Graph.ABSENT = Graph._ABSENT
