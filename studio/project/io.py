"""Load and save project files (docs/project-format.md).

Loading runs in two phases (STYLE.md 8): read and parse the JSON, migrate an
older version, check the plain records collecting every problem with its JSON
path (`studio.project.records`); then, only if nothing is fatal, build the
`Graph`, collecting every refused wire (cycles, taken ports) the same way.
Problems raise one `ProjectError` whose message is one line naming the file,
the JSON path and the problem, and whose `problems` lists them all.

Loading never writes. Saving is atomic: write a temporary file beside the
target, fsync, rename over it; if anything fails the previous file is intact.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from studio.core import files
from studio.core.errors import GraphError, ProjectError
from studio.core.text import shorten
from studio.graph.catalog import Catalog, default_catalog
from studio.graph.model import Graph
from studio.project.migrations import MIGRATIONS, MigrationError, migrate, register_migration
from studio.project.model import FORMAT, Project, project_stem
from studio.project.records import KNOWN_KEYS, Problems, check_records
from studio.project.weights import read_project_weights, save_project_weights

__all__ = [
    "KNOWN_KEYS",
    "MAX_BYTES",
    "MIGRATIONS",
    "MigrationError",
    "Problems",
    "atomic_write_text",
    "dumps_project",
    "load_project",
    "migrate",
    "project_from_dict",
    "read_json",
    "register_migration",
    "save_project",
]

# Files larger than this are refused before reading: a project is a few MB at most.
MAX_BYTES = 64 * 1024 * 1024
# How many problems the one-line message spells out before "(and N more)".
SHOWN_PROBLEMS = 3


def read_json(path: str | os.PathLike, max_bytes: int | None = None) -> Any:
    """Read a JSON file, turning every failure into a one-line ProjectError.

    The size is checked before reading, and at most `max_bytes + 1` bytes are
    ever read, so a huge file (or one that keeps growing) is refused quickly."""
    path = Path(path)
    limit = MAX_BYTES if max_bytes is None else max_bytes
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ProjectError(f"{path}: is a folder, not a project file")
    if not stat.S_ISREG(st.st_mode):
        raise ProjectError(f"{path}: not a regular file; a project is a .studio.json file")
    if st.st_size == 0:
        raise ProjectError(f"{path}: the file is empty; it may have been cut off while saving")
    if st.st_size > limit:
        raise ProjectError(_too_big(path, st.st_size, limit))
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read ({exc.strerror})") from None
    if len(raw) > limit:
        raise ProjectError(_too_big(path, len(raw), limit))
    return parse_json(raw, str(path))


def _too_big(path: Path, size: int, limit: int) -> str:
    return (
        f"{path}: the file is {size / 2**20:,.0f} MB but a project file is at most "
        f"{limit / 2**20:,.0f} MB; refusing to read it (is this really a .studio.json project?)"
    )


def parse_json(raw: bytes, source: str) -> Any:
    """Decode UTF-8 JSON bytes; every failure becomes a one-line ProjectError."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data":
            raise ProjectError(
                f"{source}: the file ends in the middle of a character; it is truncated"
            ) from None
        raise ProjectError(
            f"{source}: not a text file (byte {exc.start} is not UTF-8); a project file is UTF-8 JSON"
        ) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise ProjectError(
                f"{source}: the JSON ends too early at line {exc.lineno}, column {exc.colno}; "
                "the file is truncated"
            ) from None
        raise ProjectError(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    except RecursionError:
        raise ProjectError(f"{source}: the JSON is nested too deeply to be a project file") from None
    except ValueError as exc:  # NaN/Infinity, or an integer with thousands of digits
        if "digits" in str(exc):
            raise ProjectError(
                f"{source}: a number in the file has more than {sys.get_int_max_str_digits():,} digits; "
                "no setting needs a number that long, so the file is damaged or not a project"
            ) from None
        raise ProjectError(f"{source}: not valid JSON ({shorten(str(exc))})") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; write a finite number instead")


def project_from_dict(data: Any, source: str = "project", catalog: Catalog | None = None) -> Project:
    """Check plain records and build a Project; raise ProjectError listing every problem."""
    catalog = catalog or default_catalog()
    if not isinstance(data, dict):
        message = f"a project file holds a JSON object, not {_json_type(data)}"
        raise ProjectError(f"{source}: $: {message}", [("$", message)])
    fmt = data.get("format")
    if fmt != FORMAT:
        shown = "missing" if fmt is None else f"{fmt!r}"
        message = f"not a Network Studio project (format is {shown}, expected {FORMAT!r})"
        raise ProjectError(f"{source}: $.format: {message}", [("$.format", message)])
    data = migrate(data, source)

    # Phase 1: the plain records.
    problems = Problems()
    records = check_records(data, problems, catalog)

    # Phase 2: build the graph from the records that passed, so refused wires
    # (cycles, taken ports) are reported together with the problems above.
    # Parameter values are kept as written: a bad one is a diagnostic on its node.
    graph = Graph(catalog)
    for node in records.nodes:
        graph.add_node(node)
    for i, edge in records.edges:
        try:
            graph.connect(edge, check_shapes=False)
        except GraphError as exc:
            problems.add(f"$.graph.edges[{i}]", str(exc))
        except (TypeError, ValueError, KeyError) as exc:  # a spec choking on a bad param value
            problems.add(f"$.graph.edges[{i}]", f"cannot check this wire ({exc}); fix the nodes' parameters")
    for group in records.groups:
        graph.add_group(group)
    if problems:
        _raise(source, problems)
    return Project(
        graph=graph,
        name=records.name,
        description=records.description,
        dataset=records.dataset,
        training=records.training,
        ui=records.ui,
        assets=records.assets,
        unknown=records.unknown,
        graph_extras=records.graph_extras,
        node_extras=records.node_extras,
        edge_extras=records.edge_extras,
    )


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return "a number"


def _raise(source: str, problems: Problems) -> None:
    """One line: the first problems spelled out, then how many more."""
    shown = "; ".join(f"{path}: {msg}" for path, msg in problems.items[:SHOWN_PROBLEMS])
    more = len(problems.items) - SHOWN_PROBLEMS
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
    raise ProjectError(f"{source}: {shown}{suffix}", problems.items)


def load_project(path: str | os.PathLike, catalog: Catalog | None = None, *,
                 weights_beside: str | os.PathLike | None = None) -> Project:
    """Load a project file and its weights file (assets "weights"); never writes to them.

    `weights_beside`: the project file whose folder holds the weights (an autosave
    kept elsewhere names the weights of the project it recovers)."""
    path = Path(path)
    data = read_json(path)
    project = project_from_dict(data, str(path), catalog)
    project.path = Path(weights_beside) if weights_beside is not None else path
    read_project_weights(project)  # a damaged weights file: one WeightsFileError naming it
    project.path = path
    if project.name == "untitled":
        project.name = project_stem(path)
    return project


def dumps_project(project: Project, positions: Mapping[str, Sequence[float]] | None = None) -> str:
    """The file's text: indented UTF-8 JSON ending in a newline. `positions`
    (node id -> x, y) are written instead of those nodes' positions in the
    graph, e.g. where the file had a node the window only spread out to show."""
    data = project.to_dict()
    if positions:
        for node in data["graph"]["nodes"]:
            if node["id"] in positions:
                node["position"] = [float(v) for v in positions[node["id"]]]
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError as exc:  # NaN or infinity in a parameter
        raise ProjectError(
            f"cannot save {project.name!r}: a value is NaN or infinite ({exc}); fix the parameter first"
        ) from None
    except TypeError as exc:
        raise ProjectError(f"cannot save {project.name!r}: a value is not JSON data ({exc})") from None


def save_project(project: Project, path: str | os.PathLike | None = None,
                 positions: Mapping[str, Sequence[float]] | None = None) -> Path:
    """Write the project atomically (temp file, fsync, rename) and return the path.

    The text is produced before the disk is touched, so a project that cannot
    be written as JSON leaves the previous file as it was. The weights
    (`project.weights`, when they changed) are written first, atomically, to
    `NAME.weights.npz` beside it. `positions`: as in `dumps_project`."""
    target = Path(path) if path is not None else project.path
    if target is None:
        raise ProjectError("the project has no file name yet; choose one with Save As")
    text = dumps_project(project, positions)
    assets = dict(project.assets) if isinstance(project.assets, dict) else project.assets
    save_project_weights(project, target, [n.id for n in project.graph.nodes])
    if project.assets != assets:
        text = dumps_project(project, positions)
    atomic_write_text(target, text)
    project.path = target
    return target


def atomic_write_text(target: str | os.PathLike, text: str) -> None:
    """Replace `target` with `text` all at once, or leave it untouched.

    A temporary file in the same folder is written, flushed and fsynced, given
    the old file's permissions, then renamed over the target; the folder is
    fsynced so the rename survives a crash. A symlink is followed, so the
    file it points to is replaced, not the link."""
    target = Path(target)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.is_dir():
        raise ProjectError(f"{target}: is a folder; choose a file name ending in .studio.json")
    folder = target.parent
    if not folder.is_dir():
        raise ProjectError(f"{target}: the folder {folder} does not exist")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = 0o644
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ProjectError(f"{target}: cannot write in {folder} ({exc.strerror}); choose another folder") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ProjectError(
                f"{target}: could not save ({exc.strerror or exc}); the previous file is unchanged"
            ) from None
        raise
    files.fsync_folder(folder)
