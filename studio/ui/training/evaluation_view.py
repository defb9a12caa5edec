"""Shows a run's evaluation on the test split (`evaluation.json`).

Classification: the confusion matrix (rows = true class, columns =
predicted, both axes labelled; cells shaded by the share of their row; long
class names elided, in full in tooltips; the cells share the width there is),
a per-class precision / recall / F1 / support table, and the samples behind a
number (`SamplesView`): at first the most confident mistakes, after a click on
a cell the samples in it, each shown itself (thumbnail, text, CSV row) with its
most probable classes. Regression: predicted against actual values with the
ideal diagonal, the error metrics, and the samples with the largest errors. Forecast: the test windows' actual values over time with the
model's forecast and the naive "last value" forecast (one step ahead at a time,
chosen above the plot when the model forecasts several), their MAE / RMSE /
MAPE side by side, and a table of the errors per step ahead.

A model with several outputs (data bound per output) is evaluated per output: a row of buttons
above the results picks the output shown ("kind · classes", "amount · a number"), each with its own
metrics, confusion matrix or regression plot and samples.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QRadioButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.ui.training.samples_view import SamplesView
from studio.workflows.evaluate import naive_verdict

MAX_LISTED = 500
NAME_PIXELS = 110  # a class name in the matrix's headers is elided beyond this (full in its tooltip)
ACTUAL_PEN = (40, 40, 40)
MODEL_PEN = (52, 120, 220)
NAIVE_PEN = (200, 120, 40)


class EvaluationView(QWidget):
    """`set_evaluation(dict | None)`; `evaluateRequested()` when the user asks to (re)evaluate."""

    evaluateRequested = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.evaluation: Optional[dict[str, Any]] = None  # what is shown: the whole, or one output's
        self.whole: Optional[dict[str, Any]] = None  # the run's evaluation, every output included
        self._class_names: list[str] = []
        self._numbered = False  # the matrix's columns are numbered (the names did not fit)
        self._forecast: Optional[tuple] = None
        self.summary = QLabel("No evaluation yet: train a model with a test split, or evaluate a run.")
        self.summary.setWordWrap(True)
        self.evaluate_button = QPushButton("Evaluate selected run")
        self.evaluate_button.clicked.connect(self.evaluateRequested)

        # classification
        self.confusion = QTableWidget()
        self.confusion.setObjectName("confusionMatrix")
        self.confusion.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.confusion.cellClicked.connect(self.show_cell)
        self.confusion.setToolTip(
            "Rows: true class; columns: predicted class (the diagonal is right). Click a cell to see its samples"
        )
        # Compact cells that share the room there is: ten classes fit a bottom dock without scrolling.
        rows = self.confusion.fontMetrics().height() + 6
        for header in (self.confusion.horizontalHeader(), self.confusion.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.confusion.verticalHeader().setMinimumSectionSize(self.confusion.fontMetrics().height() + 4)
        self.confusion.horizontalHeader().setMinimumSectionSize(self.confusion.fontMetrics().horizontalAdvance("000") + 10)
        self.confusion.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
        self.predicted_axis = QLabel("predicted class")
        self.predicted_axis.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.true_axis = _VerticalLabel("true class")
        for axis in (self.predicted_axis, self.true_axis):
            axis.setObjectName("confusionAxis")
            axis.setStyleSheet("font-weight: bold;")
        matrix = QWidget()
        grid = QGridLayout(matrix)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        grid.addWidget(self.predicted_axis, 0, 1)
        grid.addWidget(self.true_axis, 1, 0)
        grid.addWidget(self.confusion, 1, 1)
        self.per_class = QTableWidget()
        self.per_class.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.per_class.verticalHeader().hide()  # the class column names the rows
        self.per_class.verticalHeader().setDefaultSectionSize(rows)
        self.samples = SamplesView()
        # Height is what a bottom dock lacks: the samples and the scores share the matrix's right.
        self.details = QTabWidget()
        self.details.setDocumentMode(True)
        self.details.addTab(self.samples, "Samples")
        self.details.addTab(self.per_class, "Scores per class")
        self.classification = classification = QSplitter()
        classification.setChildrenCollapsible(False)
        classification.addWidget(matrix)
        classification.addWidget(self.details)
        classification.setStretchFactor(1, 1)

        # regression
        self.scatter_view = pg.PlotWidget(background="w")
        self.scatter_view.setLabel("bottom", "actual")
        self.scatter_view.setLabel("left", "predicted")
        self.scatter_view.showGrid(x=True, y=True, alpha=0.2)
        self.scatter = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(52, 120, 220, 140))
        self.diagonal = pg.PlotCurveItem(pen=pg.mkPen((200, 60, 60), width=1, style=Qt.PenStyle.DashLine))
        self.scatter_view.addItem(self.scatter)
        self.scatter_view.addItem(self.diagonal)
        # The sample selected in the list, ringed on the plot.
        self.picked = pg.ScatterPlotItem(size=14, pen=pg.mkPen(220, 60, 40, width=2), brush=None)
        self.scatter_view.addItem(self.picked)
        self.worst = SamplesView()
        self.worst.sampleSelected.connect(self._pick)
        self.regression = regression = QSplitter()
        regression.setChildrenCollapsible(False)
        regression.addWidget(self.scatter_view)
        regression.addWidget(self.worst)
        regression.setStretchFactor(0, 2)
        regression.setStretchFactor(1, 3)

        # forecast
        self.step_choice = QComboBox()
        self.step_choice.setObjectName("forecastStepCombo")
        self.step_choice.setToolTip("Which step ahead the plot shows (the model forecasts several)")
        self.step_choice.currentIndexChanged.connect(lambda _i: self._plot_forecast())
        self.target_choice = QComboBox()
        self.target_choice.setObjectName("forecastTargetCombo")
        self.target_choice.currentIndexChanged.connect(lambda _i: self._plot_forecast())
        self.forecast_view = pg.PlotWidget(background="w")
        self.forecast_view.setLabel("bottom", "time (row of the series)")
        self.forecast_view.setLabel("left", "value")
        self.forecast_view.showGrid(x=True, y=True, alpha=0.2)
        self.forecast_legend = self.forecast_view.addLegend(
            offset=(10, 10), brush=pg.mkBrush(255, 255, 255, 220), pen=pg.mkPen(200, 200, 200), labelTextColor="#333")
        self.actual_curve = self.forecast_view.plot(pen=pg.mkPen(ACTUAL_PEN, width=1.5), name="actual")
        self.model_curve = self.forecast_view.plot(pen=pg.mkPen(MODEL_PEN, width=1.5), name="model forecast")
        self.naive_curve = self.forecast_view.plot(
            pen=pg.mkPen(NAIVE_PEN, width=1, style=Qt.PenStyle.DashLine), name="naive: last value")
        self.steps_table = QTableWidget()
        self.steps_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.steps_table.verticalHeader().hide()
        self.steps_table.verticalHeader().setDefaultSectionSize(rows)
        self.steps_table.setToolTip("The errors of each step ahead: the model's, and the naive forecast's "
                                    "(each target's last known value, repeated)")
        choices = QHBoxLayout()
        choices.setContentsMargins(0, 0, 0, 0)
        self.step_label = QLabel("step ahead")
        self.target_label = QLabel("target")
        for w in (self.step_label, self.step_choice, self.target_label, self.target_choice):
            choices.addWidget(w)
        choices.addStretch(1)
        plot_side = QWidget()
        plot_layout = QVBoxLayout(plot_side)
        plot_layout.setContentsMargins(0, 0, 0, 0)
        plot_layout.addLayout(choices)
        plot_layout.addWidget(self.forecast_view, 1)
        self.forecasting = forecasting = QSplitter()
        forecasting.addWidget(plot_side)
        forecasting.addWidget(self.steps_table)
        forecasting.setStretchFactor(0, 3)
        forecasting.setStretchFactor(1, 1)

        # several outputs: which one is shown
        self.outputs_bar = QWidget()
        self.outputs_bar.setObjectName("evaluationOutputs")
        bar = QHBoxLayout(self.outputs_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Output:"))
        self._outputs_row = bar
        self.output_group = QButtonGroup(self)
        self.output_group.setExclusive(True)
        self.output_group.idClicked.connect(self._show_output_index)
        self._output_names: list[str] = []
        bar.addStretch(1)
        self.outputs_bar.hide()

        self.stack = QStackedWidget()
        self.stack.addWidget(QWidget())
        self.stack.addWidget(classification)
        self.stack.addWidget(regression)
        self.stack.addWidget(forecasting)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.evaluate_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.outputs_bar)
        layout.addWidget(self.stack, 1)

    # --- content --------------------------------------------------------------------------
    def set_evaluation(self, evaluation: Optional[dict[str, Any]]) -> None:
        self.whole = evaluation
        outputs = (evaluation or {}).get("outputs")
        self._fill_outputs(outputs if isinstance(outputs, dict) and len(outputs) > 1 else {})
        if self._output_names:
            first = str((evaluation or {}).get("output") or "")
            self.show_output(first if first in self._output_names else self._output_names[0])
            return
        self._show(evaluation)

    # --- several outputs ------------------------------------------------------------------
    def output_names(self) -> list[str]:
        """The outputs the selector offers (empty for a model with one output)."""
        return list(self._output_names)

    def current_output(self) -> str:
        """The output shown ("" for a model with one output)."""
        button = self.output_group.checkedButton()
        return self._output_names[self.output_group.id(button)] if button is not None and self._output_names else ""

    def output_button(self, name: str) -> QRadioButton:
        return self.output_group.button(self._output_names.index(name))

    def show_output(self, name: str) -> None:
        """Show output `name`'s own evaluation (its metrics, matrix or plot, and samples)."""
        index = self._output_names.index(name)
        self.output_group.button(index).setChecked(True)
        self._show_output_index(index)

    def _fill_outputs(self, outputs: dict[str, Any]) -> None:
        for button in self.output_group.buttons():
            self.output_group.removeButton(button)
            self._outputs_row.removeWidget(button)
            button.deleteLater()
        self._output_names = [str(name) for name in outputs]
        for i, (name, each) in enumerate(outputs.items()):
            button = QRadioButton(f"{name} · {_what(each)}")
            button.setObjectName(f"evaluationOutput_{i}")
            button.setToolTip(f"Show output '{name}': {_headline(each)}")
            self.output_group.addButton(button, i)
            self._outputs_row.insertWidget(1 + i, button)
        self.outputs_bar.setVisible(bool(self._output_names))

    def _show_output_index(self, index: int) -> None:
        whole = self.whole or {}
        name = self._output_names[index]
        each = dict((whole.get("outputs") or {}).get(name) or {})
        each.setdefault("run", whole.get("run"))
        self._show(each)
        others = [f"{other}: {_headline((whole.get('outputs') or {}).get(other) or {})}"
                  for other in self._output_names if other != name]
        self.summary.setText(f"Output '{name}' · " + self.summary.text()
                             + ("\nOther outputs: " + "; ".join(others) if others else ""))

    def _show(self, evaluation: Optional[dict[str, Any]]) -> None:
        self.evaluation = evaluation
        self.samples.clear()
        self.worst.clear()
        if not evaluation:
            self.summary.setText("No evaluation yet: train a model with a test split, or evaluate a run.")
            self.stack.setCurrentIndex(0)
            return
        if "confusion" in evaluation:
            self.stack.setCurrentIndex(1)  # first, so the split has its width when the matrix is fitted
            self._show_classification(evaluation)
        elif isinstance(evaluation.get("forecast"), dict):
            self._show_forecast(evaluation)
            self.stack.setCurrentIndex(3)
        elif "mse" in evaluation:
            self.stack.setCurrentIndex(2)
            self._show_regression(evaluation)
        else:
            keras_logs = evaluation.get("keras") or {}
            self.summary.setText("Test split: " + "  ".join(f"{k} {v:.4g}" for k, v in keras_logs.items()))
            self.stack.setCurrentIndex(0)

    def _show_classification(self, ev: dict[str, Any]) -> None:
        names = list(ev["class_names"])
        matrix = np.asarray(ev["confusion"], dtype=np.int64)
        n = len(names)
        self.summary.setText(
            f"Test split: {ev.get('samples')} samples, accuracy {ev['accuracy']:.4f}, "
            f"macro F1 {ev['macro']['f1']:.4f}" + (f"  (run {ev['run']})" if ev.get("run") else "")
        )
        self.confusion.clear()
        self.confusion.setRowCount(n)
        self.confusion.setColumnCount(n)
        metrics = self.confusion.fontMetrics()
        self._class_names = names
        self._label_matrix(numbered=False)
        totals = matrix.sum(axis=1)
        for i in range(n):
            for j in range(n):
                count = int(matrix[i, j])
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = count / totals[i] if totals[i] else 0.0
                base = (52, 120, 220) if i == j else (220, 80, 60)
                alpha = int(30 + 200 * share) if count else 0
                item.setBackground(QBrush(QColor(*base, alpha)))
                item.setToolTip(f"true {names[i]}, predicted {names[j]}: {count} ({share:.1%} of {names[i]})")
                self.confusion.setItem(i, j, item)
        headers = ["class", "precision", "recall", "F1", "support"]
        self.per_class.clear()
        rows = ev["per_class"]
        self.per_class.setRowCount(len(rows) + 2)
        self.per_class.setColumnCount(len(headers))
        self.per_class.setHorizontalHeaderLabels(headers)
        extra = [
            {"class": "macro avg", **ev["macro"], "support": int(matrix.sum())},
            {"class": "weighted avg", **ev["weighted"], "support": int(matrix.sum())},
        ]
        for r, row in enumerate(list(rows) + extra):
            values = [
                row["class"],
                f"{row['precision']:.4f}",
                f"{row['recall']:.4f}",
                f"{row['f1']:.4f}",
                str(row["support"]),
            ]
            for c, text in enumerate(values):
                item = QTableWidgetItem(metrics.elidedText(text, Qt.TextElideMode.ElideRight, NAME_PIXELS) if c == 0
                                        else text)
                if c == 0 and item.text() != text:
                    item.setToolTip(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.per_class.setItem(r, c, item)
        self.per_class.resizeColumnsToContents()
        self._fit_matrix()
        self.details.setCurrentWidget(self.samples)
        self.show_mistakes()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.stack.currentIndex() == 1:
            self._fit_matrix()  # filled while another tab was shown: the split had no width yet
        elif self.stack.currentIndex() == 3:
            self._fit_steps()

    def _label_matrix(self, numbered: bool) -> None:
        """Class names on both axes (elided, whole in the tooltips); or, where the names do not fit
        the columns, numbers on the columns and the same numbers before the rows' names."""
        names = self._class_names
        metrics = self.confusion.fontMetrics()

        def short(text: str) -> str:
            return metrics.elidedText(text, Qt.TextElideMode.ElideRight, NAME_PIXELS)

        self.confusion.setHorizontalHeaderLabels([str(j + 1) if numbered else short(n) for j, n in enumerate(names)])
        self.confusion.setVerticalHeaderLabels([short(f"{i + 1} {n}" if numbered else n) for i, n in enumerate(names)])
        for j, name in enumerate(names):
            self.confusion.horizontalHeaderItem(j).setToolTip(f"predicted {name}")
            self.confusion.verticalHeaderItem(j).setToolTip(f"true {name}")
        self._numbered = numbered

    def _fit_matrix(self) -> None:
        """Share the width: the matrix gets what its counts and class names need, at most half
        (where the names do not fit their columns, the columns are numbered), the samples and
        scores the rest."""
        table = self.confusion
        n = max(1, table.columnCount())
        total = sum(self.classification.sizes()) or self.classification.width()
        if total <= 0 or not table.columnCount():
            return
        metrics = table.fontMetrics()
        counts = [table.item(i, j).text() for i in range(table.rowCount()) for j in range(n) if table.item(i, j)]
        widest = max([metrics.horizontalAdvance(t) for t in counts] + [metrics.horizontalAdvance(str(n))])
        table.horizontalHeader().setMinimumSectionSize(widest + 12)
        named = max(metrics.horizontalAdvance(metrics.elidedText(c, Qt.TextElideMode.ElideRight, NAME_PIXELS))
                    for c in self._class_names) + 14
        axis = self.true_axis.sizeHint().width() + 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width()
        fits = named + axis + n * max(widest + 16, named) <= total // 2
        numbered = not fits and named > widest + 16  # numbers only where they are narrower than the names
        if numbered != self._numbered:
            self._label_matrix(numbered)
        side = table.verticalHeader().sizeHint().width() + axis
        cell = max(widest + 16, 0 if numbered else named)
        least = side + n * (widest + 12)
        matrix = min(side + n * cell, max(total // 2, least))
        matrix = max(min(matrix, total - 200), 0)
        self.classification.setSizes([matrix, total - matrix])

    def _show_regression(self, ev: dict[str, Any]) -> None:
        self.summary.setText(
            f"Test split: {ev.get('samples')} samples   MSE {ev['mse']:.4g}   RMSE {ev['rmse']:.4g}   "
            f"MAE {ev['mae']:.4g}   R² {ev['r2']:.4f}   max error {ev['max_error']:.4g}"
        )
        actual = np.asarray(ev.get("y_true") or [], dtype=np.float64)
        predicted = np.asarray(ev.get("y_pred") or [], dtype=np.float64)
        self.scatter.setData(actual, predicted)
        if actual.size:
            low = float(min(actual.min(), predicted.min()))
            high = float(max(actual.max(), predicted.max()))
            self.diagonal.setData([low, high], [low, high])
        else:
            self.diagonal.setData([], [])
        self.picked.setData([], [])
        n = min(actual.size, predicted.size)
        order = np.argsort(-np.abs(predicted[:n] - actual[:n]), kind="stable")[:MAX_LISTED].tolist()
        shown = f"the {len(order)} largest errors of {n}" if len(order) < n else f"all {n}"
        self.worst.show_samples(ev, order, f"The test samples by error, the largest first ({shown})" if n else "")

    def _pick(self, index: int) -> None:
        """Ring test sample `index` on the predicted-against-actual plot."""
        ev = self.evaluation or {}
        actual, predicted = ev.get("y_true") or [], ev.get("y_pred") or []
        if 0 <= index < min(len(actual), len(predicted)):
            self.picked.setData([actual[index]], [predicted[index]])

    # --- forecast ----------------------------------------------------------------------------
    def _show_forecast(self, ev: dict[str, Any]) -> None:
        fc = ev["forecast"]
        naive = ev.get("naive") or None

        def pair(key: str, percent: bool = False) -> str:
            value = ev.get(key)
            text = _number(value, percent)
            if naive is not None:
                text += f" (naive {_number(naive.get(key), percent)})"
            return text

        horizon = int(fc.get("horizon") or 1)
        ahead = "" if horizon == 1 else f", 1 to {horizon} steps ahead"
        parts = [f"Test split: {ev.get('samples')} windows{ahead}", f"MAE {pair('mae')}", f"RMSE {pair('rmse')}",
                 f"MAPE {pair('mape', percent=True)}"]
        verdict = naive_verdict(ev.get("mae", float("nan")), naive["mae"]) if naive else \
            f"no naive forecast: {fc.get('naive_note') or 'the inputs are not known'}"
        run = f"  (run {ev['run']})" if ev.get("run") else ""
        self.summary.setText("   ".join(parts) + (f"\n{verdict[:1].upper()}{verdict[1:]}." if verdict else "") + run)
        self.summary.setToolTip("MAE, RMSE: mean absolute and root mean squared error of the values forecast, in the "
                                "series' units. MAPE: the mean error as a percentage of the actual value (over "
                                "the values that are not 0; large where they are near 0). Naive: the forecast "
                                "that repeats each window's last value.")
        targets = [str(t) for t in fc.get("targets") or []]
        self._forecast = (ev, fc, horizon, targets)
        for combo, items, label in ((self.step_choice, [str(i + 1) for i in range(horizon)], self.step_label),
                                    (self.target_choice, targets, self.target_label)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
            combo.setVisible(len(items) > 1)
            label.setVisible(len(items) > 1)
        self._plot_forecast()
        self._fill_steps(fc, naive is not None)

    def _plot_forecast(self) -> None:
        state = getattr(self, "_forecast", None)
        if state is None:
            return
        ev, fc, horizon, targets = state
        k = max(1, len(targets))
        step = max(0, self.step_choice.currentIndex())
        target = max(0, self.target_choice.currentIndex())
        column = step * k + target
        actual = _column(ev.get("y_true"), column)
        predicted = _column(ev.get("y_pred"), column)
        naive = _column(ev.get("y_naive"), target)
        first = fc.get("first_row")
        known = isinstance(first, (int, float)) and not isinstance(first, bool)
        stride = int(fc.get("stride") or 1) if known else 1
        start = int(first) + step if known else 0
        x = start + stride * np.arange(len(actual), dtype=np.float64)
        self.forecast_view.setLabel("bottom", "time (row of the series)" if known else "test window")
        self.actual_curve.setData(x, actual)
        self.model_curve.setData(x[: len(predicted)], predicted)
        if naive.size:
            self.naive_curve.setData(x[: len(naive)], naive)
            self.naive_curve.show()
        else:
            self.naive_curve.setData([], [])
            self.naive_curve.hide()
        name = targets[target] if targets else "value"
        self.forecast_view.setLabel("left", name)
        self.forecast_view.setTitle(f"{name}, {step + 1} step{'s' if step else ''} ahead: actual, the model's "
                                    "forecast and the naive forecast" if naive.size else
                                    f"{name}, {step + 1} step{'s' if step else ''} ahead: actual and forecast",
                                    color="#444", size="9pt")
        self.forecast_view.enableAutoRange()

    def _fill_steps(self, fc: dict[str, Any], has_naive: bool) -> None:
        headers = ["step", "MAE", "naive MAE", "RMSE", "naive RMSE"] if has_naive else ["step", "MAE", "RMSE"]
        keys = ["step", "mae", "naive_mae", "rmse", "naive_rmse"] if has_naive else ["step", "mae", "rmse"]
        rows = list(fc.get("steps") or [])
        table = self.steps_table
        table.clear()
        table.setRowCount(len(rows))
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        for r, row in enumerate(rows):
            for c, key in enumerate(keys):
                value = row.get(key)
                item = QTableWidgetItem(str(value) if key == "step" else _number(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if has_naive and key in ("mae", "rmse"):
                    better = _lower(value, row.get(f"naive_{key}"))
                    if better is not None:
                        item.setForeground(QBrush(QColor(30, 130, 60) if better else QColor(200, 60, 40)))
                        item.setToolTip("lower than the naive forecast's" if better else
                                        "not lower than the naive forecast's")
                table.setItem(r, c, item)
        table.resizeColumnsToContents()
        self._fit_steps()

    def _fit_steps(self) -> None:
        """Give the table of steps the width its columns need (up to a half); the rest to the plot."""
        table = self.steps_table
        needed = (table.horizontalHeader().length() + 2 * table.frameWidth()
                  + table.verticalScrollBar().sizeHint().width())
        total = sum(self.forecasting.sizes()) or self.forecasting.width()
        if total > 0:
            side = min(needed, total // 2)
            self.forecasting.setSizes([total - side, side])

    # --- confusion cell -> samples -----------------------------------------------------------
    def samples_in_cell(self, row: int, column: int) -> list[int]:
        ev = self.evaluation or {}
        y_true, y_pred = ev.get("y_true") or [], ev.get("y_pred") or []
        return [i for i, (t, p) in enumerate(zip(y_true, y_pred)) if t == row and p == column]

    def show_cell(self, row: int, column: int) -> None:
        ev = self.evaluation or {}
        names = ev.get("class_names") or []
        indices = self.samples_in_cell(row, column)
        if not (row < len(names) and column < len(names)):
            return
        what = "right" if row == column else "wrong"
        title = (f"{len(indices)} test sample{'s' if len(indices) != 1 else ''} of class {names[row]} predicted as "
                 f"{names[column]} ({what})" + (f", the first {MAX_LISTED}" if len(indices) > MAX_LISTED else ""))
        self.samples.show_samples(ev, indices[:MAX_LISTED], title)

    def show_mistakes(self) -> None:
        """The samples the model got wrong, the most confident first (before any cell is clicked);
        with no mistakes, every sample, the least confident first."""
        ev = self.evaluation or {}
        y_true, y_pred = ev.get("y_true") or [], ev.get("y_pred") or []
        wrong = [i for i, (t, p) in enumerate(zip(y_true, y_pred)) if t != p]
        probs = ev.get("top_probs") or []
        wrong.sort(key=lambda i: -(probs[i][0] if i < len(probs) and probs[i] else 0.0))
        if not y_true:
            self.samples.show_samples(ev, [], "This evaluation kept no per-sample results; evaluate the run again")
            return
        if not wrong:  # then the samples nearest to a mistake
            every = sorted(range(len(y_true)), key=lambda i: probs[i][0] if i < len(probs) and probs[i] else 0.0)
            self.samples.show_samples(ev, every[:MAX_LISTED], "No test sample is misclassified; here they are, the "
                                      "least confident first; click a cell to see its samples")
            self.samples.sort_by("confidence", Qt.SortOrder.AscendingOrder)
            return
        self.samples.show_samples(ev, wrong[:MAX_LISTED], f"{min(len(wrong), MAX_LISTED)} misclassified, the most "
                                  "confident first; click a cell to see its samples")
        self.samples.sort_by("confidence")


class _VerticalLabel(QWidget):
    """A label written bottom to top: the matrix's "true class" axis."""

    def __init__(self, text: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._text = text

    def text(self) -> str:
        return self._text

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        metrics = self.fontMetrics()
        return QSize(metrics.height() + 4, metrics.horizontalAdvance(self._text) + 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.fontMetrics().height() + 4, 0)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(self.palette().color(self.palette().ColorRole.WindowText))
        painter.translate(0, self.height())
        painter.rotate(-90)
        painter.drawText(0, 0, self.height(), self.width(), Qt.AlignmentFlag.AlignCenter, self._text)
        painter.end()


def _what(ev: dict[str, Any]) -> str:
    """An output's kind in a word or two: "3 classes", "a number", "a forecast"."""
    if "confusion" in ev:
        return f"{len(ev.get('class_names') or [])} classes"
    if isinstance(ev.get("forecast"), dict):
        return "a forecast"
    return "a number" if "mse" in ev else str(ev.get("task") or "output")


def _headline(ev: dict[str, Any]) -> str:
    """An output's main figure: "accuracy 0.9167" or "MAE 2.31"."""
    if "accuracy" in ev:
        return f"accuracy {_number(ev.get('accuracy'))}"
    if "mae" in ev:
        return f"MAE {_number(ev.get('mae'))}"
    return "no metrics"


def _number(value: Any, percent: bool = False) -> str:
    if not isinstance(value, (int, float)) or value != value:
        return "-"
    return f"{value:.1f} %" if percent else f"{value:.4g}"


def _lower(value: Any, other: Any) -> Optional[bool]:
    if isinstance(value, (int, float)) and isinstance(other, (int, float)) and value == value and other == other:
        return value < other
    return None


def _column(values: Any, index: int) -> np.ndarray:
    """Column `index` of per-window lists (or of a flat list, for index 0) as floats; empty if absent."""
    if not values:
        return np.zeros(0)
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        return array if index == 0 else np.zeros(0)
    if index >= array.shape[1]:
        return np.zeros(0)
    return array[:, index]
