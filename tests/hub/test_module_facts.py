"""A project whose Hub module node does not say how the module is called (a template, a file
written by hand or by an older version) still exports as a script from the command line."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studio.compiler.plan import make_plan
from studio.core.errors import StudioError
from studio.export.codegen import generate_script
from studio.project.io import load_project
from studio.workflows.export import complete_module_facts

EXAMPLE = Path(__file__).resolve().parents[2] / "projects" / "text-hub.studio.json"


def test_the_text_example_learns_how_its_module_is_called_from_the_module(tmp_path):
    from studio.hub.resolve import expected_cache_folder
    from studio.project.templates import NNLM_HANDLE
    from tests.hub.modules import text_embedding

    text_embedding(expected_cache_folder(NNLM_HANDLE), dim=50)
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    project = load_project(tmp_path / EXAMPLE.name)
    (node,) = [n for n in project.graph.nodes if n.type == "HubModule"]
    assert not node.params.get("endpoint")
    with pytest.raises(StudioError, match="endpoint is not known"):
        generate_script(make_plan(project.graph))
    complete_module_facts(project)
    assert node.params["endpoint"] == "__call__" and node.params["takes_training"] is False
    script = generate_script(make_plan(project.graph))
    assert "'__call__'" in script.replace('"', "'") and NNLM_HANDLE in script


def test_a_module_that_cannot_be_resolved_is_one_line_naming_it(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    project = load_project(tmp_path / EXAMPLE.name)
    node = next(n for n in project.graph.nodes if n.type == "HubModule")
    node.params["handle"] = str(tmp_path / "no-such-module")
    with pytest.raises(StudioError) as err:
        complete_module_facts(project)
    assert "no-such-module" in str(err.value) and "\n" not in str(err.value)
