"""`studio import`: a model a user already has opens as an editable graph."""

from __future__ import annotations

import json
import warnings
import zipfile

import numpy as np
import pytest

from studio.cli import main
from studio.compiler.from_config import ModelImportError
from studio.compiler.keras_import import import_model
from studio.compiler.plan import make_plan
from studio.export.codegen import ScriptSettings, generate_script
from studio.export.verify import max_abs_diff, predict, sample_inputs
from studio.graph.inference import analyse
from studio.project import load_project
from tests.export.helpers import import_script, layer_summary


def _same_as_original(original, rebuilt, atol=1e-5):
    """Same layer classes/names/order/params, same outputs after copying weights."""
    assert layer_summary(rebuilt) == layer_summary(original)
    rebuilt.set_weights(original.get_weights())
    x = sample_inputs(original, batch=2)
    diff = max_abs_diff(predict(original, x), predict(rebuilt, x))
    assert diff <= atol, diff


def _load_stored(model, plan, project):
    """Set `model`'s layers from the project's stored per-node weights; every weighted layer has some."""
    from studio.compiler.keras_build import apply_weights

    applied, misfits, total = apply_weights(model, plan, {n: e.arrays for n, e in project.weights.entries.items()})
    assert not misfits and len(applied) == total > 0


def _roundtrip(tmp_path, capsys, model, name, cli_export=False):
    """Import the saved model, check totals, export Python, rebuild from it.

    With `cli_export`, the script comes from `studio export -f python` (verified in a
    fresh process against the imported weights); else from `generate_script` (faster).
    """
    model.save(tmp_path / f"{name}.keras")
    result = import_model(tmp_path / f"{name}.keras", tmp_path / name)
    project = load_project(result.project_path)
    report = analyse(project.graph)
    assert report.ok and report.total_params == model.count_params()
    capsys.readouterr()
    assert main(["check", str(result.project_path), "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["ok"] and checked["total_params"] == model.count_params()
    script = tmp_path / f"{name}_code.py"
    if cli_export:
        assert main(["export", str(result.project_path), "-f", "python", "-o", str(script)]) == 0
        assert "Verified: max abs difference" in capsys.readouterr().out
    else:
        script.write_text(generate_script(make_plan(project.graph, name), ScriptSettings(name=name)))
    _same_as_original(model, import_script(script).build_model())
    return result, project


def test_mobilenet_v2_round_trip(tmp_path, capsys):
    import keras

    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    result, project = _roundtrip(tmp_path, capsys, model, "mobilenet", cli_export=True)
    assert result.layers == len(model.layers) and result.opaque == 0
    assert project.assets == {"weights": "mobilenet.weights.npz"}
    # The weights beside the project are the model's own.
    from studio.compiler.keras_build import build_model
    from studio.compiler.plan import make_plan

    plan = make_plan(project.graph, "mobilenet")
    rebuilt = build_model(plan)
    _load_stored(rebuilt, plan, project)
    x = sample_inputs(model)
    assert max_abs_diff(predict(model, x), predict(rebuilt, x)) <= 1e-5
    # Params are only what differs from the defaults, in plain form.
    conv = next(n for n in project.graph.nodes if n.title == "Conv1")
    assert conv.params == {"filters": 32, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
                           "use_bias": False}
    # Laid out left to right by depth.
    xs = {n.title: n.position[0] for n in project.graph.nodes}
    # (the input's name, input_layer_N, depends on how many inputs Keras made before in this process)
    first = next(n.title for n in project.graph.nodes if "batch_shape" in n.params)
    assert xs[first] < xs["Conv1"] < xs["bn_Conv1"] < xs["predictions"]


@pytest.mark.slow
def test_resnet50_round_trip(tmp_path, capsys):
    """A full-size 224x224 network: in the slow run (the default run imports one model per
    family, tests/compiler/test_import_applications.py)."""
    import keras

    _roundtrip(tmp_path, capsys, keras.applications.ResNet50(weights=None), "resnet")


def test_sequential_h5_with_nested_model_and_opaque_layer(tmp_path):
    """A legacy .h5 Sequential model inside a functional one, with a layer the
    catalog does not know (kept as-is) and a frozen layer."""
    import keras

    inner = keras.Sequential([keras.layers.Dense(8, activation="relu", name="inner_dense"),
                              keras.layers.Masking(mask_value=0.5, name="masking"),
                              keras.layers.Dense(4, name="inner_out")], name="block")
    x = keras.Input((6,), name="features")
    frozen = keras.layers.Dense(6, name="frozen", trainable=False)
    y = inner(frozen(x))
    out = keras.layers.Dense(2, activation="softmax", name="head")(y)
    model = keras.Model(x, out, name="nested")
    model.save(tmp_path / "nested.h5")
    result = import_model(tmp_path / "nested.h5", tmp_path / "nested.studio.json")
    graph = result.project.graph
    titles = [graph.label(nid) for nid in graph.topological_order()]
    assert titles == ["features", "frozen", "inner_dense", "masking", "inner_out", "head"]
    masking = next(n for n in graph.nodes if n.title == "masking")
    assert masking.type == "Masking" and masking.params["mask_value"] == 0.5  # opaque: full config
    assert next(n for n in graph.nodes if n.title == "frozen").trainable is False
    assert result.opaque == 1 and result.params == model.count_params()


def test_sequential_models(tmp_path):
    import keras

    built = keras.Sequential([keras.layers.Dense(4, activation="relu", name="a"),
                              keras.layers.Dropout(0.2, name="drop")], name="seq")
    built.build((None, 3))
    built.save(tmp_path / "built.keras")
    result = import_model(tmp_path / "built.keras", tmp_path / "built")
    nodes = [(n.type, n.params) for n in result.project.graph.nodes]
    assert nodes == [("Input", {"batch_shape": [None, 3]}), ("Dense", {"units": 4, "activation": "relu"}),
                     ("Dropout", {"rate": 0.2})]
    unbuilt = keras.Sequential([keras.layers.Dense(2)], name="never_built")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns when saving an unbuilt model
        unbuilt.save(tmp_path / "unbuilt.keras")
    with pytest.raises(ModelImportError, match="'never_built' was never built"):
        import_model(tmp_path / "unbuilt.keras", tmp_path / "unbuilt")


def test_multi_output_order_and_state_ports(tmp_path):
    import keras

    seq = keras.Input((5, 3), name="seq")
    whole, h, c = keras.layers.LSTM(4, return_state=True, name="lstm")(seq)
    first = keras.layers.Dense(1, name="late_head")(c)
    second = keras.layers.Dense(2, name="early_head")(whole)
    model = keras.Model(seq, [second, first])
    model.save(tmp_path / "m.keras")
    result = import_model(tmp_path / "m.keras", tmp_path / "m")
    from studio.compiler.keras_build import build_model
    from studio.compiler.plan import make_plan

    plan = make_plan(result.project.graph, "m")
    assert [plan.by_id()[n].name for n, _ in plan.outputs] == ["early_head", "late_head"]
    late = next(c for c in plan.calls if c.name == "late_head")
    assert late.inputs[0][1] == 2  # the cell state port of the LSTM
    rebuilt = build_model(plan)
    _load_stored(rebuilt, plan, load_project(result.project_path))
    x = sample_inputs(model)
    assert max_abs_diff(predict(model, x), predict(rebuilt, x)) <= 1e-5


def _lambda_model(tmp_path):
    import keras

    x = keras.Input((3,), name="x")
    y = keras.layers.Lambda(lambda t: t * 2, name="double")(x)
    model = keras.Model(x, keras.layers.Dense(1, name="out")(y))
    model.save(tmp_path / "lam.keras")
    return tmp_path / "lam.keras"


def test_lambda_layer_becomes_a_placeholder_named_on_its_node(tmp_path, capsys):
    """A Lambda in a functional model is never run: the rest imports, the Lambda is a
    placeholder with its error, and no weights are written (Keras never loaded the model)."""
    path = _lambda_model(tmp_path)
    assert main(["import", str(path), "-o", str(tmp_path / "lam")]) == 0
    captured = capsys.readouterr()
    err, out = captured.err, captured.out
    assert "placeholders ('double')" in err and "no weights were imported" in err
    # the summary says what was written, not a comparison or a weights file that does not exist
    assert "kept as placeholders (double)" in out and "nan" not in out and ".weights.h5" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lam.keras", "lam.studio.json"]
    project = load_project(tmp_path / "lam.studio.json")
    node = next(n for n in project.graph.nodes if n.title == "double")
    assert node.type == "Placeholder" and node.params["class_name"] == "Lambda"
    assert node.params["output_shapes"] == [[None, 3]]
    [error] = analyse(project.graph).errors
    assert error.node == node.id and "the Lambda layer was not loaded" in error.message


def test_custom_class_becomes_a_placeholder_naming_it(tmp_path):
    import keras

    @keras.saving.register_keras_serializable(package="acme")
    class Scale(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 3.0

    x = keras.Input((3,), name="x")
    keras.Model(x, keras.layers.Dense(2, name="out")(Scale(name="triple")(x))).save(tmp_path / "custom.keras")
    result = import_model(tmp_path / "custom.keras", tmp_path / "custom")
    assert result.placeholders == ["triple"] and result.project.assets == {}
    node = next(n for n in result.project.graph.nodes if n.title == "triple")
    assert "'acme>Scale' is a custom class" in node.params["reason"]
    report = analyse(result.project.graph)
    assert report.outputs[node.id] == [(None, 3)]  # recorded by the file: the Dense after it still checks
    assert report.total_params == 8


@pytest.mark.parametrize("name,content,message", [
    ("junk.keras", b"this is not a zip", "not a Keras model file"),
    ("junk.h5", b"this is not hdf5", "not an HDF5 model file"),
    ("notes.txt", b"hello", "unsupported file type"),
    ("missing.keras", None, "no such file"),
])
def test_files_that_are_not_models(tmp_path, capsys, name, content, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    assert main(["import", str(tmp_path / name), "-o", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not (tmp_path / "p.studio.json").exists()


def test_zip_without_config_and_weights_only_h5(tmp_path):
    import keras

    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(ModelImportError, match="without config.json"):
        import_model(tmp_path / "empty.keras", tmp_path / "p")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.save_weights(tmp_path / "only.weights.h5")
    with pytest.raises(ModelImportError, match="weights only"):
        import_model(tmp_path / "only.weights.h5", tmp_path / "p")


def test_exported_savedmodel_has_no_layer_graph(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.export(str(tmp_path / "served"), verbose=False)
    with pytest.raises(ModelImportError, match="holds no Keras layer graph"):
        import_model(tmp_path / "served", tmp_path / "p")


def test_keras2_savedmodel_is_converted(tmp_path):
    tf_keras = pytest.importorskip("tf_keras")
    x = tf_keras.Input((4,), name="x")
    hidden = tf_keras.layers.Dense(5, activation="relu", name="hidden")(x)
    legacy = tf_keras.Model(x, tf_keras.layers.Dense(2, name="out")(hidden))
    legacy.save(str(tmp_path / "saved"), save_format="tf")
    result = import_model(tmp_path / "saved", tmp_path / "p")
    assert [n.title for n in result.project.graph.nodes] == ["x", "hidden", "out"]
    from studio.compiler.keras_build import build_model
    from studio.compiler.plan import make_plan

    plan = make_plan(result.project.graph)
    rebuilt = build_model(plan)
    _load_stored(rebuilt, plan, load_project(result.project_path))
    sample = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(rebuilt(sample), legacy(sample), atol=1e-6)


def test_keras2_savedmodel_with_lambda_is_refused_before_loading(tmp_path):
    tf_keras = pytest.importorskip("tf_keras")
    x = tf_keras.Input((4,), name="x")
    doubled = tf_keras.layers.Lambda(lambda t: t * 2, name="dbl")(x)
    tf_keras.Model(x, tf_keras.layers.Dense(2, name="out")(doubled)).save(str(tmp_path / "saved"), save_format="tf")
    with pytest.raises(ModelImportError, match="layer 'dbl' is a Lambda layer"):
        import_model(tmp_path / "saved", tmp_path / "p")


def test_existing_project_needs_force(tmp_path, capsys):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="d")])
    model.save(tmp_path / "m.keras")
    (tmp_path / "p.studio.json").write_text("{}")
    assert main(["import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "p")]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "p"), "--force"]) == 0
    out = capsys.readouterr().out
    assert "Imported 2 layers, 3 parameters" in out
    assert json.loads((tmp_path / "p.studio.json").read_text())["assets"] == {"weights": "p.weights.npz"}


def test_import_then_export_cli_uses_the_imported_weights(tmp_path, capsys):
    """studio import, then studio export: the exported file holds the original weights."""
    import keras

    x = keras.Input((4,), name="x")
    model = keras.Model(x, keras.layers.Dense(3, name="d")(keras.layers.Dense(5, name="h")(x)))
    model.save(tmp_path / "m.keras")
    assert main(["import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "p")]) == 0
    assert main(["export", str(tmp_path / "p.studio.json"), "-f", "keras", "-o", str(tmp_path / "out.keras")]) == 0
    again = keras.saving.load_model(tmp_path / "out.keras", safe_mode=True)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_unwritable_project_folder_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    import os

    import keras

    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(tmp_path / "m.keras")
    out = tmp_path / "locked"
    out.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(out) else real_access(path, mode))
    assert main(["import", str(tmp_path / "m.keras"), "-o", str(out / "p")]) == 1
    err = capsys.readouterr().err.strip()
    assert "cannot write in" in err and "\n" not in err
    assert list(out.iterdir()) == []


def test_scan_accepts_keras_operations_and_refuses_lookalikes(tmp_path):
    """A functional model records operations (`mask_zero` -> ops.not_equal, `x + 1`) with a
    keras.src.ops module: they are Keras' own, not custom classes."""
    from pathlib import Path

    from studio.compiler.keras_import import scan_config

    def model(entry):
        return {"class_name": "Functional", "config": {"name": "m", "layers": [entry]}}

    op = {"module": "keras.src.ops.numpy", "class_name": "NotEqual", "registered_name": "NotEqual",
          "config": {"name": "not_equal"}}
    scan_config(model(op), Path("m.keras"))
    for module in ("keras_evil.ops", "acme.layers", "keras.opsevil"):
        with pytest.raises(ModelImportError, match="layer 'x' uses the custom class 'NotEqual'"):
            scan_config(model(dict(op, module=module, config={"name": "x"})), Path("m.keras"))
