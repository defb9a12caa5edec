"""Acceptance: for every template, `studio new` + `studio check --json` report exactly what
Keras reports for the same network: totals, the trainable/non-trainable split, and each
layer's output shape (the Keras model is built by the compiler, in this process)."""

from __future__ import annotations

import json

import pytest

from studio.project import load_project
from studio.project.templates import template_names
from tests.cli.helpers import studio


def keras_numbers(model) -> tuple[int, int, int]:
    import numpy as np

    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    non_trainable = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return model.count_params(), trainable, non_trainable


def json_shape(tensor_shape) -> list:
    return [None if d is None else int(d) for d in tensor_shape]


@pytest.mark.parametrize("template", template_names(offline=True))  # pretrained ones: tests/hub
def test_check_agrees_with_keras(tmp_path, template):
    from studio.compiler.keras_build import build_model
    from studio.compiler.plan import make_plan

    created = studio("new", "demo.studio.json", "--template", template, cwd=tmp_path)
    assert created.rc == 0, created.err
    checked = studio("check", "demo.studio.json", "--json", cwd=tmp_path)
    assert checked.rc == 0, checked.err
    assert checked.err == ""
    result = json.loads(checked.out)
    assert result["ok"] is True and result["diagnostics"] == []

    project = load_project(tmp_path / "demo.studio.json")
    model = build_model(make_plan(project.graph, project.name))
    total, trainable, non_trainable = keras_numbers(model)
    assert (result["total_params"], result["trainable_params"], result["non_trainable_params"]) == (
        total,
        trainable,
        non_trainable,
    )
    assert len(result["nodes"]) == len(model.layers)
    for node in result["nodes"]:
        layer = model.get_layer(node["name"])
        assert type(layer).__name__ == node["class_name"]
        assert node["output_shape"] == json_shape(layer.output.shape), node["name"]
        assert node["params"] == layer.count_params(), node["name"]


def test_frozen_layers_are_non_trainable_in_both(tmp_path):
    from studio.compiler.keras_build import build_model
    from studio.compiler.plan import make_plan
    from studio.project import save_project

    assert studio("new", "r.studio.json", "--template", "resnet-block", cwd=tmp_path).rc == 0
    project = load_project(tmp_path / "r.studio.json")
    for node in project.graph.nodes:
        if node.type in ("Conv2D", "BatchNormalization") and node.title.startswith("stem"):
            project.graph.set_trainable(node.id, False)
    save_project(project)
    result = json.loads(studio("check", "r.studio.json", "--json", cwd=tmp_path).out)
    total, trainable, non_trainable = keras_numbers(build_model(make_plan(project.graph)))
    assert result["non_trainable_params"] > 0
    assert (result["total_params"], result["trainable_params"], result["non_trainable_params"]) == (
        total,
        trainable,
        non_trainable,
    )
