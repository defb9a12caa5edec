"""Groups on the canvas: the layers of a model used as a layer (a nested model, or a backbone
expanded to its layers) (issue 12 point 4, issue 13 point 2).

Expanded, a group is a frame around its layers with its name on top: a click on the name selects
the group's layers, a double-click collapses it. Collapsed, it is ONE node (`GroupNode`): its name,
its layer count, the shapes going in and out and its parameter count (Keras' count of the nested
model), with a port per tensor entering or leaving it; the wires from outside attach to those ports;
its layers and inner wires are hidden, not removed. A double-click or "Expand group" in its menu
shows the layers again. Collapsing and expanding are `SetGroupCollapsed` edits: one undo step each,
saved with the project. A group is a view: check, compile and export never look at it.

The frames and group nodes follow the scene: `GroupFrames.sync` runs after the nodes moved, the
graph or its report changed or the scene was rebuilt, and costs the groups' members only (a graph
without groups costs nothing).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from studio.graph.edits import MoveNodes, SetGroupCollapsed
from studio.graph.groups import group_anchor, group_params, group_ports, ref_shape, standing_in
from studio.graph.inference import format_shape
from studio.ui import theme
from studio.ui.canvas.layout import NODE_WIDTH
from studio.ui.canvas.node_item import _elide, _font  # the nodes' own (cached) fonts
from studio.ui.canvas.scene import short_count

MARGIN = 18.0
HEADER = 22.0
NODE_HEADER = 26.0
ROW = 17.0
PAD = 7.0
PORT_R = 5.5
PORT_GAP = 20.0
RADIUS = 7.0
STACK = 4.0  # the cards drawn behind a group node: it holds several layers
GRID = 20.0  # a dragged group node moves in the canvas grid's steps


def _count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.2f}M"
    return f"{n:,}"


def _bands(rects: list[QRectF]) -> list[QRectF]:
    """The rows `rects` form, top first: rects whose heights overlap make one row (their bounds)."""
    bands: list[QRectF] = []
    for rect in sorted(rects, key=lambda r: r.top()):
        if bands and rect.top() <= bands[-1].bottom():
            bands[-1] = bands[-1].united(rect)
        else:
            bands.append(QRectF(rect))
    return bands


def _shapes(shapes: list) -> str:
    return ", ".join("?" if s is None else format_shape(s) for s in shapes) or "none"


class GroupFrame(QGraphicsObject):
    """An expanded group's frame: a rounded outline around its nodes with its name on top. Only
    the name strip takes clicks, so the canvas inside the frame works as everywhere else."""

    def __init__(self, frames: GroupFrames, group_id: str) -> None:
        super().__init__()
        self.frames = frames
        self.group_id = group_id
        self.name = ""
        self.count = 0
        self._rect = QRectF()
        self._bands: list[QRectF] = []
        self._outline = QPainterPath()
        self.setZValue(-1)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("A nested model's layers: click to select them, double-click to collapse them to one node")

    def set_state(self, rects: list[QRectF], name: str, count: int) -> None:
        """`rects`: the member nodes' scene rects. The frame outlines each row of them (a layer alone
        in a row above the others, as a backbone expanded in place has, gets its own outline with
        the group's name, instead of one box over the unrelated layers between the rows)."""
        bands = _bands(rects)
        rect = QRectF()
        for band in bands:
            rect = rect.united(band)
        rect = rect.adjusted(-MARGIN, -MARGIN - HEADER, MARGIN, MARGIN)
        if (rect, bands, name, count) != (self._rect, self._bands, self.name, self.count):
            self.prepareGeometryChange()
            self._rect, self._bands, self.name, self.count = rect, bands, name, count
            outline = QPainterPath()
            for i, band in enumerate(bands):
                part = QPainterPath()
                part.addRoundedRect(band.adjusted(-MARGIN, -MARGIN - (HEADER if i == 0 else 0), MARGIN, MARGIN), 10, 10)
                outline = outline.united(part)
            self._outline = outline.simplified()
            self.update()

    def label(self) -> str:
        return f"▾ {self.name} ({self.count} layer{'s' if self.count != 1 else ''})"

    def header_rect(self) -> QRectF:
        """The name strip, on top of the first row's frame."""
        first = self._bands[0] if self._bands else self._rect
        width = max(first.width() + 2 * MARGIN, QFontMetricsF(_font(9, bold=True)).horizontalAdvance(self.label()) + 20)
        return QRectF(first.left() - MARGIN, first.top() - MARGIN - HEADER, width, HEADER)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect.united(self.header_rect()).adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.header_rect())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        accent = QColor(t.accent)
        fill = QColor(accent)
        fill.setAlpha(18)
        painter.setPen(QPen(accent, 1.2, Qt.PenStyle.DashLine))
        painter.setBrush(fill)
        painter.drawPath(self._outline)
        painter.setFont(_font(9, bold=True))
        painter.setPen(accent)
        painter.drawText(self.header_rect().adjusted(10, 0, -10, 0), Qt.AlignmentFlag.AlignVCenter, self.label())

    def mousePressEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        self.frames.select(self.group_id)
        event.accept()

    def mouseDoubleClickEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        self.frames.set_collapsed(self.group_id, True)
        event.accept()


class GroupNode(QGraphicsObject):
    """A collapsed group drawn as one node: name and parameter count on top, then its layer count,
    the shapes in and out; a port per tensor entering (left) and leaving (right) the group."""

    def __init__(self, frames: GroupFrames, group_id: str) -> None:
        super().__init__()
        self.frames = frames
        self.group_id = group_id
        self.name = ""
        self.layers = 0
        self.inputs: list = []  # shapes (None: unknown) per input port
        self.outputs: list = []  # shapes per output port
        self.wired_outputs: tuple = ()  # which output ports have a wire
        self.params: tuple[int, int] | None = None
        self.selected = False
        self._height = 0.0
        self._drag: tuple[QPointF, QPointF] | None = None  # (press point, position then) while dragged
        self.geometry: tuple = ()  # where its wires ended when they were last routed
        self.setZValue(1.5)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    # -- state ----------------------------------------------------------------
    def set_state(self, pos: QPointF, name: str, layers: int, inputs: list, outputs: list,
                  wired_outputs: tuple, params: tuple[int, int] | None, selected: bool) -> None:
        state = (name, layers, inputs, outputs, wired_outputs, params, selected)
        if state != (self.name, self.layers, self.inputs, self.outputs, self.wired_outputs, self.params,
                     self.selected):
            rows = max(len(inputs), len(outputs), 1)
            height = NODE_HEADER + max(3 * ROW + 2 * PAD, rows * PORT_GAP + PAD)
            if height != self._height:
                self.prepareGeometryChange()
                self._height = height
            (self.name, self.layers, self.inputs, self.outputs, self.wired_outputs, self.params,
             self.selected) = state
            self.setToolTip(self.tooltip())
            self.update()
        if self.pos() != pos:
            self.setPos(pos)

    def param_text(self) -> str:
        if self.params is None:
            return "…"
        total = sum(self.params)
        return f"{_count(total)} param{'s' if total != 1 else ''}" if total else "no weights"

    def input_text(self) -> str:
        return "in " + _shapes(self.inputs)

    def output_text(self) -> str:
        return "→ " + _shapes(self.outputs)

    def tooltip(self) -> str:
        lines = [f"<b>{_escape(self.name)}</b>: a group of {self.layers} layer{'s' if self.layers != 1 else ''} "
                 "(a model used as a layer)", f"input {_escape(_shapes(self.inputs))}",
                 f"output {_escape(_shapes(self.outputs))}"]
        if self.params is not None:
            lines.append(f"{self.params[0] + self.params[1]:,} parameters ({self.params[0]:,} trainable, "
                         f"{self.params[1]:,} non-trainable)")
        lines.append("Double-click (or Expand group in its menu) to show its layers")
        return "<br>".join(lines)

    @property
    def height(self) -> float:
        return self._height

    def body_rect(self) -> QRectF:
        return QRectF(0, 0, NODE_WIDTH, self._height)

    def port_offset(self, is_output: bool, index: int) -> QPointF:
        n = len(self.outputs if is_output else self.inputs)
        top = NODE_HEADER + (self._height - NODE_HEADER - (max(n, 1) - 1) * PORT_GAP) / 2
        return QPointF(NODE_WIDTH if is_output else 0.0, top + min(index, max(n - 1, 0)) * PORT_GAP)

    def port_point(self, is_output: bool, index: int) -> QPointF:
        """Where a wire on that port ends, in scene coordinates."""
        return self.mapToScene(self.port_offset(is_output, index))

    # -- geometry -------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return QRectF(-PORT_R - 6, -6, NODE_WIDTH + 2 * PORT_R + 12 + STACK * 2, self._height + 12 + STACK * 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.body_rect(), RADIUS, RADIUS)
        return path

    # -- painting ---------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = self.body_rect()
        accent = QColor(t.accent)
        head = accent.darker(125)
        border = QPen(t.accent, 2.4) if self.selected else QPen(t.node_border, 1.2)
        for step in (2, 1):  # the cards behind: several layers in one
            painter.setPen(QPen(t.node_border, 1.0))
            painter.setBrush(t.node_body)
            painter.drawRoundedRect(rect.translated(STACK * step, STACK * step), RADIUS, RADIUS)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(t.node_body)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        top = QPainterPath()
        top.addRoundedRect(QRectF(0, 0, NODE_WIDTH, NODE_HEADER + RADIUS), RADIUS, RADIUS)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, NODE_WIDTH, NODE_HEADER))
        painter.setBrush(head)
        painter.drawPath(top.intersected(clip))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(border)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)

        # header: ▸, name, parameter count
        title_font, count_font = _font(9.5, bold=True), _font(8)
        room = NODE_WIDTH - 2 * PAD
        title_w = QFontMetricsF(title_font).horizontalAdvance("▸ " + self.name) + 8
        count = self.param_text()  # in full where the name leaves room, else '2.3M'
        if self.params is not None and title_w + QFontMetricsF(count_font).horizontalAdvance(count) + 8 > room:
            count = short_count(sum(self.params)) if sum(self.params) else ""
        count_w = QFontMetricsF(count_font).horizontalAdvance(count) + 8
        painter.setFont(title_font)
        painter.setPen(t.header_text)
        painter.drawText(QRectF(PAD, 0, room - count_w, NODE_HEADER), Qt.AlignmentFlag.AlignVCenter,
                         _elide("▸ " + self.name, title_font, room - count_w))
        painter.setFont(count_font)
        painter.drawText(QRectF(PAD, 0, room, NODE_HEADER), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                         count)

        # body: what it is, the shapes in and out
        inner = NODE_WIDTH - 2 * PAD - 6
        left = PAD + 6
        y = NODE_HEADER + (self._height - NODE_HEADER - 3 * ROW) / 2
        bold = _font(8.5, bold=True)
        painter.setFont(bold)
        painter.setPen(t.text)
        painter.drawText(QRectF(left, y, inner, ROW), Qt.AlignmentFlag.AlignVCenter,
                         _elide(f"Group · {self.layers} layer{'s' if self.layers != 1 else ''}", bold, inner))
        mono = _font(8.5, mono=True)
        painter.setFont(mono)
        painter.setPen(t.muted)
        painter.drawText(QRectF(left, y + ROW, inner, ROW), Qt.AlignmentFlag.AlignVCenter,
                         _elide(self.input_text(), mono, inner))
        painter.setPen(t.text)
        painter.drawText(QRectF(left, y + 2 * ROW, inner, ROW), Qt.AlignmentFlag.AlignVCenter,
                         _elide(self.output_text(), mono, inner))

        # ports: every input has its wire from outside; an output may be a model output
        for is_output, shapes in ((False, self.inputs), (True, self.outputs)):
            for i in range(len(shapes)):
                wired = not is_output or i in self.wired_outputs
                painter.setPen(QPen(t.port, 2))
                painter.setBrush(t.port if wired else t.node_body)
                painter.drawEllipse(self.port_offset(is_output, i), PORT_R, PORT_R)

    # -- mouse: a click selects the group's layers, a drag moves them all (one undo step) ----
    def mousePressEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        self.frames.select(self.group_id)
        self._drag = (event.scenePos(), self.pos())
        event.accept()

    def mouseMoveEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        drag = self._drag
        if drag is None:
            return
        delta = event.scenePos() - drag[0]
        self.setPos(drag[1] + QPointF(round(delta.x() / GRID) * GRID, round(delta.y() / GRID) * GRID))
        self.frames.wires_moved(self.group_id)

    def mouseReleaseEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        drag, self._drag = self._drag, None
        if drag is not None and self.pos() != drag[1]:
            delta = self.pos() - drag[1]
            self.frames.move_group(self.group_id, delta.x(), delta.y())
        event.accept()

    def mouseDoubleClickEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        self.frames.set_collapsed(self.group_id, False)
        event.accept()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class GroupFrames:
    """Keeps, for each group of the document's graph, a `GroupFrame` (expanded) or a `GroupNode`
    (collapsed) in the scene, hides a collapsed group's layers and inner wires, and attaches the
    wires that cross into it to its node's ports."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        self.document = scene.document
        self.frames: dict[str, GroupFrame] = {}
        self.nodes: dict[str, GroupNode] = {}
        self._hidden: set = set()  # items this class hid (collapsed groups' nodes and wires)
        self._standing: set = set()  # node items whose wires attach to a group node
        self._shown: tuple[set, set] = (set(), set())  # the groups framed, drawn as nodes
        scene.shown_instead = self.nodes  # the graph's bounds count these, not the hidden layers
        scene.contentsChanged.connect(self.sync)
        scene.built.connect(self.sync)
        self.document.graphChanged.connect(self.sync)
        self.document.reportChanged.connect(self.sync)
        self.document.selectionChanged.connect(self.sync)

    # -- actions ------------------------------------------------------------------
    def select(self, group_id: str) -> None:
        graph = self.document.graph
        if group_id in {g.id for g in graph.groups}:
            self.document.set_selection(graph.group_members(group_id))

    def set_collapsed(self, group_id: str, collapsed: bool) -> bool:
        """Collapse or expand a group: one undoable edit (nothing when it is so already)."""
        graph = self.document.graph
        if group_id not in {g.id for g in graph.groups} or graph.group(group_id).collapsed == collapsed:
            return False
        done = self.document.push(SetGroupCollapsed(group_id, collapsed, graph.group(group_id).name))
        self.sync()
        return done

    def toggle(self, group_id: str) -> bool:
        graph = self.document.graph
        return group_id in {g.id for g in graph.groups} and \
            self.set_collapsed(group_id, not graph.group(group_id).collapsed)

    def move_group(self, group_id: str, dx: float, dy: float) -> bool:
        """Move every layer of the group by (dx, dy): one undo step ("Move group NAME")."""
        graph = self.document.graph
        moved = {}
        for member in graph.group_members(group_id):
            x, y = graph.node(member).position[:2]
            moved[member] = (x + dx, y + dy)
        done = bool(moved) and self.document.push(MoveNodes(moved, f"Move group {graph.group(group_id).name or 'group'}"))
        self.sync()
        return done

    def wires_moved(self, group_id: str) -> None:
        """The group's node moved: the wires attached to it follow."""
        for item in self._standing:
            if item.stand_in is not None and item.stand_in.args[0] is self.nodes.get(group_id):
                for wire in item.edges:
                    wire.update_path()

    def group_at(self, scene_pos: QPointF) -> str | None:
        """The collapsed group drawn at `scene_pos`, if any."""
        for item in self.scene.items(scene_pos):
            if isinstance(item, GroupNode) and item.isVisible():
                return item.group_id
        return None

    # -- following the graph ----------------------------------------------------------
    def sync(self) -> None:
        graph = self.document.graph
        groups = [g for g in graph.groups if graph.group_members(g.id)]
        if not groups and not self.frames and not self.nodes:
            return
        report = self.document.report
        selection = set(self.document.selection)
        stand = standing_in(graph)
        hide: set = set()
        standing: set = set()
        repath: set = set()  # node items whose wires must be routed again
        frames_seen, nodes_seen = set(), set()
        for group in groups:
            members = graph.group_members(group.id)
            items = [i for i in (self.scene.node_item(m) for m in members) if i is not None]
            if not items:
                continue
            if not group.collapsed:
                if any(stand.get(m) for m in members):
                    continue  # inside a bigger collapsed group
                frames_seen.add(group.id)
                frame = self.frames.get(group.id)
                if frame is None:
                    frame = self.frames[group.id] = GroupFrame(self, group.id)
                    self.scene.addItem(frame)
                frame.set_state([item.sceneBoundingRect() for item in items], group.name or "group", len(items))
                continue
            hide.update(items)
            if not any(stand.get(m) == group.id for m in members):
                continue  # drawn inside a bigger collapsed group
            nodes_seen.add(group.id)
            ports = group_ports(graph, group.id)
            node = self.nodes.get(group.id)
            if node is None:
                node = self.nodes[group.id] = GroupNode(self, group.id)
                self.scene.addItem(node)
            wired = tuple(i for i, (m, p) in enumerate(ports.outputs)
                          if any(e.source_port == p and stand.get(e.target) != group.id for e in graph.outputs_of(m)))
            node.set_state(QPointF(*group_anchor(graph, group)), group.name or "group", len(members),
                           [ref_shape(report, r) for r in ports.inputs], [ref_shape(report, r) for r in ports.outputs],
                           wired, group_params(graph, report, group.id), bool(selection) and set(members) <= selection)
            geometry = (node.pos(), len(node.inputs), len(node.outputs), ports.attach)
            moved = geometry != node.geometry  # where its wires end changed
            node.geometry = geometry
            for item in items:
                if stand.get(item.node_id) == group.id:
                    if moved or item not in self._standing:
                        item.stand_in = partial(_attach, node, ports.attach, item.node_id)
                        repath.add(item)
                    standing.add(item)
        for group_id in [g for g in self.frames if g not in frames_seen]:
            self.scene.removeItem(self.frames.pop(group_id))
        for group_id in [g for g in self.nodes if g not in nodes_seen]:
            self.scene.removeItem(self.nodes.pop(group_id))
        for item in self._standing - standing:
            item.stand_in = None
            repath.add(item)
        for item in self._standing | standing:
            changed = item in repath  # its wires end at other points now
            for wire in item.edges:
                source, target = stand.get(wire.edge.source), stand.get(wire.edge.target)
                if source is not None and source == target:
                    hide.add(wire)
                if changed:
                    wire.update_path()
        self._standing = standing
        if hide != self._hidden or frames_seen != self._shown[0] or nodes_seen != self._shown[1]:
            self._shown = (frames_seen, nodes_seen)
            self.scene.contents_changed()  # the bounds and the minimap follow (once: unchanged next time)
        for item in self._hidden - hide:
            if item.scene() is self.scene:
                item.setVisible(True)
        syncing, self.scene._syncing = self.scene._syncing, True  # Qt deselects what it hides: not the document
        try:
            for item in hide:
                item.setVisible(False)
        finally:
            self.scene._syncing = syncing
        self._hidden = hide
        # A hidden layer stays selected only with its whole group (a pasted group, a click on its node)
        kept = [n for n in self.document.selection if n not in stand or set(graph.group_members(stand[n])) <= selection]
        if len(kept) != len(selection):
            self.document.set_selection(kept)


def _attach(node: GroupNode, attach: dict, member: str, is_output: bool, port: int) -> QPointF:
    return node.port_point(is_output, attach.get((member, is_output, port), 0))

