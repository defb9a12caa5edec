"""Phase 1 of loading: check the plain JSON records of a project file.

Every problem is collected as `(json_path, message)` instead of stopping at the
first (STYLE.md 8). The result is a `Records` holding validated nodes and edges
(not yet in a `Graph`) plus everything this version does not know, kept to be
written back unchanged. Parameter values are not judged here: a wrong value
is kept and reported on its node by `studio.graph.analyse`, so the user can
fix it in the inspector.

The checks mirror `schema.json` (tests/project/test_schema.py keeps the two in
step) and add what a schema cannot say: unique node ids, edges naming
existing nodes, asset paths staying inside the project folder.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from studio.core.text import shorten, show
from studio.graph.catalog import Catalog
from studio.graph.model import KEYWORD_INPUTS, Edge, Group, Node
from studio.project.model import edge_key

KNOWN_KEYS = frozenset({"format", "version", "name", "description", "graph", "dataset", "training", "ui", "assets"})
GRAPH_KEYS = frozenset({"nodes", "edges", "groups"})
NODE_KEYS = frozenset({"id", "type", "title", "params", "position", "trainable", "shares", "output"})
GROUP_KEYS = frozenset({"id", "name", "members", "collapsed"})
EDGE_KEYS = frozenset({"source", "source_port", "target", "target_port", "argument"})

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def key_path(base: str, key: str) -> str:
    """`$.a.b` for plain keys, `$.a["odd key"]` otherwise."""
    if _IDENT.match(key):
        return f"{base}.{key}"
    return f"{base}[{json.dumps(shorten(key), ensure_ascii=False)}]"


class Problems:
    """Collects `(json_path, message)` pairs while checking records."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Records:
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[int, Edge]] = field(default_factory=list)  # (index in the file, edge)
    groups: list[Group] = field(default_factory=list)  # nested models' nodes (members that exist)
    name: str = "untitled"
    description: str = ""
    dataset: Any = None
    training: dict = field(default_factory=dict)
    ui: dict = field(default_factory=dict)
    assets: dict = field(default_factory=dict)
    unknown: dict = field(default_factory=dict)
    graph_extras: dict = field(default_factory=dict)
    node_extras: dict = field(default_factory=dict)
    edge_extras: dict = field(default_factory=dict)


def check_records(data: dict, problems: Problems, catalog: Catalog) -> Records:
    """Check a migrated project dict; add every problem found to `problems`."""
    records = Records()
    _check_graph(data.get("graph"), problems, catalog, records)

    name = data.get("name", "untitled")
    if not isinstance(name, str):
        problems.add("$.name", f"must be text, got {_kind(name)}")
    else:
        records.name = name or "untitled"
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.add("$.description", f"must be text, got {_kind(description)}")
    else:
        records.description = description

    dataset = data.get("dataset")
    if dataset is not None and not isinstance(dataset, dict):
        problems.add("$.dataset", f"must be an object or null, got {_kind(dataset)}")
    else:
        records.dataset = dataset
    for key in ("training", "ui"):
        value = data.get(key, {})
        if value is None:
            value = {}
        if not isinstance(value, dict):
            problems.add(f"$.{key}", f"must be an object, got {_kind(value)}")
        else:
            setattr(records, key, value)
    records.assets = _check_assets(data.get("assets", {}), problems)
    records.unknown = {k: v for k, v in data.items() if k not in KNOWN_KEYS}
    return records


def _check_assets(assets: Any, problems: Problems) -> dict:
    if assets is None:
        return {}
    if not isinstance(assets, dict):
        problems.add("$.assets", f"must be an object, got {_kind(assets)}")
        return {}
    good = {}
    for key, rel in assets.items():
        where = key_path("$.assets", key)
        if not isinstance(rel, str) or not rel:
            problems.add(where, f"must be a file name relative to the project folder, got {_kind(rel)}")
        elif not is_inside_path(rel):
            problems.add(where, f"{show(rel)} must be a path inside the project folder (no absolute path, no '..')")
        else:
            good[key] = rel
    return good


def is_inside_path(rel: str) -> bool:
    """True for a relative path that stays inside its folder on any OS."""
    for pure in (PurePosixPath(rel), PureWindowsPath(rel)):
        if pure.is_absolute() or pure.drive or pure.anchor or ".." in pure.parts:
            return False
    return True


def _check_graph(graph: Any, problems: Problems, catalog: Catalog, records: Records) -> None:
    if graph is None:
        problems.add("$.graph", "missing: a project needs a \"graph\" object with \"nodes\" and \"edges\"")
        return
    if not isinstance(graph, dict):
        problems.add("$.graph", f"must be an object with \"nodes\" and \"edges\", got {_kind(graph)}")
        return
    raw_nodes = graph.get("nodes", [])
    raw_edges = graph.get("edges", [])
    if not isinstance(raw_nodes, list):
        problems.add("$.graph.nodes", f"must be a list, got {_kind(raw_nodes)}")
        raw_nodes = []
    if not isinstance(raw_edges, list):
        problems.add("$.graph.edges", f"must be a list, got {_kind(raw_edges)}")
        raw_edges = []
    records.graph_extras = {k: v for k, v in graph.items() if k not in GRAPH_KEYS}

    ids: set[str] = set()
    # Ids that are present but whose node is broken: edges to them are not
    # reported again as "missing node".
    broken: set[str] = set()
    for i, nd in enumerate(raw_nodes):
        node = _check_node(nd, f"$.graph.nodes[{i}]", problems, catalog, ids, broken)
        if node is not None:
            records.nodes.append(node)
            ids.add(node.id)
            extras = {k: v for k, v in nd.items() if k not in NODE_KEYS}
            if extras:
                records.node_extras[node.id] = extras

    seen: dict[tuple, int] = {}
    for i, ed in enumerate(raw_edges):
        edge = _check_edge(ed, f"$.graph.edges[{i}]", problems, ids, broken)
        if edge is None:
            continue
        key = edge_key(edge.to_dict())
        if key in seen:
            problems.add(f"$.graph.edges[{i}]", f"the same wire as $.graph.edges[{seen[key]}]; remove one")
            continue
        seen[key] = i
        records.edges.append((i, edge))
        extras = {k: v for k, v in ed.items() if k not in EDGE_KEYS}
        if extras:
            records.edge_extras[key] = extras
    records.groups = _check_groups(graph.get("groups", []), problems, ids)


def _check_groups(raw: Any, problems: Problems, ids: set[str]) -> list[Group]:
    """`graph.groups`: [{"id", "name", "members": [node ids], "collapsed"}]; members that name
    no node are dropped (the group keeps the others), a group left empty is dropped."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("$.graph.groups", f"must be a list, got {_kind(raw)}")
        return []
    groups: list[Group] = []
    seen: set[str] = set()
    for i, gd in enumerate(raw):
        where = f"$.graph.groups[{i}]"
        if not isinstance(gd, dict):
            problems.add(where, f"a group must be an object, got {_kind(gd)}")
            continue
        group_id, name, members = gd.get("id"), gd.get("name", ""), gd.get("members", [])
        collapsed = gd.get("collapsed", False)
        if not isinstance(group_id, str) or not group_id:
            problems.add(f"{where}.id", "missing group id (a non-empty text)")
        elif group_id in seen:
            problems.add(f"{where}.id", f"group id {show(group_id)} is used by another group; ids must be unique")
        elif not isinstance(name, str):
            problems.add(f"{where}.name", f"must be text, got {_kind(name)}")
        elif not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            problems.add(f"{where}.members", "must be a list of node ids")
        elif not isinstance(collapsed, bool):
            problems.add(f"{where}.collapsed", f"must be true or false, got {_short(collapsed)}")
        else:
            seen.add(group_id)
            kept = [m for m in members if m in ids]
            if kept:
                groups.append(Group(id=group_id, name=name, members=kept, collapsed=collapsed))
    return groups


def _check_node(
    nd: Any, where: str, problems: Problems, catalog: Catalog, ids: set[str], broken: set[str]
) -> Node | None:
    if not isinstance(nd, dict):
        problems.add(where, f"a node must be an object, got {_kind(nd)}")
        return None
    before = len(problems)
    node_id = nd.get("id")
    if not isinstance(node_id, str) or not node_id:
        problems.add(f"{where}.id", "missing node id (a non-empty text)")
        node_id = None
    elif node_id in ids or node_id in broken:
        problems.add(f"{where}.id", f"node id {show(node_id)} is used by another node; ids must be unique")
        node_id = None
    type_id = nd.get("type")
    if not isinstance(type_id, str) or not type_id:
        problems.add(f"{where}.type", "missing layer type (e.g. \"Dense\")")
    params = nd.get("params", {})
    if not isinstance(params, dict):
        problems.add(f"{where}.params", f"must be an object of Keras config keys, got {_kind(params)}")
    pos = nd.get("position", [0.0, 0.0])
    if not (
        isinstance(pos, list)
        and len(pos) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in pos)
    ):
        problems.add(f"{where}.position", f"must be [x, y] numbers, got {_short(pos)}")
    title = nd.get("title", "")
    if not isinstance(title, str):
        problems.add(f"{where}.title", f"must be text, got {_kind(title)}")
    trainable = nd.get("trainable", True)
    if not isinstance(trainable, bool):
        problems.add(f"{where}.trainable", f"must be true or false, got {_short(trainable)}")
    shares = nd.get("shares", "")
    if not isinstance(shares, str):
        problems.add(f"{where}.shares", f"must be the id of the node whose weights it shares, got {_kind(shares)}")
    output = nd.get("output", False)
    if not isinstance(output, bool):
        problems.add(f"{where}.output", f"must be true or false, got {_short(output)}")
    if len(problems) > before:
        if node_id is not None:
            broken.add(node_id)
        return None
    # A type this version does not know is kept as an opaque node: analyse()
    # reports it, and it is written back unchanged.
    canonical = catalog.canonical_id(type_id)
    return Node(
        id=node_id,
        type=canonical or type_id,
        params=params,
        title=title,
        position=(float(pos[0]), float(pos[1])),
        trainable=trainable,
        shares=shares,
        output=output,
    )


def _check_edge(ed: Any, where: str, problems: Problems, ids: set[str], broken: set[str]) -> Edge | None:
    if not isinstance(ed, dict):
        problems.add(where, f"an edge must be an object, got {_kind(ed)}")
        return None
    bad = False
    for key in ("source", "target"):
        value = ed.get(key)
        if not isinstance(value, str) or not value:
            problems.add(f"{where}.{key}", "missing node id (a non-empty text)")
            bad = True
        elif value in broken:
            bad = True  # its node is already reported
        elif value not in ids:
            problems.add(f"{where}.{key}", f"refers to a missing node {show(value)}")
            bad = True
    for key in ("source_port", "target_port"):
        value = ed.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.add(f"{where}.{key}", f"must be a whole number >= 0, got {_short(value)}")
            bad = True
    argument = ed.get("argument", "")
    if argument not in ("", *KEYWORD_INPUTS):
        problems.add(f"{where}.argument", f"must be one of {', '.join(KEYWORD_INPUTS)} (a keyword argument the "
                                          f"wire feeds), got {_short(argument)}")
        bad = True
    if bad:
        return None
    return Edge.from_dict(ed)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    return text if len(text) <= 40 else text[:37] + "..."
