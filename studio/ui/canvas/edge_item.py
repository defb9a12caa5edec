"""Wires: a smooth curve from an output port to an input port."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from studio.graph.model import Edge
from studio.ui import theme
from studio.ui.canvas.node_item import NodeItem

BEND = 150.0  # a long wire changes height over its last BEND pixels only


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal-tangent cubic from `start` (an output) to `end` (an input).

    A long wire between rows runs straight at its source's height and bends
    just before its target, so a skip connection stays in the lane the
    auto-layout keeps for it instead of cutting across the layers it skips."""
    span = end.x() - start.x()
    path = QPainterPath(start)
    if span > 2 * BEND and abs(end.y() - start.y()) > 1:
        bend_from = QPointF(end.x() - BEND, start.y())
        path.lineTo(bend_from)
        dx = BEND * 0.5
        path.cubicTo(QPointF(bend_from.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
        return path
    dx = max(40.0, abs(span) * 0.5)
    if end.x() < start.x():  # a wire going backwards: loop out further
        dx = max(dx, min(200.0, abs(end.y() - start.y()) * 0.5 + 60))
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path


class EdgeItem(QGraphicsPathItem):
    """A wire between two node items; selectable and deletable."""

    def __init__(self, edge: Edge, source: NodeItem, target: NodeItem) -> None:
        super().__init__()
        self.edge = edge
        self.source = source
        self.target = target
        self.highlight = False  # a node is being dragged over it (insert)
        self.label = ""  # tensor shape carried, for the tooltip
        self._hover = False
        self._shape: QPainterPath | None = None
        self._ends = (QPointF(), QPointF())
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        self.update_path()

    def endpoints(self) -> tuple[QPointF, QPointF]:
        out = self.source.port(True, self.edge.source_port)
        inp = self.target.port(False, self.edge.target_port)
        start = out.scenePos() if out else self.source.mapToScene(QPointF(self.source.body_rect().right(), 20))
        end = inp.scenePos() if inp else self.target.mapToScene(QPointF(0, 20))
        return start, end

    def update_path(self) -> None:
        start, end = self.endpoints()
        self._ends = (start, end)
        self._shape = None
        self.setPath(wire_path(start, end))

    def set_highlight(self, on: bool) -> None:
        if on != self.highlight:
            self.highlight = on
            self.update()

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(12)
            self._shape = stroker.createStroke(self.path())
        return self._shape

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-4, -4, 4, 4)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._hover = False
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = theme.current()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, lod > 0.3)
        if lod < 0.3:  # far away: a straight line reads the same and draws much faster
            painter.setPen(QPen(t.accent if self.isSelected() else t.wire, 0))
            painter.drawLine(self._ends[0], self._ends[1])
            return
        if self.isSelected() or self.highlight:
            glow = QColor(t.accent)
            glow.setAlpha(70)
            painter.setPen(QPen(glow, 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawPath(self.path())
            color = t.accent
        else:
            color = t.wire_hover if self._hover else t.wire
        painter.setPen(QPen(color, 2.2 if (self._hover or self.isSelected()) else 1.8))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())


class DraftWire(QGraphicsPathItem):
    """The wire that follows the cursor while one is being drawn."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(10)
        self.set_ok(None)

    def set_ok(self, ok: bool | None) -> None:
        t = theme.current()
        color = t.accent if ok is None else (t.ok if ok else t.error)
        pen = QPen(color, 2.2, Qt.PenStyle.DashLine if ok is None else Qt.PenStyle.SolidLine)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self.setPen(pen)

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        self.setPath(wire_path(start, end))
