"""`CanvasView`: zoom around the cursor, pan with the middle button or
space-drag, a grid, drops from the palette, fit-to-view, the minimap."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from studio.ui import theme
from studio.ui.canvas.node_item import GRID
from studio.ui.canvas.scene import CanvasScene

LAYER_MIME = "application/x-network-studio-layer"
MIN_ZOOM, MAX_ZOOM = 0.08, 3.0
# Below this zoom node text is too small to read: a project too big to fit
# opens at this zoom showing where the network starts (the minimap shows the rest).
READABLE_ZOOM = 0.55
FRAME_MARGIN = 60.0
BUILD_PAINT_MS = 300  # while a big graph is being added: how often the canvas shows progress


class CanvasView(QGraphicsView):
    """The visible part of the canvas."""

    layerDropped = Signal(str, QPointF)  # spec id, scene position
    contextMenuRequested = Signal(QPointF, QPoint)  # scene position, global position
    quickAddRequested = Signal(QPointF)  # scene position
    zoomChanged = Signal(float)

    def __init__(self, scene: CanvasScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("canvas")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        # Repaint the bounding rect of what changed (one rect, not one per item).
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(
            QGraphicsView.OptimizationFlag.DontSavePainterState
            | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing
        )
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPointF | None = None
        self._space = False
        # Set by frame_graph: keep the graph framed while the window settles its size,
        # until the user zooms, pans or clicks.
        self._auto_frame = False
        scene.quickAddRequested.connect(self.quickAddRequested)
        # While a big graph is added in chunks the canvas repaints on a timer, not after every chunk.
        self._build_paint = QTimer(self)
        self._build_paint.setInterval(BUILD_PAINT_MS)
        self._build_paint.timeout.connect(self._show_progress)
        scene.buildStarted.connect(self._building)
        scene.built.connect(self._built)
        # The empty-canvas hint is painted over the whole view: when the first node comes (or the
        # last goes) repaint all of it, not only the node's rect, so no piece of the hint stays behind.
        self._hint_drawn = False
        scene.contentsChanged.connect(self._sync_hint)
        scene.document.projectReplaced.connect(self._sync_hint)
        self.minimap = None
        from studio.ui.canvas.minimap import Minimap

        self.minimap = Minimap(self)
        self.zoomChanged.connect(self._zoomed)

    def _building(self) -> None:
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.NoViewportUpdate)
        self._build_paint.start(BUILD_PAINT_MS)

    def _show_progress(self) -> None:
        start = time.perf_counter()
        self.viewport().repaint()
        # A view crossed by thousands of wires paints slowly: then show progress less often,
        # so that adding the items, not painting them, takes most of the time.
        spent_ms = (time.perf_counter() - start) * 1000
        self._build_paint.setInterval(max(BUILD_PAINT_MS, round(3 * spent_ms)))

    def _built(self) -> None:
        if self._build_paint.isActive():
            self._build_paint.stop()
            self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
            self.viewport().update()

    def _sync_hint(self, *_args) -> None:
        empty = not self.canvas.node_items()
        if self._hint_drawn != empty:
            self._hint_drawn = False  # drawn again by the full repaint when the canvas is empty
            self.viewport().update()

    def _zoomed(self, _zoom: float) -> None:
        if self.minimap is not None and self.minimap.mode == "auto":
            self.minimap.sync_visibility()

    @property
    def canvas(self) -> CanvasScene:
        return self.scene()  # type: ignore[return-value]

    # -- zoom ----------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Scale by `factor` keeping the scene point under `anchor` (viewport
        coordinates; default: the centre) where it is."""
        current = self.zoom()
        target = min(MAX_ZOOM, max(MIN_ZOOM, current * factor))
        if math.isclose(target, current):
            return
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        before = self.mapToScene(anchor.toPoint())
        self.scale(target / current, target / current)
        after = self.mapFromScene(before)
        self.scroll_pixels(QPointF(after) - anchor)
        self.zoomChanged.emit(self.zoom())

    def scroll_pixels(self, delta: QPointF) -> None:
        """Move the visible area by `delta` viewport pixels."""
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(delta.x()))
        v.setValue(v.value() + round(delta.y()))

    def zoom_in(self) -> None:
        self.stop_framing()
        self.set_zoom(1.25, QPointF(self.viewport().rect().center()))

    def zoom_out(self) -> None:
        self.stop_framing()
        self.set_zoom(0.8, QPointF(self.viewport().rect().center()))

    def reset_zoom(self) -> None:
        self.stop_framing()
        self.set_zoom(1.0 / self.zoom())

    def frame_graph(self) -> None:
        """How a project opens: the whole graph at up to 100%, or, when it does
        not fit at a readable zoom, its beginning (the Inputs, at the left) at
        that zoom. Re-applied on resizes until the user moves the view."""
        self._auto_frame = True
        self._frame()

    def _frame(self) -> None:
        self.fit_to_view(keep_framing=True)

    def stop_framing(self) -> None:
        """The user took the view: window resizes no longer re-frame the graph."""
        self._auto_frame = False

    def fits_readably(self, rect: QRectF | None = None) -> bool:
        """Whether all of `rect` (default: the graph) fits in the view at a readable zoom."""
        rect = self.canvas.nodes_bounding_rect() if rect is None else rect
        port = self.viewport().rect()
        if rect.isNull():
            return True
        rect = rect.adjusted(-FRAME_MARGIN, -FRAME_MARGIN, FRAME_MARGIN, FRAME_MARGIN)
        return min(port.width() / rect.width(), port.height() / rect.height()) >= READABLE_ZOOM

    def fit_to_view(self, keep_framing: bool = False) -> None:
        """Show the whole graph at up to 100%; a graph too big for that at a readable zoom
        shows its beginning (the Inputs, at the left) at a readable zoom, with no layer cut
        off at the view's edges (the minimap shows the rest)."""
        self._auto_frame = self._auto_frame and keep_framing
        rect = self.canvas.nodes_bounding_rect()
        port = self.viewport().rect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoomChanged.emit(1.0)
            return
        rect = rect.adjusted(-FRAME_MARGIN, -FRAME_MARGIN, FRAME_MARGIN, FRAME_MARGIN)
        if port.width() < 50 or port.height() < 50:
            zoom = 1.0  # not laid out yet: framed again on the next resize
        else:
            zoom = min(1.0, port.width() / rect.width(), port.height() / rect.height())
        if zoom >= READABLE_ZOOM or port.width() < 50 or port.height() < 50:
            self.resetTransform()
            self.scale(zoom, zoom)
            self.centerOn(rect.center())
            self.zoomChanged.emit(self.zoom())
            return
        zoom = self._uncut_zoom(rect, port.width(), port.height())
        self.resetTransform()
        self.scale(zoom, zoom)
        seen_w, seen_h = port.width() / zoom, port.height() / zoom
        cx = rect.left() + seen_w / 2
        cy = rect.center().y() if rect.height() <= seen_h else rect.top() + seen_h / 2
        self.centerOn(QPointF(cx, cy))
        self.zoomChanged.emit(self.zoom())

    def _uncut_zoom(self, rect: QRectF, width: int, height: int) -> float:
        """A readable zoom (READABLE_ZOOM, or a little more) at which a view whose top-left is
        `rect`'s shows no layer cut in two by its right or bottom edge."""
        nodes = [i.sceneBoundingRect() for i in self.canvas.node_items()]
        zoom = READABLE_ZOOM
        for _ in range(20):
            right = rect.left() + width / zoom
            bottom = rect.top() + height / zoom if rect.height() > height / zoom else math.inf
            cut = [n for n in nodes if n.left() < right < n.right() and n.top() < bottom]
            cut += [n for n in nodes if n.top() < bottom < n.bottom() and n.left() < right]
            if not cut:
                break
            # zoom in until the cut layers are out of sight (never below READABLE_ZOOM)
            zx = max((width / (n.left() - rect.left() - GRID) for n in cut if n.left() < right < n.right()
                      and n.left() - rect.left() > 2 * GRID), default=zoom)
            zy = max((height / (n.top() - rect.top() - GRID) for n in cut if n.top() < bottom < n.bottom()
                      and n.top() - rect.top() > 2 * GRID), default=zoom)
            new = min(MAX_ZOOM, max(zoom, zx, zy))
            if math.isclose(new, zoom):
                break
            zoom = new
        return zoom

    def reveal(self, rect: QRectF, xmargin: int = 40, ymargin: int = 40) -> None:
        """Scroll the scene `rect` into sight, and out from under the minimap in the view's corner
        (a new layer placed there was half hidden by it)."""
        self.ensureVisible(rect, xmargin, ymargin)
        self.minimap.sync_visibility()
        if not self.minimap.isVisible():
            return
        shown = self.mapFromScene(rect).boundingRect()
        covered = self.minimap.geometry().adjusted(-8, -8, 0, 0)
        if not covered.intersects(shown):
            return
        up, left = shown.bottom() - covered.top(), shown.right() - covered.left()
        moves = [QPointF(0, up)] if shown.top() - up >= 0 else []
        if shown.left() - left >= 0:
            moves.append(QPointF(left, 0))
        if moves:
            self.scroll_pixels(min(moves, key=QPointF.manhattanLength))

    def center_on_node(self, node_id: str) -> None:
        self.stop_framing()
        item = self.canvas.node_item(node_id)
        if item is not None:
            self.centerOn(item.sceneBoundingRect().center())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        delta = event.angleDelta().y() or event.angleDelta().x()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and not (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.stop_framing()
            self.scroll_pixels(QPointF(-delta * 0.5, 0))
            return
        if delta:
            self.stop_framing()
            self.set_zoom(math.pow(1.0015, delta), event.position())
        event.accept()

    # -- pan ---------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self.stop_framing()
        callout = self.canvas.callout
        if callout is not None:  # the next click closes why a wire was refused, or applies its fix
            to_item, ok = callout.deviceTransform(self.viewportTransform()).inverted()
            index = callout.action_at(to_item.map(event.position())) if ok else None
            if index is not None and event.button() == Qt.MouseButton.LeftButton:
                self.canvas.apply_fix(index)
                event.accept()
                return
            self.canvas.dismiss_refusal()
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space
        ):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan_pixels(delta)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def pan_pixels(self, delta: QPointF) -> None:
        """Drag the canvas along with the cursor by `delta` viewport pixels."""
        self.stop_framing()
        self.scroll_pixels(-delta)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        self.canvas.dismiss_refusal()
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Tab and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            pos = self.mapFromGlobal(self.cursor().pos())
            if not self.viewport().rect().contains(pos):
                pos = self.viewport().rect().center()
            self.quickAddRequested.emit(self.mapToScene(pos))
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802 - Qt API; Tab opens quick-add
        return False

    def contextMenuEvent(self, event) -> None:  # noqa: N802 - Qt API
        scene_pos = self.mapToScene(event.pos())
        item = self.canvas.itemAt(scene_pos, self.transform())
        from studio.ui.canvas.node_item import NodeItem, PortItem

        while item is not None and not isinstance(item, NodeItem):
            item = item.parentItem() if isinstance(item, PortItem) else None
        if isinstance(item, NodeItem) and not item.isSelected():
            self.canvas.select_nodes([item.node_id])
        elif item is None and self.canvas.itemAt(scene_pos, self.transform()) is None:
            self.canvas.select_nodes([])
        self.contextMenuRequested.emit(scene_pos, event.globalPos())
        event.accept()

    # -- drops from the palette -----------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasFormat(LAYER_MIME):
            pos = self.mapToScene(event.position().toPoint())
            edge = self.canvas.edge_at(pos)
            for item in self.canvas.edge_items():
                item.set_highlight(item is edge)
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        for item in self.canvas.edge_items():
            item.set_highlight(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        data = event.mimeData()
        if data.hasFormat(LAYER_MIME):
            for item in self.canvas.edge_items():
                item.set_highlight(False)
            spec_id = bytes(data.data(LAYER_MIME).data()).decode()
            self.layerDropped.emit(spec_id, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
            self.setFocus()
            return
        super().dropEvent(event)

    # -- background grid -------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt API
        t = theme.current()
        painter.fillRect(rect, t.canvas)
        zoom = self.zoom()
        step = GRID
        while step * zoom < 9:
            step *= 5
        major = step * 5
        left = math.floor(rect.left() / step) * step
        top = math.floor(rect.top() / step) * step
        minor_lines: list[QLineF] = []
        major_lines: list[QLineF] = []
        x = left
        while x < rect.right():
            (major_lines if abs(math.remainder(x, major)) < 1e-6 else minor_lines).append(
                QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            (major_lines if abs(math.remainder(y, major)) < 1e-6 else minor_lines).append(
                QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        pen = QPen(t.grid_minor, 0)
        painter.setPen(pen)
        painter.drawLines(minor_lines)
        pen = QPen(t.grid_major, 0)
        painter.setPen(pen)
        painter.drawLines(major_lines)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt API
        if self.canvas.node_items():
            return
        self._hint_drawn = True
        # An empty canvas says how to begin, centred in the view at any zoom.
        t = theme.current()
        painter.save()
        painter.resetTransform()
        area = QRectF(self.viewport().rect())
        title = QFont()
        title.setPointSizeF(15)
        title.setBold(True)
        body = QFont()
        body.setPointSizeF(10.5)
        painter.setPen(t.muted)
        painter.setFont(title)
        painter.drawText(area.adjusted(0, -60, 0, -60), Qt.AlignmentFlag.AlignCenter, "Start building your network")
        painter.setFont(body)
        painter.drawText(area.adjusted(0, 10, 0, 10), Qt.AlignmentFlag.AlignCenter,
                         "Drag a layer here from the palette, or press Tab to search for one.\n"
                         "Begin with an Input; File ▸ New… starts from a template.")
        painter.restore()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self._auto_frame:
            self._frame()
        if self.minimap is not None:
            self.minimap.place()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 - Qt API
        super().scrollContentsBy(dx, dy)
        if self.minimap is not None:
            if self.minimap.mode == "auto":
                self.minimap.sync_visibility()
            self.minimap.update()
