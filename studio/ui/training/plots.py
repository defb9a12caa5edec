"""Live training curves (pyqtgraph), fed from a `MetricsHistory` on a timer.

One plot per metric (loss first, then each metric, then the learning rate),
created when the metric first appears. Curves are created once and fed with
`setData` (STYLE.md 17) with auto downsampling and clip-to-view; a 30 Hz
timer redraws only when the history's `version` changed, so however fast
reports arrive the plots repaint at most ~30 times a second.

Per plot: training per batch (lightly smoothed, thin), training per epoch and
validation per epoch (with symbols), and dashed per-epoch curves of earlier
runs chosen for comparison. A crosshair follows the mouse and the readout
line shows the values under it.

The plots share the space they get (`_PlotGrid`): the number of columns follows
the area's shape, so that three plots fit a short, wide dock side by side and a
taller one in two rows, each at least `MIN_PLOT_HEIGHT` tall; the grid asks for
the height of the fewest rows its width allows, so a dock too short for that
scrolls instead of squashing the plots.
"""

from __future__ import annotations

import math
import time
from array import array
from bisect import bisect_left
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from studio.training.history import MetricsHistory

TRAIN_COLOR = (52, 120, 220)
VAL_COLOR = (230, 120, 30)
LR_COLOR = (90, 160, 90)
PHASE_COLOR = (120, 120, 120)  # the line where fine-tuning starts (two-phase runs)
OVERLAY_COLORS = [(150, 80, 200), (40, 160, 160), (200, 60, 90), (120, 120, 40), (100, 100, 100)]
SMOOTHING = 0.6
REFRESH_MS = 33  # the fastest redraw: ~30 per second
SLOWEST_MS = 1000
# Share of one core the live plots may use while training: the GUI thread
# competes with TensorFlow for the CPU (and the GIL), so the redraw interval
# grows with what a redraw costs (measured: refresh + paint, in CPU time of the
# GUI thread; wall time would also count the time TensorFlow's threads held the
# cores, which costs training nothing and made the plots needlessly slow).
DUTY = 0.02
# Layout: below these a plot's axes and legend leave too little to read.
MIN_PLOT_HEIGHT = 120
MIN_PLOT_WIDTH = 140
PLOT_ASPECT = 1.6  # the width / height the grid aims each plot at
GRID_SPACING = 2
TITLE_HEIGHT = 20


class _Smoother:
    """Incremental debiased EMA of one batch column (only new points are computed)."""

    def __init__(self, weight: float = SMOOTHING) -> None:
        self.weight = weight
        self.out = array("d")
        self.last = 0.0
        self.count = 0

    def update(self, column: array) -> array:
        w = self.weight
        for i in range(len(self.out), len(column)):
            v = column[i]
            if math.isnan(v) or math.isinf(v):
                self.out.append(v)
                continue
            self.last = self.last * w + (1 - w) * v
            self.count += 1
            self.out.append(self.last / (1 - w**self.count))
        return self.out


def _np(values: array) -> np.ndarray:
    """A copy: numpy views of an `array` would stop it from growing."""
    return np.array(values, dtype=np.float64)


def grid_columns(count: int, width: int, height: int, spacing: int = GRID_SPACING) -> int:
    """How many columns to lay `count` plots out in, in a `width` x `height` area.

    Among the layouts whose plots are at least MIN_PLOT_WIDTH x MIN_PLOT_HEIGHT,
    the one whose plots are closest to PLOT_ASPECT; when none is, the one
    that comes nearest (tall enough first, then wide enough).
    """
    if count <= 1:
        return 1
    best, best_key = 1, None
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        if (rows - 1) * columns >= count:
            continue  # a whole row would stay empty
        w = (width - (columns - 1) * spacing) / columns
        h = (height - (rows - 1) * spacing) / rows
        tall, wide = h >= MIN_PLOT_HEIGHT, w >= MIN_PLOT_WIDTH
        shape = -abs(math.log(max(w, 1.0) / max(h, 1.0) / PLOT_ASPECT))
        key = (tall and wide, tall, wide, shape)
        if best_key is None or key > best_key:
            best, best_key = columns, key
    return best


def grid_min_height(count: int, width: int, spacing: int = GRID_SPACING) -> int:
    """The least height that fits `count` plots MIN_PLOT_HEIGHT tall in `width`: as many
    columns as the width takes at MIN_PLOT_WIDTH each, so as few rows as possible."""
    if count <= 0:
        return 0
    columns = max(1, min(count, (width + spacing) // (MIN_PLOT_WIDTH + spacing)))
    rows = math.ceil(count / columns)
    return rows * MIN_PLOT_HEIGHT + (rows - 1) * spacing


class _PlotGrid(QWidget):
    """The plots in a grid whose column count follows the widget's shape (see `grid_columns`)."""

    def __init__(self) -> None:
        super().__init__()
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(GRID_SPACING)
        self.widgets: list[QWidget] = []
        self.columns = 0

    def add(self, widget: QWidget) -> None:
        self.widgets.append(widget)
        self.columns = 0  # place them all again
        self._relayout()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        columns = min(2, max(1, len(self.widgets)))
        rows = math.ceil(len(self.widgets) / columns)
        return QSize(columns * 320, max(rows, 1) * 180)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._relayout()

    def _relayout(self) -> None:
        count = len(self.widgets)
        least = grid_min_height(count, self.width())
        if least != self.minimumHeight():
            self.setMinimumHeight(least)  # the panel scrolls rather than squash the plots
        columns = grid_columns(count, self.width(), max(self.height(), least))
        if columns == self.columns:
            return
        self.columns = columns
        for widget in self.widgets:
            self.grid.removeWidget(widget)
        rows = math.ceil(count / columns) if count else 0
        for i in range(max(self.grid.rowCount(), rows)):
            self.grid.setRowStretch(i, 1 if i < rows else 0)
        for i in range(max(self.grid.columnCount(), count)):
            self.grid.setColumnStretch(i, 1 if i < columns else 0)
        for index, widget in enumerate(self.widgets):
            self.grid.addWidget(widget, index // columns, index % columns)


class _LegibleAxis(pg.AxisItem):
    """An axis whose log-scale labels stay legible in a short plot.

    Over less than ~2 decades pyqtgraph makes the 2..9 minor ticks its top level,
    which is always labelled: nine labels crowded into 80 px. Here the decades stay
    the top level and the minor ticks the level below, and of those only 2 and 5
    are labelled (1-2-5, as on log paper), when they fit.
    """

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803 - pyqtgraph override
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        if any(spacing is not None for spacing, _values in ticks):
            return ticks
        decades = [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)]
        if not decades:
            return ticks
        minor = [v for _spacing, values in ticks for v in values if abs(v - round(v)) > 1e-9]
        return [(1.0, decades), (None, minor)]

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph override
        strings = super().logTickStrings(values, scale, spacing)
        if spacing is not None:
            return strings
        # None: pyqtgraph skips the label (the tick mark stays)
        return [
            text if round(10 ** (v - math.floor(v + 1e-9))) in (2, 5) else None
            for v, text in zip(values, strings)
        ]


class _TimedPlot(pg.PlotWidget):
    """One metric's plot in a widget of its own, measuring its paints (for the adaptive redraw rate).

    A widget (and scene) per plot, not one GraphicsLayoutWidget for all: a new point in
    one plot then repaints that plot only (in a shared view it repainted its neighbours
    too - twice the cost, on the GUI thread that shares the CPU with training).
    """

    def __init__(self, title: str) -> None:
        super().__init__(title=title, axisItems={"left": _LegibleAxis("left")})
        self.paint_seconds = 0.0
        self.setBackground("w")
        item = self.getPlotItem()
        item.setTitle(title, size="10pt")
        item.layout.setRowFixedHeight(0, TITLE_HEIGHT)  # pyqtgraph's 30 px is a lot in a short dock
        item.titleLabel.setMaximumHeight(TITLE_HEIGHT)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(320, 180)  # pyqtgraph's 600 x 480 made the panel ask for ~1100 px

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(60, 60)  # _PlotGrid keeps them MIN_PLOT_HEIGHT tall

    def paintEvent(self, event):  # noqa: N802 - Qt override
        start = time.thread_time()
        super().paintEvent(event)
        self.paint_seconds += time.thread_time() - start


class _MetricPlot:
    """One metric's plot and its curves (created once)."""

    def __init__(self, widget: _TimedPlot, name: str) -> None:
        self.widget = widget
        plot = widget.getPlotItem()
        self.plot = plot
        self.name = name
        self.batch = plot.plot(pen=pg.mkPen((*TRAIN_COLOR, 110), width=1), name="train (batch)")
        self.train = plot.plot(
            pen=pg.mkPen(TRAIN_COLOR, width=2),
            symbol="o",
            symbolSize=5,
            symbolBrush=TRAIN_COLOR,
            name="train",
        )
        self.val = plot.plot(
            pen=pg.mkPen(VAL_COLOR, width=2),
            symbol="s",
            symbolSize=5,
            symbolBrush=VAL_COLOR,
            name="validation",
        )
        for curve in (self.batch, self.train, self.val):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        self.overlays: list[pg.PlotDataItem] = []
        self.smoother = _Smoother()
        self.drawn_batches = -1  # points drawn, to skip curves that did not change
        self.drawn_epochs = -1
        self.drawn_at = 0.0  # perf_counter of the last redraw (round robin)
        self.cursor = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen((128, 128, 128), style=Qt.PenStyle.DashLine)
        )
        self.cursor.setVisible(False)
        plot.addItem(self.cursor, ignoreBounds=True)
        self.markers: list[pg.InfiniteLine] = []  # where a training phase starts (two-phase fine-tuning)

    def set_markers(self, boundaries: list[tuple[float, int]]) -> None:
        """A vertical line at each phase boundary (x, phase), labelled with what starts there."""
        while len(self.markers) < len(boundaries):
            line = pg.InfiniteLine(
                angle=90, movable=False, pen=pg.mkPen(PHASE_COLOR, width=1.5, style=Qt.PenStyle.DashDotLine),
                label="fine-tuning", labelOpts={"position": 0.92, "color": PHASE_COLOR, "anchors": [(0, 0), (0, 0)]},
            )
            self.plot.addItem(line, ignoreBounds=True)
            self.markers.append(line)
        for line, (x, phase) in zip(self.markers, boundaries):
            line.setPos(x)
            line.label.setText("fine-tuning" if phase == 2 else f"phase {phase}")
            line.setVisible(True)
        for line in self.markers[len(boundaries):]:
            line.setVisible(False)

    def clear(self) -> None:
        self.batch.setData([], [])
        self.train.setData([], [])
        self.val.setData([], [])
        self.smoother = _Smoother()
        self.drawn_batches = self.drawn_epochs = -1
        self.set_markers([])


IDLE_HINT = ("No curves yet. Press Train (Ctrl+Enter): the loss and accuracy curves grow here while it "
             "trains; pick a run in Runs to see its curves again.")
LIVE_HINT = "Training is starting: the curves appear after the first batches."


class MetricsPlots(QWidget):
    """The curves of one live (or finished) run plus optional earlier runs.

    `history` is appended on the GUI thread by the panel; call `refresh()` to
    redraw now (the timer does it while `set_live(True)`).
    """

    cursorMoved = Signal(float)

    def __init__(self, history: Optional[MetricsHistory] = None, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.history = history if history is not None else MetricsHistory()
        self.overlays: list[tuple[str, MetricsHistory]] = []
        self._plots: dict[str, _MetricPlot] = {}
        self._drawn_version = -1
        self._overlay_version = 0
        self._drawn_overlays = -1

        self.view = _PlotGrid()
        self.grid = self.view.grid
        self.cost = 0.0  # smoothed seconds per redraw (refresh + paint)
        self._painted = 0.0  # paint seconds of every plot so far, at the last redraw
        self._settling = False  # the next tick follows a new plot's creation
        self.log_scale = QCheckBox("Log scale (loss)")
        self.log_scale.toggled.connect(self._apply_log)
        self.smooth = QCheckBox("Smooth batches")
        self.smooth.setChecked(True)
        self.smooth.toggled.connect(lambda _on: self.refresh(force=True))
        self.readout = QLabel("")
        self.readout.setObjectName("plotReadout")
        # Clipped, never wider than the plots: a long readout must not widen the panel.
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top = QHBoxLayout()
        top.addWidget(self.log_scale)
        top.addWidget(self.smooth)
        top.addSpacing(12)
        top.addWidget(self.readout, 1)
        # Before the first run: what will appear here, instead of an empty white area.
        self.hint = QLabel(IDLE_HINT)
        self.hint.setObjectName("placeholder")
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.hint, 1)
        layout.addWidget(self.view, 1)
        self.view.hide()

        self._proxies: list[pg.SignalProxy] = []
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)

    def showEvent(self, event):  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh()

    # --- public -------------------------------------------------------------------------
    def set_history(self, history: MetricsHistory) -> None:
        """Show another history (a new live run, or a finished run picked in the list)."""
        self.history = history
        for plot in self._plots.values():
            plot.clear()
        self._drawn_version = -1
        self.refresh(force=True)

    def set_overlays(self, overlays: list[tuple[str, MetricsHistory]]) -> None:
        """Earlier runs drawn dashed for comparison: (label, history) pairs."""
        self.overlays = list(overlays)
        self._overlay_version += 1
        self.refresh(force=True)

    def set_live(self, live: bool) -> None:
        self.hint.setText(LIVE_HINT if live else IDLE_HINT)
        if live:
            self.timer.start()
        else:
            self.timer.stop()
            self.refresh()

    def plot_names(self) -> list[str]:
        return list(self._plots)

    def plot_widget(self, metric: str) -> Optional[QWidget]:
        """The widget showing `metric`'s plot (None until the metric appears)."""
        plot = self._plots.get(metric)
        return None if plot is None else plot.widget

    def phase_markers(self, metric: str) -> list[float]:
        """x of the phase-boundary lines shown on `metric`'s plot (two-phase fine-tuning)."""
        plot = self._plots.get(metric)
        return [] if plot is None else [line.value() for line in plot.markers if line.isVisible()]

    def curve_points(self, metric: str, which: str = "val") -> int:
        """How many points a curve shows ("batch", "train", "val"); for tests and the status line."""
        plot = self._plots.get(metric)
        if plot is None:
            return 0
        x, _y = getattr(plot, which).getData()
        return 0 if x is None else len(x)

    # --- drawing ------------------------------------------------------------------------
    def _metric_plot(self, name: str) -> _MetricPlot:
        found = self._plots.get(name)
        if found is not None:
            return found
        widget = _TimedPlot(name.replace("_", " "))
        self.view.add(widget)
        plot = widget.getPlotItem()
        # No grid: it doubles the cost of a redraw (measured), which slows training.
        plot.setLabel("bottom", "epoch")
        for axis in ("bottom", "left"):
            # Not "epoch (x0.001)" under ticks 200...800 while the first epoch runs, nor a
            # scaled loss axis: the values are read as they are.
            plot.getAxis(axis).enableAutoSIPrefix(False)
        # The x axes are not linked: a linked range change would repaint every plot for one new point.
        if name == "loss":
            # Compact, on a light box: it must stay readable in a plot ~120 px tall.
            plot.addLegend(offset=(-4, 2), labelTextSize="8pt", verSpacing=-8,
                           brush=pg.mkBrush(255, 255, 255, 200))
        item = _MetricPlot(widget, name)
        self._proxies.append(
            pg.SignalProxy(widget.scene().sigMouseMoved, rateLimit=30,
                           slot=lambda event, item=item: self._mouse_moved(item, event))
        )
        if name == "learning_rate":
            item.train.setPen(pg.mkPen(LR_COLOR, width=2))
            item.train.setSymbolBrush(LR_COLOR)
            plot.setLogMode(y=True)
            # At least a decade: a constant rate otherwise fills the axis with crowded minor ticks.
            plot.vb.setLimits(minYRange=1.0)
        elif name == "loss" and self.log_scale.isChecked():
            plot.setLogMode(y=True)
        self._plots[name] = item
        return item

    def _names(self) -> list[str]:
        names = self.history.metric_names()
        for _label, other in self.overlays:
            names += [n for n in other.metric_names() if n not in names]
        if "loss" in names:
            names.remove("loss")
            names.insert(0, "loss")
        lr = (
            "learning_rate"
            if "learning_rate" in self.history.epoch
            else ("lr" if "lr" in self.history.epoch else None)
        )
        return names + ([lr] if lr else [])

    def _tick(self) -> None:
        """Timer tick: redraw one plot that changed, then space the next tick by the measured cost.

        One plot per tick keeps each block of the GUI thread short (a redraw
        of every plot at once took 30-40 ms on a loaded 2-core machine).
        """
        if not self.isVisible():
            return  # another tab is shown: draw when it comes back (showEvent)
        plots_before = len(self._plots)
        start = time.thread_time()
        if not self.refresh(one=True):
            return
        # The paints since the last redraw (Qt paints after this slot returns) plus this refresh.
        painted = self._paint_seconds()
        if len(self._plots) != plots_before or self._settling:
            # A new plot: its creation, and its first paint on the next tick, are one-offs
            # (layout, fonts, axes), not what a redraw costs; counted, they held the
            # first curves back for a second or more.
            self._settling = len(self._plots) != plots_before
            self._painted = painted
            return
        spent = time.thread_time() - start + painted - self._painted
        self._painted = painted
        self.cost = spent if self.cost == 0.0 else 0.8 * self.cost + 0.2 * spent
        interval = int(min(SLOWEST_MS, max(REFRESH_MS, 1000 * self.cost / DUTY)))
        if interval != self.timer.interval():
            self.timer.setInterval(interval)

    def _paint_seconds(self) -> float:
        return sum(plot.widget.paint_seconds for plot in self._plots.values())

    def _stale(self, name: str) -> bool:
        plot = self._plots.get(name)
        if plot is None:
            return True
        epochs = len(self.history.epoch_x)
        if name in ("learning_rate", "lr"):
            return plot.drawn_epochs != epochs
        return plot.drawn_epochs != epochs or plot.drawn_batches != len(self.history.batch_x)

    def refresh(self, force: bool = False, one: bool = False) -> bool:
        """Redraw what changed since the last call (`one`: only the plot drawn longest ago).

        Returns False when nothing needed drawing.
        """
        history = self.history
        overlays_stale = self._drawn_overlays != self._overlay_version
        if force:
            for plot in self._plots.values():
                plot.drawn_batches = plot.drawn_epochs = -1
        elif history.version == self._drawn_version and not overlays_stale:
            return False
        names = self._names()
        if self.view.isHidden() == bool(names):  # the hint until a run has curves to show
            self.hint.setVisible(not names)
            self.view.setVisible(bool(names))
        if one and not overlays_stale:
            stale = [n for n in names if self._stale(n)]
            if not stale:
                self._drawn_version = history.version
                return False
            name = min(stale, key=lambda n: self._plots[n].drawn_at if n in self._plots else -1.0)
            plot = self._metric_plot(name)
            self._draw_metric(plot, name)
            # Fit the range now: left to the paint, the new range asks for a second paint.
            plot.plot.vb.prepareForPaint()
            plot.drawn_at = time.perf_counter()
            if len(stale) == 1:
                self._drawn_version = history.version
            return True
        self._drawn_version = history.version
        for name in names:
            self._draw_metric(self._metric_plot(name), name)
        if overlays_stale:
            self._drawn_overlays = self._overlay_version
            for name, plot in self._plots.items():
                self._draw_overlays(plot, name)
        return True

    def _draw_metric(self, plot: _MetricPlot, name: str) -> None:
        history = self.history
        if name in ("learning_rate", "lr"):
            column = history.epoch.get(name)
            if column is not None and plot.drawn_epochs != len(history.epoch_x):
                plot.drawn_epochs = len(history.epoch_x)
                plot.train.setData(_np(history.epoch_x), _np(column))
                plot.set_markers(history.phase_boundaries())
            return
        if plot.drawn_batches != len(history.batch_x):
            plot.drawn_batches = len(history.batch_x)
            batch = history.batch.get(name)
            if batch is not None and len(batch):
                values = plot.smoother.update(batch) if self.smooth.isChecked() else batch
                plot.batch.setData(_np(history.batch_x), _np(values))
            else:
                plot.batch.setData([], [])
        if plot.drawn_epochs == len(history.epoch_x):
            return
        plot.drawn_epochs = len(history.epoch_x)
        plot.set_markers(history.phase_boundaries())
        for curve, key in ((plot.train, name), (plot.val, "val_" + name)):
            column = history.epoch.get(key)
            if column is not None and len(column):
                curve.setData(_np(history.epoch_x), _np(column), connect="finite")
            else:
                curve.setData([], [])

    def _draw_overlays(self, plot: _MetricPlot, name: str) -> None:
        for item in plot.overlays:
            plot.plot.removeItem(item)
        plot.overlays = []
        for i, (label, other) in enumerate(self.overlays):
            color = OVERLAY_COLORS[i % len(OVERLAY_COLORS)]
            for key, style in (("val_" + name, Qt.PenStyle.DashLine), (name, Qt.PenStyle.DotLine)):
                column = other.epoch.get(key)
                if column is None or not len(column):
                    continue
                item = pg.PlotDataItem(
                    _np(other.epoch_x),
                    _np(column),
                    pen=pg.mkPen(color, width=1.5, style=style),
                    name=f"{label} {'val' if key.startswith('val_') else 'train'}",
                    connect="finite",
                )
                plot.plot.addItem(item)
                plot.overlays.append(item)

    def _apply_log(self, on: bool) -> None:
        plot = self._plots.get("loss")
        if plot is not None:
            plot.plot.setLogMode(y=on)

    # --- crosshair ----------------------------------------------------------------------
    def _mouse_moved(self, plot: _MetricPlot, event: tuple) -> None:
        pos = event[0]
        if plot.plot.vb.sceneBoundingRect().contains(pos):
            x = plot.plot.vb.mapSceneToView(pos).x()
            self.show_cursor(x)
            self.cursorMoved.emit(x)

    def show_cursor(self, x: float) -> None:
        """Move the crosshair to epoch `x` in every plot and show the values there."""
        parts = [f"epoch {x:.2f}"]
        history = self.history
        for name, plot in self._plots.items():
            plot.cursor.setPos(x)
            plot.cursor.setVisible(True)
            for key in (name, "val_" + name):
                value = _value_at(history.epoch_x, history.epoch.get(key), x, epoch=True)
                if value is not None:
                    parts.append(f"{key} {value:.4g}")
        self.readout.setText("   ".join(parts))


def _value_at(xs: array, column: Optional[array], x: float, epoch: bool = False) -> Optional[float]:
    """The value of the point at or just after `x` (the epoch that contains it)."""
    if column is None or not len(xs):
        return None
    i = bisect_left(xs, x if not epoch else math.ceil(round(x, 2) - 1e-9))  # as the readout shows x
    if i >= len(xs):
        return None
    value = column[i]
    return None if math.isnan(value) else value
