"""Expand a backbone node to its layers (issue 13, point 2): one undoable edit replaces the node by
its layers, read through the project's importer, grouped under the backbone's name and collapsed,
wired to the same neighbours, carrying its weights and its frozen flags; the totals and the model's
answers are the same before and after."""

from __future__ import annotations

import numpy as np
import pytest

from studio.compiler.keras_build import apply_weights, build_model
from studio.compiler.plan import make_plan
from studio.export.verify import max_abs_diff, predict
from studio.graph.edits import History
from studio.graph.groups import group_params
from studio.graph.inference import analyse
from studio.graph.model import Edge, Graph, Node
from studio.project import load_project
from studio.project.io import save_project
from studio.project.model import Project
from studio.project.weights import WeightEntry
from studio.workflows.expand import ExpandError, expand_backbone, expand_model, expansion_edit

keras = pytest.importorskip("keras")


def _built(project: Project):
    plan = make_plan(project.graph, "m")
    model = build_model(plan)
    apply_weights(model, plan, {n: e.arrays for n, e in project.weights.entries.items()})
    return model


def _answers(project: Project, x: np.ndarray) -> list:
    return predict(_built(project), [x])


def _keras_counts(model) -> tuple[int, int]:
    """(trainable, total) as Keras counts them."""
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights), model.count_params()


def _chain(middle: Node, shape=(None, 6)) -> Project:
    g = Graph()
    g.add_node(Node("Input", {"batch_shape": list(shape)}, "x", (0, 0), id="x"))
    g.add_node(middle)
    g.add_node(Node("Dense", {"units": 2}, "head", (600, 0), id="head"))
    g.connect(Edge("x", middle.id))
    g.connect(Edge(middle.id, "head"))
    return Project(graph=g, name="p")


def test_a_node_is_replaced_by_a_models_layers_in_one_undo_step(tmp_path):
    """The machinery on a tiny model: a nested block (Dense, frozen BatchNormalization) behind a
    Rescaling, expanded in place of node 'blk'."""
    inner_in = keras.Input((6,))
    block = keras.Model(inner_in, keras.layers.BatchNormalization(name="bn")(keras.layers.Dense(4, name="d")(inner_in)),
                        name="block")
    block.get_layer("bn").trainable = False
    x = keras.Input((6,), name="tiny_input")
    model = keras.Model(x, block(keras.layers.Rescaling(0.5, name="scale")(x)), name="tiny")
    for w in model.weights:
        w.assign(np.random.default_rng(len(w.path)).normal(size=w.shape).astype("float32") + 1.0)
    project = _chain(Node("Dense", {"units": 4}, "blk", (300, 0), id="blk"))
    graph = project.graph
    before = graph.to_dict()
    expansion = expand_model(graph, "blk", model, "tiny")
    assert expansion.max_abs_diff == 0.0 and expansion.params == model.count_params()
    history = History(graph)
    history.push(expansion_edit(expansion, project.weights))
    assert not graph.has_node("blk")
    (group,) = graph.groups
    assert group.name == "tiny" and group.collapsed
    members = graph.group_members(group.id)
    assert sorted(graph.node(m).title for m in members) == ["bn", "d", "scale"]
    assert [graph.node(e.target).title for e in graph.outputs_of("x")] == ["scale"]  # the same neighbours
    assert [graph.node(e.source).title for e in graph.inputs_of("head")] == ["bn"]
    assert not next(graph.node(m) for m in members if graph.node(m).title == "bn").trainable  # frozen kept
    report = analyse(graph)
    keras_counts = (sum(int(np.prod(w.shape)) for w in model.trainable_weights),
                    sum(int(np.prod(w.shape)) for w in model.non_trainable_weights))
    assert report.ok and group_params(graph, report, group.id) == keras_counts == (28, 16)  # the BN frozen
    sample = np.random.default_rng(0).normal(size=(3, 6)).astype("float32")
    expected = predict(model, [sample])[0]
    got = _answers(project, sample)  # through the head: compare the block's answers via a head of ones
    assert got[0].shape == (3, 2)
    sub = Project(graph=Graph.from_dict({**graph.to_dict(), "nodes": [n for n in graph.to_dict()["nodes"]
                                                                        if n["id"] != "head"],
                                         "edges": [e for e in graph.to_dict()["edges"] if e["target"] != "head"]}),
                  name="s", weights=project.weights)
    assert max_abs_diff([expected], _answers(sub, sample)) == 0.0  # the layers answer as the model did
    save_project(project, tmp_path / "p.studio.json")  # saved: the group collapsed, the layers' weights
    again = load_project(tmp_path / "p.studio.json")
    assert [(g.name, g.collapsed) for g in again.graph.groups] == [("tiny", True)]
    assert sorted(again.weights.entries) == sorted(expansion.weights) and len(expansion.weights) == 2
    history.undo()
    assert graph.to_dict() == before and project.weights.empty


def _backbone(weights="none", weights_file="", trainable=True, freeze_up_to=0) -> Project:
    node = Node("Backbone", {"backbone": "MobileNetV3Small", "weights": weights, "weights_file": weights_file,
                             "pooling": "avg", "freeze_up_to": freeze_up_to}, "features", (300, 0), id="bb",
                trainable=trainable)
    return _chain(node, (None, 32, 32, 3))


@pytest.mark.slow
def test_mobilenet_v3_small_expands_with_the_same_totals_and_answers(tmp_path):
    base = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(32, 32, 3))
    for w in base.weights:  # weights unlike a fresh initialisation, saved as the node's weights file
        w.assign(w.numpy() + np.random.default_rng(len(w.path)).normal(scale=0.01, size=w.shape).astype(w.dtype))
    file = tmp_path / "small.weights.h5"
    base.save_weights(str(file))
    project = _backbone("file", str(file), freeze_up_to=40)
    sample = np.random.default_rng(1).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    head = np.random.default_rng(2).normal(size=(576, 2)).astype("float32")
    project.weights.set("head", WeightEntry.of([head, np.zeros(2, "float32")]))
    report = analyse(project.graph)
    original = _built(project)
    expected, totals = predict(original, [sample]), _keras_counts(original)
    assert report.total_params == totals[1]
    expansion = expand_backbone(project, "bb")
    assert expansion.origin == "file small.weights.h5" and expansion.max_abs_diff <= 1e-5
    History(project.graph).push(expansion_edit(expansion, project.weights))
    graph = project.graph
    (group,) = graph.groups
    after = analyse(graph)
    assert group.name == "features" and group.collapsed and after.ok
    # Keras' counts, frozen layers 0..39 included (the backbone node's own count ignores freeze_up_to)
    assert (after.trainable_params, after.total_params) == totals == _keras_counts(_built(project))
    assert sum(group_params(graph, after, group.id)) == sum(report.params["bb"])
    assert sum(not graph.node(m).trainable for m in graph.group_members(group.id)) > 0
    assert max_abs_diff(expected, _answers(project, sample)) <= 1e-5  # the same weights, the same answers


def test_a_backbone_without_a_known_input_size_says_what_to_do():
    project = _backbone()
    project.graph.disconnect(project.graph.inputs_of("bb")[0])
    with pytest.raises(ExpandError, match="wire an image input"):
        expand_backbone(project, "bb")
    with pytest.raises(ExpandError, match="only backbones"):
        expand_backbone(project, "head")
