"""Quick-add: Tab (or a double-click on empty canvas) opens a search popup;
type to filter, Enter inserts the layer where the cursor was."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from studio.graph.catalog import Catalog
from studio.ui import icons

SPEC_ROLE = Qt.ItemDataRole.UserRole + 1


class QuickAdd(QFrame):
    chosen = Signal(str)
    closed = Signal()  # hidden without a choice

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.catalog = catalog
        self.setObjectName("quickAdd")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Add layer: type to search…")
        self.list = QListWidget(self)
        self.list.setIconSize(QSize(18, 18))
        self.hint = QLabel(self)
        self.hint.setObjectName("quickAddHint")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        layout.addWidget(self.hint)
        self.resize(320, 380)
        self._choosing = False
        self.edit.textChanged.connect(self._filter)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(self._choose)
        self.list.currentItemChanged.connect(self._show_hint)
        self._filter("")

    def popup(self, global_pos: QPoint) -> None:
        self.edit.clear()
        self._filter("")
        self.move(global_pos)
        self.show()
        self.edit.setFocus()

    def _filter(self, text: str) -> None:
        self.list.clear()
        for spec in self.catalog.search(text):
            item = QListWidgetItem(icons.category_icon(spec.category), f"{spec.id}")
            item.setData(SPEC_ROLE, spec.id)
            item.setToolTip(spec.description)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _show_hint(self, item: QListWidgetItem | None, _prev=None) -> None:
        if item is None:
            self.hint.setText("")
            return
        spec = self.catalog.get(item.data(SPEC_ROLE))
        first = spec.description.split(". ")[0].rstrip(".") + "."
        self.hint.setText(f"<b>{spec.category}</b> · {first}")

    def _choose(self, item: QListWidgetItem | None = None) -> None:
        item = item or self.list.currentItem()
        if item is None:
            return
        spec_id = item.data(SPEC_ROLE)
        self._choosing = True
        self.hide()
        self._choosing = False
        self.chosen.emit(spec_id)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().hideEvent(event)
        if not self._choosing:
            self.closed.emit()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
        return super().eventFilter(obj, event)
