"""A model output that also feeds another layer (outputs [a, b], where a feeds the layer making b)
imports with the same outputs in the same order: `a` is marked as an output (`Node.output`),
and the rebuilt model, the project file and the generated script keep both."""

from __future__ import annotations

import numpy as np
import pytest

from studio.compiler.keras_build import apply_weights, build_model, stored_weights
from studio.compiler.keras_import import import_model
from studio.compiler.plan import make_plan
from studio.export.codegen import build_model_source
from studio.export.verify import max_abs_diff, predict
from studio.project import load_project

keras = pytest.importorskip("keras")
layers = keras.layers


def intermediate_output_model():
    x = keras.Input((5,), name="x")
    a = layers.Dense(3, name="a")(x)
    b = layers.Dense(2, name="b")(layers.Dense(4, activation="tanh", name="hidden")(a))
    side = layers.Dense(1, name="side")(x)
    return keras.Model(x, [a, side, b])


def test_an_output_feeding_another_layer_keeps_its_place_among_the_outputs(tmp_path):
    keras.utils.set_random_seed(11)
    model = intermediate_output_model()
    model.save(tmp_path / "m.keras")
    result = import_model(tmp_path / "m.keras", tmp_path / "m")
    assert result.max_abs_diff == 0.0 and not result.warnings
    project = load_project(result.project_path)  # the mark survives the file
    graph = project.graph
    assert [graph.label(n.id) for n in graph.output_nodes()] == ["a", "side", "b"]
    [a] = [n for n in graph.nodes if n.title == "a"]
    assert a.output and graph.outputs_of(a.id)  # an output that feeds 'hidden'
    plan = make_plan(graph, "m")
    assert [plan.call(n).name for n, _ in plan.outputs] == ["a", "side", "b"]
    rebuilt = build_model(plan)
    arrays, _, _ = stored_weights(plan, project.weights)
    apply_weights(rebuilt, plan, arrays)
    x = [np.random.default_rng(1).normal(size=(3, 5)).astype("float32")]
    assert max_abs_diff(predict(model, x), predict(rebuilt, x)) == 0.0
    assert "outputs=[a,side,b]" in "".join(build_model_source(plan).split())
