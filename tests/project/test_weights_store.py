"""The per-node weight store (studio.project.weights): the file numpy reads back, damaged or
hostile files refused naming the file, undoable edits, and which stored weights no longer fit."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from studio.graph.edits import Batch, History, SetParam
from studio.graph.inference import analyse
from studio.graph.model import Edge, Graph, Node
from studio.project.io import load_project, save_project
from studio.project.model import Project
from studio.project.weights import (
    ResetAllWeights,
    SetWeights,
    WeightEntry,
    WeightsFileError,
    entries_from_bytes,
    entries_to_bytes,
    read_weights,
    stale_nodes,
)


def _graph() -> Graph:
    graph = Graph()
    graph.add_node(Node("Input", {"batch_shape": [None, 3]}, title="x", id="x"))
    graph.add_node(Node("Dense", {"units": 2}, title="d", id="d"))
    graph.connect(Edge("x", "d"))
    return graph


def _entry(origin: str = "imported") -> WeightEntry:
    return WeightEntry.of([np.arange(6, dtype="float32").reshape(3, 2), np.array([0.123, -1.5], "float32")], origin)


def _project(tmp_path) -> Project:
    project = Project(graph=_graph(), name="p", path=tmp_path / "p.studio.json")
    project.weights.set("d", _entry())
    return project


def test_saved_weights_are_a_numpy_npz_and_load_back_identical(tmp_path):
    project = _project(tmp_path)
    save_project(project)
    assert json.loads((tmp_path / "p.studio.json").read_text())["assets"] == {"weights": "p.weights.npz"}
    with np.load(tmp_path / "p.weights.npz", allow_pickle=False) as saved:
        arrays = [saved[name] for name in sorted(f for f in saved.files if f.startswith("w"))]
    assert arrays[0].dtype == np.float32 and arrays[0].shape == (3, 2)
    assert np.array_equal(arrays[1], np.array([0.123, -1.5], "float32"))
    again = load_project(tmp_path / "p.studio.json")
    assert again.weights.get("d") == project.weights.get("d")


def test_every_dtype_and_shape_round_trips(tmp_path):
    arrays = [np.array(3.5, "float64"), np.zeros((0, 4), "float16"), np.arange(24, dtype="int8").reshape(2, 3, 4),
              np.array([True, False]), np.arange(5, dtype="uint16"), np.ones((2, 2, 2, 2, 2), "int64")]
    entry = WeightEntry.of(arrays, "pasted")
    back = entries_from_bytes(entries_to_bytes({"n": entry}))["n"]
    assert back == entry
    with zipfile.ZipFile(io.BytesIO(entries_to_bytes({"n": entry}))) as archive:
        for i, array in enumerate(arrays):
            loaded = np.load(io.BytesIO(archive.read(f"w{i}.npy")), allow_pickle=False)
            assert loaded.dtype == array.dtype and loaded.shape == array.shape and np.array_equal(loaded, array)


def test_removing_every_weight_removes_the_file_from_the_assets(tmp_path):
    project = _project(tmp_path)
    save_project(project)
    project.weights.set("d", None)
    save_project(project)
    assert json.loads((tmp_path / "p.studio.json").read_text())["assets"] == {}
    assert load_project(tmp_path / "p.studio.json").weights.empty


@pytest.mark.parametrize("damage", ["truncated", "not a zip", "no index", "bad header", "object dtype",
                                    "short data", "newer version", "missing"])
def test_a_damaged_weights_file_is_refused_in_one_line_naming_it(tmp_path, damage):
    project = _project(tmp_path)
    save_project(project)
    path = tmp_path / "p.weights.npz"
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if damage == "truncated":
        path.write_bytes(data[: len(data) - 40])
    elif damage == "not a zip":
        path.write_bytes(b"hello")
    elif damage == "missing":
        path.unlink()
    else:
        if damage == "no index":
            del members["index.json"]
        elif damage == "bad header":
            members["w0.npy"] = members["w0.npy"].replace(b"'descr'", b"'DESCR'")
        elif damage == "object dtype":
            buffer = io.BytesIO()
            np.save(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
            members["w0.npy"] = buffer.getvalue()
        elif damage == "short data":
            members["w0.npy"] = members["w0.npy"][:-4]
        elif damage == "newer version":
            index = json.loads(members["index.json"])
            index["version"] = 99
            members["index.json"] = json.dumps(index).encode()
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in members.items():
                archive.writestr(name, content)
    with pytest.raises(WeightsFileError) as info:
        load_project(tmp_path / "p.studio.json")
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    if damage == "newer version":
        assert "newer Network Studio" in message


def test_weight_edits_undo_and_redo_with_graph_edits():
    graph = _graph()
    project = Project(graph=graph)
    store = project.weights
    first, second = _entry(), _entry("run 20260101-000000-abcdef")
    store.set("d", first)
    history = History(graph)
    history.push(SetWeights(store, {"d": second}, "Use run weights"))
    assert store.get("d") is second
    history.push(SetWeights(store, {"d": None}))
    assert store.get("d") is None
    history.undo()
    assert store.get("d") is second
    history.undo()
    assert store.get("d") is first
    history.redo()
    history.push(ResetAllWeights(store))
    assert store.empty
    history.undo()
    assert store.get("d") is second
    history.push(Batch([SetParam("d", "units", 4), SetWeights(store, {"d": None})], "Change units"))
    assert store.get("d") is None and graph.node("d").params["units"] == 4
    history.undo()
    assert store.get("d") is second and graph.node("d").params["units"] == 2


def test_stale_nodes_are_those_whose_parameter_count_changed():
    graph = _graph()
    project = Project(graph=graph)
    project.weights.set("d", _entry())
    assert stale_nodes(project.weights, analyse(graph)) == []
    SetParam("d", "activation", "relu").apply(graph)
    assert stale_nodes(project.weights, analyse(graph)) == []
    SetParam("d", "units", 3).apply(graph)
    assert stale_nodes(project.weights, analyse(graph)) == ["d"]


def test_an_unchanged_store_is_not_written_again(tmp_path):
    project = _project(tmp_path)
    save_project(project)
    path = tmp_path / "p.weights.npz"
    path.write_bytes(path.read_bytes())  # same content, new inode and time
    stamp = path.stat().st_mtime_ns
    project.description = "changed"
    save_project(project)
    assert path.stat().st_mtime_ns == stamp
    project.weights.set("d", _entry("pasted"))
    save_project(project)
    assert read_weights(path).get("d").origin == "pasted"


def test_an_autosave_kept_elsewhere_loads_the_weights_saved_beside_its_project(tmp_path):
    from studio.project.io import dumps_project

    project = _project(tmp_path)
    save_project(project)
    elsewhere = tmp_path / "recovery"
    elsewhere.mkdir()
    (elsewhere / "session.studio.json").write_text(dumps_project(project))
    with pytest.raises(WeightsFileError, match="missing"):
        load_project(elsewhere / "session.studio.json")
    recovered = load_project(elsewhere / "session.studio.json", weights_beside=tmp_path / "p.studio.json")
    assert recovered.weights.get("d") == project.weights.get("d")


def test_an_old_keras_weights_file_goes_along_on_save_as_and_is_never_read_from_elsewhere(tmp_path):
    project = Project(graph=_graph(), name="old", path=tmp_path / "old.studio.json",
                      assets={"weights": "old.weights.h5"})
    (tmp_path / "old.weights.h5").write_bytes(b"keras weights")
    save_project(project)
    project = load_project(tmp_path / "old.studio.json")
    assert project.weights.legacy == tmp_path / "old.weights.h5"
    project.weights.set("d", None)  # reset while the old file is still unread
    other = tmp_path / "moved"
    other.mkdir()
    save_project(project, other / "new.studio.json")
    assert (other / "old.weights.h5").read_bytes() == b"keras weights"
    again = load_project(other / "new.studio.json")
    assert again.weights.legacy == other / "old.weights.h5" and again.weights.skip == {"d"}
    # A weights file naming an old file outside the project's folder is refused.
    path = other / "new.weights.npz"
    with zipfile.ZipFile(path) as archive:
        index = json.loads(archive.read("index.json"))
    index["legacy"] = "../../etc/secret.h5"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("index.json", json.dumps(index))
    with pytest.raises(WeightsFileError, match="beside the project"):
        load_project(other / "new.studio.json")


def test_a_compressed_array_that_would_unpack_to_far_more_is_refused_before_reading(tmp_path):
    project = _project(tmp_path)
    save_project(project)
    path = tmp_path / "p.weights.npz"
    with zipfile.ZipFile(path) as archive:
        index = json.loads(archive.read("index.json"))
    index["nodes"]["d"]["arrays"] = ["w0"]
    header = b"\x93NUMPY\x01\x00" + b"v\x00" + b"{'descr': '<f4', 'fortran_order': False, 'shape': (33554432,), }"
    header = header + b" " * (128 - len(header) - 1) + b"\n"
    header = header[:8] + (len(header) - 10).to_bytes(2, "little") + header[10:]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.json", json.dumps(index))
        with archive.open("w0.npy", "w", force_zip64=True) as handle:  # 128 MiB of zeros, a few hundred KB on disk
            handle.write(header)
            chunk = bytes(2**24)
            for _ in range(8):
                handle.write(chunk)
    assert path.stat().st_size < 2**20
    with pytest.raises(WeightsFileError, match="decompression bomb"):
        load_project(tmp_path / "p.studio.json")
