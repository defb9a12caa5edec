"""Keras 3 operations, Keras' own application layers and placeholders at import (issue 12,
points 2, 3 and 5).

* `x + 3.0`, `x * gate`, `ops.not_equal(ids, 0)`... recorded by a functional model are
  operation nodes (`ops.add` with constant 3.0), never the layer of the same name; they
  build as Keras builds them (same config) and export as `keras.ops.<function>(...)`.
* The Keras documentation's timeseries transformer (`x + inputs`) round-trips exactly.
* A custom class or a Lambda in a functional model becomes a placeholder: never run, its
  config kept as text, its shapes from the file, an error on its node; check works, build
  and export refuse naming it. The VAE example's encoder keeps its Sampling layer so.
* Keras 2 TFOpLambda layers of plain arithmetic become operation nodes.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from studio.cli import main
from studio.compiler.from_config import graph_from_config
from studio.compiler.keras_build import build_model
from studio.compiler.keras_import import import_model, keras_config
from studio.compiler.plan import make_plan
from studio.core.errors import BuildError, ExportError
from studio.export.codegen import ScriptSettings, generate_script
from studio.export.verify import max_abs_diff, predict, sample_inputs
from studio.graph.inference import analyse
from studio.project import load_project
from studio.project.io import dumps_project
from tests.compiler.test_keras_doc_examples import Sampling, timeseries_transformer
from tests.export.helpers import import_script

keras = pytest.importorskip("keras")
ops = keras.ops
layers = keras.layers


def _op_entries(model) -> dict:
    return {e["name"]: e for e in json.loads(json.dumps(model.get_config(), default=list))["layers"]
            if str(e.get("module", "")).startswith("keras.src.ops")}


def _rebuild(model, name="m"):
    imported = graph_from_config(model.get_config(), keras_config=keras_config)
    report = analyse(imported.graph)
    assert report.ok, [d.message for d in report.errors]
    assert report.total_params == model.count_params()
    plan = make_plan(imported.graph, name)
    rebuilt = build_model(plan)
    for layer in model.layers:
        if layer.weights:
            rebuilt.get_layer(layer.name).set_weights(layer.get_weights())
    return imported, plan, rebuilt


def _ops_model():
    x = keras.Input((4, 6), name="x")
    ids = keras.Input((5,), dtype="int32", name="ids")
    gate = layers.Dense(6, name="gate")(x)
    outs = [
        x + 3.0, 2.0 - x, x * gate, x / 2.0, gate ** 2, -x, ops.hard_sigmoid(x), ops.hard_silu(x),
        ops.cast(ops.not_equal(ids, 0), "float32"), ops.reshape(x, (-1, 24)), ops.transpose(x, (0, 2, 1)),
        ops.concatenate([x, gate], axis=1), ops.mean(x, axis=1), ops.sum(gate, axis=-1, keepdims=True),
        ops.matmul(x, ops.transpose(gate, (0, 2, 1))), ops.expand_dims(x, 1), ops.softmax(x, axis=1),
        ops.maximum(x, 0.0), ops.max(x, axis=1), ops.gelu(x, approximate=False),
    ]
    return keras.Model([x, ids], outs, name="ops")


def test_operations_become_operation_nodes_and_rebuild_exactly():
    model = _ops_model()
    imported, plan, rebuilt = _rebuild(model)
    nodes = {n.type: n for n in imported.graph.nodes}  # one node of each type but transpose
    assert nodes["ops.add"].params == {"constant": 3.0}
    assert nodes["ops.subtract"].params == {"constant": 2.0, "constant_first": True}
    assert nodes["ops.multiply"].params == {}
    assert nodes["ops.not_equal"].params == {"constant": 0} and nodes["ops.cast"].params == {}  # float32: default
    assert nodes["ops.reshape"].params == {"newshape": [-1, 24]}
    assert nodes["ops.gelu"].params == {"approximate": False}
    # The layer of the same name is untouched: keras.layers.Add stays the Add layer.
    assert imported.graph.catalog.for_class("Add").id == "Add"
    # Built as Keras builds them: the same operation configs and calls.
    assert _op_entries(rebuilt) == _op_entries(model)
    x = sample_inputs(model, batch=2)
    x[1] = np.random.default_rng(1).integers(0, 3, (2, 5)).astype("int32")
    assert max_abs_diff(predict(model, x), predict(rebuilt, x)) == 0.0
    # The report's shapes are Keras' own.
    report = analyse(imported.graph)
    for (node_id, port), tensor in zip(plan.outputs, model.outputs):
        assert report.outputs[node_id][port] == tuple(tensor.shape)


def test_operations_export_as_keras_ops_calls(tmp_path):
    model = _ops_model()
    imported, plan, rebuilt = _rebuild(model)
    text = generate_script(plan, ScriptSettings(name="ops"))
    # (variables are the layer names: op names count up across the process, so \w+)
    for pattern in (r"= keras\.ops\.add\(x_, 3\.0\)", r"= keras\.ops\.subtract\(2\.0, x_\)",
                    r"= keras\.ops\.multiply\(x_, gate\)", r"= keras\.ops\.reshape\(x_, newshape=\[-1, 24\]\)",
                    r"= keras\.ops\.cast\(not_equal\w*, dtype=\"float32\"\)",
                    r"= keras\.ops\.concatenate\(\[x_, gate\], axis=1\)"):
        assert re.search(pattern, text), pattern
    (tmp_path / "ops.py").write_text(text)
    again = import_script(tmp_path / "ops.py").build_model()
    again.get_layer("gate").set_weights(model.get_layer("gate").get_weights())
    x = sample_inputs(model, batch=2)
    x[1] = np.random.default_rng(1).integers(0, 3, (2, 5)).astype("int32")
    assert max_abs_diff(predict(model, x), predict(again, x)) == 0.0


def _transformer():
    """The Keras example "Timeseries classification with a Transformer model" (smaller sizes)."""
    return timeseries_transformer(data_format="channels_last")


def test_timeseries_transformer_example_round_trips(tmp_path, capsys):
    model = _transformer()
    model.save(tmp_path / "tst.keras")
    result = import_model(tmp_path / "tst.keras", tmp_path / "tst")
    assert result.max_abs_diff <= 1e-6 and not result.placeholders
    graph = load_project(result.project_path).graph
    assert sum(n.type == "ops.add" for n in graph.nodes) == 4
    report = analyse(graph)
    assert report.ok and report.total_params == model.count_params()
    capsys.readouterr()
    script = tmp_path / "tst_code.py"
    assert main(["export", str(result.project_path), "-f", "python", "-o", str(script)]) == 0
    assert "Verified: max abs difference" in capsys.readouterr().out
    rebuilt = import_script(script).build_model()
    rebuilt.set_weights(model.get_weights())
    x = sample_inputs(model, batch=2)
    assert max_abs_diff(predict(model, x), predict(rebuilt, x)) <= 1e-6


# --- placeholders -------------------------------------------------------------------------------
def _vae_encoder(tmp_path):
    """The Keras example "Variational AutoEncoder": its encoder, with the custom Sampling layer."""

    latent_dim = 2
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling(name="sampling")([z_mean, z_log_var])  # (other tests make Sampling layers too)
    z = layers.Dense(3, name="after")(z)  # a layer after it, so the file records its output shape
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
    encoder.save(tmp_path / "encoder.keras")
    return encoder, tmp_path / "encoder.keras"


def test_vae_encoder_imports_with_its_sampling_layer_as_a_placeholder(tmp_path, capsys, monkeypatch):
    encoder, path = _vae_encoder(tmp_path)
    # Keras never loads a model with a placeholder (the custom code would have to run).
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: pytest.fail("Keras loaded the model"))
    assert main(["import", str(path), "-o", str(tmp_path / "vae")]) == 0
    assert "placeholders ('sampling')" in capsys.readouterr().err
    assert not (tmp_path / "vae.weights.npz").exists()
    project = load_project(tmp_path / "vae.studio.json")
    sampling = next(n for n in project.graph.nodes if n.title == "sampling")
    assert sampling.type == "Placeholder" and sampling.params["class_name"] == "Sampling"
    assert sampling.params["input_shapes"] == [[None, 2], [None, 2]]
    assert sampling.params["output_shapes"] == [[None, 2]]
    assert json.loads(sampling.params["config"])["name"] == "sampling"  # kept as text
    # Check works: every shape known, one error, on the placeholder.
    report = analyse(project.graph)
    [error] = report.errors
    assert error.node == sampling.id and "the Sampling layer was not loaded" in error.message
    after = next(n for n in project.graph.nodes if n.title == "after")
    assert report.outputs[after.id] == [(None, 3)]
    assert report.total_params == encoder.count_params()  # Sampling holds no weights
    capsys.readouterr()
    assert main(["check", str(tmp_path / "vae.studio.json")]) == 1
    assert "Sampling layer was not loaded" in capsys.readouterr().err
    # Build and export refuse, naming it.
    with pytest.raises(BuildError, match="^sampling: the Sampling layer was not loaded") as caught:
        make_plan(project.graph, "vae")
    assert caught.value.node_id == sampling.id
    assert main(["export", str(tmp_path / "vae.studio.json"), "-f", "python", "-o",
                 str(tmp_path / "vae.py")]) == 1
    assert "sampling" in capsys.readouterr().err and not (tmp_path / "vae.py").exists()
    # Saving and loading keeps the placeholder as it was.
    again = load_project(tmp_path / "vae.studio.json")
    assert json.loads(dumps_project(again))["graph"] == json.loads(dumps_project(project))["graph"]


def test_lambda_placeholder_config_is_never_deserialised(tmp_path):
    """A Lambda's bytecode stays text in the placeholder; the layers around it still import."""
    x = keras.Input((3,), name="x")
    y = layers.Lambda(lambda t: t * 2, name="double")(layers.Dense(3, name="before")(x))
    keras.Model(x, layers.Dense(1, name="out")(y)).save(tmp_path / "lam.keras")
    result = import_model(tmp_path / "lam.keras", tmp_path / "lam")
    node = next(n for n in result.project.graph.nodes if n.title == "double")
    assert node.type == "Placeholder" and isinstance(node.params["config"], str)
    assert "__lambda__" in node.params["config"]
    assert analyse(result.project.graph).total_params == 16


def test_sequential_lambda_is_still_refused(tmp_path):
    """A Sequential model records no tensor shapes: a Lambda in it is refused as before."""
    from studio.compiler.from_config import ModelImportError

    model = keras.Sequential([keras.Input((3,)), layers.Lambda(lambda t: t * 2, name="double")])
    model.save(tmp_path / "seq.keras")
    with pytest.raises(ModelImportError, match="layer 'double' is a Lambda layer"):
        import_model(tmp_path / "seq.keras", tmp_path / "seq")


def test_unsupported_operation_calls_become_placeholders():
    """An operation outside the table, or called with more than tensors and one number, is kept
    as a placeholder (with the file's shapes), never built from the file's text."""
    x = keras.Input((4,), name="x")
    y = ops.clip(x, 0.0, 1.0)  # keras.src.ops.numpy.Clip: not in keras_names.OPS
    model = keras.Model(x, layers.Dense(2, name="d")(y))
    config = model.get_config()
    imported = graph_from_config(config, keras_config=keras_config)
    [placeholder] = [n for n in imported.graph.nodes if n.type == "Placeholder"]
    assert "keras.src.ops.numpy.Clip is not one this version supports" in placeholder.params["reason"]
    assert imported.placeholders == [placeholder.title]
    # A supported operation called with a list constant is not supported either.
    entry = next(e for e in json.loads(json.dumps(_ops_model().get_config(), default=list))["layers"]
                 if e["class_name"] == "Add" and e["module"] == "keras.src.ops.numpy")
    entry["inbound_nodes"][0]["args"][1] = [1.0, 2.0]
    from studio.compiler.from_config import _Builder
    from studio.graph import default_catalog

    assert _Builder(default_catalog(), None)._operation_node(entry, "add", entry["inbound_nodes"][0]) is None


def test_operation_nodes_refuse_values_that_are_not_numbers():
    from studio.graph import Graph, Node, default_catalog
    from studio.graph.model import Edge

    graph = Graph(default_catalog())
    graph.add_node(Node(id="i", type="Input", params={"batch_shape": [None, 4]}))
    graph.add_node(Node(id="a", type="ops.add", params={"constant": "__import__('os')"}))
    graph.connect(Edge("i", "a"), check_shapes=False)
    [error] = analyse(graph).errors
    assert error.node == "a" and "constant must be a finite number" in error.message
    with pytest.raises(BuildError):
        make_plan(graph)


def test_operation_export_refuses_text_as_a_constant():
    from studio.compiler.plan import OP, LayerCall
    from studio.export.codegen import operation_expr

    call = LayerCall("a", "Add", "add", {"constant": {"class_name": "x"}, "name": "add"}, (("i", 0),), OP,
                     label="add")
    with pytest.raises(ExportError, match="the Python export was refused"):
        operation_expr(call, ["i"])
    call = LayerCall("a", "System", "add", {"name": "add"}, (("i", 0),), OP, label="add")
    with pytest.raises(ExportError, match="not a Keras operation"):
        operation_expr(call, ["i"])


def test_script_check_allows_exactly_the_table_operations():
    from studio.export.script_safety import check_script

    check_script("import keras\ndef f(x):\n    return keras.ops.add(x, 1.0)\n")
    for bad in ("keras.ops.convert_to_numpy(x)", "keras.ops.cond(x, x, x)", "keras.src.ops.numpy.Add()(x, 1)"):
        with pytest.raises(ExportError, match="not a name the generator writes"):
            check_script(f"import keras\ndef f(x):\n    return {bad}\n")
    with pytest.raises(ExportError):
        check_script("from keras.src.saving import serialization_lib\n")


# --- Keras' own application layers ------------------------------------------------------------
def test_convnext_layer_scale_is_a_builtin(tmp_path):
    """LayerScale lives in keras.src.applications.convnext: resolved from Keras itself; the
    script imports it with a fixed line."""
    x = keras.Input((4, 4, 8), name="x")
    from keras.src.applications.convnext import LayerScale

    y = LayerScale(1e-6, 8, name="scale")(layers.Conv2D(8, 1, name="conv")(x))
    model = keras.Model(x, y + x)
    model.save(tmp_path / "ls.keras")
    result = import_model(tmp_path / "ls.keras", tmp_path / "ls")
    graph = result.project.graph
    assert next(n for n in graph.nodes if n.title == "scale").type == "LayerScale"
    text = generate_script(make_plan(graph, "ls"))
    assert "from keras.src.applications.convnext import LayerScale" in text
    (tmp_path / "ls.py").write_text(text)
    again = import_script(tmp_path / "ls.py").build_model()
    again.set_weights(model.get_weights())
    x_ = sample_inputs(model)
    assert max_abs_diff(predict(model, x_), predict(again, x_)) <= 1e-6


def test_the_file_module_of_a_builtin_is_never_imported():
    """LayerScale named with another module is not Keras' own: a custom class (placeholder)."""
    entry = {"module": "acme.convnext", "class_name": "LayerScale", "registered_name": "LayerScale",
             "config": {"name": "ls", "init_values": 1.0, "projection_dim": 3}}
    from studio.compiler.from_config import placeholder_reason

    assert "custom class" in placeholder_reason(entry)
    assert placeholder_reason(dict(entry, module="keras.src.applications.convnext")) is None


# --- Keras 2 TFOpLambda -----------------------------------------------------------------------------
def test_keras2_tf_op_lambdas_become_operations(tmp_path):
    tf_keras = pytest.importorskip("tf_keras")
    import tensorflow as tf

    x = tf_keras.Input((4,), name="x")
    h = tf_keras.layers.Dense(4, name="h")(x)
    a = h + 3.0
    b = tf.math.multiply(a, h)
    c = 2.0 - b
    legacy = tf_keras.Model(x, tf_keras.layers.Dense(2, name="out")(tf.nn.relu(c)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf_keras calls .h5 legacy
        legacy.save(str(tmp_path / "k2.h5"), save_format="h5")
    result = import_model(tmp_path / "k2.h5", tmp_path / "k2")
    types = {n.title: (n.type, n.params) for n in result.project.graph.nodes}
    assert types["tf.__operators__.add"] == ("ops.add", {"constant": 3.0})
    assert types["tf.math.multiply"] == ("ops.multiply", {})
    assert types["tf.math.subtract"] == ("ops.subtract", {"constant": 2.0, "constant_first": True})
    assert types["tf.nn.relu"] == ("ops.relu", {})
    assert result.max_abs_diff <= 1e-6
    # Another TensorFlow function is a placeholder, named.
    y = tf.math.reduce_mean(h, axis=1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tf_keras.Model(x, tf_keras.layers.Dense(2, name="out2")(y)).save(str(tmp_path / "k2b.h5"), save_format="h5")
    result = import_model(tmp_path / "k2b.h5", tmp_path / "k2b")
    assert result.placeholders == ["tf.math.reduce_mean"]
    node = next(n for n in result.project.graph.nodes if n.type == "Placeholder")
    assert "tf.math.reduce_mean" in node.params["reason"]


def test_keras2_savedmodel_with_tf_op_lambdas(tmp_path):
    """A Keras 2 SavedModel with plain arithmetic imports (read by tf_keras, compared with it);
    one with another TensorFlow function is refused before tf_keras loads anything."""
    tf_keras = pytest.importorskip("tf_keras")
    import tensorflow as tf

    x = tf_keras.Input((4,), name="x")
    h = tf_keras.layers.Dense(4, name="h")(x)
    legacy = tf_keras.Model(x, tf_keras.layers.Dense(2, name="out")(tf.math.multiply(h + 1.0, h)))
    legacy.save(str(tmp_path / "saved"), save_format="tf")
    result = import_model(tmp_path / "saved", tmp_path / "p")
    assert {n.type for n in result.project.graph.nodes} >= {"ops.add", "ops.multiply"}
    assert result.max_abs_diff <= 1e-6 and result.params == legacy.count_params()
    odd = tf_keras.Model(x, tf.math.reduce_mean(h, axis=1, keepdims=True))
    odd.save(str(tmp_path / "odd"), save_format="tf")
    from studio.compiler.from_config import ModelImportError

    with pytest.raises(ModelImportError, match="TFOpLambda"):
        import_model(tmp_path / "odd", tmp_path / "q")
