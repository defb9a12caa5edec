"""Per-node weights: part of the graph's state, saved beside the project.

    store = project.weights                 # a WeightStore
    store.get(node_id)                      # WeightEntry(arrays, origin) or None (random init)
    SetWeights(store, {node_id: entry})     # an undoable Edit (None resets to random)

Each node either has stored weights (its layer's `get_weights()` list, in that
order, with where they came from: "imported", "run <id>", "pasted") or none.
The arrays are kept as plain `Array(dtype, shape, data)` records so this
package stays pure (no numpy): the Keras side turns them into numpy arrays
(`studio.compiler.keras_build.apply_weights`). Entries never change once made,
so undo keeps references, not copies.

On disk the store is `NAME.weights.npz` beside the project (a zip of `.npy`
files plus `index.json`, readable by `numpy.load(..., allow_pickle=False)`),
written and read here with the standard library only: only numeric dtypes are
accepted, every size is checked against its header before anything is read,
and nothing in the file is ever evaluated.

An older project names a Keras `.weights.h5` in its assets instead: the store
then remembers it as `legacy` (reading it needs Keras, which builds the model
once: `keras_build.legacy_weights`); nodes without an entry take their weights
from it unless reset (`skip`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from studio.core import files
from studio.core.errors import ProjectError
from studio.graph.edits import Edit

FORMAT = "network-studio-weights"
VERSION = 1
SUFFIX = ".weights.npz"
INDEX = "index.json"
IMPORTED = "imported"
PASTED = "pasted"

#: numpy type strings this file may hold (little-endian numbers and booleans; never objects).
DTYPES = {"<f2": 2, "<f4": 4, "<f8": 8, "|i1": 1, "<i2": 2, "<i4": 4, "<i8": 8,
          "|u1": 1, "<u2": 2, "<u4": 4, "<u8": 8, "|b1": 1}
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_RATIO = 200  # how much a compressed array may unpack to (weights barely compress; bombs do)
_HEADER = re.compile(r"^\{'descr': '([<>|][a-z]\d+)', 'fortran_order': (True|False), "
                     r"'shape': \(((?:\d+, ?)*\d*)\), *\}\s*$")


class WeightsFileError(ProjectError):
    """The weights file beside a project cannot be used; the message names it."""


def run_origin(run_id: str) -> str:
    return f"run {run_id}"


@dataclass(frozen=True)
class Array:
    """One weight array as plain data: numpy's type string, shape and C-order bytes."""

    dtype: str
    shape: tuple[int, ...]
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @classmethod
    def of(cls, array: Any) -> Array:
        """From a numpy array (duck-typed: `dtype.str`, `shape`, `tobytes`)."""
        dtype = array.dtype.str
        if dtype not in DTYPES:
            raise ValueError(f"weights of type {array.dtype} cannot be stored; only numbers are")
        return cls(dtype, tuple(int(d) for d in array.shape), array.tobytes(order="C"))


@dataclass(frozen=True)
class WeightEntry:
    """A node's stored weights in its layer's `get_weights()` order, and where they came from."""

    arrays: tuple[Array, ...]
    origin: str = IMPORTED

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        return [a.shape for a in self.arrays]

    @property
    def size(self) -> int:
        """How many numbers: the layer's parameter count when the weights fit it."""
        return sum(a.size for a in self.arrays)

    @classmethod
    def of(cls, arrays: Iterable[Any], origin: str = IMPORTED) -> WeightEntry:
        return cls(tuple(a if isinstance(a, Array) else Array.of(a) for a in arrays), origin)


class WeightStore:
    """Node id -> `WeightEntry`; a node without one starts from random weights.

    Entries of nodes no longer in the graph are kept (an undone delete brings
    the node back with its weights) and left out when the store is saved."""

    def __init__(self, entries: Optional[Mapping[str, WeightEntry]] = None,
                 legacy: Optional[Path] = None, skip: Iterable[str] = ()) -> None:
        self.entries: dict[str, WeightEntry] = dict(entries or {})
        self.legacy: Optional[Path] = legacy  # a Keras .weights.h5 not read yet
        self.skip: set[str] = set(skip)  # nodes reset while `legacy` is pending
        self.revision = 0  # counts changes, so a save can skip an unchanged file
        self.saved: Optional[tuple[Path, int]] = None  # (file, revision) last written or read

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.entries

    def __bool__(self) -> bool:
        return True

    def get(self, node_id: str) -> Optional[WeightEntry]:
        return self.entries.get(node_id)

    @property
    def empty(self) -> bool:
        return not self.entries and self.legacy is None

    def state(self) -> tuple:
        return dict(self.entries), self.legacy, set(self.skip)

    def restore(self, state: tuple) -> None:
        entries, legacy, skip = state
        self.entries, self.legacy, self.skip = dict(entries), legacy, set(skip)
        self.revision += 1

    def set(self, node_id: str, entry: Optional[WeightEntry]) -> None:
        """Store `entry` for the node, or with None reset it to random weights."""
        if entry is None:
            self.entries.pop(node_id, None)
            if self.legacy is not None:
                self.skip.add(node_id)
        else:
            self.entries[node_id] = entry
            self.skip.discard(node_id)
        self.revision += 1

    def clear(self) -> None:
        self.entries, self.legacy, self.skip = {}, None, set()
        self.revision += 1

    def for_nodes(self, node_ids: Iterable[str]) -> dict[str, WeightEntry]:
        """The entries of these nodes (those that have one)."""
        return {n: self.entries[n] for n in node_ids if n in self.entries}

    def copy(self) -> WeightStore:
        """A snapshot (entries are immutable, so this is cheap) for another thread to read."""
        return WeightStore(self.entries, self.legacy, self.skip)


class SetWeights(Edit):
    """Undoable: give nodes stored weights (`WeightEntry`) or reset them to random (None).

    It touches the store, not the graph, so it can join a graph edit in one `Batch`."""

    def __init__(self, store: WeightStore, changes: Mapping[str, Optional[WeightEntry]], text: str = "") -> None:
        self.store = store
        self.changes = dict(changes)
        n = len(self.changes)
        self.text = text or f"Reset weights of {n} layer{'s' if n != 1 else ''}"
        self._old: Optional[tuple] = None

    def apply(self, graph: Any) -> None:
        self._old = self.store.state()
        for node_id, entry in self.changes.items():
            self.store.set(node_id, entry)

    def revert(self, graph: Any) -> None:
        assert self._old is not None
        self.store.restore(self._old)


class ResetAllWeights(Edit):
    """Undoable: every node back to random weights (the old Keras file too)."""

    text = "Reset all weights"

    def __init__(self, store: WeightStore) -> None:
        self.store = store
        self._old: Optional[tuple] = None

    def apply(self, graph: Any) -> None:
        self._old = self.store.state()
        self.store.clear()

    def revert(self, graph: Any) -> None:
        assert self._old is not None
        self.store.restore(self._old)


def stale_nodes(store: WeightStore, report: Any) -> list[str]:
    """Nodes whose stored weights no longer fit: the parameter count the shape report
    gives the node (`report.params[node]`) differs from the stored count. Nodes whose
    count is unknown keep their weights."""
    stale = []
    for node_id, entry in store.entries.items():
        params = report.params.get(node_id)
        if params is None:
            continue
        if sum(params) != entry.size:
            stale.append(node_id)
    return stale


def summary(store: WeightStore, node_ids: Iterable[str]) -> dict[str, int]:
    """How many of these nodes have weights from each origin, e.g. {"imported": 3}."""
    counts: dict[str, int] = {}
    for node_id in node_ids:
        entry = store.entries.get(node_id)
        if entry is not None:
            counts[entry.origin] = counts.get(entry.origin, 0) + 1
    return counts


# --- the file ------------------------------------------------------------------------------
def weights_file_for(project_path: Path) -> Path:
    """`NAME.weights.npz` beside `NAME.studio.json`."""
    from studio.project.model import project_stem

    return Path(project_path).with_name(project_stem(Path(project_path)) + SUFFIX)


def _npy(array: Array) -> bytes:
    shape = "(" + "".join(f"{d}, " for d in array.shape).rstrip(" ")
    if len(array.shape) > 1:
        shape = shape.rstrip(",")
    shape += ")"
    header = f"{{'descr': '{array.dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


def write_weights(path: Path, store: WeightStore, node_ids: Iterable[str], atomic: bool = True) -> None:
    """Write the entries of `node_ids` (and the pending legacy file) to `path`, atomically
    (`atomic=False`: straight into `path`, e.g. a temporary file the caller renames;
    an `OSError` then comes out as it is)."""
    path = Path(path)
    nodes, members = _members(store.for_nodes(node_ids))
    index: dict[str, Any] = {"format": FORMAT, "version": VERSION, "nodes": nodes}
    if store.legacy is not None:  # beside the project (save_project_weights copies it there)
        index["legacy"] = Path(store.legacy).name
        index["skip"] = sorted(store.skip)

    def write(tmp: Any) -> None:
        _write_zip(tmp, index, members)

    if not atomic:
        write(path)
        return
    try:
        files.atomic_write(path, write)
    except files.FileWriteError as exc:
        raise WeightsFileError(f"{path}: cannot write the weights ({exc.reason}); the previous file is unchanged"
                               ) from None


def _write_zip(target: Any, index: dict, members: list[tuple[str, Array]]) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr(INDEX, json.dumps(index, indent=1))
        for name, array in members:
            with archive.open(name + ".npy", "w", force_zip64=True) as handle:
                handle.write(_npy(array))
                handle.write(array.data)


def _members(entries: Mapping[str, WeightEntry]) -> tuple[dict, list[tuple[str, Array]]]:
    nodes: dict[str, Any] = {}
    members: list[tuple[str, Array]] = []
    for node_id, entry in entries.items():
        names = []
        for array in entry.arrays:
            names.append(f"w{len(members)}")
            members.append((names[-1], array))
        nodes[node_id] = {"origin": entry.origin, "arrays": names}
    return nodes, members


def entries_to_bytes(entries: Mapping[str, WeightEntry]) -> bytes:
    """Some nodes' weights as the bytes of a weights file (for the clipboard)."""
    import io

    nodes, members = _members(entries)
    buffer = io.BytesIO()
    _write_zip(buffer, {"format": FORMAT, "version": VERSION, "nodes": nodes}, members)
    return buffer.getvalue()


def entries_from_bytes(data: bytes, source: str = "the clipboard") -> dict[str, WeightEntry]:
    """The entries in bytes written by `entries_to_bytes`; a `WeightsFileError` naming `source`."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _read(archive, Path(source), Path(".")).entries
    except WeightsFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError,
            struct.error, UnicodeDecodeError, NotImplementedError) as exc:
        raise WeightsFileError(_damaged(Path(source), str(exc) or type(exc).__name__)) from None


def read_weights(path: Path, folder: Optional[Path] = None) -> WeightStore:
    """Read a weights file; a `WeightsFileError` naming it when it is missing, damaged or not ours."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return _read(archive, path, Path(folder) if folder is not None else path.parent)
    except WeightsFileError:
        raise
    except FileNotFoundError:
        raise WeightsFileError(f"{path}: the project's weights file is missing; put it back beside the project, "
                               "or remove \"weights\" from the project's assets to start from random weights"
                               ) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError,
            struct.error, UnicodeDecodeError, NotImplementedError) as exc:
        raise WeightsFileError(_damaged(path, str(exc) or type(exc).__name__)) from None


def _damaged(path: Path, why: str) -> str:
    return (f"{path}: the weights file is damaged or not a Network Studio weights file ({why[:200]}); "
            "restore it, or remove \"weights\" from the project's assets to start from random weights")


def _read(archive: zipfile.ZipFile, path: Path, folder: Path) -> WeightStore:
    infos = {info.filename: info for info in archive.infolist()}
    if INDEX not in infos:
        raise WeightsFileError(_damaged(path, f"no {INDEX}"))
    if infos[INDEX].file_size > MAX_INDEX_BYTES:
        raise WeightsFileError(_damaged(path, f"{INDEX} is too large"))
    index = json.loads(archive.read(INDEX).decode("utf-8"))
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise WeightsFileError(_damaged(path, f"{INDEX} does not say {FORMAT!r}"))
    if not isinstance(index.get("version"), int) or index["version"] > VERSION:
        raise WeightsFileError(f"{path}: written by a newer Network Studio (weights file version "
                               f"{index.get('version')!r}); update the app to open it")
    nodes = index.get("nodes")
    if not isinstance(nodes, dict):
        raise WeightsFileError(_damaged(path, "no node list"))
    entries: dict[str, WeightEntry] = {}
    for node_id, record in nodes.items():
        if not isinstance(record, dict) or not isinstance(record.get("arrays"), list):
            raise WeightsFileError(_damaged(path, f"node {node_id!r} has no array list"))
        arrays = []
        for name in record["arrays"]:
            info = infos.get(f"{name}.npy") if isinstance(name, str) else None
            if info is None:
                raise WeightsFileError(_damaged(path, f"array {name!r} of node {node_id!r} is missing"))
            arrays.append(_read_array(archive, info, path))
        origin = record.get("origin")
        entries[str(node_id)] = WeightEntry(tuple(arrays), origin if isinstance(origin, str) else IMPORTED)
    legacy = index.get("legacy")
    if legacy is not None and (not isinstance(legacy, str) or not _bare_name(legacy)):
        raise WeightsFileError(_damaged(path, "its old Keras weights file must be a file beside the project"))
    skip = index.get("skip") or []
    store = WeightStore(entries, (folder / legacy) if isinstance(legacy, str) and legacy else None,
                        [s for s in skip if isinstance(s, str)])
    return store


def _bare_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and ":" not in name


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> Array:
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > MAX_RATIO * info.compress_size + 2**20:
        raise WeightsFileError(_damaged(path, f"{info.filename} would unpack to {info.file_size:,} bytes from "
                                           f"{info.compress_size:,} (a decompression bomb?)"))
    with archive.open(info) as handle:
        magic = handle.read(8)
        if len(magic) != 8 or magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2, 3):
            raise WeightsFileError(_damaged(path, f"{info.filename} is not a .npy array"))
        size_format = "<H" if magic[6] == 1 else "<I"
        raw = handle.read(struct.calcsize(size_format))
        (length,) = struct.unpack(size_format, raw)
        if length > 65536:
            raise WeightsFileError(_damaged(path, f"{info.filename} has an oversized header"))
        header = handle.read(length).decode("latin1")
        match = _HEADER.match(header)
        if match is None:
            raise WeightsFileError(_damaged(path, f"{info.filename} has a header this app does not read"))
        dtype, fortran, dims = match.groups()
        if dtype not in DTYPES:
            raise WeightsFileError(_damaged(path, f"{info.filename} holds {dtype} values; weights are numbers"))
        if fortran == "True":
            raise WeightsFileError(_damaged(path, f"{info.filename} is in Fortran order"))
        shape = tuple(int(d) for d in dims.replace(" ", "").split(",") if d)
        count = 1
        for d in shape:
            count *= d
        expected = count * DTYPES[dtype]
        start = 8 + struct.calcsize(size_format) + length
        if info.file_size != start + expected:
            raise WeightsFileError(_damaged(path, f"{info.filename} should hold {expected:,} bytes of data, "
                                               f"not {info.file_size - start:,}"))
        data = handle.read(expected + 1)
        if len(data) != expected:
            raise WeightsFileError(_damaged(path, f"{info.filename} is truncated"))
    return Array(dtype, shape, data)


def read_project_weights(project: Any) -> None:
    """Fill `project.weights` from the file its assets name (called when a project is loaded).

    A `.npz` is read now (a damaged or missing one raises `WeightsFileError`); a Keras
    `.weights.h5` of an older version becomes the store's pending `legacy` file."""
    rel = project.assets.get("weights") if isinstance(project.assets, dict) else None
    if not isinstance(rel, str) or not rel or project.folder is None:
        return
    target = project.folder / rel
    if rel.endswith(".npz"):
        store = read_weights(target, project.folder)
        store.saved = (target, store.revision)
        project.weights = store
    elif rel.endswith(".h5") or rel.endswith(".keras"):
        project.weights = WeightStore(legacy=target)


def save_project_weights(project: Any, target: Path, node_ids: Iterable[str]) -> None:
    """Write the store beside `target` (a project file) when it changed, and point the
    assets at it; with nothing stored the assets name no weights file."""
    store: WeightStore = project.weights
    if store.revision == 0 and store.saved is None and store.empty:
        return  # a store nobody filled, read or changed: the assets stay as they are
    node_ids = [n for n in node_ids if n in store.entries]
    assets = project.assets if isinstance(project.assets, dict) else {}
    if not node_ids and store.legacy is None:
        assets.pop("weights", None)
        project.assets = assets
        return
    if not node_ids and not store.skip and store.legacy is not None and store.legacy.parent == Path(target).parent:
        assets["weights"] = store.legacy.name  # an old project, untouched: keep its Keras file
        project.assets = assets
        return
    path = weights_file_for(target)
    if store.legacy is not None and store.legacy.parent != path.parent:  # Save As elsewhere: take it along
        moved = path.parent / store.legacy.name
        if not moved.exists():
            try:
                files.atomic_write(moved, lambda tmp: shutil.copyfile(store.legacy, tmp))
            except (OSError, files.FileWriteError) as exc:
                raise WeightsFileError(f"{store.legacy}: cannot copy the old weights file beside "
                                       f"{Path(target).name} ({exc})") from None
        store.legacy = moved
        store.revision += 1
    if store.saved != (path, store.revision) or not os.path.isfile(path):
        write_weights(path, store, node_ids)
        store.saved = (path, store.revision)
    assets["weights"] = path.name
    project.assets = assets
