"""The data panel's read-only views: table, image grid, texts, series plot, class bars, split bar.

Each view takes plain values (from a `DatasetInfo`) in a `show_*` method and
redraws; none of them knows about the document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImageReader, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from studio.data.info import ColumnInfo

ROLE_MARK = {"target": "target", "feature": "input", "feature+target": "input & target", "time": "time",
             "": "ignored"}
SPLIT_COLORS = ("#3D7FD9", "#E07B39", "#3FA66B")
SERIES_COLORS = [(52, 120, 220), (230, 120, 30), (63, 166, 107), (150, 80, 200), (200, 60, 90)]
MAX_THUMBNAILS = 64
MAX_BARS = 60


class TablePreview(QTableWidget):
    """The first rows of a table; each header says the column's type and role."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setDefaultSectionSize(22)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def show_table(self, columns: Sequence[ColumnInfo], rows: Sequence[Sequence[str]]) -> None:
        self.clear()
        self.setColumnCount(len(columns))
        self.setRowCount(len(rows))
        for j, col in enumerate(columns):
            head = QTableWidgetItem(f"{col.name}\n{col.type} · {ROLE_MARK.get(col.role, col.role)}")
            tip = [f"{col.name}: {col.type}"]
            if col.missing:
                tip.append(f"{col.missing} missing values")
            if col.minimum is not None:
                mean = f", mean {col.mean:.4g}" if col.mean is not None else ""
                tip.append(f"min {col.minimum:.4g}, max {col.maximum:.4g}{mean}")
            if col.categories:
                tip.append("values: " + ", ".join(col.categories[:12]) + (" ..." if len(col.categories) > 12 else ""))
            head.setToolTip("\n".join(tip))
            if col.role in ("target", "feature+target"):
                font = head.font()
                font.setBold(True)
                head.setFont(font)
            self.setHorizontalHeaderItem(j, head)
        for i, row in enumerate(rows):
            for j, value in enumerate(row[: len(columns)]):
                self.setItem(i, j, QTableWidgetItem(value))
        self.resizeColumnsToContents()

    def header_texts(self) -> list[str]:
        return [self.horizontalHeaderItem(j).text() for j in range(self.columnCount())]


class ImageGrid(QListWidget):
    """Thumbnails of sample images with their class under each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(72, 72))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setSpacing(6)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)

    def show_images(self, items: Sequence[tuple[str, str]]) -> None:
        self.clear()
        for path, label in list(items)[:MAX_THUMBNAILS]:
            reader = QImageReader(path)
            reader.setAutoTransform(True)
            image = reader.read()
            item = QListWidgetItem(label)
            item.setToolTip(f"{Path(path).name} ({label})")
            if not image.isNull():
                pixmap = QPixmap.fromImage(image).scaled(72, 72, Qt.AspectRatioMode.KeepAspectRatio,
                                                         Qt.TransformationMode.FastTransformation)
                item.setIcon(QIcon(pixmap))
            self.addItem(item)


class TextPreview(QTableWidget):
    """Sample texts with their label."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["text", "label"])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)

    def show_texts(self, items: Sequence[tuple[str, str]]) -> None:
        self.setRowCount(len(items))
        for i, (text, label) in enumerate(items):
            self.setItem(i, 0, QTableWidgetItem(text))
            self.setItem(i, 1, QTableWidgetItem(label))
        self.resizeRowsToContents()


class SeriesPlot(pg.PlotWidget):
    """The series of a time-series dataset (downsampled by describe())."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(None)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.addLegend(offset=(10, 10))
        self.setMinimumHeight(140)
        self.curves: dict[str, pg.PlotDataItem] = {}

    def show_series(self, series: dict[str, list[float]], step: float = 1.0) -> None:
        for curve in self.curves.values():
            self.removeItem(curve)
        self.curves = {}
        for i, (name, values) in enumerate(series.items()):
            pen = pg.mkPen(SERIES_COLORS[i % len(SERIES_COLORS)], width=1.2)
            xs = [k * step for k in range(len(values))]
            self.curves[name] = self.plot(xs, values, pen=pen, name=name)
        self.enableAutoRange()


class ClassBars(pg.PlotWidget):
    """How many samples each class has."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(None)
        self.setMinimumHeight(140)
        self.setMouseEnabled(x=False, y=False)
        self.getPlotItem().hideButtons()
        self.bars: pg.BarGraphItem | None = None
        self.counts: list[int] = []

    def show_counts(self, names: Sequence[str], counts: Sequence[int]) -> None:
        if self.bars is not None:
            self.removeItem(self.bars)
            self.bars = None
        names, counts = list(names)[:MAX_BARS], list(counts)[:MAX_BARS]
        self.counts = counts
        if not counts:
            return
        self.bars = pg.BarGraphItem(x=list(range(len(counts))), height=counts, width=0.7,
                                    brush=pg.mkBrush(61, 127, 217, 200), pen=pg.mkPen(None))
        self.addItem(self.bars)
        axis = self.getAxis("bottom")
        axis.setTicks([[(i, name if len(name) <= 14 else name[:13] + "…") for i, name in enumerate(names)]])
        self.setXRange(-0.6, len(counts) - 0.4, padding=0)
        self.setYRange(0, max(counts) * 1.08, padding=0)


class SplitBar(QWidget):
    """Train / validation / test as three coloured segments with their sizes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sizes: dict[str, int] = {}
        self.setMinimumHeight(28)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def show_sizes(self, sizes: dict[str, int]) -> None:
        self.sizes = dict(sizes)
        self.setToolTip(self.text())
        self.update()

    def text(self) -> str:
        s = self.sizes
        if not s:
            return ""
        return (f"train {s.get('train', 0):,} · validation {s.get('validation', 0):,} · "
                f"test {s.get('test', 0):,}")

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        total = sum(self.sizes.values())
        if not total:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = 0.0
        width = self.width()
        for color, key in zip(SPLIT_COLORS, ("train", "validation", "test")):
            n = self.sizes.get(key, 0)
            w = width * n / total
            if w <= 0:
                continue
            rect = QRectF(x, 0, w, self.height())
            painter.fillRect(rect, QColor(color))
            painter.setPen(QColor("white"))
            label = f"{key} {n:,}"
            if painter.fontMetrics().horizontalAdvance(label) < w - 6:
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
            x += w
        painter.end()
