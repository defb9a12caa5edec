"""Shows a run's evaluation on the test split (`evaluation.json`).

Classification: the confusion matrix (rows = true class, columns =
predicted; cells shaded by the share of their row), clicking a cell lists the
test samples in it; a per-class precision / recall / F1 / support table.
Regression: predicted against actual values with the ideal diagonal, and the
error metrics.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

MAX_LISTED = 500


class EvaluationView(QWidget):
    """`set_evaluation(dict | None)`; `evaluateRequested()` when the user asks to (re)evaluate."""

    evaluateRequested = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.evaluation: Optional[dict[str, Any]] = None
        self.summary = QLabel("No evaluation yet: train a model with a test split, or evaluate a run.")
        self.summary.setWordWrap(True)
        self.evaluate_button = QPushButton("Evaluate selected run")
        self.evaluate_button.clicked.connect(self.evaluateRequested)

        # classification
        self.confusion = QTableWidget()
        self.confusion.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.confusion.cellClicked.connect(self.show_cell)
        self.confusion.setToolTip(
            "Rows: true class; columns: predicted class (the diagonal is right). Click a cell to list its samples"
        )
        # Compact cells: ten classes fit a bottom dock without scrolling.
        rows = self.confusion.fontMetrics().height() + 6
        self.confusion.verticalHeader().setDefaultSectionSize(rows)
        self.confusion.horizontalHeader().setMinimumSectionSize(self.confusion.fontMetrics().horizontalAdvance("00") + 12)
        self.per_class = QTableWidget()
        self.per_class.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.per_class.verticalHeader().hide()  # the class column names the rows
        self.per_class.verticalHeader().setDefaultSectionSize(rows)
        self.cell_title = QLabel("Click a cell of the matrix to list its test samples.")
        self.samples = QListWidget()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.per_class, 2)
        right_layout.addWidget(self.cell_title)
        right_layout.addWidget(self.samples, 1)
        self.classification = classification = QSplitter()
        classification.addWidget(self.confusion)
        classification.addWidget(right)

        # regression
        self.scatter_view = pg.PlotWidget(background="w")
        self.scatter_view.setLabel("bottom", "actual")
        self.scatter_view.setLabel("left", "predicted")
        self.scatter_view.showGrid(x=True, y=True, alpha=0.2)
        self.scatter = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(52, 120, 220, 140))
        self.diagonal = pg.PlotCurveItem(pen=pg.mkPen((200, 60, 60), width=1, style=Qt.PenStyle.DashLine))
        self.scatter_view.addItem(self.scatter)
        self.scatter_view.addItem(self.diagonal)

        self.stack = QStackedWidget()
        self.stack.addWidget(QWidget())
        self.stack.addWidget(classification)
        self.stack.addWidget(self.scatter_view)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.evaluate_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

    # --- content --------------------------------------------------------------------------
    def set_evaluation(self, evaluation: Optional[dict[str, Any]]) -> None:
        self.evaluation = evaluation
        self.samples.clear()
        if not evaluation:
            self.summary.setText("No evaluation yet: train a model with a test split, or evaluate a run.")
            self.stack.setCurrentIndex(0)
            return
        if "confusion" in evaluation:
            self._show_classification(evaluation)
            self.stack.setCurrentIndex(1)
        elif "mse" in evaluation:
            self._show_regression(evaluation)
            self.stack.setCurrentIndex(2)
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
        self.confusion.setHorizontalHeaderLabels(names)
        for j, name in enumerate(names):
            self.confusion.horizontalHeaderItem(j).setToolTip(f"predicted {name}")
        self.confusion.setVerticalHeaderLabels(names)
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
        self.confusion.resizeColumnsToContents()
        self._fit_matrix()
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
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.per_class.setItem(r, c, item)
        self.per_class.resizeColumnsToContents()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.stack.currentIndex() == 1:
            self._fit_matrix()  # filled while another tab was shown: the split had no width yet

    def _fit_matrix(self) -> None:
        """Give the matrix the width its columns need (up to two thirds); the rest to the table."""
        table = self.confusion
        needed = (
            table.verticalHeader().sizeHint().width()
            + table.horizontalHeader().length()
            + 2 * table.frameWidth()
            + table.verticalScrollBar().sizeHint().width()
        )
        total = sum(self.classification.sizes()) or self.classification.width()
        if total > 0:
            matrix = min(needed, total * 2 // 3)
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

    # --- confusion cell -> samples -----------------------------------------------------------
    def samples_in_cell(self, row: int, column: int) -> list[int]:
        ev = self.evaluation or {}
        y_true, y_pred = ev.get("y_true") or [], ev.get("y_pred") or []
        return [i for i, (t, p) in enumerate(zip(y_true, y_pred)) if t == row and p == column]

    def show_cell(self, row: int, column: int) -> None:
        ev = self.evaluation or {}
        names = ev.get("class_names") or []
        indices = self.samples_in_cell(row, column)
        if row < len(names) and column < len(names):
            self.cell_title.setText(
                f"{len(indices)} test sample(s) of class {names[row]} predicted as {names[column]}"
                + (f" (first {MAX_LISTED})" if len(indices) > MAX_LISTED else "")
            )
        self.samples.clear()
        self.samples.addItems([f"test sample #{i}" for i in indices[:MAX_LISTED]])
