"""`studio check`: the table, the --json object, and one clear line for every kind of bad input."""

from __future__ import annotations

import json

import pytest

from studio.project import save_project
from tests.cli.helpers import assert_one_clear_line, studio
from tests.project.samples import raw_project, sample_project

JSON_KEYS = {"ok", "total_params", "trainable_params", "non_trainable_params", "nodes", "diagnostics"}
NODE_KEYS = {"id", "name", "class_name", "output_shape", "params"}


def test_check_prints_a_table_with_totals(tmp_path):
    path = save_project(sample_project(), tmp_path / "s.studio.json")
    result = studio("check", path)
    assert result.rc == 0, result.err
    assert result.err == ""
    lines = result.out.splitlines()
    hidden = next(line for line in lines if line.split()[1:2] == ["hidden"])
    # 20 * 16 + 16 = 336 weights; the frozen output layer has 16 * 3 + 3 = 51.
    assert "Dense" in hidden and "(None, 16)" in hidden and hidden.rstrip().endswith("336")
    assert any(line.startswith("Total params:") and line.endswith("387") for line in lines)
    assert any(line.startswith("Trainable params:") and line.endswith("336") for line in lines)
    assert any(line.startswith("Non-trainable params:") and line.endswith("51") for line in lines)
    assert lines[-1] == "OK"


def test_check_json_is_exactly_one_object(tmp_path):
    path = save_project(sample_project(), tmp_path / "s.studio.json")
    result = studio("check", path, "--json", "--no-data")  # the sample's CSV is not there
    assert result.rc == 0, result.err
    data = json.loads(result.out)
    assert set(data) == JSON_KEYS
    assert data["ok"] is True
    assert (data["total_params"], data["trainable_params"], data["non_trainable_params"]) == (387, 336, 51)
    assert [n["id"] for n in data["nodes"]] == ["in", "h", "out"]  # topological
    assert all(set(n) == NODE_KEYS for n in data["nodes"])
    assert data["nodes"][0] == {"id": "in", "name": "features", "class_name": "InputLayer",
                                "output_shape": [None, 20], "params": 0}
    assert data["nodes"][2]["output_shape"] == [None, 3]
    assert data["diagnostics"] == []


def test_nodes_come_in_topological_order_whatever_the_file_order(tmp_path):
    data = raw_project()
    data["graph"]["nodes"].reverse()
    path = tmp_path / "r.studio.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = json.loads(studio("check", path, "--json").out)
    assert [n["id"] for n in result["nodes"]] == ["in", "d1", "d2"]


# --- bad input ----------------------------------------------------------------------
def _mutated(mutate) -> bytes:
    data = raw_project()
    mutate(data)
    return json.dumps(data, indent=2).encode()


def _cycle(d):
    d["graph"]["nodes"] += [{"id": "a", "type": "Mystery"}, {"id": "b", "type": "Mystery"}]
    d["graph"]["edges"] += [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]


def _missing_node(d):
    d["graph"]["edges"][1]["target"] = "dense_9"


BAD_FILES = {
    "truncated": (json.dumps(raw_project()).encode()[:-40], ["truncated"]),
    "not json": (b"name: my network\nlayers: 3\n", ["not valid JSON", "line 1"]),
    "binary": (bytes(range(256)), ["not a text file"]),
    "wrong format": (_mutated(lambda d: d.update(format="keras")), ["$.format", "not a Network Studio project"]),
    "future version": (_mutated(lambda d: d.update(version=7)), ["$.version", "newer", "update"]),
    "cycle": (_mutated(_cycle), ["$.graph.edges[3]", "loop"]),
    "missing node": (_mutated(_missing_node), ["$.graph.edges[1].target", "missing node 'dense_9'"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_fail_with_one_line_and_stay_untouched(tmp_path, case):
    content, words = BAD_FILES[case]
    path = tmp_path / "bad.studio.json"
    path.write_bytes(content)
    assert_one_clear_line(studio("check", path), str(path), *words)
    assert path.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["bad.studio.json"]  # nothing else written either


@pytest.mark.parametrize("case", ["truncated", "cycle"])
def test_bad_files_with_json_still_print_one_object(tmp_path, case):
    content, words = BAD_FILES[case]
    path = tmp_path / "bad.studio.json"
    path.write_bytes(content)
    result = studio("check", path, "--json")
    assert_one_clear_line(result, *words)
    data = json.loads(result.out)
    assert set(data) == JSON_KEYS | {"error"} and data["ok"] is False
    assert data["error"] == result.err_lines[0].removeprefix("studio: error: ")
    assert data["diagnostics"] and all(d["severity"] == "error" for d in data["diagnostics"])


def test_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "bad.studio.json"
    path.write_bytes(BAD_FILES["future version"][0])
    result = studio("--debug", "check", path)
    assert result.rc == 1 and "Traceback" in result.err and "newer" in result.err


def test_missing_file(tmp_path):
    assert_one_clear_line(studio("check", tmp_path / "nope.studio.json"), "nope.studio.json", "no such file")


def test_a_300_mb_file_is_refused(tmp_path):
    path = tmp_path / "huge.studio.json"
    with open(path, "wb") as fh:
        fh.truncate(300 * 2**20)  # sparse: created instantly
    assert_one_clear_line(studio("check", path), str(path), "300 MB", "refusing")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"units": "many"}, ["'hidden'", "'units'", "whole number", "'many'"]),
        ({"units": 0}, ["'hidden'", "'units'", "at least 1"]),
        ({"units": 4, "use_bias": "yes"}, ["'hidden'", "'use_bias'", "true or false"]),
    ],
)
def test_a_bad_parameter_is_an_error_naming_node_and_parameter(tmp_path, params, words):
    data = raw_project()
    data["graph"]["nodes"][1]["params"] = params
    path = tmp_path / "p.studio.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    before = path.read_bytes()
    result = studio("check", path)
    assert_one_clear_line(result, str(path), *words)
    assert "error" in result.out and "FAILED" in result.out
    as_json = json.loads(studio("check", path, "--json").out)
    assert as_json["ok"] is False
    [diag] = [d for d in as_json["diagnostics"] if d["severity"] == "error"]
    assert diag["node"] == "d1" and words[1] in diag["message"]
    assert path.read_bytes() == before


def test_an_unknown_layer_type_is_a_warning_and_the_rest_is_still_checked(tmp_path):
    data = raw_project()
    data["graph"]["nodes"].append({"id": "q", "type": "QuantumDense", "title": "quantum", "params": {"q": 1}})
    data["graph"]["nodes"].append({"id": "after", "type": "Dense", "params": {"units": 5}})
    data["graph"]["edges"] += [{"source": "d1", "target": "q"}, {"source": "q", "target": "after"}]
    data["graph"]["nodes"][2]["params"]["units"] = -1  # an error elsewhere is still found
    path = tmp_path / "p.studio.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = studio("check", path, "--json")
    assert result.rc == 1
    out = json.loads(result.out)
    severities = {(d["node"], d["severity"]) for d in out["diagnostics"]}
    assert ("q", "warning") in severities and ("d2", "error") in severities
    nodes = {n["id"]: n for n in out["nodes"]}
    assert nodes["q"]["class_name"] == "QuantumDense" and nodes["q"]["output_shape"] is None
    assert nodes["d1"]["output_shape"] == [None, 4] and nodes["d1"]["params"] == 36

    # Only the unknown type: still not OK (cannot be checked or built), one clear line.
    data["graph"]["nodes"][2]["params"]["units"] = 2
    path.write_text(json.dumps(data), encoding="utf-8")
    line = assert_one_clear_line(studio("check", path), str(path), "'quantum'", "QuantumDense", "unknown")
    assert "kept unchanged" in line


def test_warnings_alone_do_not_fail(tmp_path):
    data = raw_project()
    data["graph"]["nodes"][0]["params"]["batch_shape"] = [None, 8, 8, 3]  # Dense on a 4-D input: a warning
    path = tmp_path / "p.studio.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = studio("check", path, "--json")
    out = json.loads(result.out)
    assert [d["severity"] for d in out["diagnostics"]] and {d["severity"] for d in out["diagnostics"]} == {"warning"}
    assert result.rc == 0 and out["ok"] is True


def test_a_layer_with_several_outputs_has_a_list_of_shapes(tmp_path):
    data = raw_project()
    data["graph"]["nodes"] = [
        {"id": "seq", "type": "Input", "params": {"batch_shape": [None, 10, 4]}},
        {"id": "lstm", "type": "LSTM", "params": {"units": 8, "return_state": True}},
        {"id": "state", "type": "Dense", "params": {"units": 2}},
    ]
    data["graph"]["edges"] = [{"source": "seq", "target": "lstm"},
                              {"source": "lstm", "source_port": 2, "target": "state"}]
    path = tmp_path / "p.studio.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = studio("check", path, "--json")
    nodes = {n["id"]: n for n in json.loads(result.out)["nodes"]}
    assert nodes["lstm"]["output_shape"] == [[None, 8], [None, 8], [None, 8]]
    assert nodes["seq"]["output_shape"] == [None, 10, 4]
    table = studio("check", path).out
    assert "(None, 8), (None, 8), (None, 8)" in table


def test_check_reports_data_that_does_not_fit_the_model(tmp_path):
    """The Iris example with a 5-unit output: the data has 3 classes."""
    from pathlib import Path

    from studio.project import load_project

    examples = Path(__file__).resolve().parents[2] / "projects"
    project = load_project(examples / "iris-mlp.studio.json")
    out = next(n for n in project.graph.output_nodes())
    project.graph.set_param(out.id, "units", 5)
    path = save_project(project, tmp_path / "iris.studio.json")

    result = studio("check", str(path), "--json")
    assert result.rc == 1
    data = json.loads(result.out)
    assert not data["ok"]
    messages = [d["message"] for d in data["diagnostics"] if d["node"] == out.id]
    assert any("3 classes" in m and "5 units" in m for m in messages), messages
    # --no-data checks the graph alone, which is valid.
    assert studio("check", str(path), "--no-data").rc == 0


def test_missing_data_is_a_warning_not_a_failed_check(tmp_path):
    path = save_project(sample_project(), tmp_path / "s.studio.json")
    result = studio("check", path, "--json")
    assert result.rc == 0, result.err
    warnings = [d for d in json.loads(result.out)["diagnostics"] if d["severity"] == "warning"]
    assert any("iris.csv" in d["message"] and "no such file" in d["message"] for d in warnings)


def test_layers_outside_the_catalog_are_checked_through_keras(tmp_path):
    from studio.graph import Edge, Graph, Node
    from studio.project import Project

    graph = Graph()
    for node in (Node("Input", {"batch_shape": [None, 8, 4]}, id="in"),
                 Node("Masking", {"mask_value": 0.0}, id="mask"),
                 Node("Dense", {"units": 3}, id="out")):
        graph.add_node(node)
    graph.connect(Edge("in", "mask"), check_shapes=False)
    graph.connect(Edge("mask", "out"), check_shapes=False)
    path = save_project(Project(graph, name="opaque"), tmp_path / "o.studio.json")
    result = studio("check", path, "--json")
    assert result.rc == 0, result.err
    data = json.loads(result.out)
    assert data["ok"] and data["total_params"] == 15
    assert {n["id"]: n["output_shape"] for n in data["nodes"]}["out"] == [None, 8, 3]
