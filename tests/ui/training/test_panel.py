"""The training panel driven like a user: settings, Train, live curves, Stop, Pause, runs, evaluation."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.training import runs
from tests.ui.training.conftest import iris_panel
from tests.ui.waiting import settle


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = iris_panel(qtbot, tmp_path)
    widget.resize(1200, 800)
    yield widget
    widget.shutdown()


def _train(qtbot, panel, **settings):
    for name, value in settings.items():
        getattr(panel.settings, name).setValue(value)
    with qtbot.waitSignal(panel.runner.finished, timeout=90_000) as blocker:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_settings_form_writes_the_project_and_follows_undo(panel):
    document = panel.document
    panel.settings.epochs.setValue(7)
    assert document.project.training["epochs"] == 7
    panel.settings.optimizer.setCurrentIndex(panel.settings.optimizer.findData("sgd"))
    assert document.project.training["optimizer"] == "sgd"
    assert not panel.settings.momentum.isHidden() and panel.settings.weight_decay.isHidden()
    document.undo_stack.undo()
    assert panel.settings.optimizer.currentData() == "adam"
    document.undo_stack.undo()
    assert panel.settings.epochs.value() == 60  # the example's setting
    before = dict(document.project.training)
    panel.settings.metrics.setText("accuracy, not a metric!")
    panel.settings.metrics.editingFinished.emit()
    assert not panel.settings.error.isHidden() and "'metrics'" in panel.settings.error.text()
    assert document.project.training == before


def test_train_from_the_panel_shows_curves_runs_and_evaluation(qtbot, panel):
    result = _train(qtbot, panel, epochs=3, batch_size=16)
    assert result.status == "completed", result.message
    assert panel.plots.curve_points("loss", "val") == 3
    assert panel.plots.curve_points("loss", "batch") == panel.history.batch_count > 3
    assert "accuracy" in panel.plots.plot_names()
    assert panel.runs_view.tree.topLevelItemCount() == 1
    assert panel.runs_view.selected_run().id == result.run_id
    assert panel.evaluation.stack.currentIndex() == 1  # the confusion matrix
    assert panel.evaluation.confusion.rowCount() == 3
    assert "Completed" in panel.message.text()
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.continue_button.isEnabled()

    # continue from it: the curves keep the three earlier epochs and add two
    panel.settings.epochs.setValue(2)
    with qtbot.waitSignal(panel.runner.finished, timeout=90_000) as blocker:
        qtbot.mouseClick(panel.continue_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].status == "completed"
    assert panel.plots.curve_points("loss", "val") == 5
    assert runs.load_config(blocker.args[0].run_dir)["parent_run"] == result.run_id

    # compare: tick the first run, its curves are overlaid
    first = next(
        panel.runs_view.tree.topLevelItem(i)
        for i in range(2)
        if panel.runs_view.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == result.run_id
    )
    first.setCheckState(0, Qt.CheckState.Checked)
    assert len(panel.plots._plots["loss"].overlays) == 2  # its train and validation curves


def test_stop_mid_epoch_saves_a_stopped_run(qtbot, panel):
    panel.settings.epochs.setValue(500)
    panel.settings.batch_size.setValue(1)
    with qtbot.waitSignal(panel.runner.batches, timeout=90_000):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert panel.is_training() and panel.stop_button.isEnabled() and not panel.train_button.isEnabled()
    with qtbot.waitSignal(panel.runner.finished, timeout=60_000) as blocker:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.status == "stopped"
    assert result.epochs_done < 500
    assert runs.read_run(result.run_dir).status == "stopped"
    assert not panel.is_training()


def test_pause_holds_the_curves_and_resume_continues(qtbot, panel):
    panel.settings.epochs.setValue(500)
    panel.settings.batch_size.setValue(1)
    states = []
    panel.runner.stateChanged.connect(states.append)
    with qtbot.waitSignal(panel.runner.batches, timeout=90_000):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "paused" in states, timeout=60_000)
    assert panel.pause_button.text() == "Resume"
    # The session reports its last batches before it says "paused", and the reports arrive in
    # the order they were sent: what came before the pause is in the history already.
    held = panel.history.batch_count
    settle(qtbot, rounds=15)  # nothing more arrives while paused (at least 300 ms)
    assert panel.history.batch_count == held
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.history.batch_count > held, timeout=60_000)
    assert panel.pause_button.text() == "Pause"
    assert panel.stop_and_wait(30_000)
    assert panel.last_result.status == "stopped"


def test_a_broken_project_is_refused_with_a_message(qtbot, panel):
    panel.document.project.dataset = None
    assert not panel.train()
    assert "no dataset" in panel.message.text()
    assert not panel.is_training()


def test_steps_per_execution_shows_auto_and_takes_a_typed_number(qtbot, panel):
    box = panel.settings.steps_per_execution
    assert box.text() == "auto" and panel.settings.form_dict()["steps_per_execution"] == "auto"
    box.selectAll()
    qtbot.keyClicks(box, "8")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert panel.document.project.training["steps_per_execution"] == 8
    box.setValue(0)  # the bottom of the range reads "auto" again
    assert box.text() == "auto" and panel.document.project.training["steps_per_execution"] == "auto"
