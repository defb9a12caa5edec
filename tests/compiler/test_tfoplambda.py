"""Keras 2 TFOpLambda layers without tf_keras (issue 12, point 5).

A Keras 2 (tf_keras) model that applies TensorFlow functions to tensors stores each call as a
TFOpLambda layer naming the function. Plain arithmetic (`tf.math.add`, `tf.__operators__.add`,
`tf.math.multiply`, `tf.math.subtract`, `tf.math.truediv`...) imports as the operation nodes of
`studio.graph.layers.operations`; any other function is a placeholder whose error names the
operation node that replaces it. These tests write the configs by hand (as tf_keras writes them),
and an .h5 file with h5py, so they run whether or not tf_keras is installed; a Keras 3
`model.export()` SavedModel (no layer graph) is refused with the module-node advice.
"""

from __future__ import annotations

import json
import sys

import pytest

from studio.cli import main
from studio.compiler.from_config import ModelImportError, graph_from_config
from studio.compiler.keras_import import import_model
from studio.graph import default_catalog
from studio.graph.inference import analyse
from studio.graph.layers.operations import TF_FUNCTION_NODES
from studio.project import load_project


def _dense(name: str, units: int, source: str) -> dict:
    return {"module": "keras.layers", "class_name": "Dense", "registered_name": None, "name": name,
            "config": {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": "linear",
                       "use_bias": True},
            "build_config": {"input_shape": [None, 4]}, "inbound_nodes": [[[source, 0, 0, {}]]]}


def _tf_op(function: str, inbound: list, shape=(None, 4)) -> dict:
    name = f"tf.{function}"
    return {"module": "tf_keras.src.layers.core.tf_op_layer", "class_name": "TFOpLambda",
            "registered_name": "TFOpLambda", "name": name,
            "config": {"name": name, "trainable": True, "dtype": "float32", "function": function},
            "build_config": {"input_shape": list(shape)}, "inbound_nodes": [inbound]}


def keras2_config(extra: list | None = None, outputs: list | None = None) -> dict:
    """What tf_keras writes for:
        h = Dense(4)(x); a = h + 3.0; b = tf.math.multiply(a, h); c = 2.0 - b
        d = tf.math.truediv(c, 4.0); e = tf.math.add(d, h); out = Dense(2)(e)"""
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None, "name": "x",
         "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
                    "name": "x"}, "inbound_nodes": []},
        _dense("h", 4, "x"),
        _tf_op("__operators__.add", ["h", 0, 0, {"y": 3.0, "name": None}]),
        _tf_op("math.multiply", ["tf.__operators__.add", 0, 0, {"y": ["h", 0, 0]}]),
        _tf_op("math.subtract", ["_CONSTANT_VALUE", -1, 2.0, {"y": ["tf.math.multiply", 0, 0], "name": None}], ()),
        _tf_op("math.truediv", ["tf.math.subtract", 0, 0, {"y": 4.0}]),
        _tf_op("math.add", ["tf.math.truediv", 0, 0, {"y": ["h", 0, 0]}]),
        _dense("out", 2, "tf.math.add"),
    ] + list(extra or [])
    return {"name": "model", "trainable": True, "layers": layers, "input_layers": [["x", 0, 0]],
            "output_layers": outputs or [["out", 0, 0]]}


def _by_title(graph) -> dict:
    return {n.title: n for n in graph.nodes}


def test_plain_arithmetic_becomes_operation_nodes():
    imported = graph_from_config(keras2_config(), default_catalog())
    nodes = _by_title(imported.graph)
    assert (nodes["tf.__operators__.add"].type, nodes["tf.__operators__.add"].params) == ("ops.add", {"constant": 3.0})
    assert (nodes["tf.math.multiply"].type, nodes["tf.math.multiply"].params) == ("ops.multiply", {})
    assert (nodes["tf.math.subtract"].type, nodes["tf.math.subtract"].params) == (
        "ops.subtract", {"constant": 2.0, "constant_first": True})
    assert nodes["tf.math.truediv"].type == "ops.true_divide" and nodes["tf.math.truediv"].params == {"constant": 4.0}
    assert (nodes["tf.math.add"].type, nodes["tf.math.add"].params) == ("ops.add", {})
    assert not imported.placeholders
    # Wired as called: multiply takes (h + 3.0, h), add takes (truediv, h), in that order.
    graph = imported.graph
    wires = sorted((e.target_port, graph.node(e.source).title) for e in graph.edges if e.target == nodes["tf.math.add"].id)
    assert wires == [(0, "tf.math.truediv"), (1, "h")]
    report = analyse(graph)
    assert report.ok and report.total_params == 4 * 4 + 4 + 4 * 2 + 2
    assert report.outputs[nodes["out"].id] == [(None, 2)]


def test_another_tensorflow_function_is_a_placeholder_naming_its_replacement():
    config = keras2_config([_tf_op("math.reduce_mean", ["tf.math.add", 0, 0, {"axis": 1, "keepdims": True}])],
                           [["out", 0, 0], ["tf.math.reduce_mean", 0, 0]])
    imported = graph_from_config(config, default_catalog())
    assert imported.placeholders == ["tf.math.reduce_mean"]
    node = _by_title(imported.graph)["tf.math.reduce_mean"]
    assert node.type == "Placeholder" and node.params["class_name"] == "TFOpLambda"
    assert "replace it with an ops.mean node" in node.params["reason"]
    errors = analyse(imported.graph).errors
    assert [e.node for e in errors] == [node.id] and "tf.math.reduce_mean" in errors[0].message
    # Arithmetic called with arguments this version does not map is a placeholder too.
    odd = keras2_config([_tf_op("math.multiply", ["h", 0, 0, {"y": [1.0, 2.0, 3.0, 4.0]}])],
                        [["out", 0, 0], ["tf.math.multiply", 0, 0]])
    odd["layers"][-1]["name"] = odd["layers"][-1]["config"]["name"] = "scaled"
    odd["output_layers"][1][0] = "scaled"
    assert graph_from_config(odd, default_catalog()).placeholders == ["scaled"]


def test_every_hint_names_an_operation_node_of_the_catalog():
    catalog = default_catalog()
    for function, node in TF_FUNCTION_NODES.items():
        spec = catalog.find(node)
        assert spec is not None and spec.category == "Operations", function


def _write_h5(path, config: dict) -> None:
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w") as fh:
        fh.attrs["keras_version"] = "2.15.0"
        fh.attrs["backend"] = "tensorflow"
        fh.attrs["model_config"] = json.dumps({"class_name": "Functional", "config": config})


def test_h5_with_a_tf_function_imports_with_a_placeholder_without_tf_keras(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tf_keras", None)  # `import tf_keras` fails: never needed here
    config = keras2_config([_tf_op("nn.softmax", ["tf.math.add", 0, 0, {}])],
                           [["out", 0, 0], ["tf.nn.softmax", 0, 0]])
    _write_h5(tmp_path / "k2.h5", config)
    assert main(["import", str(tmp_path / "k2.h5"), "-o", str(tmp_path / "k2")]) == 0
    assert "placeholders ('tf.nn.softmax')" in capsys.readouterr().err
    project = load_project(tmp_path / "k2.studio.json")
    nodes = _by_title(project.graph)
    assert nodes["tf.nn.softmax"].type == "Placeholder" and nodes["tf.math.truediv"].type == "ops.true_divide"
    capsys.readouterr()
    assert main(["check", str(tmp_path / "k2.studio.json")]) == 1
    err = capsys.readouterr().err
    assert "tf.nn.softmax" in err and "ops.softmax" in err


def test_h5_of_plain_arithmetic_needs_tf_keras_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf_keras", None)
    _write_h5(tmp_path / "k2.h5", keras2_config())
    with pytest.raises(ModelImportError, match=r"k2\.h5: .*needs the tf_keras package.*pip install tf_keras"):
        import_model(tmp_path / "k2.h5", tmp_path / "k2")
    assert not (tmp_path / "k2.studio.json").exists()


def test_keras3_exported_savedmodel_says_to_add_it_as_a_module_node(tmp_path, capsys):
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.export(str(tmp_path / "served"), verbose=False)
    capsys.readouterr()
    assert main(["import", str(tmp_path / "served"), "-o", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "served" in err[0] and "holds no Keras layer graph" in err[0]
    assert "module node" in err[0] and "Hub module" in err[0]
    assert not (tmp_path / "p.studio.json").exists()
