"""The Runs and Predict tabs' actions as a user uses them: restore a run's network, open
TensorBoard (launcher mocked: no process, no network), predict on a CSV row and an image."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.graph.edits import remove_nodes
from studio.training import runs
from studio.ui.training import panel as panel_module
from studio.ui.training.panel import TrainingPanel
from tests.ui.training.conftest import iris_panel

CLICK = Qt.MouseButton.LeftButton


def _panel(qtbot, tmp_path) -> TrainingPanel:
    return iris_panel(qtbot, tmp_path, epochs=1)


@pytest.fixture
def trained(qtbot, tmp_path):
    widget = _panel(qtbot, tmp_path)
    with qtbot.waitSignal(widget.runner.finished, timeout=90_000) as blocker:
        qtbot.mouseClick(widget.train_button, CLICK)
    assert blocker.args[0].status == "completed"
    yield widget
    widget.shutdown()


def test_restore_network_puts_the_runs_graph_back_as_one_undo_step(qtbot, trained):
    document = trained.document
    snapshot = document.graph.to_dict()
    assert document.push(remove_nodes(["hidden"]))
    edited = document.graph.to_dict()
    assert edited != snapshot
    assert trained.runs_view.restore_button.isEnabled()  # the finished run is selected
    qtbot.mouseClick(trained.runs_view.restore_button, CLICK)
    assert document.graph.to_dict() == snapshot
    assert "Restored the network" in trained.message.text()
    document.undo_stack.undo()
    assert document.graph.to_dict() == edited


class _FakeProcess:
    """Stands in for QProcess: records what would be launched."""

    started: list[list[str]] = []

    class ProcessState:
        NotRunning = 0
        Running = 2

    def __init__(self, _parent=None) -> None:
        self.program, self.args, self.running = "", [], False

    def setProgram(self, program):  # noqa: N802 - Qt's name
        self.program = program

    def setArguments(self, args):  # noqa: N802
        self.args = list(args)

    def start(self):
        self.running = True
        _FakeProcess.started.append([self.program, *self.args])

    def waitForStarted(self, _ms):  # noqa: N802
        return True

    def state(self):
        return self.ProcessState.Running if self.running else self.ProcessState.NotRunning

    def kill(self):
        self.running = False

    def waitForFinished(self, _ms):  # noqa: N802
        return True


def test_open_in_tensorboard_launches_it_on_the_runs_folder_once(qtbot, trained, monkeypatch):
    opened = []
    _FakeProcess.started = []
    monkeypatch.setattr(panel_module, "QProcess", _FakeProcess)
    monkeypatch.setattr(panel_module.QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    monkeypatch.setattr(panel_module.QTimer, "singleShot", lambda _ms, fn: fn())
    button = trained.runs_view.tensorboard_button
    assert button.isEnabled()
    qtbot.mouseClick(button, CLICK)
    ((program, *args),) = _FakeProcess.started
    assert args[:2] == ["-m", "tensorboard.main"]
    assert Path(args[args.index("--logdir") + 1]) == trained.document.project.runs_dir
    assert args[args.index("--host") + 1] == "127.0.0.1"
    port = args[args.index("--port") + 1]
    assert opened == [f"http://127.0.0.1:{port}/"]
    assert f"127.0.0.1:{port}" in trained.message.text()
    qtbot.mouseClick(button, CLICK)  # again: the same server, opened again
    assert len(_FakeProcess.started) == 1 and len(opened) == 2


def test_tensorboard_button_stays_off_when_it_is_not_installed(qtbot, tmp_path, monkeypatch):
    real = panel_module.importlib.util.find_spec
    monkeypatch.setattr(
        panel_module.importlib.util, "find_spec", lambda name: None if name == "tensorboard" else real(name)
    )
    widget = _panel(qtbot, tmp_path)
    monkeypatch.undo()
    with qtbot.waitSignal(widget.runner.finished, timeout=90_000):
        qtbot.mouseClick(widget.train_button, CLICK)
    widget.runs_view.refresh()
    assert widget.runs_view.tree.topLevelItemCount() == 1
    assert not widget.runs_view.tensorboard_button.isEnabled()
    assert "not installed" in widget.runs_view.tensorboard_button.toolTip()
    widget.shutdown()


def test_predict_tab_on_a_csv_row_lists_the_classes(qtbot, trained):
    view = trained.predict
    assert view.run is not None and view.input.isEnabled()
    qtbot.keyClicks(view.input, "5.1,3.5,1.4,0.2")  # a row pasted from the CSV, target left out
    with qtbot.waitSignal(view.runner.done, timeout=60_000):
        qtbot.mouseClick(view.predict_button, CLICK)
    names = [view.output.item(r, 0).text() for r in range(view.output.rowCount())]
    assert sorted(names) == sorted(view.class_names) and len(names) == 3
    shares = [float(view.output.item(r, 1).text().rstrip("%")) for r in range(3)]
    assert shares == sorted(shares, reverse=True) and abs(sum(shares) - 100) < 0.5
    qtbot.waitUntil(lambda: not view.runner.is_running())
    with qtbot.waitSignal(view.runner.failed, timeout=60_000):
        assert view.predict("5.1,3.5")  # too few values: one line, no traceback
    assert "takes 4 value(s)" in view.status.text()


def test_predict_tab_on_an_image_file(qtbot, tmp_path):
    keras = pytest.importorskip("keras")
    from PIL import Image

    from studio.ui.training.predict_view import PredictView

    writer = runs.RunWriter(tmp_path / "img.runs")
    writer.write_config({"task": {"task": "classification", "class_names": ["cat", "dog"]},
                         "dataset_resolved": {"kind": "images", "path": "pets", "targets": ["label"]}})
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(2, 3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.save(writer.file(runs.FINAL_MODEL))
    writer.finish("completed", "trained 1 epoch(s)")
    picture = tmp_path / "pet.png"
    Image.new("RGB", (32, 20), (200, 30, 30)).save(picture)
    view = PredictView()
    qtbot.addWidget(view)
    view.set_run(runs.read_run(writer.path))
    assert view.image_button.isEnabled()
    assert "Image…" in view.input.placeholderText()  # the field says an image model takes an image file
    with qtbot.waitSignal(view.runner.done, timeout=60_000):
        assert view.predict(picture)
    names = {view.output.item(r, 0).text() for r in range(view.output.rowCount())}
    assert names == {"cat", "dog"}
    (tmp_path / "notes.png").write_text("not an image")
    qtbot.waitUntil(lambda: not view.runner.is_running())
    with qtbot.waitSignal(view.runner.failed, timeout=60_000):
        assert view.predict(tmp_path / "notes.png")
    assert "cannot read the image" in view.status.text()
    view.runner.wait()
