"""Every export format writes a file that really loads and gives the same answers."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from studio.compiler.keras_build import build_model
from studio.compiler.plan import make_plan
from studio.core.errors import ExportError
from studio.export.exporters import TOLERANCE, export_model
from studio.export.verify import predict, sample_inputs
from tests.compiler.graphs import mlp, multi_io
from tests.export.helpers import import_script

CASES = [("keras", "net.keras"), ("savedmodel", "net_savedmodel"), ("tflite", "net.tflite"), ("onnx", "net.onnx")]


@pytest.fixture(scope="module")
def multi():
    plan = make_plan(multi_io(), "net")
    return plan, build_model(plan)


def _visible(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fmt,name", CASES, ids=[c[0] for c in CASES])
def test_export_is_verified_and_reported(tmp_path, multi, fmt, name):
    plan, model = multi
    result = export_model(model, fmt, tmp_path / name)
    assert result.path.exists()
    report = json.loads((tmp_path / f"{name}.verify.json").read_text())
    assert report["passed"] and report["format"] == fmt
    assert 0 <= report["max_abs_diff"] <= report["tolerance"] <= TOLERANCE[fmt] * 100
    assert _visible(tmp_path) == sorted([name, f"{name}.verify.json"])  # no staging left behind
    if fmt == "tflite":  # an LSTM: TFLite needs a fixed batch, and says so
        assert report["fixed_batch_size"] == 1 and "fixed batch size of 1" in result.notes[0]


def test_keras_file_reloads_safely_with_the_same_answers(tmp_path, multi):
    import keras

    _, model = multi
    export_model(model, "keras", tmp_path / "net.keras")
    again = keras.saving.load_model(tmp_path / "net.keras", safe_mode=True)
    x = sample_inputs(model)
    for a, b in zip(predict(model, x), predict(again, x)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_python_export_runs_on_its_own_with_the_weights(tmp_path):
    plan = make_plan(mlp(), "net")
    model = build_model(plan)
    result = export_model(model, "python", tmp_path / "classifier.py", plan=plan)
    assert _visible(tmp_path) == ["classifier.py", "classifier.py.verify.json", "classifier.weights.h5"]
    assert result.max_abs_diff <= 1e-5
    module = import_script(tmp_path / "classifier.py")
    rebuilt = module.build_model()
    rebuilt.load_weights(module.WEIGHTS_PATH)
    x = sample_inputs(model)
    np.testing.assert_allclose(predict(rebuilt, x)[0], predict(model, x)[0], atol=1e-6)


def test_failed_verification_leaves_nothing_and_keeps_the_old_file(tmp_path, multi):
    _, model = multi
    old = tmp_path / "net.onnx"
    old.write_bytes(b"previous export")
    with pytest.raises(ExportError, match="does not give the same answers.*nothing was written"):
        export_model(model, "onnx", old, tolerance=-1.0)
    assert _visible(tmp_path) == ["net.onnx"] and old.read_bytes() == b"previous export"


def test_existing_export_is_replaced(tmp_path, multi):
    _, model = multi
    (tmp_path / "net.keras").write_bytes(b"old")
    export_model(model, "keras", tmp_path / "net.keras")
    assert (tmp_path / "net.keras").read_bytes()[:2] == b"PK"  # a .keras file is a zip


@pytest.mark.parametrize("target,message", [
    ("missing/net.keras", "does not exist"),
    ("afile/net.keras", "is not a folder"),
    ("net.h5", "must end in .keras"),
])
def test_bad_paths_are_one_line_errors(tmp_path, multi, target, message):
    _, model = multi
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError, match=message) as info:
        export_model(model, "keras", tmp_path / target)
    assert "\n" not in str(info.value)
    assert _visible(tmp_path) == ["afile"]


def test_onnx_without_tf2onnx_says_how_to_install(tmp_path, multi, monkeypatch):
    _, model = multi
    monkeypatch.setitem(sys.modules, "tf2onnx", None)
    with pytest.raises(ExportError, match=r"pip install network-studio\[onnx\]"):
        export_model(model, "onnx", tmp_path / "net.onnx")
    assert _visible(tmp_path) == []


@pytest.fixture(scope="module")
def raw_input_model():
    """A model as the app trains it: the data's fitted scaling in front of the network."""
    from studio.data.pipeline import wrap_model

    scaling = {"rescale": 0.5, "normalize": {"mean": [float(i) for i in range(8)], "variance": [4.0] * 8}}
    return wrap_model(build_model(make_plan(mlp(), "net")), scaling)


@pytest.mark.parametrize("fmt,name", CASES, ids=[c[0] for c in CASES])
def test_models_taking_raw_inputs_export_in_every_format(tmp_path, raw_input_model, fmt, name):
    """The Normalization statistics are constants inside the graph: ONNX must not turn them into
    extra inputs (tf2onnx's from_function would)."""
    result = export_model(raw_input_model, fmt, tmp_path / name)
    assert result.max_abs_diff <= result.tolerance
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == ["raw_input"]
        assert [o.name for o in session.get_outputs()] == ["output_0"]


def test_python_export_to_a_relative_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = make_plan(mlp(), "net")
    result = export_model(build_model(plan), "python", "net.py", plan=plan)
    assert result.max_abs_diff <= 1e-5
    assert _visible(tmp_path) == ["net.py", "net.py.verify.json", "net.weights.h5"]
