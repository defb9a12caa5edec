"""Every export format for models with Hub module and backbone nodes, verified numerically
(point 7 of issue 13); formats that cannot hold a module are refused naming the one to use."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from studio.compiler.keras_build import build_model
from studio.compiler.plan import LayerCall, make_plan
from studio.core.errors import ExportError
from studio.export.codegen import generate_script
from studio.export.exporters import SUFFIX, export_model
from studio.export.script_transfer import call_statement
from studio.graph.keras_names import APPLICATIONS
from studio.graph.layers.transfer import BACKBONES
from studio.hub.module_layer import discover, node_params
from tests.compiler.graphs import Builder
from tests.hub.modules import IMAGE_SIZE

FORMATS = ("keras", "savedmodel", "tflite", "onnx", "python")


def _target(tmp_path, fmt):
    return tmp_path / f"model{SUFFIX.get(fmt, '')}"


def _image_model(module):
    import keras

    b = Builder()
    x = b.input(IMAGE_SIZE, IMAGE_SIZE, 3, title="images")
    hub = b.add("HubModule", title="features", handle=str(module), **node_params(discover(module)))
    out = b.add("Dense", units=3, activation="softmax", title="head")
    b.chain(x, hub, out)
    plan = make_plan(b.graph)
    keras.utils.set_random_seed(0)
    model = build_model(plan)
    # Fine-tune a little first: the exported files must carry the trained module variables.
    rng = np.random.default_rng(0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(rng.random((16, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float32), rng.integers(0, 3, 16),
              epochs=1, verbose=0)
    return model, plan


@pytest.mark.parametrize("fmt", FORMATS)
def test_image_module_model_exports_verified(image_module, tmp_path, fmt):
    import tensorflow as tf

    model, plan = _image_model(image_module)
    layer = model.get_layer("features")
    x = np.random.default_rng(1).random((2, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float32)
    original = tf.saved_model.load(str(image_module))(x, training=False).numpy()
    assert not np.allclose(layer(x).numpy(), original)  # the module was fine-tuned
    result = export_model(model, fmt, _target(tmp_path, fmt), plan=plan)
    assert result.max_abs_diff <= result.tolerance and result.path.exists()
    if fmt == "python":
        text = result.path.read_text()
        assert "class HubModule(layers.TFSMLayer):" in text and repr(str(image_module))[1:-1] in text
        assert "from studio" not in text and "import studio" not in text  # standalone: our layer code is in it


def _backbone_graph(**params):
    b = Builder()
    x = b.input(32, 32, 3, title="images")
    base = b.add("Backbone", title="base", backbone="MobileNetV2", pooling="avg", **params)
    out = b.add("Dense", units=2, title="head")
    b.chain(x, base, out)
    return b.graph


@pytest.mark.slow  # a MobileNetV2 per format: about a minute each on 2 cores
@pytest.mark.parametrize("fmt", FORMATS)
def test_backbone_model_exports_verified(tmp_path, fmt):
    import keras

    keras.utils.set_random_seed(1)
    plan = make_plan(_backbone_graph(freeze_up_to=40))
    model = build_model(plan)
    result = export_model(model, fmt, _target(tmp_path, fmt), plan=plan)
    assert result.max_abs_diff <= result.tolerance
    if fmt == "python":
        text = result.path.read_text()
        assert "keras.applications.MobileNetV2" in text and "freeze_up_to=40" in text


@pytest.mark.slow
def test_backbone_with_a_local_weights_file_exports_as_a_script_that_loads_it(tmp_path):
    import keras

    donor = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
    file = tmp_path / "mnv2.weights.h5"
    donor.save_weights(file)
    plan = make_plan(_backbone_graph(weights="file", weights_file=str(file)))
    model = build_model(plan)
    result = export_model(model, "python", tmp_path / "bb.py", plan=plan)
    assert result.max_abs_diff <= result.tolerance
    assert f"weights={str(file)!r}" in result.path.read_text().replace('"', "'")


def test_text_module_model_exports_keras_savedmodel_and_script_and_refuses_tflite_onnx(text_module, tmp_path):
    b = Builder()
    s = b.input(title="sentences", dtype="string")
    b.graph.node(s).params["batch_shape"] = [None]
    t = b.add("HubModule", title="embed", handle=str(text_module), **node_params(discover(text_module)))
    d = b.add("Dense", units=2, title="topic")
    b.chain(s, t, d)
    plan = make_plan(b.graph)
    model = build_model(plan)
    for fmt in ("keras", "savedmodel", "python"):
        result = export_model(model, fmt, tmp_path / f"text{SUFFIX.get(fmt, '')}", plan=plan)
        assert result.max_abs_diff <= result.tolerance
    for fmt in ("tflite", "onnx"):
        target = tmp_path / f"text{SUFFIX[fmt]}"
        with pytest.raises(ExportError, match="takes text as strings.*export a SavedModel") as err:
            export_model(model, fmt, target, plan=plan)
        assert "\n" not in str(err.value) and not target.exists()


def test_a_hostile_handle_is_only_data_in_the_script(image_module):
    hostile = '"); import os; os.system("echo owned") #'
    b = Builder()
    x = b.input(IMAGE_SIZE, IMAGE_SIZE, 3, title="images")
    hub = b.add("HubModule", title="features", **{**node_params(discover(image_module)), "handle": hostile})
    b.chain(x, hub)
    text = generate_script(make_plan(b.graph))  # passes the script's own syntax-tree check
    tree = ast.parse(text)
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert hostile in strings
    # The same imports and calls as a script whose handle is harmless (the script imports os itself,
    # for its --strategy options): the handle added no code.
    b.graph.node(hub).params["handle"] = "harmless"
    plain = ast.parse(generate_script(make_plan(b.graph)))

    def imports(t):
        return {ast.unparse(n) for n in ast.walk(t) if isinstance(n, (ast.Import, ast.ImportFrom))}

    def calls(t):  # the names called (a call of a call's result is covered by its inner call)
        return {ast.unparse(n.func) for n in ast.walk(t)
                if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))}

    assert imports(tree) == imports(plain) and calls(tree) == calls(plain)
    assert "os.system" not in calls(tree)


def test_a_backbone_name_outside_the_allowlist_is_refused():
    call = LayerCall("b", "Backbone", "base", {"backbone": "os.system", "weights": "none", "pooling": "avg"},
                     module="studio.hub")
    with pytest.raises(ExportError, match="not a backbone of this version"):
        call_statement(call, "base", ["images"])
    assert APPLICATIONS == set(BACKBONES)


def test_a_module_discovered_before_endpoints_were_recorded_asks_to_load_it_again():
    call = LayerCall("m", "HubModule", "features", {"handle": "/somewhere"}, module="studio.hub")
    with pytest.raises(ExportError, match="load the module again"):
        call_statement(call, "features", ["images"])
