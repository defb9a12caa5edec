"""The HubModule node on local SavedModels shaped like Hub modules (no network)."""

from __future__ import annotations

import urllib.error

import numpy as np
import pytest

from studio.compiler.keras_build import build_model
from studio.compiler.plan import make_plan
from studio.core.errors import BuildError, ShapeMismatch
from studio.graph.inference import analyse
from studio.graph.model import Edge
from studio.hub.module_layer import discover, node_params
from studio.hub.resolve import HubError, expected_cache_folder, resolve_handle
from studio.project import load_project
from studio.project.io import save_project
from studio.project.model import Project
from tests.compiler.graphs import Builder
from tests.hub.modules import FEATURES, IMAGE_SIZE, TEXT_DIM


def _image_graph(module, trainable=True):
    b = Builder()
    x = b.input(IMAGE_SIZE, IMAGE_SIZE, 3, title="images")
    info = node_params(discover(module))
    hub = b.add("HubModule", title="features", handle=str(module), **info)
    b.graph.node(hub).trainable = trainable
    out = b.add("Dense", units=1, title="score")
    b.chain(x, hub, out)
    return b.graph, hub


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.random((n, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float32)
    y = (x.mean(axis=(1, 2, 3)) * 3).reshape(-1, 1).astype("float32")
    return x, y


def test_shapes_are_discovered(image_module, text_module):
    img = node_params(discover(image_module))
    assert img["input_shape"] == [None, IMAGE_SIZE, IMAGE_SIZE, 3] and img["input_dtype"] == "float32"
    assert img["output_shape"] == [None, FEATURES]
    assert img["param_counts"] == [3 * 3 * 3 * FEATURES + FEATURES + 2 * FEATURES, 2 * FEATURES]
    info = discover(image_module)
    assert info["default"] == "__call__" and info["endpoints"][0]["training"] is True
    txt = node_params(discover(text_module))
    assert txt["input_shape"] == [None] and txt["input_dtype"] == "string"
    assert txt["output_shape"] == [None, TEXT_DIM]


def test_node_shapes_and_counts_equal_keras(image_module):
    graph, hub = _image_graph(image_module)
    report = analyse(graph)
    assert not report.errors, report.errors
    assert tuple(report.outputs[hub][0]) == (None, FEATURES)
    model = build_model(make_plan(graph, report=report))
    assert model.count_params() == report.total_params


def test_outputs_equal_calling_the_module(image_module, text_module):
    import keras
    import tensorflow as tf

    graph, hub = _image_graph(image_module)
    model = build_model(make_plan(graph))
    layer = model.get_layer("features")
    x, _ = _data(4)
    direct = tf.saved_model.load(str(image_module))(x, training=False).numpy()
    np.testing.assert_array_equal(layer(x).numpy(), direct)

    b = Builder()
    s = b.input(title="sentences", dtype="string")
    b.graph.node(s).params["batch_shape"] = [None]
    t = b.add("HubModule", title="embed", handle=str(text_module), **node_params(discover(text_module)))
    b.chain(s, t)
    text_model = build_model(make_plan(b.graph))
    words = tf.constant(["a cat", "a dog", "hello world"])
    np.testing.assert_array_equal(text_model(words).numpy(),
                                  tf.saved_model.load(str(text_module))(words).numpy())
    assert isinstance(text_model, keras.Model)


def _fit(graph, epochs=3):
    import keras

    keras.utils.set_random_seed(0)
    model = build_model(make_plan(graph))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    x, y = _data()
    history = model.fit(x, y, epochs=epochs, batch_size=8, verbose=0)
    return model, history.history["loss"]


def test_trainable_module_is_fine_tuned(image_module):
    graph, _ = _image_graph(image_module, trainable=True)
    import keras

    model = build_model(make_plan(graph))
    layer = model.get_layer("features")
    assert len(layer.trainable_weights) == 4 and len(layer.non_trainable_weights) == 2
    before = [w.numpy().copy() for w in layer.weights]
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    x, y = _data()
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, shuffle=False)
    assert model.evaluate(x, y, verbose=0) < first
    changed = [not np.array_equal(a, w.numpy()) for a, w in zip(before, layer.weights)]
    assert all(changed), changed  # kernel, bias, gamma, beta and the moving statistics (training=True)


def test_frozen_module_stays_bit_identical(image_module):
    graph, _ = _image_graph(image_module, trainable=False)
    import keras

    model = build_model(make_plan(graph))
    layer = model.get_layer("features")
    assert layer.trainable_weights == []
    before = [w.numpy().copy() for w in layer.weights]
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    x, y = _data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for a, w in zip(before, layer.weights):
        np.testing.assert_array_equal(a, w.numpy())


def test_project_saves_reloads_and_trains_again(image_module, tmp_path):
    import keras

    graph, _ = _image_graph(image_module)
    path = tmp_path / "hub.studio.json"
    save_project(Project(graph=graph, name="hub"), path)
    assert str(tmp_path) not in path.read_text().replace(str(image_module), "")  # no resolved cache path
    again = load_project(path)
    model, losses = _fit(again.graph)
    assert np.isfinite(losses).all()
    # The built model saves and reloads in safe mode (the config holds the handle, not a path).
    file = tmp_path / "m.keras"
    model.save(file)
    reloaded = keras.saving.load_model(file, safe_mode=True)
    x, _ = _data(4)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert reloaded.get_layer("features").get_config()["handle"] == str(image_module)


def test_not_a_saved_model_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(HubError, match="not a SavedModel folder.*saved_model.pb"):
        resolve_handle(str(tmp_path))
    b = Builder()
    x = b.input(IMAGE_SIZE, IMAGE_SIZE, 3)
    hub = b.add("HubModule", handle=str(tmp_path), input_shape=[None, IMAGE_SIZE, IMAGE_SIZE, 3],
                output_shape=[None, FEATURES], param_counts=[0, 0])
    b.chain(x, hub)
    with pytest.raises(BuildError, match="not a SavedModel folder") as err:
        build_model(make_plan(b.graph))
    assert err.value.node_id == hub and "\n" not in str(err.value)


def test_wrong_dtype_wired_is_one_clear_message(text_module):
    b = Builder()
    x = b.input(4)
    info = node_params(discover(text_module))
    info["input_shape"] = None  # let the build itself find the mismatch
    hub = b.add("HubModule", handle=str(text_module), **info)
    b.chain(x, hub)
    with pytest.raises(BuildError, match="takes string input but the wired input is float32") as err:
        build_model(make_plan(b.graph))
    assert err.value.node_id == hub


def test_wrong_shape_wired_is_found_by_shape_inference(image_module):
    b = Builder()
    x = b.input(16, 16, 3)
    hub = b.add("HubModule", handle=str(image_module), **node_params(discover(image_module)))
    with pytest.raises(ShapeMismatch, match=r"takes input of shape \(None, 8, 8, 3\) but the wired input is"):
        b.chain(x, hub)
    b.graph.connect(Edge(x, hub), check_shapes=False)  # a project file may hold the wire
    errors = analyse(b.graph).errors
    assert len(errors) == 1 and "takes input of shape (None, 8, 8, 3)" in errors[0].message


def test_undiscovered_module_is_a_diagnostic():
    b = Builder()
    x = b.input(8, 8, 3)
    hub = b.add("HubModule", handle="https://tfhub.dev/google/some/module/1")
    b.graph.connect(Edge(x, hub), check_shapes=False)  # Graph.connect refuses the wire until discovered
    errors = analyse(b.graph).errors
    assert len(errors) == 1 and "not loaded yet" in errors[0].message


def test_unresolvable_handle_offline_says_what_to_download_and_where(monkeypatch):
    import tensorflow_hub.resolver as hub_resolver

    def offline(self, request):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(hub_resolver.HttpResolverBase, "_call_urlopen", offline)
    handle = "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5"
    with pytest.raises(HubError) as err:
        resolve_handle(handle)
    message = str(err.value)
    assert "cannot be downloaded" in message and "no network" in message
    assert "tf-hub-format=compressed" in message and str(expected_cache_folder(handle)) in message
    assert "\n" not in message


def test_cached_module_resolves_without_network(image_module, monkeypatch):
    import shutil

    handle = "google/fake-module/tensorFlow2/feature-vector/1"
    shutil.copytree(image_module, expected_cache_folder(handle))
    import tensorflow_hub

    monkeypatch.setattr(tensorflow_hub, "resolve", lambda *a, **k: pytest.fail("no download expected"))
    assert resolve_handle(handle) == expected_cache_folder(handle)
