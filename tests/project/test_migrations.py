"""Older format versions are upgraded on load through registered migration steps."""

from __future__ import annotations

import pytest

from studio.core.errors import ProjectError
from studio.project import VERSION, load_project, migrations, project_from_dict, save_project
from studio.project.migrations import MigrationError, register_migration
from tests.project.samples import RAW_GRAPH, raw_project, write_json


def v0_file() -> dict:
    """A synthetic version-0 layout: layers/links instead of nodes/edges, 'kind' instead of 'type'."""
    return {
        "format": "network-studio-project",
        "version": 0,
        "title": "old project",
        "layers": [{"id": n["id"], "kind": n["type"], "config": n["params"]} for n in RAW_GRAPH["nodes"]],
        "links": [[e["source"], e["target"]] for e in RAW_GRAPH["edges"]],
    }


def v0_to_v1(data: dict) -> dict:
    if not isinstance(data.get("layers"), list):
        raise MigrationError("$.layers", "a version-0 file needs a list of layers")
    return {
        "format": data["format"],
        "version": 0,
        "name": data.pop("title"),
        "graph": {
            "nodes": [{"id": la["id"], "type": la["kind"], "params": la["config"]} for la in data["layers"]],
            "edges": [{"source": s, "target": t} for s, t in data["links"]],
        },
    }


@pytest.fixture
def with_v0(monkeypatch):
    monkeypatch.setattr(migrations, "MIGRATIONS", dict(migrations.MIGRATIONS))
    register_migration(0)(v0_to_v1)
    assert VERSION == 1  # this synthetic step upgrades to the current version


def test_a_v0_file_is_migrated_on_load_and_saved_as_the_current_version(tmp_path, with_v0):
    path = write_json(tmp_path / "old.studio.json", v0_file())
    before = path.read_bytes()
    project = load_project(path)
    assert project.name == "old project"
    assert [n.type for n in project.graph.nodes] == ["Input", "Dense", "Dense"]
    assert [(e.source, e.target) for e in project.graph.edges] == [("in", "d1"), ("d1", "d2")]
    assert path.read_bytes() == before  # loading never rewrites the old file
    saved = save_project(project, tmp_path / "new.studio.json")
    reloaded = load_project(saved)
    assert reloaded.graph == project.graph
    import json

    assert json.loads(saved.read_text(encoding="utf-8"))["version"] == VERSION


def test_migration_does_not_change_the_callers_dict(with_v0):
    data = v0_file()
    snapshot = repr(data)
    project_from_dict(data)
    assert repr(data) == snapshot


def test_a_migration_error_names_the_path(with_v0):
    data = v0_file()
    data["layers"] = "nope"
    with pytest.raises(ProjectError) as info:
        project_from_dict(data, "old.studio.json")
    assert info.value.problems[0][0] == "$.layers"
    assert str(info.value).startswith("old.studio.json: $.layers: cannot upgrade from format version 0")


def test_a_migration_crashing_on_odd_data_is_a_problem_not_a_traceback(with_v0):
    data = v0_file()
    del data["title"]
    with pytest.raises(ProjectError, match="does not have the layout of that version"):
        project_from_dict(data, "old.studio.json")


def test_problems_after_migration_are_still_reported(with_v0):
    data = v0_file()
    data["links"].append(["d2", "ghost"])
    with pytest.raises(ProjectError) as info:
        project_from_dict(data)
    assert info.value.problems == [("$.graph.edges[2].target", "refers to a missing node 'ghost'")]


def test_without_a_step_version_0_is_too_old():
    with pytest.raises(ProjectError, match="older than any"):
        project_from_dict(raw_project(version=0))


def test_registering_a_step_twice_is_a_bug(with_v0):
    with pytest.raises(ValueError, match="twice"):
        register_migration(0)(v0_to_v1)
