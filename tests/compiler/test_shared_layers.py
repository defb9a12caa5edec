"""Shared layers (issue 12, point 4): a layer called at several sites imports as several
nodes over one set of weights; the model, the BuildPlan and the exported script make ONE
layer and call it at each site; the totals count its weights once (Keras' count_params).

The models are the Keras functional API guide's, verbatim where the guide gives a model:
the shared embedding (two text inputs, one Embedding) and a siamese network (the keras.io
"Image similarity with a Siamese network" tower model called on two inputs).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.cli import main
from studio.compiler.from_config import graph_from_config
from studio.compiler.keras_build import build_model
from studio.compiler.keras_import import import_model, keras_config
from studio.compiler.plan import make_plan
from studio.export.codegen import ScriptSettings, generate_script
from studio.export.verify import max_abs_diff, predict, sample_inputs
from studio.graph.inference import analyse
from studio.project import load_project
from tests.export.helpers import import_script

keras = pytest.importorskip("keras")
layers = keras.layers


def shared_embedding_model():
    """The functional API guide, "Shared layers", verbatim (the guide stops at the two
    encodings: they are the model's outputs)."""
    # Embedding for 1000 unique words mapped to 128-dimensional vectors
    shared_embedding = layers.Embedding(1000, 128)

    # Variable-length sequence of integers
    text_input_a = keras.Input(shape=(None,), dtype="int32")

    # Variable-length sequence of integers
    text_input_b = keras.Input(shape=(None,), dtype="int32")

    # Reuse the same layer to encode both inputs
    encoded_input_a = shared_embedding(text_input_a)
    encoded_input_b = shared_embedding(text_input_b)
    return keras.Model([text_input_a, text_input_b], [encoded_input_a, encoded_input_b])


def siamese_model():
    """keras.io "Image similarity estimation using a Siamese Network with a contrastive loss":
    the embedding network and the two towers verbatim; the Lambda of the Euclidean distance is
    written with keras.ops (a Lambda is never loaded from a file)."""
    input = keras.layers.Input((28, 28, 1))
    x = keras.layers.BatchNormalization()(input)
    x = keras.layers.Conv2D(4, (5, 5), activation="tanh")(x)
    x = keras.layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = keras.layers.Conv2D(16, (5, 5), activation="tanh")(x)
    x = keras.layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = keras.layers.Flatten()(x)

    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Dense(10, activation="tanh")(x)
    embedding_network = keras.Model(input, x)

    input_1 = keras.layers.Input((28, 28, 1))
    input_2 = keras.layers.Input((28, 28, 1))

    tower_1 = embedding_network(input_1)
    tower_2 = embedding_network(input_2)

    sum_square = keras.ops.sum(keras.ops.square(tower_1 - tower_2), axis=1, keepdims=True)
    merge_layer = keras.ops.sqrt(keras.ops.maximum(sum_square, 1e-7))
    normal_layer = keras.layers.BatchNormalization()(merge_layer)
    output_layer = keras.layers.Dense(1, activation="sigmoid")(normal_layer)
    return keras.Model(inputs=[input_1, input_2], outputs=output_layer)


def _randomise(model):
    """Weights other than Keras' initial ones (BatchNormalization statistics included), so a
    rebuilt model that kept fresh weights anywhere gives other answers."""
    rng = np.random.default_rng(0)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


def _inputs(model):
    x = sample_inputs(model, batch=2)
    return [np.random.default_rng(1).integers(0, 1000, (2, 7)).astype("int32") if str(t.dtype) == "int32" else v
            for t, v in zip(model.inputs, x)]


@pytest.mark.parametrize("make", [shared_embedding_model, siamese_model], ids=["embedding", "siamese"])
def test_a_layer_called_twice_is_two_nodes_over_one_layer(make):
    model = make()
    imported = graph_from_config(model.get_config(), keras_config=keras_config)
    graph = imported.graph
    sharers = [n for n in graph.nodes if n.shares]
    assert sharers, "the second call shares the first call's layer"
    for node in sharers:
        owner = graph.node(node.shares)
        assert owner.type == node.type and owner.params == node.params and not owner.shares
    report = analyse(graph)
    assert report.ok, [d.message for d in report.errors]
    assert report.total_params == model.count_params()  # shared weights counted once
    assert report.trainable_params == sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    plan = make_plan(graph, "m")
    rebuilt = build_model(plan)
    assert rebuilt.count_params() == model.count_params()
    assert len(rebuilt.weights) == len(model.weights)  # one set of weights per shared layer
    assert sum(1 for c in plan.calls if c.shares) == len(sharers)


def copy_from_original(model, target):
    """Set the weights of `target` (a model built from the imported graph, e.g. by the exported
    script) from the original `model`, layer by layer through the import's own map of which
    Keras layer each node came from; a shared layer is set once."""
    imported = graph_from_config(model.get_config(), keras_config=keras_config)
    plan = make_plan(imported.graph, "m")
    copied = 0
    for call in plan.calls:
        if call.is_input or call.shares or call.call_style == "op":
            continue
        original = model
        for name in imported.origin[call.node_id]:
            original = original.get_layer(name)
        if original.weights:
            target.get_layer(call.name).set_weights(original.get_weights())
            copied += 1
    return copied


def _export_and_compare(tmp_path, capsys, model, name, cli=True):
    """Save `model`, import it, export the project as a Python script (`cli`: with `studio export`,
    which runs the script to verify it, else the generator alone) and compare the script's model,
    given the original's weights, with the original."""
    model.save(tmp_path / f"{name}.keras")
    result = import_model(tmp_path / f"{name}.keras", tmp_path / name)
    assert result.max_abs_diff == 0.0 and result.params == model.count_params()
    script = tmp_path / f"{name}_code.py"
    if cli:
        capsys.readouterr()
        assert main(["export", str(result.project_path), "-f", "python", "-o", str(script)]) == 0
        assert "Verified: max abs difference 0 " in capsys.readouterr().out
    else:
        project = load_project(result.project_path)
        script.write_text(generate_script(make_plan(project.graph, name), ScriptSettings(name=name)))
    again = import_script(script).build_model()
    assert again.count_params() == model.count_params()
    assert len(again.weights) == len(model.weights)
    assert copy_from_original(model, again) > 0
    x = _inputs(model)
    assert max_abs_diff(predict(model, x), predict(again, x)) == 0.0
    return load_project(result.project_path), script.read_text()


def test_shared_embedding_imports_rebuilds_and_exports_exactly(tmp_path, capsys):
    model = _randomise(shared_embedding_model())
    assert model.count_params() == 128_000
    project, text = _export_and_compare(tmp_path, capsys, model, "shared", cli=False)
    embeddings = [n for n in project.graph.nodes if n.type == "Embedding"]
    assert len(embeddings) == 2 and embeddings[1].shares == embeddings[0].id  # kept in the file
    assert text.count("layers.Embedding(") == 1  # one layer, called at both sites
    capsys.readouterr()
    assert main(["check", str(project.path), "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["total_params"] == 128_000  # Keras' count_params: the shared table once
    first, second = [n for n in checked["nodes"] if n["class_name"] == "Embedding"]
    assert "shares" not in first and second["shares"] == first["name"]  # the layer it calls again


def test_siamese_network_imports_as_shared_towers_and_exports_exactly(tmp_path, capsys):
    model = _randomise(siamese_model())
    project, text = _export_and_compare(tmp_path, capsys, model, "siamese", cli=False)
    graph = project.graph
    towers = graph.groups
    assert len(towers) == 2 and towers[0].name == towers[1].name  # the tower model, called twice
    first, second = (graph.group_members(g.id) for g in towers)
    assert len(first) == len(second) == 8
    owners = {graph.node(n).shares for n in second}
    weighted = {n for n in first if graph.node(n).type in ("BatchNormalization", "Conv2D", "Dense")}
    assert len(weighted) == 5 and weighted <= owners  # the second tower calls the first's layers
    assert analyse(graph).total_params == model.count_params()
    assert text.count("layers.Conv2D(") == 2  # the tower's two convolutions, each made once


def test_a_designed_sharing_builds_one_layer_and_the_script_agrees(tmp_path):
    """Drawn in the app: two Dense towers, the second sharing the first's weights (the graph
    edit), then compiled and exported: one Keras layer called twice in both, same answers."""
    from studio.graph.edits import ShareWeights
    from tests.graph.test_share_weights import siamese

    graph, ids = siamese()
    ShareWeights(ids["tb"], ids["ta"]).apply(graph)
    plan = make_plan(graph, "designed")
    assert plan.call(ids["tb"]).shares == ids["ta"]
    model = build_model(plan)
    assert model.count_params() == analyse(graph).total_params == 2 * (5 * 4 + 4) - (5 * 4 + 4) + 5
    assert len(model.weights) == 4  # the tower's kernel and bias (one layer, two calls), the head's
    assert [layer.name for layer in model.layers if layer.weights] == [plan.call(ids["ta"]).name, "head"]
    text = generate_script(plan, ScriptSettings(name="designed"))
    assert text.count("layers.Dense(") == 2  # the tower (once) and the head
    (tmp_path / "designed.py").write_text(text)
    again = import_script(tmp_path / "designed.py").build_model()
    for layer in model.layers:
        if layer.weights:
            again.get_layer(layer.name).set_weights(layer.get_weights())
    x = sample_inputs(model, batch=3)
    assert max_abs_diff(predict(model, x), predict(again, x)) == 0.0


@pytest.mark.slow  # `studio export` runs the script in a fresh Python to verify it (~10 s each)
@pytest.mark.parametrize("make", [shared_embedding_model, siamese_model], ids=["embedding", "siamese"])
def test_studio_export_verifies_the_script_of_a_shared_model(tmp_path, capsys, make):
    _export_and_compare(tmp_path, capsys, _randomise(make()), "m", cli=True)
