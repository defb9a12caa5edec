"""The example projects: they load, `analyse()` is clean, and the model fits the bundled data."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio import data
from studio.cli import main
from studio.data import binding
from studio.graph import analyse
from studio.project import load_project

PROJECTS = Path(__file__).resolve().parents[2] / "projects"
NAMES = ["iris-mlp", "digits-cnn", "spirals-mlp", "sine-lstm", "shapes-cnn", "text-gru", "shapes-backbone", "text-hub",
         "two-heads"]


def test_every_example_is_listed():
    assert sorted(p.name.removesuffix(".studio.json") for p in PROJECTS.glob("*.studio.json")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example_is_clean_and_bound_to_its_data(name):
    project = load_project(PROJECTS / f"{name}.studio.json")
    report = analyse(project.graph)
    assert report.ok, [d.message for d in report.errors]
    assert not [d for d in report.diagnostics if d.severity == "warning"]
    assert project.dataset["kind"] == "sample"
    info = data.describe(project.dataset, project.folder)
    assert info.ok, info.problems
    problems = binding.check(project.graph, info, report)
    assert not [d for d in problems if d.severity in ("error", "warning")], problems
    assert binding.fix_edits(project.graph, info) is None


@pytest.mark.parametrize("name", NAMES)
def test_studio_check_passes(capsys, name):
    assert main(["check", str(PROJECTS / f"{name}.studio.json")]) == 0
    capsys.readouterr()


def test_examples_are_regenerated_unchanged(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_examples", PROJECTS / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from studio.project import save_project

    for name, (build, _) in module.EXAMPLES.items():
        path = save_project(build(), tmp_path / f"{name}.studio.json")
        assert path.read_text() == (PROJECTS / path.name).read_text(), f"{name}: run projects/make_examples.py"


def test_the_app_opens_the_iris_example_by_default():
    from studio.ui.files import EXAMPLE

    assert EXAMPLE == PROJECTS / "iris-mlp.studio.json" and EXAMPLE.is_file()
