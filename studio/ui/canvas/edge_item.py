"""Wires: a smooth curve from an output port to an input port.

A node with more than `BUNDLE_MIN` wires on one side (an Input feeding
thousands of layers, a Concatenate of thousands) paints them all through one
`WireBundle`: Qt then calls one paint, not thousands, and where more than
`MAX_STRANDS` of them cross the visible area the bundle draws every wire whose
other end is in view plus an even sample of the rest (they overlap into one
band at that density). Each wire stays its own item for hovering, clicking
and selecting.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from studio.graph.model import Edge
from studio.ui import theme
from studio.ui.canvas.node_item import SIMPLE_BELOW, NodeItem

BEND = 150.0  # a long wire changes height over its last BEND pixels only
BUNDLE_MIN = 64  # wires on one side of a node above which they paint as one bundle
MAX_STRANDS = 160  # wires a bundle draws in one view at most, besides those ending in view


def wire_geometry(start: QPointF, end: QPointF) -> tuple[QPointF | None, tuple[QPointF, QPointF, QPointF, QPointF]]:
    """(where a straight run ends or None, the cubic after it) of a wire from
    `start` (an output) to `end` (an input): a horizontal-tangent cubic.

    A long wire between rows runs straight at its source's height and bends
    just before its target, so a skip connection stays in the lane the
    auto-layout keeps for it instead of cutting across the layers it skips.
    Either way the cubic's first two control points share the start's height
    and its last two the end's, so its height changes monotonically."""
    span = end.x() - start.x()
    if span > 2 * BEND and abs(end.y() - start.y()) > 1:
        bend_from = QPointF(end.x() - BEND, start.y())
        dx = BEND * 0.5
        return bend_from, (bend_from, QPointF(bend_from.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    dx = max(40.0, abs(span) * 0.5)
    if end.x() < start.x():  # a wire going backwards: loop out further
        dx = max(dx, min(200.0, abs(end.y() - start.y()) * 0.5 + 60))
    return None, (start, QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """The wire from `start` to `end` as a path (see `wire_geometry`)."""
    line_to, (p0, p1, p2, p3) = wire_geometry(start, end)
    path = QPainterPath(start)
    if line_to is not None:
        path.lineTo(line_to)
    path.cubicTo(p1, p2, p3)
    return path


def _smoothstep_inverse(u: float) -> float:
    """t in [0, 1] with 3t² - 2t³ == u (u in [0, 1])."""
    return 0.5 - math.sin(math.asin(max(-1.0, min(1.0, 1.0 - 2.0 * u))) / 3.0)


def _sub_cubic(p: tuple[QPointF, QPointF, QPointF, QPointF], t0: float, t1: float) -> tuple[QPointF, ...]:
    """Control points of the part of cubic `p` between parameters t0 < t1
    (de Casteljau, on floats: this runs for every long wire on every paint)."""
    xs = [q.x() for q in p]
    ys = [q.y() for q in p]

    def after(v: list[float], t: float) -> list[float]:
        a, b, c, d = v
        ab, bc, cd = a + (b - a) * t, b + (c - b) * t, c + (d - c) * t
        abc, bcd = ab + (bc - ab) * t, bc + (cd - bc) * t
        return [abc + (bcd - abc) * t, bcd, cd, d]

    def before(v: list[float], t: float) -> list[float]:
        a, b, c, d = v
        ab, bc, cd = a + (b - a) * t, b + (c - b) * t, c + (d - c) * t
        abc, bcd = ab + (bc - ab) * t, bc + (cd - bc) * t
        return [a, ab, abc, abc + (bcd - abc) * t]

    if t0 > 0:
        xs, ys = after(xs, t0), after(ys, t0)
    if t1 < 1 and t0 < 1:
        u = (t1 - t0) / (1 - t0)
        xs, ys = before(xs, u), before(ys, u)
    return tuple(QPointF(x, y) for x, y in zip(xs, ys))


def clipped_wire(start: QPointF, end: QPointF, area: QRectF) -> QPainterPath:
    """The part of the wire from `start` to `end` that runs through `area`
    (the same curve, cut), for wires far bigger than the visible area: a
    stroke costs in proportion to its length, seen or not."""
    line_to, cubic = wire_geometry(start, end)
    path = QPainterPath()
    if line_to is not None and area.top() <= start.y() <= area.bottom():
        left, right = max(start.x(), area.left()), min(line_to.x(), area.right())
        if left < right:
            path.moveTo(left, start.y())
            path.lineTo(right, start.y())
    y0, y3 = cubic[0].y(), cubic[3].y()
    if abs(y3 - y0) <= 1:  # level: the cubic is as straight as its chord
        if cubic[0].x() <= cubic[3].x():
            left, right = max(cubic[0].x(), area.left()), min(cubic[3].x(), area.right())
            if left < right and area.top() - 2 <= y0 <= area.bottom() + 2:
                path.moveTo(left, y0)
                path.lineTo(right, y3)
        else:
            path.moveTo(cubic[0])
            path.cubicTo(cubic[1], cubic[2], cubic[3])
        return path
    # The height runs from y0 to y3 as 3t² - 2t³: the part within the area's height in closed form.
    ua, ub = sorted(((area.top() - y0) / (y3 - y0), (area.bottom() - y0) / (y3 - y0)))
    ua, ub = max(0.0, ua), min(1.0, ub)
    if ua >= ub:
        return path
    t0, t1 = _smoothstep_inverse(ua), _smoothstep_inverse(ub)
    a, b, c, d = _sub_cubic(cubic, t0, t1)
    path.moveTo(a)
    path.cubicTo(b, c, d)
    return path


class EdgeItem(QGraphicsItem):
    """A wire between two node items; selectable and deletable.

    Its curve is computed lazily: when an end moves the item only announces a
    geometry change (`update_path`), and the path is built the next time Qt
    asks for its bounds or paints it. Moving or opening thousands of nodes
    therefore builds each wire's curve once, not once per move."""

    def __init__(self, edge: Edge, source: NodeItem, target: NodeItem) -> None:
        super().__init__()
        self.edge = edge
        self.source = source
        self.target = target
        self.highlight = False  # a node is being dragged over it (insert)
        self.painted_simple = False  # the last paint drew the straight line of a far zoom
        self._hover = False
        self._path: QPainterPath | None = None
        self._rect = QRectF()
        self._shape: QPainterPath | None = None
        self._ends = (QPointF(), QPointF())
        self._clip_key: tuple | None = None  # the exposed rect `_clip` was cut for
        self._clip = QPainterPath()
        self.bundle: WireBundle | None = None  # paints this wire when set (see the module's doc)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)  # exposedRect
        self.setAcceptHoverEvents(True)
        self.setZValue(0)

    def endpoints(self) -> tuple[QPointF, QPointF]:
        source, target = self.source.stand_in, self.target.stand_in  # a collapsed group drawn there
        if source is not None or target is not None:
            start, end = self._own_endpoints()
            return (source(True, self.edge.source_port) if source is not None else start,
                    target(False, self.edge.target_port) if target is not None else end)
        return self._own_endpoints()

    def _own_endpoints(self) -> tuple[QPointF, QPointF]:
        out = self.source.port(True, self.edge.source_port)
        inp = self.target.port(False, self.edge.target_port)
        start = out.scenePos() if out else self.source.mapToScene(QPointF(self.source.body_rect().right(), 20))
        end = inp.scenePos() if inp else self.target.mapToScene(QPointF(0, 20))
        return start, end

    def update_path(self) -> None:
        """An end moved (or its ports changed): the curve is rebuilt when next needed."""
        if self._path is None:
            return  # not built since the last change: Qt has not asked for the old bounds
        self.prepareGeometryChange()
        self._path = None
        self._shape = None
        self._clip_key = None
        if self.bundle is not None:
            self.bundle.invalidate()

    def path(self) -> QPainterPath:
        if self._path is None:
            start, end = self.endpoints()
            self._ends = (start, end)
            self._path = wire_path(start, end)
            self._rect = self._path.controlPointRect().adjusted(-4, -4, 4, 4)
        return self._path

    def set_highlight(self, on: bool) -> None:
        if on != self.highlight:
            self.highlight = on
            self.repaint_later()

    def repaint_later(self) -> None:
        """Schedule a repaint of this wire (through its bundle when it has one)."""
        if self.bundle is not None:
            self.bundle.update(self.boundingRect())
        else:
            self.update()

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(12)
            self._shape = stroker.createStroke(self.path())
        return self._shape

    def boundingRect(self) -> QRectF:
        self.path()
        return self._rect

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._hover = True
        scene = self.scene()
        if scene is not None and hasattr(scene, "edge_tooltip"):
            self.setToolTip(scene.edge_tooltip(self.edge))  # written when needed, not per report
        self.repaint_later()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._hover = False
        self.repaint_later()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = theme.current()
        path = self.path()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        self.painted_simple = lod < SIMPLE_BELOW
        if self.painted_simple:  # far away: a straight line reads the same and draws much faster
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(_pen(t.accent if (selected or self.highlight) else t.wire, 0.0, True))
            painter.drawLine(self._ends[0], self._ends[1])
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        exposed = option.exposedRect
        if self._rect.height() > 2 * exposed.height() + 400 or self._rect.width() > 2 * exposed.width() + 400:
            key = (exposed.x(), exposed.y(), exposed.width(), exposed.height())
            if key != self._clip_key:  # only what can be seen: a stroke costs by its length
                self._clip_key = key
                self._clip = clipped_wire(self._ends[0], self._ends[1], exposed.adjusted(-8, -8, 8, 8))
            path = self._clip
        width = 2.2 if (self._hover or selected) else 1.8
        if selected or self.highlight:
            glow = QColor(t.accent)
            glow.setAlpha(70)
            painter.setPen(QPen(glow, 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawPath(path)
            color = t.accent
        else:
            color = t.wire_hover if self._hover else t.wire
        # About a pixel wide on screen: the fast one-pixel stroke looks the same.
        thin = width * lod < 1.3
        painter.setPen(_pen(color, 1.0 if thin else width, thin))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)


class WireBundle(QGraphicsItem):
    """Paints the wires on one side of a node with many (see the module's doc)."""

    def __init__(self, node: NodeItem, is_output: bool) -> None:
        super().__init__()
        self.node = node
        self.is_output = is_output  # the node's outputs (a fan-out) or its inputs (a fan-in)
        self.members: dict[EdgeItem, None] = {}
        self._rect: QRectF | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)  # exposedRect
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(0)

    def add(self, wire: EdgeItem) -> None:
        self.members[wire] = None
        wire.bundle = self
        wire.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
        if self._rect is not None:  # grow the bounds (not computed again over thousands of wires)
            rect = wire.boundingRect()
            if not self._rect.contains(rect):
                self.prepareGeometryChange()
                self._rect = self._rect.united(rect)

    def remove(self, wire: EdgeItem) -> None:
        self.members.pop(wire, None)
        wire.bundle = None
        wire.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, False)
        self.invalidate()

    def invalidate(self) -> None:
        """A member came, went or moved: the bounds are computed again when next needed."""
        if self._rect is not None:
            self.prepareGeometryChange()
            self._rect = None

    def boundingRect(self) -> QRectF:
        if self._rect is None:
            rect = QRectF()
            for wire in self.members:
                rect = rect.united(wire.boundingRect())
            self._rect = rect
        return self._rect

    def contains(self, point: QPointF) -> bool:
        return False  # never hit: its wires answer the mouse

    def shape(self) -> QPainterPath:
        return QPainterPath()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        exposed = option.exposedRect
        seen = [w for w in self.members  # (the rect read directly when built: thousands of wires)
                if (w._rect if w._path is not None else w.boundingRect()).intersects(exposed) and w.isVisible()]
        if not seen:
            return
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < SIMPLE_BELOW:  # far away: every wire a straight line, a few calls for all of them
            t = theme.current()
            plain, marked = [], []
            for wire in seen:
                wire.painted_simple = True
                (marked if wire.highlight or wire.isSelected() else plain).append(QLineF(*wire._ends))
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(_pen(t.wire, 0.0, True))
            painter.drawLines(plain)
            if marked:
                painter.setPen(_pen(t.accent, 0.0, True))
                painter.drawLines(marked)
            return
        if len(seen) > MAX_STRANDS:
            area = exposed.adjusted(-20, -20, 20, 20)
            far = 1 if self.is_output else 0
            keep, rest = [], []
            for wire in seen:
                shown = (wire.highlight or wire._hover or wire.isSelected() or area.contains(wire._ends[far]))
                (keep if shown else rest).append(wire)
            step = len(rest) / MAX_STRANDS
            seen = ([rest[int(i * step)] for i in range(MAX_STRANDS)] if step > 1 else rest) + keep  # marked on top
        for wire in seen:
            wire.paint(painter, option, widget)


_PENS: dict[tuple, QPen] = {}


def _pen(color: QColor, width: float, cosmetic: bool) -> QPen:
    """A shared pen: thousands of wires paint with a handful of pens."""
    key = (color.rgba(), width, cosmetic)
    pen = _PENS.get(key)
    if pen is None:
        pen = QPen(color, width)
        pen.setCosmetic(cosmetic)
        _PENS[key] = pen
    return pen


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
