"""The Training panel fits its dock: every live plot fully visible, readable, no outer scroll bar.

The main window docks the panel in a scroll area (so a tall panel cannot squeeze the
canvas) and gives the dock ~45% of the height when Train is pressed. These tests build
that window at common screen sizes, raise the dock as Train does, and look at where the
plots end up in the part of the dock the user sees.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt

from studio.project.io import load_project
from studio.training.history import MetricsHistory
from studio.ui.document import ProjectDocument
from tests.ui.waiting import HANG_MS, settle

EXAMPLE = Path(__file__).resolve().parents[3] / "projects" / "iris-mlp.studio.json"
DONE = "Completed: trained 40 epoch(s) — saved as run 20261121-070315-d7a7cf"
MIN_PLOT_HEIGHT = 120
MIN_PLOT_WIDTH = 140


@pytest.fixture(autouse=True)
def _offline(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "studio-cache"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")


@pytest.fixture
def open_window(qtbot, make_window, tmp_path):
    """A main window with every panel on a copy of the iris example, at a given size."""
    if not EXAMPLE.is_file():
        pytest.skip("the bundled iris example is missing")

    def make(width: int, height: int):
        path = tmp_path / "iris.studio.json"
        shutil.copy(EXAMPLE, path)
        window = make_window(ProjectDocument(load_project(path)), optional_panels=True, size=(width, height))
        settle(qtbot)  # the default dock sizes are applied once the window has its size
        return window

    return make


def eventually(qtbot, check, timeout: int = HANG_MS) -> None:
    """`check()` passes once the layout has settled (a loaded machine can take a few event rounds)."""
    qtbot.waitUntil(check, timeout=timeout)


def finished_history(epochs: int = 40) -> MetricsHistory:
    """What a finished classification run leaves: loss, accuracy and the learning rate."""
    history = MetricsHistory()
    for epoch in range(1, epochs + 1):
        history.add_epoch(
            epoch,
            {
                "loss": 1.0 / epoch,
                "accuracy": 1 - 0.5 / epoch,
                "val_loss": 1.1 / epoch,
                "val_accuracy": 1 - 0.6 / epoch,
                "learning_rate": 0.01 * 0.95**epoch,
            },
        )
    return history


def show_finished_run(window, qtbot, message: str = DONE):
    """The panel as a finished run leaves it, its dock raised as pressing Train raises it."""
    panel = window.panels["TrainingPanel"]
    panel.plots.set_history(finished_history())
    panel.show_message("info", message)
    panel.trainingChanged.emit(True)  # what Train emits: the window raises and enlarges the dock
    settle(qtbot)
    return panel


def holder(window):
    """The scroll area the main window docks the Training panel in."""
    return window.docks["TrainingPanelDock"].widget()


def visible_rect(window, widget) -> tuple[QRect, QRect]:
    """`widget`'s rectangle in the dock's viewport, and the viewport's own rectangle."""
    viewport = holder(window).viewport()
    top_left = widget.mapTo(viewport, widget.rect().topLeft())
    return QRect(top_left, widget.size()), viewport.rect()


def assert_plots_fit(window, panel) -> None:
    names = panel.plots.plot_names()
    assert names == ["loss", "accuracy", "learning_rate"]
    for name in names:
        plot = panel.plots.plot_widget(name)
        assert plot.isVisible(), name
        rect, viewport = visible_rect(window, plot)
        assert viewport.contains(rect), f"{name} plot {rect} is cut off by the dock's view {viewport}"
        assert rect.height() >= MIN_PLOT_HEIGHT, f"{name} plot only {rect.height()} px tall"
        assert rect.width() >= MIN_PLOT_WIDTH, f"{name} plot only {rect.width()} px wide"


@pytest.mark.parametrize("size", [(1280, 800), (1600, 960), (1600, 1080)])
def test_every_plot_is_inside_the_raised_training_dock(open_window, qtbot, size):
    window = open_window(*size)
    panel = show_finished_run(window, qtbot)
    assert window.docks["TrainingPanelDock"].isVisible()
    assert panel.tabs.currentWidget() is panel.plots
    eventually(qtbot, lambda: assert_plots_fit(window, panel))
    assert not holder(window).horizontalScrollBar().isVisible()
    if size != (1280, 800):
        assert not holder(window).verticalScrollBar().isVisible()


def test_pressing_train_shows_the_three_curves_inside_the_dock(open_window, qtbot):
    window = open_window(1600, 960)
    panel = window.panels["TrainingPanel"]
    panel.settings.epochs.setValue(2)
    with qtbot.waitSignal(panel.runner.finished, timeout=90_000) as blocker:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].status == "completed", blocker.args[0].message
    settle(qtbot)
    assert "Completed" in panel.message.text()
    eventually(qtbot, lambda: assert_plots_fit(window, panel))
    assert not holder(window).verticalScrollBar().isVisible()
    rect, viewport = visible_rect(window, panel.progress)
    assert viewport.contains(rect)


def test_a_long_error_wraps_in_full_and_the_plots_still_fit(open_window, qtbot):
    window = open_window(1600, 960)
    error = ("Dense 'hidden': the input has shape (None, 4, 7) but the layer expects a flat vector; "
             "put a Flatten layer in front of it or change the Input's batch_shape. ") * 5  # > 2 lines full-width
    panel = show_finished_run(window, qtbot, error)

    def message_in_full():
        rect, viewport = visible_rect(window, panel.message)
        assert viewport.contains(rect)
        assert rect.height() >= panel.message.heightForWidth(rect.width()) > 2 * panel.fontMetrics().height()

    eventually(qtbot, message_in_full)
    eventually(qtbot, lambda: assert_plots_fit(window, panel))


def test_a_dock_too_short_scrolls_instead_of_squashing_the_plots(open_window, qtbot):
    window = open_window(1600, 960)
    panel = show_finished_run(window, qtbot)
    window.resizeDocks([window.docks["TrainingPanelDock"]], [190], Qt.Orientation.Vertical)
    eventually(qtbot, lambda: holder(window).verticalScrollBar().isVisible())
    for name in panel.plots.plot_names():
        assert panel.plots.plot_widget(name).height() >= MIN_PLOT_HEIGHT, name


def test_the_other_tabs_fit_the_dock_too(open_window, qtbot):
    window = open_window(1600, 960)
    panel = show_finished_run(window, qtbot)
    panel.evaluation.set_evaluation(
        {
            "samples": 30,
            "accuracy": 0.9,
            "class_names": ["setosa", "versicolor", "virginica"],
            "confusion": [[10, 0, 0], [0, 8, 2], [0, 1, 9]],
            "per_class": [
                {"class": n, "precision": 0.9, "recall": 0.9, "f1": 0.9, "support": 10}
                for n in ("setosa", "versicolor", "virginica")
            ],
            "macro": {"precision": 0.9, "recall": 0.9, "f1": 0.9},
            "weighted": {"precision": 0.9, "recall": 0.9, "f1": 0.9},
            "y_true": [0] * 10 + [1] * 10 + [2] * 10,
            "y_pred": [0] * 10 + [1] * 8 + [2] * 2 + [1] + [2] * 9,
        }
    )
    for page, key_widget in (
        (panel.runs_view, panel.runs_view.tensorboard_button),
        (panel.evaluation, panel.evaluation.confusion),
        (panel.predict, panel.predict.output),
        (panel.health, panel.health.table),
    ):
        panel.tabs.setCurrentWidget(page)

        def fits(page=page, key_widget=key_widget):
            assert not holder(window).verticalScrollBar().isVisible(), type(page).__name__
            rect, viewport = visible_rect(window, key_widget)
            assert viewport.contains(rect), type(page).__name__

        eventually(qtbot, fits)
    for button in (panel.train_button, panel.continue_button):
        rect, viewport = visible_rect(window, button)
        assert viewport.contains(rect)


def test_the_crosshair_readout_does_not_widen_the_panel(open_window, qtbot):
    window = open_window(1280, 800)
    panel = show_finished_run(window, qtbot)
    panel.plots.show_cursor(12.0)  # what moving the mouse over a plot does
    settle(qtbot)
    assert "val_accuracy" in panel.plots.readout.text()
    assert not holder(window).horizontalScrollBar().isVisible()
    eventually(qtbot, lambda: assert_plots_fit(window, panel))


def test_a_constant_learning_rate_has_a_legible_axis(open_window, qtbot):
    """Log axis over one decade: pyqtgraph labelled every minor tick (0.004 ... 0.009 on top of each other)."""
    window = open_window(1600, 960)
    panel = window.panels["TrainingPanel"]
    history = MetricsHistory()
    for epoch in range(1, 41):
        history.add_epoch(epoch, {"loss": 1.0 / epoch, "learning_rate": 0.01})
    panel.plots.set_history(history)
    panel.trainingChanged.emit(True)
    # the plot at the size the raised dock gives it, painted there (its range fitted to the data)
    widget = panel.plots.plot_widget("learning_rate")
    eventually(qtbot, lambda: widget.isVisible() and widget.height() >= MIN_PLOT_HEIGHT and widget.paint_seconds > 0)
    settle(qtbot)
    plot = widget.getPlotItem()
    axis = plot.getAxis("left")
    low, high = plot.vb.viewRange()[1]
    assert low <= -2 <= high  # log10(0.01) is in view
    labels = [
        text
        for spacing, values in axis.tickValues(low, high, axis.height())
        for text in axis.tickStrings(values, 1.0, spacing)
        if text
    ]
    assert "0.01" in labels
    assert len(labels) <= 3, labels
