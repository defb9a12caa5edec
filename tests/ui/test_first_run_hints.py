"""Before the first run, the Curves and Runs tabs say what will appear there (they were empty
white areas); the curves replace the hint once a run trains, and a new project shows it again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.ui.waiting import HANG_MS, settle

IRIS = Path(__file__).resolve().parents[2] / "projects" / "iris-mlp.studio.json"


@pytest.fixture(autouse=True)
def _offline(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "studio-cache"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")


def _tab(qtbot, panel, widget) -> None:
    bar = panel.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(panel.tabs.indexOf(widget)).center())
    settle(qtbot)


def test_curves_and_runs_say_what_comes_before_the_first_run(qtbot, make_window, tmp_path):
    if not IRIS.is_file():
        pytest.skip("the bundled iris example is missing")
    path = tmp_path / IRIS.name
    shutil.copy(IRIS, path)
    window = make_window(optional_panels=True, size=(1400, 860))
    assert window.files.open(path, ask=False)
    window.docks["TrainingPanelDock"].raise_()
    panel = window.panels["TrainingPanel"]
    settle(qtbot)
    plots = panel.plots
    _tab(qtbot, panel, plots)
    assert plots.hint.isVisible() and "Press Train" in plots.hint.text()
    assert not plots.view.isVisible()
    _tab(qtbot, panel, panel.runs_view)
    runs = panel.runs_view
    assert runs.empty.isVisible() and "No runs yet" in runs.empty.text()
    assert not runs.tree.isVisible()

    _tab(qtbot, panel, plots)
    panel.settings.epochs.setValue(1)
    with qtbot.waitSignal(panel.runner.finished, timeout=HANG_MS):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
        # while TensorFlow starts (seconds before the first batch): no "Press Train" any more
        assert "starting" in plots.hint.text() and "Press Train" not in plots.hint.text()
    qtbot.waitUntil(lambda: plots.view.isVisible() and "loss" in plots.plot_names(), timeout=HANG_MS)
    assert not plots.hint.isVisible()
    _tab(qtbot, panel, runs)
    assert runs.tree.isVisible() and runs.tree.topLevelItemCount() == 1 and not runs.empty.isVisible()

    window.document.undo_stack.setClean()
    window.files.new("")  # another project: no run, no curves, the hints again
    settle(qtbot)
    assert runs.empty.isVisible() and not runs.tree.isVisible()
    _tab(qtbot, panel, plots)
    assert plots.hint.isVisible() and not plots.view.isVisible() and "Press Train" in plots.hint.text()
