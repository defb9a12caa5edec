"""One editor widget per `ParamSpec.kind`, chosen by `make_editor`.

Every editor validates with the ParamSpec itself (the model's rules, STYLE.md
5) as the user types, shows the problem under the field, and emits
`committed(value)` only with a valid value: one commit = one undo step.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import ParamError
from studio.graph.spec import ACTIVATIONS, CONSTRAINTS, DTYPES, INITIALIZERS, REGULARIZERS, ParamSpec

INT_MIN, INT_MAX = -(2**31) + 2, 2**31 - 1
NONE_TEXT = "None"


class ParamEditor(QWidget):
    """Base: a field plus an error line under it."""

    committed = Signal(object)

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.value: Any = None
        self.mixed = False
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(0, 0, 0, 0)
        self._outer.setSpacing(2)
        self.row = QHBoxLayout()
        self.row.setSpacing(4)
        self._outer.addLayout(self.row)
        self.error = QLabel(self)
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        self._outer.addWidget(self.error)
        self.setToolTip(spec.help)

    def set_value(self, value: Any, mixed: bool = False) -> None:
        self.value, self.mixed = value, mixed
        self._show(value, mixed)

    def _show(self, value: Any, mixed: bool) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.setProperty("invalid", bool(message))
        for child in self.findChildren(QWidget):
            if child is not self.error:
                child.setProperty("invalid", bool(message))
                child.style().unpolish(child)
                child.style().polish(child)

    def check(self, value: Any) -> tuple[bool, Any]:
        """Validate with the ParamSpec; show the problem; return (ok, value)."""
        try:
            value = self.spec.validate(value)
        except ParamError as exc:
            self.set_error(str(exc))
            return False, None
        self.set_error("")
        return True, value

    def commit(self, value: Any) -> None:
        ok, value = self.check(value)
        if ok and (value != self.value or self.mixed):
            self.value, self.mixed = value, False
            self.committed.emit(value)


class IntEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QSpinBox(self)
        low = int(spec.minimum) if spec.minimum is not None else INT_MIN
        high = int(min(spec.maximum, INT_MAX)) if spec.maximum is not None else INT_MAX
        if spec.optional:
            low -= 1
            self.box.setSpecialValueText(NONE_TEXT)
        self.box.setRange(low, high)
        self.box.setKeyboardTracking(False)
        self.box.setAccelerated(True)
        self.row.addWidget(self.box)
        self.box.valueChanged.connect(self._changed)

    def _show(self, value: Any, mixed: bool) -> None:
        self.box.blockSignals(True)
        if value is None and self.spec.optional:
            self.box.setValue(self.box.minimum())
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self.box.setValue(int(value))
        self.box.setSuffix("  (mixed)" if mixed else "")
        self.box.blockSignals(False)

    def _changed(self, number: int) -> None:
        self.box.setSuffix("")
        value = None if (self.spec.optional and number == self.box.minimum()) else number
        self.commit(value)


class BoolEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QCheckBox(self)
        self.row.addWidget(self.box)
        self.box.toggled.connect(lambda on: self.commit(bool(on)))

    def _show(self, value: Any, mixed: bool) -> None:
        self.box.blockSignals(True)
        self.box.setTristate(mixed)
        self.box.setCheckState(Qt.CheckState.PartiallyChecked if mixed else
                               (Qt.CheckState.Checked if value else Qt.CheckState.Unchecked))
        if not mixed:
            self.box.setTristate(False)
        self.box.blockSignals(False)


def choices_for(spec: ParamSpec) -> list:
    if spec.choices:
        return list(spec.choices)
    return {
        "activation": list(ACTIVATIONS),
        "initializer": list(INITIALIZERS),
        "regularizer": list(REGULARIZERS),
        "constraint": list(CONSTRAINTS),
        "dtype": list(DTYPES),
    }.get(spec.kind, [])


def _label(value: Any) -> str:
    if value is None:
        return NONE_TEXT
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class ChoiceEditor(ParamEditor):
    """A combo box for choices, activations, initializers, dtypes..."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.combo = QComboBox(self)
        self.combo.setMaxVisibleItems(20)
        self.row.addWidget(self.combo)
        self._values: list = []
        nullable = spec.optional or spec.kind in ("regularizer", "constraint") or (
            spec.kind == "activation" and spec.default is None)
        if nullable:
            self._values.append(None)
        self._values += choices_for(spec)
        self._fill()
        self.combo.activated.connect(self._picked)

    def _fill(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        for value in self._values:
            self.combo.addItem(_label(value))
        self.combo.blockSignals(False)

    def _show(self, value: Any, mixed: bool) -> None:
        if value not in self._values:
            self._values.append(value)  # e.g. a serialized dict from an import
            self._fill()
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(-1 if mixed else self._values.index(value))
        if mixed:
            self.combo.setPlaceholderText("(mixed)")
        self.combo.blockSignals(False)

    def _picked(self, index: int) -> None:
        if 0 <= index < len(self._values):
            self.commit(self._values[index])


class TupleEditor(ParamEditor):
    """`length` spin boxes side by side: kernel sizes, strides, pool sizes."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        n = spec.length or 1
        self.boxes: list[QSpinBox] = []
        low = int(spec.minimum) if spec.minimum is not None else INT_MIN
        high = int(min(spec.maximum, INT_MAX)) if spec.maximum is not None else INT_MAX
        for i in range(n):
            box = QSpinBox(self)
            box.setRange(low, high)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._changed)
            self.row.addWidget(box)
            self.boxes.append(box)
            if i < n - 1:
                times = QLabel("×", self)
                times.setObjectName("muted")
                self.row.addWidget(times)

    def _show(self, value: Any, mixed: bool) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value] * len(self.boxes)
        for i, box in enumerate(self.boxes):
            box.blockSignals(True)
            if isinstance(value, (list, tuple)) and i < len(value) and isinstance(value[i], int):
                box.setValue(value[i])
            box.blockSignals(False)

    def _changed(self, _number: int) -> None:
        self.commit([b.value() for b in self.boxes])


def parse_text(kind: str, text: str) -> Any:
    """Turn what the user typed into a value for `kind` (ValueError if not)."""
    text = text.strip()
    if kind == "str":
        return text
    if text in ("", NONE_TEXT, "none", "null"):
        return None
    if kind == "float":
        return float(text)
    if kind in ("shape", "axis", "ints"):
        inner = text.strip("()[] ")
        if kind == "axis" and "," not in inner:
            return int(inner)
        parts = [p.strip() for p in inner.split(",") if p.strip()]
        return [None if p.lower() in ("none", "?", "null") else int(p) for p in parts]
    return json.loads(text)


def format_text(kind: str, value: Any) -> str:
    if value is None:
        return "" if kind == "str" else NONE_TEXT
    if kind == "float":
        return f"{value:g}" if isinstance(value, float) else str(value)
    if kind in ("shape", "ints") and isinstance(value, (list, tuple)):
        return ", ".join(NONE_TEXT if v is None else str(v) for v in value)
    if kind == "axis" and isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if kind in ("json", "layer", "initializer", "regularizer", "constraint", "activation") and not isinstance(value, str):
        return json.dumps(value)
    return str(value)


class TextEditor(ParamEditor):
    """A line edit for floats, shapes, axes, text and JSON; checked as you type."""

    PLACEHOLDERS = {"shape": "e.g. None, 28, 28, 1", "axis": "e.g. -1", "json": "JSON value", "float": "a number"}

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(self.PLACEHOLDERS.get(spec.kind, ""))
        self.row.addWidget(self.line)
        self.line.textEdited.connect(self._typed)
        self.line.editingFinished.connect(self._finished)

    def _show(self, value: Any, mixed: bool) -> None:
        self.line.blockSignals(True)
        self.line.setText("" if mixed else format_text(self.spec.kind, value))
        self.line.setPlaceholderText("(mixed)" if mixed else self.PLACEHOLDERS.get(self.spec.kind, ""))
        self.line.blockSignals(False)
        self.set_error("")

    def _parse(self) -> tuple[bool, Any]:
        try:
            value = parse_text(self.spec.kind, self.line.text())
        except (ValueError, json.JSONDecodeError):
            self.set_error(f"'{self.spec.key}': cannot read {self.line.text()!r} as {self._what()}")
            return False, None
        return self.check(value)

    def _what(self) -> str:
        return {"float": "a number", "shape": "a list of sizes", "axis": "an axis", "ints": "whole numbers"}.get(
            self.spec.kind, "JSON")

    def _typed(self, _text: str) -> None:
        self._parse()

    def _finished(self) -> None:
        ok, value = self._parse()
        if ok and (value != self.value or self.mixed):
            self.value, self.mixed = value, False
            self.committed.emit(value)


def make_editor(spec: ParamSpec, parent: QWidget | None = None) -> ParamEditor:
    kind = spec.kind
    if kind == "int":
        return IntEditor(spec, parent)
    if kind == "bool":
        return BoolEditor(spec, parent)
    if kind in ("choice", "activation", "dtype") or (kind in ("initializer", "regularizer", "constraint")):
        if choices_for(spec):
            return ChoiceEditor(spec, parent)
    if kind == "ints" and spec.length:
        return TupleEditor(spec, parent)
    return TextEditor(spec, parent)
