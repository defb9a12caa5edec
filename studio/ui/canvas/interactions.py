"""Gestures on the canvas as small objects (STYLE.md 4).

A gesture is created on mouse press, gets `update` on every move and ends
with `end` (mouse release) or `cancel` (Escape). Only `end` changes the model,
through one `document.push`, so each gesture is one undo step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent, QStyleOptionGraphicsItem, QWidget

from studio.graph.edits import Batch, Connect, Disconnect, MoveNodes
from studio.graph.model import Edge
from studio.ui import theme
from studio.ui.canvas.edge_item import DraftWire, EdgeItem
from studio.ui.canvas.node_item import NodeItem, PortItem

if TYPE_CHECKING:
    from studio.ui.canvas.scene import CanvasScene


class Gesture:
    """Base class: start / update / end / cancel."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.document = scene.document

    def start(self, event: QGraphicsSceneMouseEvent) -> None:
        pass

    def update(self, event: QGraphicsSceneMouseEvent) -> None:
        pass

    def end(self, event: QGraphicsSceneMouseEvent) -> None:
        pass

    def cancel(self) -> None:
        pass


class Bubble(QGraphicsItem):
    """A small note that follows the cursor at a constant size (why a port refuses)."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.ok = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(20)
        self._font = QFont()
        self._font.setPointSizeF(9)

    def set_text(self, text: str, ok: bool) -> None:
        self.prepareGeometryChange()
        self.text, self.ok = text, ok
        self.setVisible(bool(text))
        self.update()

    def boundingRect(self) -> QRectF:
        fm = QFontMetricsF(self._font)
        rect = fm.boundingRect(QRectF(0, 0, 360, 400), Qt.TextFlag.TextWordWrap, self.text)
        return QRectF(14, 14, rect.width() + 16, rect.height() + 10)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = theme.current()
        rect = self.boundingRect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = t.ok if self.ok else t.error
        bg = QColor(t.node_body)
        painter.setPen(QPen(color, 1.5))
        painter.setBrush(bg)
        painter.drawRoundedRect(rect, 5, 5)
        painter.setFont(self._font)
        painter.setPen(t.text)
        painter.drawText(rect.adjusted(8, 5, -8, -5), Qt.TextFlag.TextWordWrap, self.text)


class NewWireGesture(Gesture):
    """Drag from a port to another port to draw a wire.

    From an output: any input may be the end. From a free input: any output.
    From a wired input: the existing wire is picked up and can be moved to
    another input (or dropped on empty canvas to delete it).
    """

    def __init__(self, scene: CanvasScene, port: PortItem) -> None:
        super().__init__(scene)
        self.port = port
        self.replacing: Edge | None = None
        self.from_output = port.is_output
        self.anchor: PortItem = port
        self.draft = DraftWire()
        self.bubble = Bubble()
        self.verdicts: dict[tuple[str, int], tuple[bool, str]] = {}
        self.hover: PortItem | None = None
        self.report = self.document.report
        self._last = QPointF()

    # -- helpers -------------------------------------------------------------------
    def edge_to(self, other: PortItem) -> Edge:
        a = self.anchor
        if self.from_output:
            return Edge(a.node_id, other.node_id, a.index, other.index)
        return Edge(other.node_id, a.node_id, other.index, a.index)

    def candidates(self, item: NodeItem) -> list[PortItem]:
        return item.inputs if self.from_output else item.outputs

    def verdict(self, port: PortItem) -> tuple[bool, str]:
        key = (port.node_id, port.index)
        found = self.verdicts.get(key)
        if found is None:
            edge = self.edge_to(port)
            if self.replacing is not None and edge == self.replacing:
                found = (True, "")
            else:
                found = self.document.graph.can_connect(edge, report=self.report)
            self.verdicts[key] = found
            port.set_state(PortItem.OK if found[0] else PortItem.BAD)
        return found

    def port_at(self, pos: QPointF) -> PortItem | None:
        best, best_d = None, 15.0
        for item in self.scene.items(QRectF(pos.x() - 15, pos.y() - 15, 30, 30)):
            if isinstance(item, PortItem) and item.is_output != self.from_output and item.node is not self.anchor.node:
                d = (item.scenePos() - pos).manhattanLength()
                if d < best_d:
                    best, best_d = item, d
        return best

    # -- the gesture -----------------------------------------------------------------
    def start(self, event: QGraphicsSceneMouseEvent) -> None:
        graph = self.document.graph
        port = self.port
        if not port.is_output:
            wired = [e for e in graph.inputs_of(port.node_id) if e.target_port == port.index]
            if wired:  # pick up the existing wire by its input end
                self.replacing = wired[0]
                source = self.scene.node_item(self.replacing.source)
                if source is not None and source.port(True, self.replacing.source_port) is not None:
                    self.anchor = source.port(True, self.replacing.source_port)
                    self.from_output = True
                    item = self.scene.edge_item(self.replacing)
                    if item is not None:
                        item.setVisible(False)
        self.scene.addItem(self.draft)
        self.scene.addItem(self.bubble)
        self.bubble.setVisible(False)
        self.draft.set_ends(*self._ends(event.scenePos()))
        # Judge the ports in sight at once, the rest when the cursor reaches them.
        for item in self.scene.nodes_in(self.scene.visible_rect()):
            if item is self.anchor.node:
                continue
            for p in self.candidates(item):
                self.verdict(p)

    def _ends(self, pos: QPointF) -> tuple[QPointF, QPointF]:
        a = self.anchor.scenePos()
        return (a, pos) if self.from_output else (pos, a)

    def update(self, event: QGraphicsSceneMouseEvent) -> None:
        pos = event.scenePos()
        self._last = pos
        port = self.port_at(pos)
        if port is not self.hover:
            if self.hover is not None:
                self.hover.update()
            self.hover = port
        end = port.scenePos() if port is not None else pos
        self.draft.set_ends(*self._ends(end))
        if port is None:
            self.draft.set_ok(None)
            self.bubble.set_text("", False)
            return
        ok, reason = self.verdict(port)
        self.draft.set_ok(ok)
        self.bubble.setPos(pos)
        self.bubble.set_text("" if ok else reason, ok)
        if not ok:
            self.scene.show_message(f"Cannot connect: {reason}")

    def end(self, event: QGraphicsSceneMouseEvent) -> None:
        port = self.port_at(event.scenePos())
        self._cleanup()
        if port is None:
            if self.replacing is not None:
                self.document.push(Disconnect(self.replacing))
            elif self.scene.itemAt(event.scenePos(), self.scene.views()[0].transform()) is None:
                # Dropped on empty canvas: offer to add a layer wired to this port.
                self.scene.wireDropped.emit(self.anchor.node_id, self.anchor.index, self.from_output,
                                            event.scenePos())
            return
        edge = self.edge_to(port)
        if self.replacing is not None and edge == self.replacing:
            return
        ok, reason = self.verdict(port)
        if not ok:
            self.scene.show_refusal(edge, reason, event.scenePos())
            return
        if self.replacing is not None:
            edit = Batch([Disconnect(self.replacing), Connect(edge)], "Reconnect")
        else:
            edit = Connect(edge)
        self.document.push(edit)

    def cancel(self) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        for item in (self.draft, self.bubble):
            if item.scene() is not None:
                self.scene.removeItem(item)
        for item in self.scene.node_items():
            for p in item.inputs + item.outputs:
                p.set_state(PortItem.NORMAL)
        if self.replacing is not None:
            item = self.scene.edge_item(self.replacing)
            if item is not None:
                item.setVisible(True)


class MoveGesture(Gesture):
    """Qt moves the selected items; on release the new positions become one
    `MoveNodes` step. A lone unwired node released on a wire is inserted into it."""

    def __init__(self, scene: CanvasScene, items: list[NodeItem]) -> None:
        super().__init__(scene)
        self.items = items
        self.before = {i.node_id: (i.pos().x(), i.pos().y()) for i in items}
        self.target: EdgeItem | None = None

    def _lone_free_node(self) -> NodeItem | None:
        if len(self.items) != 1:
            return None
        item = self.items[0]
        return item if not self.document.graph.edges_of(item.node_id) else None

    def update(self, event: QGraphicsSceneMouseEvent) -> None:
        item = self._lone_free_node()
        target = None
        if item is not None:
            center = item.mapToScene(item.body_rect().center())
            target = self.scene.edge_at(center, exclude=item)
        if target is not self.target:
            if self.target is not None:
                self.target.set_highlight(False)
            if target is not None:
                target.set_highlight(True)
            self.target = target

    def end(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.target is not None:
            self.target.set_highlight(False)
        after = {i.node_id: (i.pos().x(), i.pos().y()) for i in self.items if i.scene() is not None}
        moved = {k: v for k, v in after.items() if v != self.before.get(k)}
        if not moved:
            return
        text = "Move" if len(moved) > 1 else f"Move {self.document.graph.label(next(iter(moved)))}"
        if self.target is not None:
            from studio.ui.operations import insert_into_wire

            node = self.document.graph.node(self.items[0].node_id)
            edit = insert_into_wire(self.document.graph, node, self.target.edge, move=moved)
            if edit is not None and self.document.push(edit):
                return
            self.scene.show_message(f"'{node.title or node.type}' does not fit into that wire")
        self.document.push(MoveNodes(moved, text))

    def cancel(self) -> None:
        if self.target is not None:
            self.target.set_highlight(False)
        for item in self.items:
            x, y = self.before[item.node_id]
            item.setPos(x, y)
