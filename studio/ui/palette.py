"""The layer palette: every layer of the catalog, grouped by category, with
a search box. Drag an entry onto the canvas, or double-click it to add it
after the selected node. Hovering an entry shows its explanation.

The "Transfer learning" category lists one entry per backbone of the table
(`Backbone:<name>`, a Backbone node with that network chosen) and
"Hub module…" (a HubModule node; the window asks for its handle first) and "KerasHub preset…"
(a KerasHubPreset node; the window asks for a preset folder or handle first).
`entry_for(catalog, entry_id)` turns an entry id into (spec, params)."""

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
from studio.graph.edits import Batch, Edit, SetParam
from studio.graph.layers.presets import PRESET, PRESET_EXPLANATION
from studio.graph.layers.transfer import (
    BACKBONE,
    BACKBONES,
    CATEGORY,
    HUB_EXPLANATION,
    HUB_MODULE,
    backbone_explanation,
)
from studio.graph.spec import LayerSpec
from studio.ui import icons
from studio.ui.canvas.view import LAYER_MIME

SPEC_ROLE = Qt.ItemDataRole.UserRole + 1
HUB_LABEL = "Hub module…"
PRESET_LABEL = "KerasHub preset…"
BACKBONE_PREFIX = BACKBONE + ":"


def entry_for(catalog: Catalog, entry_id: str) -> tuple[LayerSpec, dict] | None:
    """(spec, params to set on the new node) for a palette entry id, or None.

    A plain spec id gives its spec and no params; `Backbone:<name>` gives the
    Backbone spec with that network chosen."""
    if entry_id.startswith(BACKBONE_PREFIX):
        name = entry_id[len(BACKBONE_PREFIX):]
        spec = catalog.find(BACKBONE)
        if spec is None or name not in BACKBONES:
            return None
        return spec, {"backbone": name}
    spec = catalog.find(entry_id)
    return (spec, {}) if spec is not None else None


def with_params(edit: Edit, node_id: str, params: dict) -> Edit:
    """`edit` (which adds `node_id`) followed by setting `params` on the new node, as one undo step."""
    if not params:
        return edit
    return Batch([edit, *(SetParam(node_id, k, v) for k, v in params.items())], edit.text)


def _transfer_entries(specs: list[LayerSpec]) -> list[tuple[str, str, str, str]]:
    """(entry id, label, tooltip, search text) of the Transfer learning category."""
    ids = {s.id for s in specs}
    entries = []
    if HUB_MODULE in ids:
        entries.append((HUB_MODULE, HUB_LABEL, _tip(HUB_LABEL, "studio.hub.HubModule", HUB_EXPLANATION),
                        "hub module tensorflow kaggle savedmodel text embedding image feature vector pretrained"))
    if PRESET in ids:
        entries.append((PRESET, PRESET_LABEL, _tip(PRESET_LABEL, "keras_hub.models.Backbone.from_preset",
                                                   PRESET_EXPLANATION),
                        "kerashub keras hub preset backbone kaggle hugging face resnet efficientnet mobilenet vit "
                        "pretrained"))
    if BACKBONE in ids:
        for name in BACKBONES:
            text = backbone_explanation(name)
            entries.append((BACKBONE_PREFIX + name, name, _tip(name, f"keras.applications.{name}", text),
                            f"{name} backbone keras applications imagenet pretrained"))
    entries += [(s.id, s.id, tooltip_for(s), s.id) for s in specs if s.id not in (HUB_MODULE, BACKBONE, PRESET)]
    return entries


def _tip(title: str, where: str, text: str) -> str:
    return (f"<b>{title}</b> <span style='color:gray'>({where})</span>"
            f"<p style='white-space:normal'>{text}</p>")


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
        self._words: dict[str, str] = {}  # entry id -> text searched (entries that are not plain specs)
        self.populate()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first_match)
        self.tree.itemActivated.connect(self._activated)

    def populate(self) -> None:
        self.tree.clear()
        self._items.clear()
        self._groups.clear()
        self._words.clear()
        for category, specs in self.catalog.by_category().items():
            group = QTreeWidgetItem(self.tree, [category])
            group.setIcon(0, icons.category_icon(category))
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            self._groups[category] = group
            if category == CATEGORY:
                entries = _transfer_entries(specs)
            else:
                entries = [(spec.id, spec.id, tooltip_for(spec), "") for spec in specs]
            for entry_id, label, tip, words in entries:
                item = QTreeWidgetItem(group, [label])
                item.setData(0, SPEC_ROLE, entry_id)
                item.setToolTip(0, tip)
                item.setIcon(0, icons.category_icon(category))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                self._items[entry_id] = item
                if words:
                    self._words[entry_id] = words.lower()
            group.setExpanded(True)

    def item(self, spec_id: str) -> QTreeWidgetItem | None:
        return self._items.get(spec_id)

    def filter(self, text: str) -> None:
        matches = {s.id for s in self.catalog.search(text)} if text.strip() else set(self._items)
        needle = text.strip().lower()
        if needle:  # entries of their own (backbones, Hub module…) match on their name and explanation
            matches = {m for m in matches if m not in (HUB_MODULE, BACKBONE, PRESET)}
            matches |= {e for e, words in self._words.items() if needle in words}
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
        return next((i for e, i in self._items.items() if e in self._words and not i.isHidden()
                     and self.search.text().strip()), None)

    def _add_first_match(self) -> None:
        item = self.tree.currentItem() or self._first_visible()
        if item is not None and item.data(0, SPEC_ROLE):
            self.addRequested.emit(item.data(0, SPEC_ROLE))

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        spec_id = item.data(0, SPEC_ROLE)
        if spec_id:
            self.addRequested.emit(spec_id)
