"""Loading project files: round trips, kept unknowns, and every problem reported with its JSON path."""

from __future__ import annotations

import json

import pytest

from studio.core.errors import ProjectError
from studio.graph import analyse
from studio.project import load_project, project_from_dict, save_project
from studio.project.io import read_json
from tests.project.samples import RAW_GRAPH, raw_project, sample_project, write_json


# --- round trips ---------------------------------------------------------------
def test_save_then_load_gives_the_same_graph_and_sections(tmp_path):
    project = sample_project()
    path = save_project(project, tmp_path / "sample.studio.json")
    loaded = load_project(path)
    assert loaded.graph.to_dict() == project.graph.to_dict()
    assert loaded.graph == project.graph
    for section in ("name", "description", "dataset", "training", "ui", "assets"):
        assert getattr(loaded, section) == getattr(project, section), section
    assert loaded.path == path
    # Saving the loaded project again writes byte-identical text.
    again = save_project(loaded, tmp_path / "again.studio.json")
    assert again.read_bytes() == path.read_bytes()


def test_the_file_has_format_and_integer_version(tmp_path):
    path = save_project(sample_project(), tmp_path / "p.studio.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "network-studio-project"
    assert data["version"] == 1 and isinstance(data["version"], int)


def test_unknown_keys_are_kept_at_every_level(tmp_path):
    data = raw_project(future_section={"a": [1, 2]}, another=3)
    data["graph"]["layout"] = "dagre"
    data["graph"]["nodes"][1]["color"] = "#ff0000"
    data["graph"]["edges"][0]["label"] = "skip"
    path = write_json(tmp_path / "p.studio.json", data)
    project = load_project(path)
    assert project.unknown == {"future_section": {"a": [1, 2]}, "another": 3}
    out = save_project(project, tmp_path / "out.studio.json")
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["future_section"] == {"a": [1, 2]} and saved["another"] == 3
    assert saved["graph"]["layout"] == "dagre"
    assert saved["graph"]["nodes"][1]["color"] == "#ff0000"
    assert saved["graph"]["edges"][0]["label"] == "skip"
    assert "color" not in saved["graph"]["nodes"][0]


def test_extras_of_deleted_nodes_are_dropped_on_save(tmp_path):
    data = raw_project()
    data["graph"]["nodes"][2]["color"] = "red"
    project = load_project(write_json(tmp_path / "p.studio.json", data))
    project.graph.remove_node("d2")
    saved = json.loads(save_project(project, tmp_path / "o.studio.json").read_text(encoding="utf-8"))
    assert all("color" not in n for n in saved["graph"]["nodes"])


def test_unknown_layer_type_is_kept_reported_and_round_trips_unchanged(tmp_path):
    data = raw_project()
    mystery = {"id": "m", "type": "QuantumDense", "title": "from the future",
               "params": {"qubits": 7, "nested": {"x": [1, None, "y"]}}, "position": [600.5, -20],
               "trainable": False, "hint": "new key"}
    data["graph"]["nodes"].append(mystery)
    data["graph"]["edges"].append({"source": "d2", "source_port": 0, "target": "m", "target_port": 0})
    path = write_json(tmp_path / "p.studio.json", data)
    project = load_project(path)
    node = project.graph.node("m")
    assert node.type == "QuantumDense" and node.params == mystery["params"]
    report = analyse(project.graph)
    [diag] = report.for_node("m")
    assert diag.severity == "warning" and "QuantumDense" in diag.message
    # The rest of the graph is still checked.
    assert report.outputs["d2"] == [(None, 2)]
    saved = json.loads(save_project(project, tmp_path / "o.studio.json").read_text(encoding="utf-8"))
    [written] = [n for n in saved["graph"]["nodes"] if n["id"] == "m"]
    assert written == mystery


def test_bad_parameters_load_and_are_reported_on_their_node(tmp_path):
    data = raw_project()
    data["graph"]["nodes"][1]["params"] = {"units": "many"}
    data["graph"]["nodes"][2]["params"] = {"units": -3, "activation": "softmax"}
    project = load_project(write_json(tmp_path / "p.studio.json", data))
    assert project.graph.node("d1").params == {"units": "many"}  # kept as written
    report = analyse(project.graph)
    errors = {(d.node, d.key) for d in report.errors}
    assert ("d1", "units") in errors and ("d2", "units") in errors
    [d1] = [d for d in report.errors if d.node == "d1"]
    assert "hidden" in d1.message and "units" in d1.message and "'many'" in d1.message


def test_legacy_layer_alias_is_renamed_to_its_current_id():
    from dataclasses import replace

    from studio.graph import Catalog, default_catalog

    dense = default_catalog().get("Dense")
    catalog = Catalog([default_catalog().get("Input"), replace(dense, legacy_ids=("FullyConnected",))])
    data = raw_project()
    data["graph"]["nodes"][1]["type"] = "FullyConnected"
    project = project_from_dict(data, catalog=catalog)
    assert project.graph.node("d1").type == "Dense"


def test_name_defaults_to_the_file_stem(tmp_path):
    data = raw_project()
    del data["name"]
    project = load_project(write_json(tmp_path / "iris net.studio.json", data))
    assert project.name == "iris net"


# --- problems --------------------------------------------------------------------
def problems_of(data) -> list[tuple[str, str]]:
    with pytest.raises(ProjectError) as info:
        project_from_dict(data, "p.studio.json")
    message = str(info.value)
    assert "\n" not in message and message.startswith("p.studio.json: ")
    return info.value.problems


def test_every_problem_is_reported_with_its_json_path():
    data = raw_project(name=5, training=[], assets={"w": "/etc/passwd", "ok": "a.h5", "up": "../x.h5"})
    nodes = data["graph"]["nodes"]
    nodes[0]["position"] = [0]
    nodes[1]["trainable"] = "yes"
    nodes.append({"id": "in", "type": "Dense"})  # duplicate id
    nodes.append({"id": "x", "params": []})  # no type, params not an object
    nodes.append("not a node")
    data["graph"]["edges"].append({"source": "d2", "target": "ghost"})
    data["graph"]["edges"].append({"source": "d1", "target": "d2", "target_port": -1})
    paths = [p for p, _ in problems_of(data)]
    for expected in (
        "$.graph.nodes[0].position",
        "$.graph.nodes[1].trainable",
        "$.graph.nodes[3].id",
        "$.graph.nodes[4].type",
        "$.graph.nodes[4].params",
        "$.graph.nodes[5]",
        "$.graph.edges[2].target",
        "$.graph.edges[3].target_port",
        "$.name",
        "$.training",
        "$.assets.w",
        "$.assets.up",
    ):
        assert expected in paths, (expected, paths)
    assert "$.assets.ok" not in paths
    # Edges to nodes that are themselves broken are not reported twice.
    assert not any(p.startswith("$.graph.edges[0]") or p.startswith("$.graph.edges[1]") for p in paths)


def test_the_message_names_the_first_problems_and_counts_the_rest():
    data = raw_project()
    data["graph"]["edges"] = [{"source": f"ghost{i}", "target": "d1"} for i in range(5)]
    with pytest.raises(ProjectError) as info:
        project_from_dict(data, "p.studio.json")
    message = str(info.value)
    assert message.startswith("p.studio.json: $.graph.edges[0].source: refers to a missing node 'ghost0'")
    assert "ghost2" in message and "ghost3" not in message and message.endswith("(and 2 more problems)")
    assert len(info.value.problems) == 5


def test_a_cycle_is_refused_at_the_closing_wire():
    data = raw_project()
    data["graph"]["nodes"] += [{"id": "a", "type": "Mystery"}, {"id": "b", "type": "Mystery"}]
    data["graph"]["edges"] += [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]
    [(path, message)] = problems_of(data)
    assert path == "$.graph.edges[3]" and "loop" in message


def test_wires_refused_by_the_graph_rules_are_all_reported():
    data = raw_project()
    data["graph"]["edges"] += [
        {"source": "in", "target": "d2"},  # input 0 of d2 is taken
        {"source": "d1", "target": "in"},  # an Input takes no wires
        {"source": "d1", "source_port": 3, "target": "d2", "target_port": 0},  # no such output
        {"source": "in", "target": "d1"},  # the same wire twice
    ]
    problems = dict(problems_of(data))
    assert "already wired" in problems["$.graph.edges[2]"]
    assert "Input" in problems["$.graph.edges[3]"]
    assert "output port 3" in problems["$.graph.edges[4]"]
    assert "$.graph.edges[0]" in problems["$.graph.edges[5]"]


@pytest.mark.parametrize(
    ("data", "path", "words"),
    [
        ([1, 2], "$", "JSON object"),
        ({"graph": {}}, "$.format", "not a Network Studio project"),
        (raw_project(format="keras-model"), "$.format", "'keras-model'"),
        (raw_project(version=99), "$.version", "newer Network Studio"),
        (raw_project(version="1"), "$.version", "whole number"),
        (raw_project(version=True), "$.version", "whole number"),
        (raw_project(version=0), "$.version", "older than any"),
        (raw_project(graph=None), "$.graph", "missing"),
        (raw_project(graph={"nodes": {}, "edges": []}), "$.graph.nodes", "must be a list"),
    ],
)
def test_structural_problems(data, path, words):
    problems = problems_of(data)
    assert problems[0][0] == path
    assert words in problems[0][1]


def test_no_graph_nodes_is_an_empty_project():
    project = project_from_dict(raw_project(graph={}))
    assert project.graph.nodes == []


# --- reading files ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b'{"format": "network-studio-project", "version": 1, "graph": {"nodes": [', "truncated"),
        ("{\"name\": \"caf\u00e9".encode()[:-1], "truncated"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text file"),
        (b"hello world", "not valid JSON at line 1, column 1"),
        (b'{"a": NaN}', "NaN"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": ' + b"9" * 5000 + b"}", "more than 4,300 digits"),
    ],
)
def test_unreadable_files_give_one_line(tmp_path, content, words):
    path = tmp_path / "bad.studio.json"
    path.write_bytes(content)
    with pytest.raises(ProjectError) as info:
        load_project(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert words in message
    assert path.read_bytes() == content  # loading never writes


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path / "nope.studio.json")
    with pytest.raises(ProjectError, match="is a folder"):
        load_project(tmp_path)


def test_a_huge_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.studio.json"
    with open(path, "wb") as fh:
        fh.truncate(300 * 2**20)  # sparse: instant, takes no disk space

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr("builtins.open", no_reading)
    with pytest.raises(ProjectError) as info:
        read_json(path)
    assert "300 MB" in str(info.value) and "64 MB" in str(info.value)


def test_a_file_growing_after_the_size_check_is_still_bounded(tmp_path):
    path = tmp_path / "p.studio.json"
    path.write_text(json.dumps(raw_project()) + " " * 200, encoding="utf-8")
    with pytest.raises(ProjectError, match="at most"):
        read_json(path, max_bytes=100)


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.studio.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(raw_project()).encode())
    assert load_project(path).graph.to_dict()["edges"] == [
        {"source": e["source"], "source_port": 0, "target": e["target"], "target_port": 0} for e in RAW_GRAPH["edges"]
    ]
