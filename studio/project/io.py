"""Load and save project files.

Loading runs in two phases (STYLE.md 8): parse the JSON into plain records
and check them, collecting every problem with its JSON path; then, only if
there is no fatal problem, build the `Graph`. Saving is atomic: write a
temporary file beside the target, fsync, rename.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from studio.core.errors import GraphError, ProjectError
from studio.graph.catalog import Catalog, default_catalog
from studio.graph.model import Edge, Graph, Node
from studio.project.model import FORMAT, VERSION, Project, project_stem

# Files larger than this are refused before reading: a project is a few MB at most.
MAX_BYTES = 64 * 1024 * 1024

KNOWN_KEYS = {"format", "version", "name", "description", "graph", "dataset", "training", "ui", "assets"}

# version -> function upgrading a dict of that version to version + 1.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


class Problems:
    """Collects `(json_path, message)` pairs while checking records."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def __bool__(self) -> bool:
        return bool(self.items)


def read_json(path: Path) -> Any:
    """Read a JSON file, turning every failure into a one-line ProjectError."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read ({exc.strerror})") from None
    if path.is_dir():
        raise ProjectError(f"{path}: is a folder, not a project file")
    if size == 0:
        raise ProjectError(f"{path}: the file is empty")
    if size > MAX_BYTES:
        raise ProjectError(
            f"{path}: the file is {size / 1e6:.0f} MB; project files are at most {MAX_BYTES // 2**20} MB "
            "- is this really a .studio.json project?"
        )
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ProjectError(f"{path}: not a text file; a project file is UTF-8 JSON") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
            "the file may be truncated"
        ) from None


def migrate(data: dict, source: str = "project") -> dict:
    """Upgrade an older version's dict to the current VERSION."""
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectError(f"{source}: $.version must be a whole number, got {version!r}", [("$.version", "not an integer")])
    if version > VERSION:
        raise ProjectError(
            f"{source}: written by a newer Network Studio (format version {version}; this one reads up to "
            f"{VERSION}); update Network Studio to open it",
            [("$.version", f"version {version} is newer than {VERSION}")],
        )
    if version < 1:
        raise ProjectError(f"{source}: $.version {version} is not a valid version", [("$.version", "must be >= 1")])
    while version < VERSION:
        data = MIGRATIONS[version](data)
        version += 1
        data["version"] = version
    return data


def project_from_dict(data: Any, source: str = "project", catalog: Catalog | None = None) -> Project:
    """Check plain records and build a Project; raise ProjectError listing every problem."""
    catalog = catalog or default_catalog()
    if not isinstance(data, dict):
        raise ProjectError(f"{source}: a project file holds a JSON object, not {type(data).__name__}", [("$", "not an object")])
    if data.get("format") != FORMAT:
        raise ProjectError(
            f"{source}: not a Network Studio project ($.format is {data.get('format')!r}, expected {FORMAT!r})",
            [("$.format", "wrong format")],
        )
    data = migrate(data, source)
    problems = Problems()
    nodes, edges = _check_graph(data.get("graph"), problems, catalog)
    name = data.get("name", "untitled")
    if not isinstance(name, str):
        problems.add("$.name", "must be text")
        name = "untitled"
    for key, kind in (("dataset", (dict, type(None))), ("training", dict), ("ui", dict), ("assets", dict)):
        if key in data and not isinstance(data[key], kind):
            problems.add(f"$.{key}", "must be an object")
    if problems:
        _raise(source, problems)

    # Phase 2: build. Parameter values are kept as written (errors in them are
    # diagnostics on the node, so the user can fix them in the inspector).
    graph = Graph(catalog)
    for nd in nodes:
        graph.add_node(nd)
    for i, edge in edges:
        try:
            graph.connect(edge, check_shapes=False)
        except GraphError as exc:
            problems.add(f"$.graph.edges[{i}]", str(exc))
    if problems:
        _raise(source, problems)
    return Project(
        graph=graph,
        name=name,
        description=data.get("description", "") if isinstance(data.get("description", ""), str) else "",
        dataset=data.get("dataset"),
        training=data.get("training") or {},
        ui=data.get("ui") or {},
        assets=data.get("assets") or {},
        unknown={k: v for k, v in data.items() if k not in KNOWN_KEYS},
    )


def _check_graph(graph: Any, problems: Problems, catalog: Catalog) -> tuple[list[Node], list[tuple[int, Edge]]]:
    nodes: list[Node] = []
    edges: list[tuple[int, Edge]] = []
    if not isinstance(graph, dict):
        problems.add("$.graph", "missing or not an object")
        return nodes, edges
    raw_nodes = graph.get("nodes", [])
    raw_edges = graph.get("edges", [])
    if not isinstance(raw_nodes, list):
        problems.add("$.graph.nodes", "must be a list")
        raw_nodes = []
    if not isinstance(raw_edges, list):
        problems.add("$.graph.edges", "must be a list")
        raw_edges = []
    ids: set[str] = set()
    for i, nd in enumerate(raw_nodes):
        where = f"$.graph.nodes[{i}]"
        if not isinstance(nd, dict):
            problems.add(where, "must be an object")
            continue
        node_id, type_id = nd.get("id"), nd.get("type")
        if not isinstance(node_id, str) or not node_id:
            problems.add(f"{where}.id", "missing node id")
            continue
        if node_id in ids:
            problems.add(f"{where}.id", f"node id {node_id!r} is used twice")
            continue
        if not isinstance(type_id, str) or not type_id:
            problems.add(f"{where}.type", "missing layer type")
            continue
        params = nd.get("params", {})
        if not isinstance(params, dict):
            problems.add(f"{where}.params", "must be an object")
            continue
        pos = nd.get("position", [0, 0])
        if (
            not isinstance(pos, list)
            or len(pos) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)
        ):
            problems.add(f"{where}.position", "must be [x, y]")
            pos = [0, 0]
        title = nd.get("title", "")
        if not isinstance(title, str):
            problems.add(f"{where}.title", "must be text")
            title = ""
        trainable = nd.get("trainable", True)
        if not isinstance(trainable, bool):
            problems.add(f"{where}.trainable", "must be true or false")
            trainable = True
        canonical = catalog.canonical_id(type_id)
        # Unknown types are kept as opaque nodes (reported as diagnostics, not dropped).
        nodes.append(
            Node(
                id=node_id,
                type=canonical or type_id,
                params=params,
                title=title,
                position=(float(pos[0]), float(pos[1])),
                trainable=trainable,
            )
        )
        ids.add(node_id)
    for i, ed in enumerate(raw_edges):
        where = f"$.graph.edges[{i}]"
        if not isinstance(ed, dict):
            problems.add(where, "must be an object")
            continue
        bad = False
        for key in ("source", "target"):
            value = ed.get(key)
            if not isinstance(value, str):
                problems.add(f"{where}.{key}", "missing node id")
                bad = True
            elif value not in ids:
                problems.add(f"{where}.{key}", f"refers to a missing node {value!r}")
                bad = True
        for key in ("source_port", "target_port"):
            value = ed.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.add(f"{where}.{key}", "must be a whole number >= 0")
                bad = True
        if not bad:
            edges.append((i, Edge.from_dict(ed)))
    return nodes, edges


def _raise(source: str, problems: Problems) -> None:
    first_path, first_msg = problems.items[0]
    more = len(problems.items) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    raise ProjectError(f"{source}: {first_path}: {first_msg}{suffix}", problems.items)


def load_project(path: str | os.PathLike, catalog: Catalog | None = None) -> Project:
    """Load a project file; never writes to it."""
    path = Path(path)
    data = read_json(path)
    project = project_from_dict(data, str(path), catalog)
    project.path = path
    if project.name == "untitled":
        project.name = project_stem(path)
    return project


def save_project(project: Project, path: str | os.PathLike | None = None) -> Path:
    """Write the project atomically (temp file, fsync, rename) and return the path."""
    target = Path(path) if path is not None else project.path
    if target is None:
        raise ProjectError("the project has no file name yet; choose one with Save As")
    text = json.dumps(project.to_dict(), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(target, text)
    project.path = target
    return target


def atomic_write_text(target: Path, text: str) -> None:
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ProjectError(f"{target}: cannot write here ({exc.strerror}); choose another folder") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ProjectError(f"{target}: could not save ({exc.strerror}); the previous file is unchanged") from None
