"""Closing the window while training asks, stops cleanly and keeps the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.project.io import load_project
from studio.training import runs
from studio.ui import dialogs
from studio.ui.document import ProjectDocument
from studio.ui.main_window import MainWindow

EXAMPLE = Path(__file__).resolve().parents[3] / "projects" / "iris-mlp.studio.json"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "iris.studio.json"
    shutil.copy(EXAMPLE, path)
    # No real modal dialog may open offscreen: tests answer them.
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    monkeypatch.setattr(dialogs, "ask_stop_training", lambda parent: True)
    win = MainWindow(ProjectDocument(load_project(path)))
    qtbot.addWidget(win)
    win.show()
    yield win
    panel = win.panels["TrainingPanel"]
    if panel.is_training():
        panel.stop_and_wait()
    panel.shutdown()


def _start_long_training(qtbot, panel):
    panel.settings.epochs.setValue(500)
    panel.settings.batch_size.setValue(4)
    with qtbot.waitSignal(panel.trainingChanged, timeout=60_000, check_params_cb=lambda on: on):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    # Wait until batches really run, so Stop interrupts fit and not the set-up.
    qtbot.waitUntil(lambda: panel.history.batch_count > 0, timeout=60_000)


def test_cancel_keeps_training_and_the_window_open(qtbot, window, monkeypatch):
    panel = window.panels["TrainingPanel"]
    window.docks["diagnosticsDock"].raise_()
    _start_long_training(qtbot, panel)
    # Pressing Train brings the curves into view with room to read them.
    dock = window.docks["TrainingPanelDock"]
    assert dock.isVisible() and not dock.visibleRegion().isEmpty()
    assert dock.height() >= 0.4 * window.height()
    asked = []
    monkeypatch.setattr(dialogs, "ask_stop_training", lambda parent: asked.append(True) or False)
    window.close()
    assert asked and window.isVisible() and panel.is_training()


def test_stop_and_close_saves_the_run_as_stopped(qtbot, window, monkeypatch):
    panel = window.panels["TrainingPanel"]
    _start_long_training(qtbot, panel)
    window.close()
    assert not window.isVisible()
    assert not panel.is_training()
    project = window.document.project
    listed = runs.list_runs(project.runs_dir)
    assert len(listed) == 1
    status = json.loads((Path(listed[0].path) / "status.json").read_text())
    assert status["status"] == "stopped"
