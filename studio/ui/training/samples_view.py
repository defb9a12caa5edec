"""`SamplesView`: the test samples behind a number of the Evaluation tab.

One row per sample: the sample itself (an image's thumbnail and file name, a text's start, a CSV
row's cells in columns of their own), then what the model made of it: for a classifier the true
and predicted class, the confidence (the predicted class's probability) and the most probable
classes; for a regression the true and predicted value and the error. Click a header to sort
(confidence and error sort as numbers).

The numbers come from the evaluation (`evaluation.json`); the samples are read from their files
by `workflows.evaluate.read_samples` on a `FunctionRunner` thread, a chunk at a time, with each
image's thumbnail decoded there (QImage; the GUI thread only turns it into a pixmap), so a cell of
thousands of photos neither blocks the window nor holds their pixels.
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QIcon, QImage, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.workers import FunctionRunner
from studio.workflows.evaluate import read_samples

THUMB = 40  # thumbnail side, in pixels
PREVIEW = 160  # the image's height in its tooltip
CHUNK = 16  # files read (and thumbnails decoded) per job: the first show within a second
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
INDEX_ROLE = Qt.ItemDataRole.UserRole + 2
CELL_CHARS = 60  # a CSV cell or text shown in the table (the tooltip has the rest)
NO_SOURCE = ("The sample's number in the test split. Image folders, CSV files and text datasets show the "
             "samples themselves; arrays (.npz, Keras sets) do not, nor evaluations from older versions "
             "(evaluate the run again)")


class _Item(QTableWidgetItem):
    """A cell that sorts by its SORT_ROLE value (numbers as numbers) when it has one."""

    def __lt__(self, other: QTableWidgetItem) -> bool:  # noqa: D105
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is not None and theirs is not None:
            return mine < theirs
        if (mine is None) != (theirs is None):
            return mine is None  # cells without a value ("-") sort first
        return self.text() < other.text()  # (QTableWidgetItem's own __lt__ would call this one again)


def _item(text: str, sort: Any = None, tip: str = "", right: bool = False) -> _Item:
    item = _Item(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if sort is not None:
        item.setData(SORT_ROLE, sort)
    if tip:
        item.setToolTip(tip)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _short(text: str, limit: int = CELL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_chunk(evaluation: dict, indices: list[int], generation: int) -> tuple[int, list[dict], dict]:
    """On the worker thread: the samples `indices` and, for image files, their thumbnails."""
    samples = read_samples(evaluation, indices)
    images: dict[int, QImage] = {}
    source = evaluation.get("sample_source") or {}
    if source.get("kind") == "images" or source.get("image_column"):  # image files, or a table naming them
        for sample in samples:
            if sample["path"] and not sample["problem"]:
                image = thumbnail(sample["path"])
                if image is not None:
                    images[sample["index"]] = image
    return generation, samples, images


def thumbnail(path: str, side: int = THUMB) -> Optional[QImage]:
    """The image at `path` fitted in side x side (a large JPEG is decoded at a reduced scale; a
    tiny image is enlarged without blurring its pixels); None if it cannot be read."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > side or size.height() > side):
        reader.setScaledSize(size.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return None
    if image.width() < side and image.height() < side:
        image = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
    return image


class SamplesView(QWidget):
    """`show_samples(evaluation, indices, title)`; `loading()` while samples are still being read;
    `sampleSelected(index)` when the user selects a sample (its position in the test split)."""

    sampleSelected = Signal(int)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.evaluation: dict[str, Any] = {}
        self.indices: list[int] = []
        self._generation = 0
        self._queue: list[int] = []  # indices still to read for the current generation
        self._columns: list[str] = []  # the CSV's column names, once read
        self._fixed = 0  # columns before the CSV's
        self._top_column: Optional[int] = None  # "top classes", never cut short
        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.title.setToolTip("Click a column's header to sort by it; double-click a sample to open its file")
        self.table = QTableWidget()
        self.table.setObjectName("evaluationSamples")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setIconSize(QSize(THUMB, THUMB))
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(self._open)
        self.table.currentCellChanged.connect(self._on_current)
        self.runner = FunctionRunner(self)
        self.runner.done.connect(self._on_loaded)
        self.runner.failed.connect(self._on_failed)
        # The next chunk starts when the thread has ended (`done` comes just before).
        self.runner.busyChanged.connect(lambda busy: busy or self._next())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)

    # --- content --------------------------------------------------------------------------
    def clear(self, title: str = "") -> None:
        self._generation += 1
        self._queue = []
        self.indices = []
        self.table.setSortingEnabled(False)
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.title.setText(title)

    def show_samples(self, evaluation: dict[str, Any], indices: list[int], title: str) -> None:
        """List the test samples `indices` of `evaluation`, then read them from their files."""
        self.clear(title)
        self.evaluation = evaluation
        self.indices = list(indices)
        classification = "confusion" in evaluation
        source = evaluation.get("sample_source") or {}
        headers = ["sample", "confidence" if classification else "error", "true", "predicted"]
        if classification:
            headers.append("top classes")
        if source.get("kind") == "text":
            headers.append("text")
        self._fixed = len(headers)
        self._top_column = headers.index("top classes") if classification else None
        self._columns = []
        table = self.table
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(self.indices))
        has_images = source.get("kind") == "images"
        table.verticalHeader().setDefaultSectionSize(THUMB + 6 if has_images else table.fontMetrics().height() + 8)
        names = [str(n) for n in evaluation.get("class_names") or []]
        y_true, y_pred = evaluation.get("y_true") or [], evaluation.get("y_pred") or []
        tops, probs = evaluation.get("top_classes") or [], evaluation.get("top_probs") or []
        for row, index in enumerate(self.indices):
            first = _item(f"test sample #{index}", index, "reading the sample…")
            first.setData(INDEX_ROLE, index)
            cells = [first]
            t, p = _at(y_true, index), _at(y_pred, index)
            if classification:
                top, prob = _at(tops, index) or [], _at(probs, index) or []
                confidence = float(prob[0]) if prob else None
                cells.append(_item(f"{confidence:.1%}" if prob else "-", confidence,
                                   "the predicted class's probability", True))
                cells += [_item(_name(names, t), None, _name(names, t)), _item(_name(names, p), None, _name(names, p))]
                pairs = [f"{_name(names, c)} {q:.0%}" for c, q in zip(top, prob)]
                cells.append(_item(", ".join(_short(s, 40) for s in pairs) or "-", None, "\n".join(pairs)))
            else:
                error = p - t if isinstance(t, (int, float)) and isinstance(p, (int, float)) else None
                cells.append(_item(_number(error, signed=True), abs(error) if error is not None else None,
                                   "predicted - true; sorts by size", True))
                cells += [_item(_number(t), t, right=True), _item(_number(p), p, right=True)]
            for column, cell in enumerate(cells):
                table.setItem(row, column, cell)
        self._fit_columns()
        table.setSortingEnabled(True)
        if not source:
            for row in range(table.rowCount()):
                table.item(row, 0).setToolTip(NO_SOURCE)
            return
        self._queue = list(self.indices)
        self._next()

    def loading(self) -> bool:
        return bool(self._queue) or self.runner.is_running()

    def sort_by(self, header: str, order: Qt.SortOrder = Qt.SortOrder.DescendingOrder) -> None:
        column = self.header_labels().index(header)
        self.table.sortItems(column, order)

    def header_labels(self) -> list[str]:
        table = self.table
        return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]

    def row_of(self, index: int) -> int:
        """The table row now showing test sample `index` (-1: not listed)."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(INDEX_ROLE) == index:
                return row
        return -1

    # --- reading the samples ---------------------------------------------------------------
    def _next(self) -> None:
        if not self._queue or self.runner.is_running():
            return
        # Files come a chunk at a time (the first thumbnails show at once); the rows of a CSV in one
        # pass over the file, which each chunk would read again from its start.
        rows = isinstance(((self.evaluation.get("sample_refs") or [None])[0]), int)
        size = len(self._queue) if rows else CHUNK
        chunk, self._queue = self._queue[:size], self._queue[size:]
        evaluation, generation = self.evaluation, self._generation
        self.runner.start(lambda: load_chunk(evaluation, chunk, generation))

    def _on_loaded(self, value: tuple) -> None:
        generation, samples, images = value
        if generation == self._generation:
            self._fill(samples, images)

    def _on_failed(self, message: str) -> None:
        self.title.setText(f"{self.title.text()}\nThe samples could not be read: {message}")
        self._queue = []

    def _fill(self, samples: list[dict], images: dict) -> None:
        table = self.table
        sorting = table.isSortingEnabled()
        table.setSortingEnabled(False)  # rows must not move while their cells are set
        rows = {table.item(r, 0).data(INDEX_ROLE): r for r in range(table.rowCount()) if table.item(r, 0)}
        for sample in samples:
            row = rows.get(sample["index"])
            if row is None:
                continue
            first = table.item(row, 0)
            first.setText(sample["label"])
            tip = [sample["path"] or sample["label"]]
            if sample["problem"]:
                tip.append(sample["problem"])
                first.setForeground(QColor(170, 40, 30))
            elif sample["path"]:
                tip.append("double-click to open")
            first.setToolTip("\n".join(tip))
            image = images.get(sample["index"])
            if image is not None:
                first.setIcon(QIcon(QPixmap.fromImage(image)))
                first.setToolTip(_preview(sample["path"], tip))
            if sample["text"] is not None:
                table.setItem(row, self._fixed - 1, _item(_short(sample["text"], 200), None, _wrap(sample["text"])))
            if sample["columns"]:
                self._add_columns([name for name, _v in sample["columns"]])
                for name, value in sample["columns"]:
                    number = _float(value)
                    table.setItem(row, self._fixed + self._columns.index(name),
                                  _item(_short(value), number, value if len(value) > CELL_CHARS else "",
                                        number is not None))
        table.setSortingEnabled(sorting)
        self._fit_columns()

    def _add_columns(self, names: list[str]) -> None:
        new = [n for n in names if n not in self._columns]
        if not new:
            return
        self._columns += new
        table = self.table
        table.setColumnCount(self._fixed + len(self._columns))
        for i, name in enumerate(self._columns):
            header = QTableWidgetItem(_short(name, 24))
            header.setToolTip(f"column {name!r} of the data file")
            table.setHorizontalHeaderItem(self._fixed + i, header)

    def _fit_columns(self) -> None:
        table = self.table
        table.resizeColumnsToContents()
        limit = max(90, table.fontMetrics().horizontalAdvance("m" * 11))
        wider = {0: THUMB + 120, self._fixed - 1: limit}  # the sample's name, the top classes / text
        if self._top_column is not None:
            wider[self._top_column] = 3 * limit  # three classes with their probabilities, whole
        for c in range(table.columnCount()):
            if table.columnWidth(c) > limit + wider.get(c, 0):
                table.setColumnWidth(c, limit + wider.get(c, 0))

    def _on_current(self, row: int, _column: int, _old_row: int, _old_column: int) -> None:
        item = self.table.item(row, 0) if row >= 0 else None
        if item is not None and item.data(INDEX_ROLE) is not None:
            self.sampleSelected.emit(int(item.data(INDEX_ROLE)))

    def _open(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        index = item.data(INDEX_ROLE) if item is not None else None
        refs = self.evaluation.get("sample_refs") or []
        source = self.evaluation.get("sample_source") or {}
        if index is None or not 0 <= index < len(refs) or not isinstance(refs[index], str):
            return
        from pathlib import Path

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(source.get("path", "")) / refs[index])))


def _preview(path: str, lines: list[str]) -> str:
    """A tooltip showing the image larger (read when the tooltip shows), above `lines`."""
    from html import escape

    url = escape(QUrl.fromLocalFile(path).toString(), quote=True)
    return f'<img src="{url}" height="{PREVIEW}"><br>' + "<br>".join(escape(line) for line in lines)


def _at(values: list, index: int) -> Any:
    return values[index] if 0 <= index < len(values) else None


def _name(names: list[str], cls: Any) -> str:
    if isinstance(cls, int) and 0 <= cls < len(names):
        return names[cls]
    return "-" if cls is None else str(cls)


def _number(value: Any, signed: bool = False) -> str:
    if not isinstance(value, (int, float)) or value != value:
        return "-"
    return f"{value:+.4g}" if signed else f"{value:.4g}"


def _float(text: str) -> Optional[float]:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value else None


def _wrap(text: str, width: int = 80) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)[:12])
