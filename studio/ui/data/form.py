"""The dataset settings form: how to read the file (table, time series or texts; delimiter,
decimal mark, header row, lines to skip at the top, encoding), the target(s) and input columns, the task, the split, and the options
of the data's kind.

The form shows the *resolved* spec (what describe() inferred, e.g. the
target) and emits `changed(key, value)` when the user edits one setting; the
panel turns that into an undoable change of `project.dataset`. Populating
the form never emits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QMenu,
    QSpinBox,
    QToolButton,
    QWidget,
)

from studio.data.info import DatasetInfo

AUTO = "(inferred)"
DELIMITERS = [(AUTO, None), ("comma ,", ","), ("semicolon ;", ";"), ("tab", "\t"), ("bar |", "|"),
              ("spaces", " ")]
HEADERS = [(AUTO, None), ("yes: column names", True), ("no: data from the first row", False)]
DECIMAL_MARKS = [(AUTO, None), ("point: 5.1", "."), ("comma: 5,1", ",")]
ENCODINGS = ["utf-8", "latin-1", "cp1252"]


def read_as_choices(spec: dict, info: DatasetInfo | None) -> list[tuple[str, str]]:
    """The kinds a project's file or folder can be read as (one choice: nothing to pick)."""
    kind = spec.get("kind")
    if kind in ("csv", "tsv", "timeseries") or (kind == "text" and Path(str(spec.get("path", ""))).suffix):
        table = "tsv" if str(spec.get("path", "")).lower().endswith((".tsv", ".tab")) else "csv"
        return [("table", table), ("time series (windows of rows)", "timeseries"), ("texts (a text column)", "text")]
    if kind in ("images", "text"):
        return [("images (a folder per class)", "images"), ("texts (.txt files, a folder per class)", "text")]
    return [(kind or "", kind or "")]


def _spin(minimum: int, maximum: int, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setSuffix(suffix)
    box.setKeyboardTracking(False)
    return box


def _percent() -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0, 90)
    box.setDecimals(0)
    box.setSuffix(" %")
    box.setSingleStep(5)
    box.setKeyboardTracking(False)
    return box


class DatasetForm(QWidget):
    """Edits one dataset spec; `changed(key, value)` with spec keys ("split" gets a whole dict)."""

    changed = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spec: dict = {}
        self._loading = False
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.form = form

        self.read_as = QComboBox()
        self.read_as.setObjectName("readAsCombo")
        self.read_as.setToolTip("How to read the file or folder: a table, a time series (windows of rows) "
                                "or texts")
        self.delimiter = QComboBox()
        for label, value in DELIMITERS:
            self.delimiter.addItem(label, value)
        self.decimal = QComboBox()
        self.decimal.setObjectName("decimalCombo")
        for label, value in DECIMAL_MARKS:
            self.decimal.addItem(label, value)
        self.decimal.setToolTip("How the numbers write their decimals: 5.1, or 5,1 as Excel saves CSV files in "
                                "many countries (then with ';' between the cells). Thousands separators "
                                "(1.234,5) are not read.")
        self.header = QComboBox()
        for label, value in HEADERS:
            self.header.addItem(label, value)
        self.skip_rows = _spin(0, 1_000_000, " lines")
        self.skip_rows.setObjectName("skipRowsSpin")
        self.skip_rows.setToolTip("Lines at the top of the file to skip before the header or the data: notes, "
                                  "a title, counts and class names (scikit-learn's iris.csv starts with "
                                  "'150,4,setosa,versicolor,virginica')")
        self.encoding = QComboBox()
        self.encoding.setEditable(True)
        self.encoding.addItems(ENCODINGS)
        self.encoding.setToolTip("The file's text encoding; files saved by older Windows programs are often "
                                 "cp1252 or latin-1")
        self.target = QComboBox()
        self.target.setObjectName("targetCombo")
        self.more_targets = QToolButton()
        self.more_targets.setObjectName("moreTargetsButton")
        self.more_targets.setText("+")
        self.more_targets.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_targets.setToolTip("Also predict other number columns (a regression with several outputs)")
        self.more_targets_menu = QMenu(self.more_targets)
        self.more_targets.setMenu(self.more_targets_menu)
        self.target_actions: dict[str, QAction] = {}
        target_row = QWidget()
        target_layout = QHBoxLayout(target_row)
        target_layout.setContentsMargins(0, 0, 0, 0)
        target_layout.addWidget(self.target, 1)
        target_layout.addWidget(self.more_targets)
        self.target_row = target_row
        self.inputs = QToolButton()
        self.inputs.setObjectName("inputsButton")
        self.inputs.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.inputs.setToolTip("The columns the model learns from (tick or untick a column)")
        self.inputs_menu = QMenu(self.inputs)
        self.inputs.setMenu(self.inputs_menu)
        self.input_actions: dict[str, QAction] = {}
        self.task = QComboBox()
        self.task.addItems([AUTO, "classification", "regression", "forecast"])
        self.validation = _percent()
        self.test = _percent()
        self.seed = _spin(0, 2**31 - 1)
        self.stratify = QCheckBox("stratified (same class mix in every split)")
        self.missing = QComboBox()
        self.missing.addItems(["error", "drop", "fill"])
        self.missing.setToolTip("Missing cells: stop with an error, drop those rows, or fill them with the "
                                "training mean (numbers) / most frequent value (categories)")
        self.categorical = QComboBox()
        self.categorical.addItems(["onehot", "index"])
        self.image_h = _spin(1, 4096, " px")
        self.image_w = _spin(1, 4096, " px")
        size_row = QWidget()
        size_layout = QHBoxLayout(size_row)
        size_layout.setContentsMargins(0, 0, 0, 0)
        size_layout.addWidget(self.image_h)
        size_layout.addWidget(self.image_w)
        self.image_size = size_row
        self.color = QComboBox()
        self.color.addItems(["rgb", "grayscale"])
        self.sequence_length = _spin(1, 100_000, " tokens")
        self.max_tokens = _spin(3, 10_000_000, " words")
        self.window_length = _spin(1, 1_000_000, " steps")
        self.stride = _spin(1, 1_000_000)
        self.horizon = _spin(1, 1_000_000, " steps")

        split_row = QWidget()
        split_layout = QHBoxLayout(split_row)
        split_layout.setContentsMargins(0, 0, 0, 0)
        split_layout.addWidget(self.validation)
        split_layout.addWidget(self.test)
        form.addRow("Read as", self.read_as)
        form.addRow("Delimiter", self.delimiter)
        form.addRow("Decimal mark", self.decimal)
        form.addRow("Header row", self.header)
        form.addRow("Skip rows", self.skip_rows)
        form.addRow("Encoding", self.encoding)
        form.addRow("Target", target_row)
        form.addRow("Inputs", self.inputs)
        form.addRow("Task", self.task)
        form.addRow("Validation / test", split_row)
        form.addRow("Seed", self.seed)
        form.addRow("", self.stratify)
        form.addRow("Missing values", self.missing)
        form.addRow("Categories", self.categorical)
        form.addRow("Image size (h, w)", self.image_size)
        form.addRow("Colour", self.color)
        form.addRow("Sequence length", self.sequence_length)
        form.addRow("Vocabulary", self.max_tokens)
        form.addRow("Window", self.window_length)
        form.addRow("Stride", self.stride)
        form.addRow("Horizon", self.horizon)
        self.kind_rows: dict[str, list[QWidget]] = {
            "table": [self.missing, self.categorical],
            "images": [self.image_size, self.color],
            "text": [self.sequence_length, self.max_tokens],
            "timeseries": [self.window_length, self.stride, self.horizon, self.missing],
        }

        self.read_as.activated.connect(lambda _i: self._emit("kind", self.read_as.currentData()))
        self.delimiter.activated.connect(lambda _i: self._emit("delimiter", self.delimiter.currentData()))
        self.header.activated.connect(lambda _i: self._emit("header", self.header.currentData()))
        self.decimal.activated.connect(lambda _i: self._emit("decimal", self.decimal.currentData()))
        self.skip_rows.valueChanged.connect(lambda v: self._emit("skip_rows", v or None))
        self.encoding.activated.connect(lambda _i: self._emit_encoding())
        self.encoding.lineEdit().editingFinished.connect(self._emit_encoding)
        self.target.activated.connect(lambda _i: self._emit_target())
        self.task.activated.connect(lambda _i: self._emit("task", None if self.task.currentText() == AUTO
                                                          else self.task.currentText()))
        for box in (self.validation, self.test, self.seed):
            box.valueChanged.connect(lambda _v: self._emit_split())
        self.stratify.toggled.connect(lambda _v: self._emit_split())
        self.missing.activated.connect(lambda _i: self._emit("missing", self.missing.currentText()))
        self.categorical.activated.connect(lambda _i: self._emit("categorical", self.categorical.currentText()))
        for box in (self.image_h, self.image_w):
            box.valueChanged.connect(lambda _v: self._emit_section("image", size=[self.image_h.value(),
                                                                                  self.image_w.value()]))
        self.color.activated.connect(lambda _i: self._emit_section("image", color=self.color.currentText()))
        self.sequence_length.valueChanged.connect(
            lambda v: self._emit_section("text", sequence_length=v))
        self.max_tokens.valueChanged.connect(lambda v: self._emit_section("text", max_tokens=v))
        self.window_length.valueChanged.connect(lambda v: self._emit_section("window", length=v))
        self.stride.valueChanged.connect(lambda v: self._emit_section("window", stride=v))
        self.horizon.valueChanged.connect(lambda v: self._emit_section("window", horizon=v))

    # -- showing --------------------------------------------------------------------
    def show_spec(self, spec: dict, info: DatasetInfo | None) -> None:
        """Fill the form from the project's spec, with inferred values from `info`."""
        self._loading = True
        try:
            self._spec = dict(spec)
            resolved = dict(info.spec) if info is not None else dict(spec)
            # The project's own choices win, except where a sample resolves to its real kind/path.
            resolved.update({k: v for k, v in spec.items() if k not in ("preprocessing", "kind", "path")
                             or info is None})
            kind = resolved.get("kind", "csv")
            group = "table" if kind in ("csv", "tsv") else kind
            columns = [c.name for c in info.columns] if info is not None else []
            can_pick_target = bool(kind in ("csv", "tsv", "timeseries") or (kind == "text" and columns))
            self.target.clear()
            targets = (info.targets if info is not None else None) or resolved.get("targets") or []
            if can_pick_target and columns:
                self.target.addItems(columns)
                if targets and targets[0] in columns:
                    self.target.setCurrentIndex(columns.index(targets[0]))
            self.target.setEnabled(bool(can_pick_target and columns))
            self._show_inputs(kind, info, columns, targets, can_pick_target)
            self._show_more_targets(kind, info, targets, can_pick_target)
            task = spec.get("task")
            self.task.setCurrentText(task if task else AUTO)
            if info is not None and not task:
                self.task.setItemText(0, f"{AUTO}: {info.task}")
            else:
                self.task.setItemText(0, AUTO)
            split = resolved.get("split") or {}
            self.validation.setValue(round(100 * split.get("validation", 0.2)))
            self.test.setValue(round(100 * split.get("test", 0.1)))
            self.seed.setValue(int(split.get("seed", 0)))
            self.stratify.setChecked(bool(split.get("stratify", True)))
            self.stratify.setEnabled(kind != "timeseries")
            self.missing.setCurrentText(resolved.get("missing", "error"))
            self.categorical.setCurrentText(resolved.get("categorical", "onehot"))
            image = resolved.get("image") or {}
            size = image.get("size") or (list(info.feature_shape[:2]) if info is not None and kind == "images"
                                         else [64, 64])
            self.image_h.setValue(int(size[0]))
            self.image_w.setValue(int(size[1]))
            self.color.setCurrentText(image.get("color", "rgb"))
            text = resolved.get("text") or {}
            self.sequence_length.setValue(int(text.get("sequence_length", 64)))
            self.max_tokens.setValue(int(text.get("max_tokens", 10000)))
            window = resolved.get("window") or {}
            self.window_length.setValue(int(window.get("length", 32)))
            self.stride.setValue(int(window.get("stride", 1)))
            self.horizon.setValue(int(window.get("horizon", 1)))
            visible = set()
            for name, widgets in self.kind_rows.items():
                if name == group or (group == "keras" and name == "images"):
                    visible.update(widgets)
            for widgets in self.kind_rows.values():
                for w in widgets:
                    self.form.setRowVisible(w, w in visible)
            self._show_file_options(spec, info, kind)
            bound = bool(spec.get("inputs") or spec.get("outputs"))  # per node: the 'Inputs & outputs' tab
            self.form.setRowVisible(self.target_row, can_pick_target and not bound)
            self.form.setRowVisible(self.inputs, can_pick_target and bool(columns) and not bound)
            self.form.setRowVisible(self.task, not bound)
        finally:
            self._loading = False

    def _show_file_options(self, spec: dict, info: DatasetInfo | None, kind: str) -> None:
        """'Read as' for a file or folder that can be read several ways; the text-file options."""
        choices = read_as_choices(spec, info)
        self.read_as.clear()
        for label, value in choices:
            self.read_as.addItem(label, value)
        if spec.get("kind") in [v for _, v in choices]:
            self.read_as.setCurrentIndex([v for _, v in choices].index(spec["kind"]))
        self.form.setRowVisible(self.read_as, len(choices) > 1)
        text_file = spec.get("kind") in ("csv", "tsv", "timeseries") or (
            spec.get("kind") == "text" and not (info is not None and Path(info.path).is_dir()))
        detected = dict(info.spec) if info is not None else {}
        if info is not None and info.kind in ("csv", "tsv", "timeseries", "text"):
            detected.setdefault("decimal", ".")  # the resolved spec names only a decimal comma
        for combo, key, choices_ in ((self.delimiter, "delimiter", DELIMITERS), (self.header, "header", HEADERS),
                                     (self.decimal, "decimal", DECIMAL_MARKS)):
            values = [v for _, v in choices_]
            combo.setCurrentIndex(values.index(spec.get(key)) if spec.get(key) in values else 0)
            found = detected.get(key)
            label = dict((v, lab) for lab, v in choices_).get(found) if found is not None else None
            combo.setItemText(0, f"{AUTO}: {label}" if label and spec.get(key) is None else AUTO)
            self.form.setRowVisible(combo, text_file)
        skip = spec.get("skip_rows")
        self.skip_rows.setValue(skip if isinstance(skip, int) and not isinstance(skip, bool) and skip > 0 else 0)
        self.form.setRowVisible(self.skip_rows, text_file)
        self.encoding.setCurrentText(str(spec.get("encoding", "utf-8")))
        self.form.setRowVisible(self.encoding, text_file)

    def _emit_encoding(self) -> None:
        name = self.encoding.currentText().strip()
        if name and name != str(self._spec.get("encoding", "utf-8")):
            self._emit("encoding", None if name == "utf-8" else name)

    def _show_inputs(self, kind: str, info: DatasetInfo | None, columns: list[str], targets: list[str],
                     enabled: bool) -> None:
        """One checkable entry per column that can be an input (one text column for texts)."""
        self.inputs_menu.clear()
        self.input_actions = {}
        features = list(info.features) if info is not None else []
        group = QActionGroup(self.inputs_menu) if kind == "text" else None
        for name in columns:
            if name in targets and kind != "timeseries":
                continue  # a table's target is not an input; a series may learn from its own past
            action = QAction(name, self.inputs_menu)
            action.setCheckable(True)
            action.setChecked(name in features)
            if group is not None:
                group.addAction(action)
            action.toggled.connect(lambda on, n=name, one=group is not None: self._emit_inputs(n, on, one))
            self.inputs_menu.addAction(action)
            self.input_actions[name] = action
        chosen = [n for n in self.input_actions if n in features]
        total = len(self.input_actions)
        if len(chosen) == total > 1:
            text = f"all {total} columns"
        elif len(chosen) <= 3:
            text = ", ".join(chosen) or "none"
        else:
            text = f"{len(chosen)} of {total} columns"
        self.inputs.setText(text)
        self.inputs.setEnabled(enabled and bool(self.input_actions))
    # -- editing ------------------------------------------------------------------------
    def _emit(self, key: str, value: Any) -> None:
        if not self._loading:
            self.changed.emit(key, value)

    def _emit_target(self) -> None:
        name = self.target.currentText()
        if name:
            extra = [n for n, a in self.target_actions.items() if a.isChecked() and n != name]
            self._emit("targets", [name] + extra)

    def _show_more_targets(self, kind: str, info: DatasetInfo | None, targets: list[str], enabled: bool) -> None:
        """Further target columns (numbers only): one output each, for regressions and forecasts."""
        self.more_targets_menu.clear()
        self.target_actions = {}
        numbers = [c.name for c in info.columns if c.type == "numeric"] if info is not None else []
        for name in numbers:
            if targets and name == targets[0]:
                continue
            action = QAction(name, self.more_targets_menu)
            action.setCheckable(True)
            action.setChecked(name in targets[1:])
            action.toggled.connect(lambda _on: self._emit_targets())
            self.more_targets_menu.addAction(action)
            self.target_actions[name] = action
        extra = len(targets) - 1
        self.more_targets.setText(f"+{extra}" if extra > 0 else "+")
        self.more_targets.setEnabled(enabled and kind in ("csv", "tsv", "timeseries") and bool(self.target_actions))

    def _emit_targets(self) -> None:
        first = self.target.currentText()
        if self._loading or not first:
            return
        extra = [n for n, a in self.target_actions.items() if a.isChecked()]
        self._emit("targets", [first] + extra)

    def _emit_inputs(self, name: str, on: bool, exclusive: bool) -> None:
        if self._loading or (exclusive and not on):  # texts: only the newly ticked column counts
            return
        chosen = [n for n, a in self.input_actions.items() if a.isChecked()]
        if not chosen:  # a model needs an input: keep the last one ticked
            self._loading = True
            try:
                self.input_actions[name].setChecked(True)
            finally:
                self._loading = False
            return
        self._emit("features", [name] if exclusive else chosen)

    def _emit_split(self) -> None:
        self._emit("split", {"validation": self.validation.value() / 100, "test": self.test.value() / 100,
                             "seed": self.seed.value(), "stratify": self.stratify.isChecked()})

    def _emit_section(self, key: str, **values: Any) -> None:
        section = dict(self._spec.get(key) or {})
        section.update(values)
        self._emit(key, section)
