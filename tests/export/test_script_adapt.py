"""The exported script fits Normalization layers drawn without a mean and variance the way the
app's training does (`studio.training.adapt`): on the training split, through the layers in
front of the layer, up to the same sample cap, before fitting; so the script and the app train
the same model. Projects without such layers get no such code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.cli import main
from studio.compiler.plan import make_plan
from studio.export import script_adapt
from studio.export.codegen import ScriptSettings, generate_script
from studio.project import load_project
from tests.compiler.graphs import Builder, mlp
from tests.export.helpers import assert_ruff_clean, import_script, run_script
from tests.training.conftest import iris_with_norm

REPO = Path(__file__).resolve().parents[2]
STAT_NAMES = ("mean", "variance")




def _export(project: Path) -> Path:
    out = project.parent / "export" / "iris_model.py"
    out.parent.mkdir()
    assert main(["export", str(project), "-f", "python", "-o", str(out)]) == 0
    return out




def _layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _layers(layer)


def _statistics(model, name: str = "norm") -> tuple[np.ndarray, np.ndarray]:
    layer = next(layer for layer in _layers(model) if layer.name == name)
    mean, variance = layer.get_weights()[:2]
    return np.asarray(mean), np.asarray(variance)


def test_script_fits_normalization_on_the_training_split_like_the_app(tmp_path, capsys, monkeypatch):
    import keras

    from studio.compiler import keras_build
    from studio.workflows.train import make_setup, training_config

    project = iris_with_norm(tmp_path, epochs=2, seed=3)
    script = _export(project)
    capsys.readouterr()
    printed = run_script(script)
    assert "Normalization 'norm' was fitted on 105 training samples" in printed  # 70% of 150
    trained = keras.saving.load_model(script.with_name("iris_model.keras"), safe_mode=True)
    got = _statistics(trained)

    # The app's own training setup, its network given the weights the script started from
    # (the statistics depend on the hidden layer's weights in front of the Normalization).
    weights = script.with_name("iris_model.weights.h5")
    build = keras_build.build_model

    def with_exported_weights(plan):
        network = build(plan)
        network.load_weights(weights)
        return network

    monkeypatch.setattr(keras_build, "build_model", with_exported_weights)
    loaded = load_project(project)
    prepared = make_setup(loaded, training_config(loaded))()
    assert any("'norm' was fitted on 105 training samples" in line for line in prepared.messages)
    want = _statistics(prepared.model)

    for name, g, w in zip(STAT_NAMES, got, want):
        assert g.shape == w.shape == (16,), name
        np.testing.assert_allclose(g, w, atol=1e-5, err_msg=name)
    mean, variance = got
    assert (mean >= 0).all() and mean.max() > 0.1  # relu outputs, not Keras' silent mean 0
    assert not np.allclose(variance, 1.0, atol=1e-3)  # nor its variance 1
    assert np.isfinite(variance).all() and variance.max() > 0


def test_a_runs_script_keeps_the_statistics_the_run_fitted(tmp_path, capsys):
    """Exported from a trained run, the script continues from the run's weights: its
    Normalization keeps the run's statistics instead of fitting them again (after training,
    the hidden layer in front would give other ones)."""
    import keras

    project = iris_with_norm(tmp_path, epochs=2, seed=3)
    assert main(["train", str(project), "--epochs", "3", "--json"]) == 0
    end = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    run = keras.saving.load_model(Path(end["run_dir"]) / "final.keras", safe_mode=True)
    script = _export(project)
    capsys.readouterr()
    printed = run_script(script)
    assert "was fitted" not in printed
    trained = keras.saving.load_model(script.with_name("iris_model.keras"), safe_mode=True)
    for name, g, w in zip(STAT_NAMES, _statistics(trained), _statistics(run)):
        np.testing.assert_array_equal(g, w, err_msg=name)
    assert not np.allclose(_statistics(run)[1], 1.0, atol=1e-3)


def _norm_graph(**norm_params):
    b = Builder()
    x = b.input(3, title="features")
    h = b.add("Dense", units=5, activation="relu", title="hidden")
    n = b.add("Normalization", title="norm", **norm_params)
    o = b.add("Dense", units=2, activation="softmax", title="out")
    b.chain(x, h, n, o)
    return b.graph


def test_cap_and_order_are_the_apps(tmp_path):
    """Past ADAPT_SAMPLES the script stops after the batch that reaches it, as the app does,
    and a layer is fitted through the one in front of it (already fitted)."""
    import keras
    import tensorflow as tf

    from studio.compiler.keras_build import build_model
    from studio.training.adapt import MAX_SAMPLES, adapt_normalization

    assert script_adapt.MAX_SAMPLES == MAX_SAMPLES
    b = Builder()
    x = b.input(3, title="features")
    first = b.add("Normalization", title="first")
    h = b.add("Dense", units=4, activation="relu", title="hidden")
    second = b.add("Normalization", title="second")
    b.chain(x, first, h, second, b.add("Dense", units=1, title="out"))
    plan = make_plan(b.graph, "net")
    assert script_adapt.adapted_layers(plan) == ["first", "second"]
    path = tmp_path / "net.py"
    path.write_text(generate_script(plan, ScriptSettings(name="net")))
    module = import_script(path)
    module.ADAPT_SAMPLES = 10

    rng = np.random.default_rng(0)
    rows = (rng.standard_normal((40, 3)) * [1, 5, 20] + [0, 3, -7]).astype("float32")
    train = tf.data.Dataset.from_tensor_slices((rows, np.zeros(40, "float32"))).batch(4)
    script_model, app_model = module.build_model(), build_model(plan)
    app_model.set_weights(script_model.get_weights())
    module.adapt_normalization(script_model, train)
    lines = adapt_normalization(app_model, train, max_samples=10)
    assert len(lines) == 2 and "12 training samples" in lines[0]  # 3 batches of 4 reach 10
    for name in ("first", "second"):
        for stat, g, w in zip(STAT_NAMES, _statistics(script_model, name), _statistics(app_model, name)):
            np.testing.assert_allclose(g, w, atol=1e-6, err_msg=f"{name} {stat}")
    np.testing.assert_allclose(_statistics(script_model, "first")[0], rows[:12].mean(axis=0), rtol=1e-5)
    assert not np.allclose(_statistics(script_model, "first")[0], rows.mean(axis=0), rtol=1e-3)
    assert keras.ops.convert_to_numpy(script_model(rows[:2])).shape == (2, 1)


@pytest.mark.parametrize("device", ["auto", "cpu"])
def test_adapting_script_is_standalone_and_ruff_clean(tmp_path, device):
    training = {"device": device, "checkpoint_best": True}
    for weights in (None, "net.weights.h5"):
        settings = ScriptSettings(name="net", training=training, weights_file=weights,
                                  preprocessing={"rescale": 0.5})
        text = generate_script(make_plan(_norm_graph(), "net"), settings)
        assert "ADAPT_SAMPLES = 20_000" in text
        assert "        adapt_normalization(model, data[0])" in text
        assert text.index("adapt_normalization(model, data[0])") < text.index("model = compile_model(")
        assert ("WEIGHTS_PATH" in text.split("def needs_adapting")[1].split("def ")[0]) == bool(weights)
        path = tmp_path / f"net_{device}_{bool(weights)}.py"
        path.write_text(text)
        assert_ruff_clean(path)


def test_no_adapt_code_without_normalization_to_fit():
    """Projects whose Normalization layers have their mean and variance (or have none) get
    the same script as before: no adapt code, data loaded after compiling."""
    graphs = {"mlp": mlp(), "given": _norm_graph(mean=[0.0] * 5, variance=[1.0] * 5)}
    for name, graph in graphs.items():
        plan = make_plan(graph, "net")
        assert script_adapt.adapted_layers(plan) == [], name
        text = generate_script(plan, ScriptSettings(name="net", training={"epochs": 3}))
        assert "adapt" not in text.lower(), name
        assert "    data = load_data()\n    with strategy.scope():\n        model = build_model()\n" \
               "        model = compile_model(model)\n" in text, name
    with_norm = generate_script(make_plan(_norm_graph(), "net"), ScriptSettings(name="net"))
    assert "def adapt_normalization(" in with_norm
