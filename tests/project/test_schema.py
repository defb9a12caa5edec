"""schema.json is a valid JSON Schema, accepts what we save, and agrees with the loader."""

from __future__ import annotations

import json

import jsonschema
import pytest

from studio.core.errors import ProjectError
from studio.project import project_from_dict, save_project
from studio.project.schema import load_schema, schema_problems
from tests.project.samples import raw_project, sample_project


def test_the_schema_is_a_valid_draft_2020_12_schema():
    schema = load_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_schema_is_shipped_inside_the_package():
    from importlib import resources

    assert resources.files("studio.project").joinpath("schema.json").is_file()


def test_saved_projects_are_valid(tmp_path):
    path = save_project(sample_project(), tmp_path / "p.studio.json")
    assert schema_problems(json.loads(path.read_text(encoding="utf-8"))) == []
    assert schema_problems(raw_project()) == []


def test_unknown_keys_and_unknown_layer_types_are_valid():
    data = raw_project(extra={"x": 1})
    data["graph"]["nodes"][0]["color"] = "red"
    data["graph"]["nodes"].append({"id": "q", "type": "QuantumDense", "params": {"qubits": 3}})
    assert schema_problems(data) == []
    project_from_dict(data)  # the loader agrees


def _set(data: dict, dotted: str, value) -> dict:
    *parents, last = dotted.split(".")
    target = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


class _Delete:
    """Marks a key to delete; its repr is fixed, so the test ids are the same in every
    process (pytest -n checks that each worker collects the same ids)."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()

# (where to change, new value, JSON path both must report)
BREAKAGES = [
    ("format", "other", "$.format"),
    ("version", "1", "$.version"),
    ("name", 3, "$.name"),
    ("description", ["x"], "$.description"),
    ("graph", DELETE, "$"),
    ("graph.nodes", {}, "$.graph.nodes"),
    ("graph.edges", "x", "$.graph.edges"),
    ("graph.nodes.0.id", "", "$.graph.nodes[0].id"),
    ("graph.nodes.0.type", DELETE, "$.graph.nodes[0]"),
    ("graph.nodes.1.params", [1], "$.graph.nodes[1].params"),
    ("graph.nodes.1.position", [1, 2, 3], "$.graph.nodes[1].position"),
    ("graph.nodes.1.position", ["a", 2], "$.graph.nodes[1].position[0]"),
    ("graph.nodes.1.title", None, "$.graph.nodes[1].title"),
    ("graph.nodes.1.trainable", 1, "$.graph.nodes[1].trainable"),
    ("graph.nodes.2", "node", "$.graph.nodes[2]"),
    ("graph.edges.0.source", 5, "$.graph.edges[0].source"),
    ("graph.edges.0.target_port", -1, "$.graph.edges[0].target_port"),
    ("graph.edges.1.source_port", 1.5, "$.graph.edges[1].source_port"),
    ("dataset", "mnist", "$.dataset"),
    ("training", [], "$.training"),
    ("ui", "x", "$.ui"),
    ("assets", {"w": "/abs/w.h5"}, "$.assets.w"),
    ("assets", {"w": "../w.h5"}, "$.assets.w"),
    ("assets", {"w": "C:\\w.h5"}, "$.assets.w"),
    ("assets", {"w": 3}, "$.assets.w"),
]


@pytest.mark.parametrize(("where", "value", "path"), BREAKAGES, ids=[f"{w}={v!r}" for w, v, _ in BREAKAGES])
def test_schema_and_loader_reject_the_same_documents(where, value, path):
    data = _set(raw_project(), where, value)
    schema_paths = [p for p, _ in schema_problems(data)]
    assert path in schema_paths, schema_paths
    with pytest.raises(ProjectError) as info:
        project_from_dict(data)
    loader_paths = [p for p, _ in info.value.problems]
    # The loader names the same place (or the value's parent, for a missing key).
    assert any(p == path or path.startswith(p) or p.startswith(path) for p in loader_paths), loader_paths
