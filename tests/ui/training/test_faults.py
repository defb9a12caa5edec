"""Keras refusing the model (at build or during fit) is one message naming the node; the app
keeps working, the node is selected, and no run folder is left without a failure marker."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.ui.training.conftest import iris_panel

keras = pytest.importorskip("keras")


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = iris_panel(qtbot, tmp_path, epochs=1)
    yield widget
    widget.shutdown()


def _train(qtbot, panel):
    with qtbot.waitSignal(panel.runner.finished, timeout=90_000) as blocker:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def _run_dirs(panel) -> list[Path]:
    root = panel.document.project.runs_dir
    return sorted(p for p in root.iterdir() if p.is_dir()) if root and root.is_dir() else []


def test_keras_refusing_a_layer_at_build_names_and_selects_the_node(qtbot, panel, monkeypatch):
    real_build = keras.layers.Dense.build

    def refuse(self, input_shape):
        if self.name == "species":
            raise ValueError("this layer cannot be built here (simulated Keras refusal)")
        return real_build(self, input_shape)

    monkeypatch.setattr(keras.layers.Dense, "build", refuse)
    result = _train(qtbot, panel)
    assert result.status == "failed" and result.node_id == "species"
    text = panel.message.text()
    assert "species" in text and "simulated Keras refusal" in text and "Traceback" not in text
    assert panel.document.selection == ["species"]
    assert _run_dirs(panel) == []  # the model never built: nothing was written
    assert panel.train_button.isEnabled()
    monkeypatch.undo()  # the app keeps working: the next run trains
    assert _train(qtbot, panel).status == "completed"


def test_a_keras_error_during_fit_names_the_node_and_marks_the_run_failed(qtbot, panel, monkeypatch):
    real_call = keras.layers.Dense.call

    def call(self, inputs, *args, **kwargs):
        if self.name == "hidden" and not isinstance(inputs, keras.KerasTensor):  # in fit, not build
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                "expected axis -1 of input shape to have value 5, but received input with shape (16, 4)"
            )
        return real_call(self, inputs, *args, **kwargs)

    monkeypatch.setattr(keras.layers.Dense, "call", call)
    result = _train(qtbot, panel)
    assert result.status == "failed" and result.node_id == "hidden"
    assert panel.message.text().startswith("Failed: hidden:")
    assert "incompatible with the layer" in panel.message.text()
    assert panel.document.selection == ["hidden"]
    (run,) = _run_dirs(panel)
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "failed" and status["node"] == "hidden"
    assert "ValueError" in (run / "error.txt").read_text()
    assert not (run / "final.keras").exists()
    assert panel.runs_view.tree.topLevelItemCount() == 1  # listed, as failed
    monkeypatch.undo()
    assert _train(qtbot, panel).status == "completed"


def test_the_gui_thread_never_builds_compiles_or_fits(qtbot, panel, monkeypatch):
    """DESIGN 6: TensorFlow work (data, model build, compile, fit) runs on the training thread."""
    from studio import data
    from studio.compiler import keras_build

    threads: dict[str, set] = {}

    def record(name, fn):
        def wrapper(*args, **kwargs):
            threads.setdefault(name, set()).add(threading.get_ident())
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(data, "prepare", record("prepare", data.prepare))
    monkeypatch.setattr(keras_build, "build_model", record("build", keras_build.build_model))
    monkeypatch.setattr(keras_build, "compile_model", record("compile", keras_build.compile_model))
    monkeypatch.setattr(keras.Model, "fit", record("fit", keras.Model.fit))
    assert _train(qtbot, panel).status == "completed"
    assert set(threads) == {"prepare", "build", "compile", "fit"}
    gui = threading.main_thread().ident
    assert all(gui not in idents for idents in threads.values()), threads
