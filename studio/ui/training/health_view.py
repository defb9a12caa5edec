"""The training panel's "Health" tab: per-layer training health, live.

One row per measured layer (in the network's order): its status (the flag a rule raised, see
studio/training/health.py), gradient norm, update/weight ratio, weight norm, dead ReLU units,
saturated sigmoid/tanh outputs and output scale. A flagged row is tinted and its message (the
problem and its fix) shows under the table; below it, the selected layer's history over the run
(gradient norm, weight norm, update/weight ratio on a log axis). Clicking a row selects its node on
the canvas (`nodeActivated`); `overlay()` is what the canvas tints and badges each node with.

Reports arrive as queued signals from the training thread; the table and plot redraw at most
every `REDRAW_MS`, however often reports come.
"""

from __future__ import annotations

import math
from typing import Optional

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.training import health

REDRAW_MS = 200
WAITING = ("Training health shows here while a network trains: each layer's gradients, weights and units, and "
           "what to fix when one goes wrong.")
COLUMNS = ("Layer", "Status", "Gradient norm", "Update / weight", "Weight norm", "Dead units", "Saturated",
           "Output scale")
STATUS_TEXT = {"nan": "NaN / inf", "exploding": "exploding", "vanishing": "vanishing", "dead": "dead units",
               "saturated": "saturated", "": "ok"}
# how hot a node is drawn on the canvas for each status (0: healthy)
HEAT = {"nan": 1.0, "exploding": 1.0, "dead": 0.7, "vanishing": 0.7, "saturated": 0.5, "": 0.0}
SERIOUS = QColor(214, 40, 57, 70)
CAUTION = QColor(230, 160, 0, 70)
CURVES = (("grad_norm", "gradient norm", "#d62839"), ("weight_norm", "weight norm", "#1f77b4"),
          ("update_ratio", "update / weight", "#2a9d4b"))


def status_color(kind: str) -> Optional[QColor]:
    return SERIOUS if HEAT.get(kind, 0) >= 1.0 else CAUTION if kind else None


def _number(value: Optional[float], percent: bool = False) -> str:
    if value is None:
        return "–"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.0%}" if percent else f"{value:.3g}"


class HealthView(QWidget):
    """Signals: nodeActivated(str) when the user clicks a layer's row; overlayChanged(dict)."""

    nodeActivated = Signal(str)
    overlayChanged = Signal(object)  # {node id: (status kind or "", heat 0..1, tooltip)}

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.history = health.HealthHistory()
        self.selected: Optional[str] = None
        self._rows: list[str] = []  # node id of each row
        self.summary = QLabel(WAITING)
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip(
            f"Measured inside the train step every few steps. Flags: exploding (a gradient norm over "
            f"{health.EXPLODING_GRAD:g} or {health.EXPLODING_RELATIVE:g}x the weights), vanishing (under "
            f"{health.VANISHING_RELATIVE:g}x the largest layer's), dead units (over "
            f"{health.DEAD_FRACTION:.0%} of ReLU units never positive on a fixed batch), saturated, NaN/inf.")
        self.table.cellClicked.connect(self._on_clicked)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(120)
        self.plot.setLogMode(y=True)
        self.plot.setLabel("bottom", "epoch")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.curves = {key: self.plot.plot([], [], pen=pg.mkPen(color, width=1.6), name=name)
                       for key, name, color in CURVES}
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.summary)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.plot)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([320, 160])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)

    # --- data ---------------------------------------------------------------------------
    def reset(self) -> None:
        """A new run: nothing measured yet."""
        self.history = health.HealthHistory()
        self.selected = None
        self.redraw()

    def set_history(self, history: health.HealthHistory) -> None:
        """Show a finished run's health (loaded from its folder)."""
        self.history = history
        self.selected = None
        self.redraw()

    def add_report(self, report: health.HealthReport) -> None:
        self.history.add(report)
        if not self._timer.isActive():
            self._timer.start()

    def flagged(self) -> dict[str, str]:
        """{node id: the most serious status flagged for it in this run}."""
        found: dict[str, str] = {}
        for flag in self.history.flags():  # most serious first
            found.setdefault(flag["node_id"], flag["kind"])
        return found

    def overlay(self) -> dict[str, tuple[str, float, str]]:
        last = self.history.reports[-1] if self.history.reports else None
        if last is None:
            return {}
        flagged = self.flagged()
        messages = {f["node_id"]: f["message"] for f in reversed(self.history.flags())}
        out = {}
        for s in last.layers:
            kind = flagged.get(s.node_id, "")
            tip = messages.get(s.node_id) or (f"gradient norm {_number(s.grad_norm)}, update/weight "
                                               f"{_number(s.update_ratio)}" if s.grad_norm is not None else "healthy")
            out[s.node_id] = (kind, HEAT.get(kind, 0.0), f"Training health: {tip}")
        return out

    # --- view ---------------------------------------------------------------------------
    def redraw(self) -> None:
        last = self.history.reports[-1] if self.history.reports else None
        layers = last.layers if last else []
        flagged = self.flagged()
        messages = {f["node_id"]: f["message"] for f in self.history.flags()}
        self.table.setRowCount(len(layers))
        self._rows = [s.node_id for s in layers]
        for row, s in enumerate(layers):
            kind = flagged.get(s.node_id, "")
            cells = (s.label, STATUS_TEXT.get(kind, kind), _number(s.grad_norm), _number(s.update_ratio),
                     _number(s.weight_norm), _number(s.dead, True), _number(s.saturated, True), _number(s.act_rms))
            color = status_color(kind)
            for column, text in enumerate(cells):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, column, item)
                item.setText(text)
                item.setToolTip(messages.get(s.node_id, ""))
                item.setBackground(QBrush(color) if color is not None else QBrush())
                if column > 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if last is None:
            self.summary.setText(WAITING)
        else:
            count = len(flagged)
            self.summary.setText(
                f"Epoch {last.epoch:.2f}, step {last.step}: "
                + (f"{count} layer{'s' if count != 1 else ''} flagged. Click a row to select its node."
                   if count else "no layer flagged."))
        if self.selected not in self._rows:
            first_flagged = next((node for node in self._rows if node in flagged), None)
            self.selected = first_flagged or (self._rows[0] if self._rows else None)
        if self.selected in self._rows:
            self.table.selectRow(self._rows.index(self.selected))
        self._show_selected()
        self.overlayChanged.emit(self.overlay())

    def _on_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._rows):
            self.selected = self._rows[row]
            self._show_selected()
            self.nodeActivated.emit(self.selected)

    def select_node(self, node_id: str) -> None:
        """Show `node_id`'s row and history (the canvas selection changed)."""
        if node_id in self._rows and node_id != self.selected:
            self.selected = node_id
            self.table.selectRow(self._rows.index(node_id))
            self._show_selected()

    def _show_selected(self) -> None:
        node = self.selected
        flag = next((f for f in self.history.flags() if f["node_id"] == node), None)
        self.message.setText(flag["message"] if flag else "")
        self.message.setVisible(bool(flag))
        label = next((s.label for r in self.history.reports[-1:] for s in r.layers if s.node_id == node), "")
        keys = " · ".join(f"<span style='color:{color}'>{name}</span>" for _key, name, color in CURVES)
        self.plot.setTitle(f"{label}: {keys}" if label else "", size="9pt")
        for key, _name, _color in CURVES:
            xs, ys = self.history.series(node, key) if node else ([], [])
            points = [(x, y) for x, y in zip(xs, ys) if math.isfinite(y) and y > 0]  # a log axis
            self.curves[key].setData([p[0] for p in points], [p[1] for p in points])
