"""The command line loads a project's Hub modules only with --trust-modules."""

from __future__ import annotations

import pytest

from studio.cli import main
from studio.hub.module_layer import discover, node_params
from studio.project.io import save_project
from studio.project.model import Project
from tests.compiler.graphs import Builder
from tests.hub.modules import IMAGE_SIZE


def _project(tmp_path, module):
    b = Builder()
    x = b.input(IMAGE_SIZE, IMAGE_SIZE, 3, title="images")
    hub = b.add("HubModule", title="features", handle=str(module), **node_params(discover(module)))
    out = b.add("Dense", units=2, title="head")
    b.chain(x, hub, out)
    path = tmp_path / "modules.studio.json"
    save_project(Project(graph=b.graph, name="modules"), path)
    return path


def test_commands_refuse_a_project_with_modules_without_the_flag(image_module, tmp_path, capsys):
    path = _project(tmp_path, image_module)
    for args in (["train", str(path)], ["export", str(path), "--format", "keras", "-o", str(tmp_path / "m.keras")],
                 ["evaluate", str(path)]):
        assert main(args) == 1
        err = capsys.readouterr().err
        assert "--trust-modules" in err and str(image_module) in err and "Traceback" not in err
    assert not (tmp_path / "m.keras").exists()


def test_the_flag_lets_the_export_load_the_module(image_module, tmp_path, capsys):
    path = _project(tmp_path, image_module)
    target = tmp_path / "m.keras"
    assert main(["export", str(path), "--trust-modules", "--format", "keras", "-o", str(target)]) == 0
    assert target.is_file()


@pytest.mark.slow  # trains, bundles and reproduces: about 30 s
def test_reproducing_a_bundle_that_names_modules_needs_the_flag(image_module, tmp_path, capsys):
    b = Builder()
    x = b.input(32, 32, 3, title="images")
    small = b.add("Resizing", title="small", height=IMAGE_SIZE, width=IMAGE_SIZE)
    hub = b.add("HubModule", title="features", handle=str(image_module), **node_params(discover(image_module)))
    out = b.add("Dense", units=3, activation="softmax", title="shape")
    b.chain(x, small, hub, out)
    b.graph.node(hub).trainable = False
    path = tmp_path / "modules.studio.json"
    save_project(Project(graph=b.graph, name="modules", training={"epochs": 1, "seed": 3},
                         dataset={"kind": "sample", "path": "shapes", "task": "classification"}), path)
    assert main(["train", str(path), "--trust-modules"]) == 0
    bundle = tmp_path / "bundle"
    assert main(["export", str(path), "--trust-modules", "--format", "bundle", "-o", str(bundle)]) == 0
    capsys.readouterr()
    assert main(["reproduce", str(bundle)]) == 1
    err = capsys.readouterr().err
    assert "--trust-modules" in err and str(image_module) in err
    assert main(["reproduce", str(bundle), "--trust-modules"]) == 0
