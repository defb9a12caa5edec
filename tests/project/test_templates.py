"""Templates build valid, well laid out graphs through the Graph API (no TensorFlow here;
tests/cli/test_acceptance.py compares them with Keras)."""

from __future__ import annotations

import pytest

from studio.core.errors import StudioError
from studio.graph import analyse
from studio.project import load_project, save_project
from studio.project.schema import schema_problems
from studio.project.templates import TEMPLATES, get_template, make_project, template_names

REQUIRED = ("mlp", "cnn", "rnn", "resnet-block", "text-classifier")


def test_the_required_templates_exist():
    assert set(REQUIRED) <= set(template_names())


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_template_builds_a_clean_graph(name):
    project = make_project(name)
    graph = project.graph
    report = analyse(graph)
    assert report.diagnostics == [], [d.message for d in report.diagnostics]
    assert report.total_params > 0
    assert len(graph.input_nodes()) >= 1 and len(graph.output_nodes()) == 1
    assert all(n.title for n in graph.nodes), "every node has a title"
    assert len({n.title for n in graph.nodes}) == len(graph.nodes), "titles are unique"
    assert set(TEMPLATES[name].needs) == {n.type for n in graph.nodes}


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_template_layout_runs_left_to_right_without_overlaps(name):
    graph = make_project(name).graph
    positions = {n.id: n.position for n in graph.nodes}
    for edge in graph.edges:
        assert positions[edge.source][0] < positions[edge.target][0], edge
    assert len(set(positions.values())) == len(positions)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_template_round_trips_through_a_file_and_matches_the_schema(tmp_path, name):
    import json

    project = make_project(name, name="demo")
    path = save_project(project, tmp_path / "demo.studio.json")
    assert schema_problems(json.loads(path.read_text(encoding="utf-8"))) == []
    loaded = load_project(path)
    assert loaded.graph == project.graph and loaded.dataset == project.dataset
    assert loaded.training == project.training


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_template_dataset_and_training_sections_are_understood(name):
    """The sections are plain dicts here; the owning packages must accept them."""
    project = make_project(name)
    from studio.training.config import TrainingConfig

    config = TrainingConfig.from_dict(project.training)
    assert config.to_dict()["epochs"] == project.training["epochs"]
    spec_module = pytest.importorskip("studio.data.spec")
    registry = pytest.importorskip("studio.data.registry")
    spec = spec_module.DatasetSpec.from_dict(project.dataset)
    assert spec.kind == "sample" and spec.path in registry.SAMPLES


def test_each_project_gets_fresh_objects():
    a, b = make_project("mlp"), make_project("mlp")
    assert a.graph == b.graph
    a.graph.set_param(a.graph.nodes[1].id, "units", 3)
    a.dataset["path"] = "changed"
    assert a.graph != b.graph and b.dataset["path"] == "iris"
    assert get_template("mlp").dataset["path"] == "iris"


def test_unknown_template_lists_the_names():
    with pytest.raises(StudioError) as info:
        make_project("gan")
    for name in REQUIRED:
        assert name in str(info.value)
