"""The layer palette: every layer of the catalog, grouped by category, with
a search box. Drag an entry onto the canvas, or double-click it to add it
after the selected node. Hovering an entry shows its explanation."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.graph.catalog import Catalog
from studio.graph.spec import LayerSpec
from studio.ui import icons
from studio.ui.canvas.view import LAYER_MIME

SPEC_ROLE = Qt.ItemDataRole.UserRole + 1


def tooltip_for(spec: LayerSpec) -> str:
    keys = ", ".join(p.key for p in spec.params if not p.advanced) or "none"
    return (
        f"<b>{spec.id}</b> <span style='color:gray'>({spec.module}.{spec.class_name})</span>"
        f"<p style='white-space:normal'>{spec.description}</p>"
        f"<p><i>Parameters:</i> {keys}</p>"
    )


class LayerTree(QTreeWidget):
    """The tree; starts drags carrying the layer id."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setIconSize(QSize(18, 18))
        self.setIndentation(12)
        self.setUniformRowHeights(True)
        self.setAnimated(True)
        self.setRootIsDecorated(True)

    def mimeData(self, items) -> QMimeData:  # noqa: N802 - Qt API
        data = QMimeData()
        spec_id = next((i.data(0, SPEC_ROLE) for i in items if i.data(0, SPEC_ROLE)), None)
        if spec_id:
            data.setData(LAYER_MIME, spec_id.encode())
            data.setText(spec_id)
        return data

    def startDrag(self, actions) -> None:  # noqa: N802 - Qt API
        item = self.currentItem()
        if item is None or not item.data(0, SPEC_ROLE):
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        drag.setPixmap(item.icon(0).pixmap(28, 28))
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """Search box over a category tree of layers."""

    addRequested = Signal(str)  # spec id (double-click or Enter)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.setObjectName("palette")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icons.action_icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.tree = LayerTree(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._groups: dict[str, QTreeWidgetItem] = {}
        self.populate()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first_match)
        self.tree.itemActivated.connect(self._activated)

    def populate(self) -> None:
        self.tree.clear()
        self._items.clear()
        self._groups.clear()
        for category, specs in self.catalog.by_category().items():
            group = QTreeWidgetItem(self.tree, [category])
            group.setIcon(0, icons.category_icon(category))
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            self._groups[category] = group
            for spec in specs:
                item = QTreeWidgetItem(group, [spec.id])
                item.setData(0, SPEC_ROLE, spec.id)
                item.setToolTip(0, tooltip_for(spec))
                item.setIcon(0, icons.category_icon(category))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                self._items[spec.id] = item
            group.setExpanded(True)

    def item(self, spec_id: str) -> QTreeWidgetItem | None:
        return self._items.get(spec_id)

    def filter(self, text: str) -> None:
        matches = {s.id for s in self.catalog.search(text)} if text.strip() else set(self._items)
        for group in self._groups.values():
            visible = 0
            for i in range(group.childCount()):
                child = group.child(i)
                show = child.data(0, SPEC_ROLE) in matches
                child.setHidden(not show)
                visible += show
            group.setHidden(visible == 0)
            if text.strip():
                group.setExpanded(True)
        first = self._first_visible()
        if first is not None and text.strip():
            self.tree.setCurrentItem(first)

    def _first_visible(self) -> QTreeWidgetItem | None:
        for spec in self.catalog.search(self.search.text()):
            item = self._items.get(spec.id)
            if item is not None and not item.isHidden():
                return item
        return None

    def _add_first_match(self) -> None:
        item = self.tree.currentItem() or self._first_visible()
        if item is not None and item.data(0, SPEC_ROLE):
            self.addRequested.emit(item.data(0, SPEC_ROLE))

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        spec_id = item.data(0, SPEC_ROLE)
        if spec_id:
            self.addRequested.emit(spec_id)
