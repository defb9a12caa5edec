"""Plots, evaluation view and runs list on hand-made data (no training)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from studio.training import runs
from studio.training.history import MetricsHistory
from studio.ui.training.evaluation_view import EvaluationView
from studio.ui.training.plots import REFRESH_MS, MetricsPlots
from studio.ui.training.runs_view import RunsView
from tests.ui.waiting import HANG_MS, settle, wait_quiet

EVALUATION = {
    "task": "classification",
    "samples": 6,
    "accuracy": 4 / 6,
    "class_names": ["cat", "dog", "fox"],
    "confusion": [[1, 1, 0], [0, 1, 0], [1, 0, 2]],
    "per_class": [
        {"class": "cat", "precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2},
        {"class": "dog", "precision": 0.5, "recall": 1.0, "f1": 0.667, "support": 1},
        {"class": "fox", "precision": 1.0, "recall": 0.667, "f1": 0.8, "support": 3},
    ],
    "macro": {"precision": 0.667, "recall": 0.722, "f1": 0.656},
    "weighted": {"precision": 0.75, "recall": 0.667, "f1": 0.678},
    "y_true": [0, 0, 1, 2, 2, 2],
    "y_pred": [0, 1, 1, 2, 2, 0],
}


def _history(epochs: int = 3) -> MetricsHistory:
    history = MetricsHistory()
    for e in range(epochs):
        history.add_batches(
            [e + 0.5, e + 1.0], {"loss": [2.0 / (e + 1), 1.8 / (e + 1)], "accuracy": [0.5, 0.6]}
        )
        history.add_epoch(
            e + 1,
            {
                "loss": 1.9 / (e + 1),
                "val_loss": 2.0 / (e + 1),
                "accuracy": 0.55,
                "val_accuracy": 0.5 + e / 10,
                "learning_rate": 0.01 / (e + 1),
            },
        )
    return history


def _painted_plots(qtbot, history: MetricsHistory, width: int = 900, height: int = 600) -> MetricsPlots:
    """Plots of `history`, shown, drawn and painted once (their ranges fitted)."""
    plots = MetricsPlots(history)
    qtbot.addWidget(plots)
    plots.resize(width, height)
    plots.show()
    qtbot.waitExposed(plots)
    plots.refresh(force=True)
    wait_painted(qtbot, plots)
    return plots


def _paints(plots: MetricsPlots) -> dict:
    return {name: p.widget.paint_seconds for name, p in plots._plots.items()}


def wait_painted(qtbot, plots: MetricsPlots) -> None:
    """Until every plot has painted and no paint is pending (no plot painted for a few event rounds)."""
    qtbot.waitUntil(lambda: all(seconds > 0 for seconds in _paints(plots).values()), timeout=HANG_MS)
    wait_quiet(qtbot, lambda: _paints(plots))


def test_plots_make_one_plot_per_metric_and_follow_the_history(qtbot):
    history = MetricsHistory()
    plots = MetricsPlots(history)
    qtbot.addWidget(plots)
    plots.refresh()
    assert plots.plot_names() == []
    history.extend(_history(2))
    plots.refresh()
    assert plots.plot_names() == ["loss", "accuracy", "learning_rate"]
    assert plots.curve_points("loss", "batch") == 4 and plots.curve_points("loss", "val") == 2
    loss_curve = plots._plots["loss"].batch
    history.add_epoch(3, {"loss": 0.5, "val_loss": 0.6})
    plots.refresh()
    assert plots.curve_points("loss", "val") == 3
    assert plots._plots["loss"].batch is loss_curve  # curves are created once
    plots.log_scale.setChecked(True)
    assert plots._plots["loss"].plot.getAxis("left").logMode
    plots.show_cursor(1.5)
    assert "val_loss 1" in plots.readout.text()  # epoch 2's value: 2.0 / 2


def test_plots_overlay_earlier_runs(qtbot):
    plots = MetricsPlots(_history(2))
    qtbot.addWidget(plots)
    plots.refresh()
    plots.set_overlays([("abc123", _history(3))])
    overlays = plots._plots["loss"].overlays
    assert len(overlays) == 2 and len(overlays[0].getData()[0]) == 3
    plots.set_overlays([])
    assert plots._plots["loss"].overlays == []


def test_smoothing_can_be_turned_off(qtbot):
    history = MetricsHistory()
    history.add_batches([0.5, 1.0], {"loss": [4.0, 0.0]})
    plots = MetricsPlots(history)
    qtbot.addWidget(plots)
    plots.refresh()
    smoothed = list(plots._plots["loss"].batch.getData()[1])
    assert smoothed[1] > 0.0
    plots.smooth.setChecked(False)
    assert list(plots._plots["loss"].batch.getData()[1]) == [4.0, 0.0]


def test_confusion_matrix_cells_list_their_samples(qtbot):
    view = EvaluationView()
    qtbot.addWidget(view)
    view.set_evaluation(EVALUATION)
    assert view.stack.currentIndex() == 1
    assert view.confusion.item(2, 2).text() == "2"
    assert view.per_class.rowCount() == 5  # 3 classes + macro + weighted
    view.confusion.cellClicked.emit(2, 0)  # true fox, predicted cat
    samples = view.samples.table  # without sources (an older evaluation): numbered, not shown
    assert samples.rowCount() == 1 and samples.item(0, 0).text() == "test sample #5"
    assert "fox predicted as cat" in view.samples.title.text()
    view.set_evaluation(None)
    assert view.stack.currentIndex() == 0


def test_a_ten_class_matrix_fits_a_bottom_dock_without_scrolling(qtbot):
    classes = [str(d) for d in range(10)]
    confusion = [[20 if i == j else (1 if j == (i + 1) % 10 else 0) for j in range(10)] for i in range(10)]
    row = {"precision": 0.95, "recall": 0.95, "f1": 0.95, "support": 21}
    evaluation = {
        "task": "classification", "samples": 210, "accuracy": 0.95, "class_names": classes,
        "confusion": confusion, "per_class": [{"class": c, **row} for c in classes],
        "macro": dict(row), "weighted": dict(row), "y_true": [], "y_pred": [],
    }
    view = EvaluationView()
    qtbot.addWidget(view)
    view.set_evaluation(evaluation)  # filled before it is shown, as after a run on the Curves tab
    view.resize(620, 300)
    view.show()
    qtbot.waitExposed(view)
    settle(qtbot)
    # every cell of the matrix is in view: nothing to scroll to
    assert view.confusion.horizontalScrollBar().maximum() == 0
    assert view.confusion.verticalScrollBar().maximum() == 0
    assert view.confusion.horizontalHeaderItem(3).text() == "3"


def test_regression_evaluation_shows_predicted_against_actual(qtbot):
    view = EvaluationView()
    qtbot.addWidget(view)
    view.set_evaluation(
        {
            "task": "regression",
            "samples": 3,
            "mse": 1.0,
            "rmse": 1.0,
            "mae": 0.5,
            "r2": 0.9,
            "max_error": 2.0,
            "y_true": [1.0, 2.0, 3.0],
            "y_pred": [1.1, 2.0, 5.0],
        }
    )
    assert view.stack.currentIndex() == 2
    assert len(view.scatter.data) == 3
    assert "R² 0.9000" in view.summary.text()


def test_runs_list_shows_runs_and_deletes(qtbot, tmp_path):
    writer = runs.RunWriter(tmp_path)
    writer.write_history(_history(2))
    writer.finish(
        "completed",
        "ok",
        epochs_done=2,
        final_metrics={"loss": 0.5, "val_loss": 0.7, "val_accuracy": 0.9},
        device="CPU",
    )
    view = RunsView(lambda: tmp_path)
    qtbot.addWidget(view)
    assert view.tree.topLevelItemCount() == 1
    item = view.tree.topLevelItem(0)
    assert item.text(1) == "completed" and item.text(5) == "val_accuracy 0.9" and item.text(7) == "CPU"
    compared = []
    view.compareChanged.connect(compared.append)
    item.setCheckState(0, Qt.CheckState.Checked)
    assert [r.id for r in compared[-1]] == [writer.id]
    view.select(writer.id)
    assert view.delete_selected(confirm=False)
    assert view.tree.topLevelItemCount() == 0 and not writer.path.exists()


def test_moving_the_mouse_over_a_plot_reads_the_values_there(qtbot):
    plots = _painted_plots(qtbot, _history(3))
    widget = plots._plots["accuracy"].widget
    vb = plots._plots["accuracy"].plot.vb
    # the point of epoch 2 in the accuracy plot, in the widget's pixels; the mouse moves there
    pos = widget.mapFromScene(vb.mapViewToScene(QPointF(2.0, 0.6)))
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), QPointF(widget.viewport().mapToGlobal(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget.viewport(), event)
    qtbot.waitUntil(lambda: plots.readout.text() != "")
    text = plots.readout.text()
    assert text.startswith("epoch 2.0") or text.startswith("epoch 1.9"), text
    assert "val_accuracy 0.6" in text  # epoch 2's value (epoch 3's is 0.7)


def test_a_live_redraw_repaints_only_the_plot_with_new_points(qtbot):
    history = _history(2)
    plots = _painted_plots(qtbot, history)
    painted = _paints(plots)
    history.add_batches([2.5], {"loss": [0.4]})  # only loss changed
    assert plots.refresh(one=True)
    qtbot.waitUntil(lambda: _paints(plots)["loss"] > painted["loss"], timeout=HANG_MS)
    wait_quiet(qtbot, lambda: _paints(plots))  # any other repaint it asked for has happened by now
    grown = {name for name, seconds in _paints(plots).items() if seconds > painted[name]}
    assert grown == {"loss"}


def test_live_curves_appear_at_once_when_the_first_batches_arrive(qtbot):
    """Creating a plot is a one-off: it must not space the live redraws a second apart."""
    history = MetricsHistory()
    plots = MetricsPlots(history)
    qtbot.addWidget(plots)
    plots.resize(1000, 400)
    plots.show()
    qtbot.waitExposed(plots)
    plots.set_live(True)
    history.add_batches([0.1, 0.2], {"loss": [1.0, 0.9], "accuracy": [0.5, 0.6]})
    qtbot.waitUntil(
        lambda: plots.curve_points("loss", "batch") == 2 and plots.curve_points("accuracy", "batch") == 2,
        timeout=HANG_MS,
    )
    # every metric's plot is drawn on the next 33 ms tick: the cost of creating a plot did not
    # stretch the redraw interval (counted, it spaced the ticks a second apart); the interval,
    # not the wall time, so that a busy machine cannot fail it
    assert plots.timer.interval() == REFRESH_MS
    history.add_batches([0.3], {"loss": [0.8], "accuracy": [0.7]})
    qtbot.waitUntil(lambda: plots.curve_points("accuracy", "batch") == 3, timeout=HANG_MS)
    plots.set_live(False)


def test_axes_show_plain_epochs_during_the_first_epoch(qtbot):
    history = MetricsHistory()
    history.add_batches([0.001 * i for i in range(1, 10)], {"loss": [0.001 * i for i in range(9, 0, -1)]})
    plots = _painted_plots(qtbot, history, 600, 300)
    item = plots.plot_widget("loss").getPlotItem()
    # the axes read epochs and losses as they are: not "epoch (x0.001)" under ticks 2...8
    for name in ("bottom", "left"):
        axis = item.getAxis(name)
        assert axis.autoSIPrefixScale == 1.0 and "x0.001" not in axis.labelString()
    assert "epoch" in item.getAxis("bottom").labelString()


def test_a_forecast_shows_actual_model_and_naive_over_time_per_step_ahead(qtbot):
    windows = 6
    actual = [[float(i), float(i + 1)] for i in range(windows)]  # two steps ahead per window
    evaluation = {
        "task": "forecast", "samples": windows, "mse": 0.04, "rmse": 0.2, "mae": 0.15, "r2": 0.9,
        "max_error": 0.3, "mape": 4.5, "naive": {"mae": 1.5, "rmse": 1.6, "mape": 30.0, "mape_values": 12},
        "forecast": {"targets": ["load"], "horizon": 2, "stride": 3, "first_row": 100, "steps": [
            {"step": 1, "mae": 0.1, "rmse": 0.15, "mape": 3.0, "naive_mae": 1.0, "naive_rmse": 1.1},
            {"step": 2, "mae": 0.2, "rmse": 0.25, "mape": 6.0, "naive_mae": 2.0, "naive_rmse": 2.1}]},
        "y_true": actual, "y_pred": [[a + 0.1, b - 0.2] for a, b in actual],
        "y_naive": [[float(i) - 1] for i in range(windows)],
    }
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(900, 360)
    view.show()
    view.set_evaluation(evaluation)
    assert view.stack.currentIndex() == 3
    text = view.summary.text()
    assert "MAE 0.15 (naive 1.5)" in text and "RMSE 0.2 (naive 1.6)" in text and "MAPE 4.5 % (naive 30.0 %)" in text
    assert "90 % below the naive forecast's: it beats the obvious baseline" in text
    x, y = view.actual_curve.getData()
    assert x.tolist() == [100, 103, 106, 109, 112, 115] and y.tolist() == [0, 1, 2, 3, 4, 5]  # step 1, by row
    assert view.naive_curve.getData()[1].tolist() == [-1, 0, 1, 2, 3, 4]
    assert view.step_choice.isVisibleTo(view) and view.step_choice.count() == 2
    assert not view.target_choice.isVisibleTo(view)  # one target: nothing to choose
    view.step_choice.setCurrentIndex(1)  # two steps ahead: one row later, the second value of each window
    x, y = view.actual_curve.getData()
    assert x.tolist()[0] == 101 and y.tolist() == [1, 2, 3, 4, 5, 6]
    assert view.model_curve.getData()[1].tolist() == pytest.approx([0.8, 1.8, 2.8, 3.8, 4.8, 5.8])
    assert view.steps_table.rowCount() == 2 and view.steps_table.item(1, 2).text() == "2"  # naive MAE, step 2
    assert "lower than the naive" in view.steps_table.item(1, 1).toolTip()
    # an older evaluation without a time axis or a naive forecast still shows
    del evaluation["naive"], evaluation["y_naive"], evaluation["forecast"]["first_row"]
    evaluation["forecast"]["naive_note"] = "a target is not among the inputs, so its last value is not known"
    view.set_evaluation(evaluation)
    assert "no naive forecast: a target is not among the inputs" in view.summary.text().lower()
    assert view.actual_curve.getData()[0].tolist()[:2] == [0, 1] and view.naive_curve.getData()[0] is None
    assert view.steps_table.columnCount() == 3
