"""Groups on the canvas: the layers of a model used as a layer (a nested model) drawn inside a
frame named after it (issue 12, point 4). Double-clicking the frame's name collapses the group
to one box (its layers and inner wires hidden) and expands it again; clicking the name selects
the group's layers. The collapsed flag is the group's (`Graph.set_group_collapsed`), saved with
the project.

The frames follow the scene: `GroupFrames.sync` runs once per event-loop turn after the nodes
moved, the graph changed or the scene was rebuilt, and costs the groups' members only (a graph
without groups costs nothing).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from studio.ui import theme

MARGIN = 18.0
HEADER = 22.0


class GroupFrame(QGraphicsObject):
    """One group's frame: a rounded outline around its nodes with its name on top, or, collapsed,
    one box in their place. Only the name strip (and the whole box when collapsed) takes clicks,
    so the canvas inside an expanded frame works as everywhere else."""

    def __init__(self, frames: GroupFrames, group_id: str) -> None:
        super().__init__()
        self.frames = frames
        self.group_id = group_id
        self.name = ""
        self.count = 0
        self.collapsed = False
        self._rect = QRectF()
        self.setZValue(-1)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_state(self, rect: QRectF, name: str, count: int, collapsed: bool) -> None:
        rect = rect.adjusted(-MARGIN, -MARGIN - HEADER, MARGIN, MARGIN)
        if (rect, name, count, collapsed) != (self._rect, self.name, self.count, self.collapsed):
            self.prepareGeometryChange()
            self._rect, self.name, self.count, self.collapsed = rect, name, count, collapsed
            self.setZValue(1.5 if collapsed else -1)
            self.update()

    def label(self) -> str:
        return f"{'▸' if self.collapsed else '▾'} {self.name} ({self.count} layer{'s' if self.count != 1 else ''})"

    def header_rect(self) -> QRectF:
        return QRectF(self._rect.left(), self._rect.top(), self._rect.width(), HEADER)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect.adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self._rect if self.collapsed else self.header_rect())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        accent = QColor(t.accent)
        if self.collapsed:
            painter.setPen(QPen(accent, 1.6))
            painter.setBrush(t.node_body)
        else:
            fill = QColor(accent)
            fill.setAlpha(18)
            painter.setPen(QPen(accent, 1.2, Qt.PenStyle.DashLine))
            painter.setBrush(fill)
        painter.drawRoundedRect(self._rect, 10, 10)
        font = QFont()
        font.setPointSizeF(9)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(accent)
        painter.drawText(self.header_rect().adjusted(10, 0, -10, 0), Qt.AlignmentFlag.AlignVCenter, self.label())
        if self.collapsed:
            font.setBold(False)
            painter.setFont(font)
            painter.setPen(t.muted)
            painter.drawText(self._rect.adjusted(10, HEADER, -10, -6), Qt.AlignmentFlag.AlignCenter,
                             "a nested model: double-click its name to show its layers")

    def mousePressEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        self.frames.select(self.group_id)
        event.accept()

    def mouseDoubleClickEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        self.frames.toggle(self.group_id)
        event.accept()


class GroupFrames:
    """Keeps one `GroupFrame` per group of the document's graph in the scene."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        self.document = scene.document
        self.frames: dict[str, GroupFrame] = {}
        self._hidden: set = set()  # items this class hid (collapsed groups' nodes and wires)
        scene.contentsChanged.connect(self.sync)
        scene.built.connect(self.sync)
        self.document.graphChanged.connect(self.sync)

    def select(self, group_id: str) -> None:
        graph = self.document.graph
        if group_id in {g.id for g in graph.groups}:
            self.document.set_selection(graph.group_members(group_id))

    def toggle(self, group_id: str) -> None:
        graph = self.document.graph
        if group_id in {g.id for g in graph.groups}:
            graph.set_group_collapsed(group_id, not graph.group(group_id).collapsed)
            self.sync()

    def sync(self) -> None:
        graph = self.document.graph
        groups = [g for g in graph.groups if graph.group_members(g.id)]
        if not groups and not self.frames:
            return
        hide: set = set()
        seen = set()
        for group in groups:
            items = [self.scene.node_item(m) for m in graph.group_members(group.id)]
            items = [i for i in items if i is not None]
            if not items:
                continue
            seen.add(group.id)
            rect = QRectF()
            for item in items:
                rect = rect.united(item.sceneBoundingRect())
            frame = self.frames.get(group.id)
            if frame is None:
                frame = self.frames[group.id] = GroupFrame(self, group.id)
                self.scene.addItem(frame)
            frame.set_state(rect, group.name or "group", len(items), group.collapsed)
            if group.collapsed:
                members = set(items)
                hide.update(items)
                for item in items:
                    hide.update(e for e in item.edges if e.source in members and e.target in members)
        for group_id in [g for g in self.frames if g not in seen]:
            self.scene.removeItem(self.frames.pop(group_id))
        for item in self._hidden - hide:
            if item.scene() is self.scene:
                item.setVisible(True)
        for item in hide:
            item.setVisible(False)
        self._hidden = hide

