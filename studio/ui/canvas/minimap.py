"""An overview of the whole graph in the corner of the canvas; click or drag
in it to move the view. Shown automatically for larger graphs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from studio.ui import theme

if TYPE_CHECKING:
    from studio.ui.canvas.view import CanvasView

AUTO_SHOW_NODES = 12
SIZE = (210, 140)
MARGIN = 12


class Minimap(QWidget):
    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self.view = view
        self.setObjectName("minimap")
        self.mode = "auto"  # "auto" | "on" | "off"
        self.resize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        self._world = QRectF()
        self._scale = 1.0
        self._offset = QPointF()
        self._base: QPixmap | None = None
        self._base_dirty = True
        self._nodes_cache: QRectF | None = None
        # Not QGraphicsScene.changed: connecting to it makes Qt report every
        # repainted rect of every item, which costs seconds on big graphs.
        view.canvas.contentsChanged.connect(self._on_scene_changed)
        self.hide()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.sync_visibility()

    def sync_visibility(self) -> None:
        """Auto mode: shown for larger graphs that do not fit in the view."""
        if self.view.scene() is None:  # shutting down
            return
        show = self.mode == "on"
        count = len(self.view.canvas.node_items())
        if self.mode == "auto" and count >= 2:
            rect = self._nodes_rect()
            # a big graph, or one that does not fit at a readable zoom (Fit to view shows its start)
            if count >= AUTO_SHOW_NODES or not self.view.fits_readably(rect):
                show = not self.view.canvas.visible_rect().contains(rect)
        self.setVisible(show)
        if show:
            self.place()
            self.raise_()

    def place(self) -> None:
        vp = self.view.viewport().rect()
        self.move(vp.right() - self.width() - MARGIN, vp.bottom() - self.height() - MARGIN)

    def invalidate(self) -> None:
        """Redraw the overview from scratch (after a theme change)."""
        self._base_dirty = True
        self._nodes_cache = None
        self.update()

    def _nodes_rect(self) -> QRectF:
        if self._nodes_cache is None:
            self._nodes_cache = self.view.canvas.nodes_bounding_rect()
        return self._nodes_cache

    def _on_scene_changed(self) -> None:
        self._base_dirty = True
        self._nodes_cache = None
        if self.mode == "auto":
            self.sync_visibility()
        if self.isVisible():
            self.update()

    def _frame(self) -> None:
        world = self._nodes_rect()
        if world.isNull():
            world = self.view.canvas.visible_rect()
        world = world.adjusted(-40, -40, 40, 40)
        inner = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        scale = min(inner.width() / max(world.width(), 1), inner.height() / max(world.height(), 1))
        self._world, self._scale = world, scale
        self._offset = QPointF(
            inner.left() + (inner.width() - world.width() * scale) / 2 - world.left() * scale,
            inner.top() + (inner.height() - world.height() * scale) / 2 - world.top() * scale,
        )

    def to_map(self, p: QPointF) -> QPointF:
        return QPointF(p.x() * self._scale, p.y() * self._scale) + self._offset

    def to_scene(self, p: QPointF) -> QPointF:
        q = p - self._offset
        return QPointF(q.x() / self._scale, q.y() / self._scale)

    def _render_base(self) -> QPixmap:
        """Background and nodes, redrawn only when the scene changed."""
        t = theme.current()
        self._frame()
        dpr = self.devicePixelRatioF()
        pixmap = QPixmap(int(self.width() * dpr), int(self.height() * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(t.node_border, 1))
        painter.setBrush(t.minimap_bg)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(Qt.PenStyle.NoPen)
        # One list of boxes per colour, and one box per map pixel for nodes smaller than
        # that: thousands of layers draw in a few calls.
        scale, ox, oy = self._scale, self._offset.x(), self._offset.y()
        boxes: dict[tuple, list[QRectF]] = {}
        seen: set[tuple] = set()
        shown = [(i, None) for i in self.view.canvas.node_items() if i.isVisible()]
        shown += [(i, ("group",)) for i in self.view.canvas.shown_instead.values()]  # collapsed groups
        for item, key in shown:
            r = item.sceneBoundingRect()
            if key is None:
                view = item.view
                key = ("selected",) if item.isSelected() else ("error",) if view.severity == "error" else \
                    (view.category,)
            x0, y0 = r.left() * scale + ox, r.top() * scale + oy
            w, h = r.width() * scale, r.height() * scale
            if w < 2 or h < 2:  # a long graph: keep every node visible
                cx, cy = round(x0 + w / 2), round(y0 + h / 2)
                if (cx, cy, key) in seen:
                    continue
                seen.add((cx, cy, key))
                box = QRectF(x0 + w / 2 - 1, y0 + h / 2 - 1, 2, 2)
            else:
                box = QRectF(x0, y0, w, h)
            boxes.setdefault(key, []).append(box)
        marks = (("error",), ("selected",))
        for key, rects in sorted(boxes.items(), key=lambda kv: kv[0] in marks):  # marks on top
            color = t.accent if key in (("selected",), ("group",)) else t.error if key == ("error",) else \
                t.category_color(key[0])
            painter.setBrush(color)
            painter.drawRects(rects)
        painter.end()
        return pixmap

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        t = theme.current()
        if self._base is None or self._base_dirty:
            self._base = self._render_base()
            self._base_dirty = False
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._base)
        visible = self.view.canvas.visible_rect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(self.to_map(visible.topLeft()), self.to_map(visible.bottomRight()))
        fill = QColor(t.accent)
        fill.setAlpha(30)
        painter.setBrush(fill)
        painter.setPen(QPen(t.accent, 1.5))
        painter.drawRect(frame.intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1)))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._jump(event.position())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._jump(event.position())
        event.accept()

    def _jump(self, pos: QPointF) -> None:
        self.view.centerOn(self.to_scene(pos))
        self.update()
