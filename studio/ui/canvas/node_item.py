"""A node on the canvas: header with title, class and key params, output
shape and parameter count, ports on the left (inputs) and right (outputs).

The item only draws what the scene tells it (`NodeView`); it never reads or
changes the graph itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from studio.ui import icons, theme
from studio.ui.canvas.layout import NODE_WIDTH as WIDTH

HEADER = 26.0
ROW = 18.0
PAD = 7.0
PORT_R = 5.5
PORT_GAP = 20.0
RADIUS = 7.0
GRID = 20.0
# Below this scale a node's text is a few pixels high: nodes draw a plain coloured
# block without text or ports, and wires straight lines (level of detail).
SIMPLE_BELOW = 0.4
_POSITION_CHANGE = QGraphicsItem.GraphicsItemChange.ItemPositionChange
_POSITION_CHANGED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
_SELECTED_CHANGED = QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged


@dataclass
class NodeView:
    """What a node shows; computed by the scene from the graph and report."""

    title: str = ""
    class_name: str = ""
    category: str | None = None
    key_line: str = ""
    key_short: str = ""  # the same facts, compact, drawn when key_line does not fit
    shape: str = ""
    params: str = ""
    params_short: str = ""  # the same, compact, when the title needs the room
    severity: str | None = None  # "error" | "warning" | "info" | None
    tooltip: str = ""
    opaque: bool = False
    inputs: tuple = ()  # names of input ports ("" when unnamed)
    outputs: tuple = ("",)
    trainable: bool = True
    shares: str = ""  # the label of the node whose layer (weights) this node calls again


class PortItem(QGraphicsItem):
    """An input or output port; the scene starts a wire gesture on press."""

    NORMAL, OK, BAD, HOVER = range(4)

    def __init__(self, node: NodeItem, is_output: bool, index: int, name: str = "") -> None:
        super().__init__(node)
        self.node = node
        self.is_output = is_output
        self.index = index
        self.name = name
        self.state = PortItem.NORMAL
        self.connected = False
        self._hover = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)

    @property
    def node_id(self) -> str:
        return self.node.node_id

    def boundingRect(self) -> QRectF:
        r = PORT_R + 5
        return QRectF(-r, -r, 2 * r, 2 * r)

    def scene_center(self) -> QPointF:
        return self.scenePos()

    def set_state(self, state: int) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._hover = False
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) < SIMPLE_BELOW:
            return  # too small to see or hit: the node's block is enough
        t = theme.current()
        hover = self._hover
        r = PORT_R + (1.5 if hover or self.state == PortItem.OK else 0)
        color = t.port
        if self.state == PortItem.OK:
            color = t.ok
            glow = QColor(t.ok)
            glow.setAlpha(70)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(glow)
            painter.drawEllipse(QPointF(0, 0), r + 4, r + 4)
        elif self.state == PortItem.BAD:
            color = t.error
        painter.setPen(QPen(color, 2))
        fill = color if (self.connected or self.state == PortItem.OK) else t.node_body
        painter.setBrush(fill)
        painter.drawEllipse(QPointF(0, 0), r, r)
        if self.state == PortItem.BAD:
            painter.setPen(QPen(t.error, 1.6))
            d = r * 0.55
            painter.drawLine(QPointF(-d, -d), QPointF(d, d))
            painter.drawLine(QPointF(-d, d), QPointF(d, -d))


class NodeItem(QGraphicsItem):
    """One layer on the canvas."""

    def __init__(self, node_id: str, view: NodeView, port_budget: int | None = None) -> None:
        super().__init__()
        self.node_id = node_id
        # How many port items to make at once; the rest come with `grow_ports` (a merge
        # of thousands of layers gets its ports over several event-loop turns).
        self.port_budget = port_budget
        self.view = NodeView()
        self.inputs: list[PortItem] = []
        self.outputs: list[PortItem] = []
        self.edges: dict = {}  # EdgeItems attached (as keys), kept by the scene
        self.wire_counts: dict[tuple[bool, int], int] = {}  # (is output, port) -> wires, kept by the scene
        # Set while a collapsed group is drawn in this node's place (canvas/group_frames.py):
        # (is_output, port) -> the scene point its wires end at instead.
        self.stand_in = None
        self.snap = True
        self.painted_simple = False  # the last paint drew the plain block of a far zoom
        # Training health (View > Training Health on Nodes): (status, heat 0..1, tooltip) or None;
        # the badge text the last paint drew ("" when none)
        self.health: tuple[str, float, str] | None = None
        self.painted_health = ""
        self._height = 0.0
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.set_view(view)
        self.port_budget = None

    # -- data ---------------------------------------------------------------
    def set_view(self, view: NodeView) -> None:
        if view == self.view:
            return
        ports_changed = view.inputs != self.view.inputs or view.outputs != self.view.outputs
        if ports_changed or not self._height:
            self.prepareGeometryChange()
        self.view = view
        self.setToolTip(self._tooltip())
        if ports_changed or not self._height:
            self._layout_ports()
        self.update()

    def set_health(self, health: tuple[str, float, str] | None) -> None:
        """Show (status, heat, tooltip) of training health on the node; None: none."""
        if health != self.health:
            self.health = health
            self.setToolTip(self._tooltip())
            self.update()

    def _tooltip(self) -> str:
        tip = self.health[2] if self.health else ""
        return f"{self.view.tooltip}<br>{tip}" if tip and self.view.tooltip else tip or self.view.tooltip

    def _layout_ports(self) -> None:
        """Place the ports; only ports added or removed are created or deleted
        (a merge with thousands of inputs keeps its port items)."""
        n_in, n_out = len(self.view.inputs), len(self.view.outputs)
        rows = max(n_in, n_out, 1)
        body = max(2 * ROW + 2 * PAD, rows * PORT_GAP + PAD)
        self._height = HEADER + body
        budget = self.port_budget
        self.inputs = self._ports(self.inputs, False, self.view.inputs, budget)
        if budget is not None:
            budget = max(0, budget - len(self.inputs))
        self.outputs = self._ports(self.outputs, True, self.view.outputs, budget)
        self._place(self.inputs, 0.0, n_in)
        self._place(self.outputs, WIDTH, n_out)

    def _place(self, ports: list[PortItem], x: float, n: int, start: int = 0) -> None:
        """Ports spread over the body's height, for `n` ports in all."""
        top = HEADER + (self._height - HEADER - (n - 1) * PORT_GAP) / 2 if n else 0
        for i in range(start, len(ports)):
            ports[i].setPos(x, top + i * PORT_GAP)

    def _ports(self, ports: list[PortItem], is_output: bool, names: tuple,
               budget: int | None = None) -> list[PortItem]:
        for port in ports[len(names):]:
            if port.scene() is not None:
                port.scene().removeItem(port)
            else:
                port.setParentItem(None)
        kept = ports[:len(names)]
        for port, name in zip(kept, names):
            port.name = name
        end = len(names) if budget is None else min(len(names), len(kept) + budget)
        kept.extend(PortItem(self, is_output, i, names[i]) for i in range(len(kept), end))
        return kept

    def ports_complete(self) -> bool:
        return len(self.inputs) == len(self.view.inputs) and len(self.outputs) == len(self.view.outputs)

    def grow_ports(self, count: int) -> bool:
        """Make up to `count` more of the port items the view names; True when all exist."""
        for ports, is_output, names, x in ((self.inputs, False, self.view.inputs, 0.0),
                                           (self.outputs, True, self.view.outputs, WIDTH)):
            start = len(ports)
            end = min(len(names), start + max(0, count))
            ports.extend(PortItem(self, is_output, i, names[i]) for i in range(start, end))
            count -= end - start
            self._place(ports, x, len(names), start)
        return self.ports_complete()

    @property
    def height(self) -> float:
        return self._height

    def port(self, is_output: bool, index: int) -> PortItem | None:
        ports = self.outputs if is_output else self.inputs
        return ports[index] if 0 <= index < len(ports) else None

    # -- geometry -------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return QRectF(-PORT_R - 6, -6, WIDTH + 2 * PORT_R + 12, self._height + 12)

    def body_rect(self) -> QRectF:
        return QRectF(0, 0, WIDTH, self._height)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.body_rect(), RADIUS, RADIUS)
        return path

    def itemChange(self, change, value):  # noqa: N802 - Qt API
        # Qt calls this a dozen times for each node it adds (flags, tooltip, ports, scene):
        # compared with constants, and the others answered as Qt's own would (the value).
        if change == _POSITION_CHANGE:
            if self.snap:
                scene = self.scene()
                if scene is not None and getattr(scene, "snap_to_grid", False):
                    return QPointF(round(value.x() / GRID) * GRID, round(value.y() / GRID) * GRID)
        elif change == _POSITION_CHANGED:
            for edge in self.edges:
                edge.update_path()
            scene = self.scene()
            if scene is not None and hasattr(scene, "contents_changed"):
                scene.contents_changed()  # the minimap redraws, once per event-loop turn
        elif change == _SELECTED_CHANGED:
            self.setZValue(3 if value else 1)
        return value

    # -- painting ---------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = theme.current()
        v = self.view
        rect = self.body_rect()
        head_color = QColor(t.category_color(None if v.opaque else v.category))
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        self.painted_simple = lod < SIMPLE_BELOW
        if self.painted_simple:  # far away: a coloured block is all one can see; no text
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            outline = t.accent if selected else (t.error if v.severity == "error" else None)
            if outline is not None:
                painter.setPen(QPen(outline, 3 / max(lod, 0.01)))
            else:
                painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(head_color if v.trainable else head_color.darker(140))
            painter.drawRoundedRect(rect, RADIUS, RADIUS)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)

        # shadow
        if lod > 0.6:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 60 if t.dark else 28))
            painter.drawRoundedRect(rect.translated(0, 2.5), RADIUS, RADIUS)
        # body
        border = QPen(t.node_border, 1.2)
        if v.opaque:
            border.setStyle(Qt.PenStyle.DashLine)
        if v.severity == "error":
            border = QPen(t.error, 2.2)
        if selected:
            border = QPen(t.accent, 2.4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(t.node_body)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        # header
        head = QPainterPath()
        head.addRoundedRect(QRectF(0, 0, WIDTH, HEADER + RADIUS), RADIUS, RADIUS)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, WIDTH, HEADER))
        painter.setBrush(head_color if v.trainable else head_color.darker(140))
        painter.drawPath(head.intersected(clip))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(border)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)

        # header: glyph, title, parameter count
        glyph = icons.category_glyph(None if v.opaque else v.category)
        painter.drawPixmap(QPointF(PAD, (HEADER - 14) / 2), glyph)
        badge_space = 20 if v.severity in ("error", "warning") else 0
        text_x = PAD + 20
        right = WIDTH - PAD - badge_space
        count_font = _font(8)
        title_font = _font(9.5, bold=True)
        room = right - text_x
        needed = QFontMetricsF(title_font).horizontalAdvance(v.title) + 8
        count = ""
        for candidate in (v.params, v.params_short):
            if candidate and candidate != "no weights":
                if needed + QFontMetricsF(count_font).horizontalAdvance(candidate) + 6 <= room:
                    count = candidate
                    break
        if not count and v.params_short and needed > room - 30:
            count = ""  # the title needs every pixel
        elif not count and v.params_short:
            count = v.params_short
        count_w = QFontMetricsF(count_font).horizontalAdvance(count) + 6 if count else 0
        title_w = max(48.0, room - count_w)
        painter.setFont(title_font)
        painter.setPen(t.header_text)
        painter.drawText(QRectF(text_x, 0, title_w, HEADER), Qt.AlignmentFlag.AlignVCenter,
                         _elide(v.title, title_font, title_w))
        if count:
            faded = QColor(t.header_text)
            faded.setAlpha(215)
            painter.setFont(count_font)
            painter.setPen(faded)
            painter.drawText(QRectF(text_x + title_w, 0, right - text_x - title_w, HEADER),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             _elide(count, count_font, right - text_x - title_w))

        # body: class · key params, then the output shape
        inner = WIDTH - 2 * PAD - 6
        y = HEADER + (self._height - HEADER - 2 * ROW) / 2
        body_font = _font(8.5)
        bold_font = _font(8.5, bold=True)
        painter.setFont(bold_font)
        painter.setPen(t.text)
        left = PAD + 6
        cls = v.class_name
        cls_w = min(inner, QFontMetricsF(bold_font).horizontalAdvance(cls))
        painter.drawText(QRectF(left, y, inner, ROW), Qt.AlignmentFlag.AlignVCenter, _elide(cls, bold_font, inner))
        key = v.key_line or ("unknown type" if v.opaque else "")
        if key and cls_w < inner - 20:
            painter.setFont(body_font)
            painter.setPen(t.muted)
            rest = inner - cls_w
            metrics = QFontMetricsF(body_font)
            for candidate in (key, v.key_short):  # the longest form that fits
                if candidate and metrics.horizontalAdvance(" · " + candidate) <= rest:
                    key = candidate
                    break
            else:
                key = v.key_short or key
            painter.drawText(QRectF(left + cls_w, y, rest, ROW), Qt.AlignmentFlag.AlignVCenter,
                             _elide(" · " + key, body_font, rest))
        mono = _font(8.5, mono=True)
        painter.setFont(mono)
        painter.setPen(t.error if v.shape == "?" and v.severity == "error" else t.text)
        shape = ("→ " + v.shape) if v.shape not in ("", "…") else v.shape
        suffix = ("" if v.trainable else "  frozen") + (f"  shared: {v.shares}" if v.shares else "")
        painter.drawText(QRectF(left, y + ROW, inner, ROW), Qt.AlignmentFlag.AlignVCenter,
                         _elide(shape + suffix, mono, inner))

        # port labels for named inputs
        if any(v.inputs) and lod > 0.6:
            painter.setFont(_font(7))
            painter.setPen(t.muted)
            for port in self.inputs:
                if port.name:
                    painter.drawText(QRectF(PORT_R + 3, port.y() - 7, 60, 14),
                                     Qt.AlignmentFlag.AlignVCenter, port.name)

        self._paint_health(painter, rect, t)

        # badge
        if v.severity in ("error", "warning"):
            color = t.error if v.severity == "error" else t.warning
            center = QPointF(WIDTH - PAD - 8, HEADER / 2)
            painter.setPen(QPen(QColor("#FFFFFF"), 1.5))
            painter.setBrush(color)
            painter.drawEllipse(center, 8, 8)
            painter.setFont(_font(9, bold=True))
            painter.setPen(QColor("#FFFFFF"))
            painter.drawText(QRectF(center.x() - 8, center.y() - 8, 16, 16), Qt.AlignmentFlag.AlignCenter, "!")

    def _paint_health(self, painter: QPainter, rect: QRectF, t) -> None:
        """Training health: the body tinted by its heat, a badge naming a flagged status."""
        self.painted_health = ""
        if self.health is None:
            return
        kind, heat, _tip = self.health
        color = QColor(t.error if heat >= 1.0 else t.warning if kind else t.ok)
        tint = QColor(color)
        tint.setAlpha(int(36 + 60 * heat))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(tint)
        body = QPainterPath()
        body.addRoundedRect(rect.adjusted(1, 0, -1, -1), RADIUS - 1, RADIUS - 1)
        below = QPainterPath()
        below.addRect(QRectF(rect.left(), HEADER, rect.width(), rect.bottom() - HEADER))
        painter.drawPath(body.intersected(below))
        if not kind:
            return
        text = HEALTH_BADGES.get(kind, kind)
        font = _font(7.5, bold=True)
        width = QFontMetricsF(font).horizontalAdvance(text) + 10
        badge = QRectF(WIDTH - PAD - width, rect.bottom() - 17, width, 14)
        painter.setBrush(color)
        painter.drawRoundedRect(badge, 7, 7)
        painter.setFont(font)
        painter.setPen(QColor("#FFFFFF"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        self.painted_health = text


HEALTH_BADGES = {"nan": "NaN", "exploding": "exploding", "vanishing": "vanishing", "dead": "dead units",
                 "saturated": "saturated"}
_FONTS: dict[tuple, QFont] = {}


def _font(size: float, bold: bool = False, mono: bool = False) -> QFont:
    key = (size, bold, mono)
    font = _FONTS.get(key)
    if font is None:
        font = QFont()
        if mono:
            font.setFamily("DejaVu Sans Mono")
            font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(size)
        font.setBold(bold)
        _FONTS[key] = font
    return font


def _elide(text: str, font: QFont, width: float) -> str:
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, max(0.0, width))

