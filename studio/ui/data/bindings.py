"""Which columns feed which node: the Data panel's binding editor for models with several Inputs
and outputs.

A grid with one row per column of the table (or array of the .npz) and one column per Input node
and output node of the model. A click on a cell binds that column to that node, a second click
unbinds it: an Input takes any number of columns, an output one target (a click on another column
moves its target there). Below the grid, each output's task and loss. Above it, "Image files
in column" makes a column of the table name each row's image file (in the image folder, relative to
the table): an Input bound to that column gets the images, and an output can take the class of each
image's folder ("file:folder"). Each change is handed to
`changed(key, value)` ("inputs" or "outputs" and the new list of bindings), which the panel turns
into one undoable change of the dataset. A node whose binding is wrong (no data, a column bound
twice, a shape that does not fit) has its header marked in red with the problem as its tooltip,
as the canvas marks the node itself.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

BOUND_COLOR = QColor(52, 120, 220, 70)
ERROR_COLOR = QColor("#D64545")
TASKS = (("guess from the data", None), ("classes", "classification"), ("a number", "regression"))
LOSSES = ("auto", "sparse_categorical_crossentropy", "binary_crossentropy", "mean_squared_error",
          "mean_absolute_error", "huber")
TASK_ROW, LOSS_ROW = "task", "loss"


class BindingEditor(QWidget):
    """`show_bindings(graph, spec, names, diagnostics)`; emits `changed(key, bindings)`."""

    changed = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bindingEditor")
        self.note = QLabel("", self)
        self.note.setWordWrap(True)
        self.image_column = QComboBox(self)
        self.image_column.setObjectName("imageColumnCombo")
        self.image_column.setToolTip("A column naming each row's image file: an Input bound to it gets the images "
                                     "(an image plus side features per sample)")
        self.image_column.currentIndexChanged.connect(self._emit_image)
        self.image_folder = QLineEdit(self)
        self.image_folder.setObjectName("imageFolderEdit")
        self.image_folder.setPlaceholderText("the table's folder")
        self.image_folder.setToolTip("The folder the image file names are relative to (relative to the table); "
                                     "press Enter to use it")
        self.image_folder.editingFinished.connect(self._emit_image)
        self.image_row = QWidget(self)
        row = QHBoxLayout(self.image_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Image files in column", self))
        row.addWidget(self.image_column)
        row.addWidget(QLabel("in folder", self))
        row.addWidget(self.image_folder, 1)
        self._image: dict = {}
        self.grid = QTableWidget(self)
        self.grid.setObjectName("bindingGrid")
        self.grid.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.grid.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.grid.cellClicked.connect(self.toggle)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.wrong = QLabel("", self)
        self.wrong.setObjectName("bindingProblems")
        self.wrong.setWordWrap(True)
        self.wrong.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.image_row)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.wrong)
        self.names: list[str] = []
        self.nodes: list[tuple[str, str, str]] = []  # (node id, "input" | "output", label)
        self.inputs: list[dict] = []
        self.outputs: list[dict] = []
        self.problems: dict[str, list[str]] = {}

    # -- showing ---------------------------------------------------------------------------
    def show_bindings(self, graph: Any, spec: dict, names: list[str], diagnostics: Any = ()) -> None:
        """One row per column `names`, one grid column per Input and output node of `graph`;
        `spec`'s bindings checked; the nodes with errors in `diagnostics` marked."""
        self.names = list(names)
        self.inputs = copy.deepcopy(list(spec.get("inputs") or []))
        self.outputs = copy.deepcopy(list(spec.get("outputs") or []))
        self.nodes = [(n.id, "input", n.title or n.id) for n in graph.input_nodes()]
        self.nodes += [(n.id, "output", n.title or n.id) for n in graph.output_nodes()]
        self._show_image_options(spec)
        self.problems = {}
        for d in diagnostics:
            if d.severity == "error" and d.node:
                self.problems.setdefault(d.node, []).append(d.message)
        bound = bool(self.inputs or self.outputs)
        self.note.setText(
            "Click a cell to feed a column to an Input (any number of columns) or to make it an output's "
            "target (one per output); click again to unbind it. Each change is one undo step."
            if bound else
            "The model has several Inputs or outputs: click a cell to bind a column to a node (an Input takes "
            "columns, an output its target). Until every node is bound, the model cannot train.")
        grid = self.grid
        grid.blockSignals(True)
        grid.clear()
        grid.setRowCount(len(self.names) + 2)
        grid.setColumnCount(len(self.nodes))
        for c, (node_id, role, label) in enumerate(self.nodes):
            wrong = self.problems.get(node_id)
            head = QTableWidgetItem(f"{'⚠ ' if wrong else ''}{'Input' if role == 'input' else 'output'}\n{label}")
            tip = f"{'Input' if role == 'input' else 'Output'} node '{label}' ({node_id})"
            if wrong:
                head.setForeground(QBrush(ERROR_COLOR))
                tip += "\n" + "\n".join(wrong)
            head.setToolTip(tip)
            grid.setHorizontalHeaderItem(c, head)
        grid.setVerticalHeaderLabels(self.names + ["task", "loss"])
        for r, name in enumerate(self.names):
            for c, (node_id, role, label) in enumerate(self.nodes):
                on = name in self._names_of(node_id, role)
                item = QTableWidgetItem("✓" if on else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                if on:
                    item.setBackground(QBrush(BOUND_COLOR))
                what = "feeds Input" if role == "input" else "is the target of output"
                item.setToolTip(f"{name} {what} '{label}' (click to unbind)" if on else
                                f"click: {name} {what} '{label}'")
                grid.setItem(r, c, item)
        for c, (node_id, role, label) in enumerate(self.nodes):
            for r in (len(self.names), len(self.names) + 1):
                grid.setItem(r, c, _blank())
            if role != "output":
                continue
            out = self._output(node_id) or {}
            task = QComboBox()
            task.setObjectName(f"bindingTask_{c}")
            for text, value in TASKS:
                task.addItem(text, value)
            task.setCurrentIndex(max(0, [v for _t, v in TASKS].index(out.get("task"))
                                     if out.get("task") in [v for _t, v in TASKS] else 0))
            task.setEnabled(bool(out))
            task.setToolTip(f"What output '{label}' predicts: its classes or a number (guessed from its target)")
            task.currentIndexChanged.connect(lambda _i, n=node_id, w=task: self._set_output(n, "task", w.currentData()))
            loss = QComboBox()
            loss.setObjectName(f"bindingLoss_{c}")
            loss.addItems(LOSSES)
            current = out.get("loss", "auto")
            if current not in LOSSES:
                loss.addItem(current)
            loss.setCurrentText(current)
            loss.setEnabled(bool(out))
            loss.setToolTip(f"The loss of output '{label}' (auto: from its data)")
            loss.currentTextChanged.connect(lambda text, n=node_id: self._set_output(n, "loss", text))
            grid.setCellWidget(len(self.names), c, task)
            grid.setCellWidget(len(self.names) + 1, c, loss)
        grid.resizeRowsToContents()
        grid.blockSignals(False)
        labels = {n: label for n, _r, label in self.nodes}
        self.wrong.setText("\n".join(f"⚠ '{labels.get(n, n)}': {m}" for n, ms in self.problems.items() for m in ms))
        self.wrong.setVisible(bool(self.problems))

    def _show_image_options(self, spec: dict) -> None:
        image = spec.get("image") if isinstance(spec.get("image"), dict) else {}
        self._image = dict(image)
        column = image.get("column")
        choices = [name for name in self.names if not (column and name == f"{column}:folder")]
        self.image_column.blockSignals(True)
        self.image_column.clear()
        self.image_column.addItem("none", None)
        for name in choices:
            self.image_column.addItem(name, name)
        self.image_column.setCurrentIndex(max(0, self.image_column.findData(column)) if column else 0)
        self.image_column.blockSignals(False)
        self.image_folder.blockSignals(True)
        self.image_folder.setText(str(image.get("folder") or ""))
        self.image_folder.blockSignals(False)
        self.image_folder.setEnabled(bool(column))

    def _emit_image(self, *_args: Any) -> None:
        """The image column or folder changed: the dataset's ``image`` options (None: no images)."""
        image = dict(self._image)
        column = self.image_column.currentData()
        folder = self.image_folder.text().strip()
        for key, value in (("column", column), ("folder", folder or None)):
            if value:
                image[key] = value
            else:
                image.pop(key, None)
        if not column:
            image.pop("folder", None)
        if image != self._image:
            self._image = image
            self.changed.emit("image", image or None)

    def _names_of(self, node_id: str, role: str) -> list[str]:
        items = self.inputs if role == "input" else self.outputs
        key = "features" if role == "input" else "targets"
        for b in items:
            if b.get("node") == node_id:
                return list(b.get(key) or [])
        return []

    def _output(self, node_id: str) -> dict | None:
        return next((b for b in self.outputs if b.get("node") == node_id), None)

    # -- editing ----------------------------------------------------------------------------
    def cell_rect(self, name: str, node_id: str):
        """Where the cell of column `name` and node `node_id` is, in the grid's viewport."""
        column = [n for n, _r, _l in self.nodes].index(node_id)
        return self.grid.visualItemRect(self.grid.item(self.names.index(name), column))

    def is_bound(self, name: str, node_id: str) -> bool:
        role = next(r for n, r, _l in self.nodes if n == node_id)
        return name in self._names_of(node_id, role)

    def toggle(self, row: int, column: int) -> None:
        """A click on a cell: bind column `row` to node `column`, or unbind it."""
        if not (0 <= row < len(self.names) and 0 <= column < len(self.nodes)):
            return
        name = self.names[row]
        node_id, role, _label = self.nodes[column]
        if role == "input":
            items = copy.deepcopy(self.inputs)
            entry = next((b for b in items if b.get("node") == node_id), None)
            if entry is None:
                items.append({"node": node_id, "features": [name]})
            elif name in entry["features"]:
                entry["features"].remove(name)
                if not entry["features"]:
                    items.remove(entry)  # no columns left: the Input has no data (an error on it)
            else:
                entry["features"].append(name)
            self.changed.emit("inputs", self._in_order(items, "input") or None)
            return
        items = copy.deepcopy(self.outputs)
        entry = next((b for b in items if b.get("node") == node_id), None)
        if entry is None:
            items.append({"node": node_id, "targets": [name]})
        elif name in entry["targets"]:
            items.remove(entry)
        else:
            entry["targets"] = [name]
            entry.pop("task", None)  # another target: its task is guessed from it again
        self.changed.emit("outputs", self._in_order(items, "output") or None)

    def _set_output(self, node_id: str, key: str, value: Any) -> None:
        items = copy.deepcopy(self.outputs)
        entry = next((b for b in items if b.get("node") == node_id), None)
        if entry is None or entry.get(key, None if key == "task" else "auto") == value:
            return
        if value is None or (key == "loss" and value == "auto"):
            entry.pop(key, None)
        else:
            entry[key] = value
        self.changed.emit("outputs", items)

    def _in_order(self, items: list[dict], role: str) -> list[dict]:
        """The bindings in the order of the model's nodes (then any of nodes no longer there)."""
        order = [n for n, r, _l in self.nodes if r == role]
        return sorted(items, key=lambda b: order.index(b["node"]) if b.get("node") in order else len(order))


def _blank() -> QTableWidgetItem:
    item = QTableWidgetItem("")
    item.setFlags(Qt.ItemFlag.NoItemFlags)
    return item
