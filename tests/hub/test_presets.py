"""KerasHub presets as backbone nodes (issue 13, point 3), on tiny presets the tests save (no network)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from studio.compiler.keras_build import build_model
from studio.compiler.plan import make_plan
from studio.core.errors import BuildError
from studio.graph.inference import analyse
from studio.graph.layers.presets import DISCOVERED
from studio.graph.model import Edge
from studio.hub.presets import check_preset_folder, discover, load_backbone, resolve_preset
from studio.hub.resolve import HubError
from studio.hub.trust import module_handles
from studio.project import load_project
from studio.project.io import save_project
from studio.project.model import Project
from tests.compiler.graphs import Builder
from tests.hub.presets import (
    CHANNELS,
    OFFSET,
    SCALE,
    SIZE,
    TEXT_DIM,
    TEXT_LENGTH,
    TEXT_VOCAB,
    preset_fixture,
    text_preset_fixture,
)

pytest.importorskip("keras_hub")

preset = preset_fixture(converter=False)
scaled_preset = preset_fixture(converter=True)
text_preset = text_preset_fixture()


def _graph(folder, trainable=True, units=1, **params):
    b = Builder()
    x = b.input(SIZE, SIZE, 3, title="images")
    facts = discover(str(folder), (None, SIZE, SIZE, 3), pooling=params.get("pooling", "avg"),
                     pixels=params.get("pixels", "0-255"))
    base = b.add("KerasHubPreset", title="base", preset=str(folder), **{"pooling": "avg", **params}, **facts)
    b.graph.node(base).trainable = trainable
    out = b.add("Dense", units=units, title="head")
    b.chain(x, base, out)
    return b.graph, base


def _data(n=16):
    rng = np.random.default_rng(0)
    x = (rng.random((n, SIZE, SIZE, 3)) * 255).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) / 255 * 3).reshape(-1, 1).astype("float32")
    return x, y


def _count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def test_shapes_and_counts_are_discovered_and_equal_keras(preset):
    facts = discover(str(preset), (None, SIZE, SIZE, 3), pooling="none")
    assert set(facts) == set(DISCOVERED)
    assert facts["backbone_class"] == "ResNetBackbone" and facts["input_shape"] == [None, None, None, 3]
    assert facts["feature_shape"] == [None, 2, 2, CHANNELS] and facts["rescale"] is None
    for pooling, shape in (("avg", (None, CHANNELS)), ("none", (None, 2, 2, CHANNELS))):
        graph, base = _graph(preset, pooling=pooling)
        report = analyse(graph)
        assert not report.errors, report.errors
        assert tuple(report.outputs[base][0]) == shape
        model = build_model(make_plan(graph, report=report))
        assert model.count_params() == report.total_params
        layer = model.get_layer("base")
        assert report.params[base] == (_count(layer.trainable_weights), _count(layer.non_trainable_weights))


@pytest.mark.parametrize("freeze", [0, 5, 12])
def test_freeze_up_to_counts_equal_keras(preset, freeze):
    graph, base = _graph(preset, freeze_up_to=freeze)
    report = analyse(graph)
    layer = build_model(make_plan(graph, report=report)).get_layer("base")
    assert report.params[base] == (_count(layer.trainable_weights), _count(layer.non_trainable_weights))
    if freeze:
        assert report.params[base][0] < discover(str(preset), (None, SIZE, SIZE, 3))["param_counts"][0]
    graph.node(base).trainable = False
    assert analyse(graph).params[base][0] == 0


def test_outputs_equal_calling_the_backbone(preset, scaled_preset):
    x, _ = _data(4)
    graph, _ = _graph(preset, pooling="none")
    layer = build_model(make_plan(graph)).get_layer("base")
    backbone, _ = load_backbone(str(preset))
    np.testing.assert_array_equal(layer(x).numpy(), backbone(x).numpy())
    # A preset with an image converter: its scaling is in front, for pixels in [0, 255] or [0, 1].
    graph, _ = _graph(scaled_preset, pooling="none")
    layer = build_model(make_plan(graph)).get_layer("base")
    scaled_backbone, _ = load_backbone(str(scaled_preset))
    expected = scaled_backbone(x * np.array(SCALE, "float32") + np.array(OFFSET, "float32")).numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    graph, _ = _graph(scaled_preset, pooling="none", pixels="0-1")
    layer = build_model(make_plan(graph)).get_layer("base")
    np.testing.assert_allclose(layer(x / 255.0).numpy(), expected, rtol=1e-4, atol=1e-4)


def _fit(graph, epochs=3, lr=0.01):
    import keras

    keras.utils.set_random_seed(0)
    model = build_model(make_plan(graph))
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
    x, y = _data()
    history = model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, shuffle=False)
    return model, history.history["loss"]


def test_trainable_preset_is_fine_tuned_and_frozen_stays_bit_identical(preset):
    import keras

    graph, _ = _graph(preset, trainable=True)
    model = build_model(make_plan(graph))
    layer = model.get_layer("base")
    before = [w.numpy().copy() for w in layer.trainable_weights]
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    x, y = _data()
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False)
    assert model.evaluate(x, y, verbose=0) < first
    assert all(not np.array_equal(a, w.numpy()) for a, w in zip(before, layer.trainable_weights))

    graph, _ = _graph(preset, trainable=False)
    model = build_model(make_plan(graph))
    layer = model.get_layer("base")
    assert layer.trainable_weights == []
    before = [w.numpy().copy() for w in layer.weights]
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for a, w in zip(before, layer.weights):
        np.testing.assert_array_equal(a, w.numpy())  # moving statistics included: training=False


def test_project_saves_reloads_and_trains_again(preset, tmp_path):
    import keras

    graph, base = _graph(preset)
    path = tmp_path / "preset.studio.json"
    save_project(Project(graph=graph, name="preset"), path)
    again = load_project(path)
    assert again.graph.node(base).params["feature_shape"] == [None, 2, 2, CHANNELS]
    assert module_handles(again.graph) == [str(preset)]  # asks to be trusted like a module
    model, losses = _fit(again.graph)
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    file = tmp_path / "m.keras"
    model.save(file)
    reloaded = keras.saving.load_model(file, safe_mode=True)
    x, _ = _data(4)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_wire_into_an_unloaded_preset_is_allowed_and_the_node_says_it_is_not_loaded(preset):
    b = Builder()
    x = b.input(SIZE, SIZE, 3)
    base = b.add("KerasHubPreset", preset=str(preset))
    assert b.graph.can_connect(Edge(x, base)) == (True, "")
    b.chain(x, base)
    errors = [d.message for d in analyse(b.graph).diagnostics if d.node == base and d.severity == "error"]
    assert len(errors) == 1 and "is not loaded yet" in errors[0]


def test_not_a_preset_folder_is_one_clear_message(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(HubError, match=r"not a KerasHub preset folder \(no config.json; it holds notes.txt\)"):
        resolve_preset(str(tmp_path))
    b = Builder()
    x = b.input(SIZE, SIZE, 3)
    base = b.add("KerasHubPreset", preset=str(tmp_path), feature_shape=[None, 2, 2, 8], param_counts=[0, 0])
    b.chain(x, base)
    with pytest.raises(BuildError, match="not a KerasHub preset folder") as err:
        build_model(make_plan(b.graph))
    assert err.value.node_id == base and "\n" not in str(err.value)


def test_corrupt_weights_are_one_clear_message(preset, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(preset, broken)
    (broken / "model.weights.h5").write_bytes(b"not an h5 file" * 10)
    with pytest.raises(HubError) as err:
        discover(str(broken), (None, SIZE, SIZE, 3))
    text = str(err.value)
    assert "model.weights.h5 cannot be loaded into ResNetBackbone" in text and "damaged" in text
    assert "\n" not in text and "Traceback" not in text


def _with_config(preset, tmp_path, change):
    folder = tmp_path / "edited"
    shutil.copytree(preset, folder)
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("change, named", [
    (lambda c: c.update(registered_name="network_studio>HubModule"), "registered class 'network_studio>HubModule'"),
    (lambda c: c["config"].update(dtype={"module": "os", "class_name": "system", "config": {}}), "module 'os'"),
    (lambda c: c["config"].update(extra={"module": "keras.layers", "class_name": "Lambda", "config": {}}),
     "class 'Lambda'"),
    (lambda c: c.update(registered_name="Functional", module="keras", class_name="Functional"), "not a KerasHub"),
])
def test_config_naming_anything_outside_keras_hub_is_refused_before_loading(preset, tmp_path, change, named):
    folder = _with_config(preset, tmp_path, change)
    with pytest.raises(HubError, match="config.json") as err:
        check_preset_folder(folder)
    assert named in str(err.value)
    with pytest.raises(HubError):
        discover(str(folder), (None, SIZE, SIZE, 3))


def test_unreadable_config_is_one_clear_message(preset, tmp_path):
    folder = tmp_path / "bad"
    shutil.copytree(preset, folder)
    (folder / "config.json").write_text("{ not json")
    with pytest.raises(HubError, match="config.json cannot be read as JSON.*damaged"):
        check_preset_folder(folder)


def test_unresolvable_handles_offline_say_what_to_download_and_where(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # huggingface_hub answers from its cache only: no network
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(HubError) as err:
        resolve_preset("hf://keras/resnet_50_imagenet")
    text = str(err.value)
    assert "cannot be downloaded" in text and "https://huggingface.co/keras/resnet_50_imagenet" in text
    assert "config.json, model.weights.h5" in text and "give that folder as the preset" in text

    import kagglehub

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'api.kaggle.com'")

    monkeypatch.setattr(kagglehub, "model_download", offline)
    with pytest.raises(HubError) as err:
        resolve_preset("kaggle://keras/resnetv2/keras/resnet_50_imagenet/2")
    assert "https://www.kaggle.com/models/keras/resnetv2/keras/resnet_50_imagenet/2" in str(err.value)
    with pytest.raises(HubError) as err:  # a preset name names its Kaggle page
        resolve_preset("resnet_50_imagenet")
    assert "https://www.kaggle.com/models/keras/" in str(err.value)
    with pytest.raises(HubError, match="only local folders, kaggle:// and hf://"):
        resolve_preset("gs://bucket/preset")
    with pytest.raises(HubError, match="neither a folder nor a KerasHub preset name"):
        resolve_preset("no_such_preset_here")


@pytest.mark.parametrize("fmt", ["keras", "python", pytest.param("savedmodel", marks=pytest.mark.slow)])
def test_preset_model_exports_verified(scaled_preset, tmp_path, fmt):
    from studio.export.exporters import SUFFIX, export_model

    graph, _ = _graph(scaled_preset, units=2, pixels="0-1", freeze_up_to=3)
    plan = make_plan(graph)
    model, _ = _fit(graph, epochs=1)  # the exported files carry the fine-tuned backbone
    result = export_model(model, fmt, tmp_path / f"model{SUFFIX.get(fmt, '')}", plan=plan)
    assert result.max_abs_diff <= result.tolerance and result.path.exists()
    if fmt == "python":
        text = result.path.read_text()
        assert "keras_hub.models.Backbone.from_preset(preset)" in text and f"preset=\"{scaled_preset}\"" in text
        assert "from studio" not in text and "import studio" not in text


def test_a_preset_is_frozen_then_fine_tuned_in_one_run(preset, tmp_path):
    from studio.training import runs
    from studio.training.config import TrainingConfig
    from studio.training.reports import TaskInfo
    from studio.training.session import TrainingSession
    from tests.training.test_two_phase import PhaseRecorder

    graph, _ = _graph(preset)
    plan = make_plan(graph, "preset_two_phase")
    images, targets = _data(32)
    config = TrainingConfig(epochs=3, batch_size=8, learning_rate=0.01, optimizer="adam", seed=0, loss="mse",
                            validation_split=0.25, checkpoint_best=False,
                            fine_tune={"enabled": True, "head_epochs": 2, "unfreeze_top": 0, "lr_factor": 0.1})
    box = []

    class Keep(PhaseRecorder):
        def _base(self):
            return [w.numpy().copy() for w in self.box[0].model.get_layer("base").weights]

    recorder = Keep(box)
    session = TrainingSession(lambda: build_model(plan), (images, targets), None, config, recorder,
                              task=TaskInfo(task="regression"), runs_root=tmp_path / "runs", tensorboard=False)
    box.append(session)
    result = session.run()
    assert result.status == "completed", result.message
    one, two = json.loads((result.run_dir / runs.CONFIG_FILE).read_text())["phases"]
    layer = session.model.get_layer("base")
    base_trainable = _count(layer.trainable_weights)
    assert one["trainable_params"] == CHANNELS + 1  # the Dense head only
    assert two["trainable_params"] == CHANNELS + 1 + base_trainable
    start, epoch1, epoch2, epoch3 = recorder.snapshots
    for a, b_, c in zip(start, epoch1, epoch2):
        np.testing.assert_array_equal(a, b_)  # phase 1: the preset's weights stay as they are
        np.testing.assert_array_equal(a, c)
    moved = {w.path for w, a, b_ in zip(layer.weights, epoch2, epoch3) if not np.array_equal(a, b_)}
    assert {w.path for w in layer.trainable_weights} <= moved  # phase 2 fine-tunes them
    assert list(runs.load_history(result.run_dir).epoch["phase"]) == [1.0, 1.0, 2.0]


def test_opening_the_app_does_not_import_keras_hub():
    import subprocess
    import sys

    code = ("import sys; import studio.app, studio.ui.main_window, studio.hub.presets, studio.ui.hub_dialog; "
            "print(sorted(m for m in ('keras_hub', 'tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_command_line_loads_presets_only_with_the_trust_flag(preset, tmp_path, capsys):
    from studio.cli import main

    graph, _ = _graph(preset, units=2)
    path = tmp_path / "presets.studio.json"
    save_project(Project(graph=graph, name="presets"), path)
    target = tmp_path / "m.keras"
    assert main(["export", str(path), "--format", "keras", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert "--trust-modules" in err and str(preset) in err and "KerasHub presets" in err and "Traceback" not in err
    assert not target.exists()
    assert main(["export", str(path), "--trust-modules", "--format", "keras", "-o", str(target)]) == 0
    assert target.is_file()


def _text_graph(folder, pooling="none", trainable=True):
    b = Builder()
    x = b.input(TEXT_LENGTH, title="tokens", dtype="int32")
    facts = discover(str(folder), (None, TEXT_LENGTH), pooling=pooling)
    base = b.add("KerasHubPreset", title="base", preset=str(folder), pooling=pooling, **facts)
    b.graph.node(base).trainable = trainable
    out = b.add("Dense", units=2, title="head")
    b.chain(x, base, out)
    return b.graph, base


def _tokens(n=4):
    ids = np.random.default_rng(2).integers(1, TEXT_VOCAB, (n, TEXT_LENGTH)).astype("int32")
    ids[:, 4:] = 0  # padding
    return ids


def test_text_preset_takes_token_ids_and_gives_its_sequence_output(text_preset):
    import keras

    graph, base = _text_graph(text_preset)
    report = analyse(graph)
    assert not report.errors, report.errors
    assert tuple(report.outputs[base][0]) == (None, TEXT_LENGTH, TEXT_DIM)
    model = build_model(make_plan(graph, report=report))
    layer = model.get_layer("base")
    assert report.params[base] == (_count(layer.trainable_weights), _count(layer.non_trainable_weights))
    ids = _tokens()
    backbone, _ = load_backbone(str(text_preset))
    direct = backbone({"token_ids": ids, "padding_mask": ids != 0, "segment_ids": np.zeros_like(ids)})
    np.testing.assert_allclose(layer(ids).numpy(), direct["sequence_output"].numpy(), rtol=1e-5, atol=1e-6)
    pooled, pooled_base = _text_graph(text_preset, pooling="avg")
    assert tuple(analyse(pooled).outputs[pooled_base][0]) == (None, TEXT_DIM)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")  # and it fine-tunes
    before = [w.numpy().copy() for w in layer.trainable_weights]
    model.fit(ids, np.ones((4, TEXT_LENGTH, 2), "float32"), epochs=1, verbose=0)
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before, layer.trainable_weights))


def test_text_preset_model_exports_as_a_verified_script(text_preset, tmp_path):
    from studio.export.exporters import export_model

    graph, _ = _text_graph(text_preset, pooling="avg")
    result = export_model(build_model(make_plan(graph)), "python", tmp_path / "model.py", plan=make_plan(graph))
    assert result.max_abs_diff <= result.tolerance and "keras.ops.not_equal" in result.path.read_text()
