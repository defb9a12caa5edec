"""`RefusalCallout`: why a wire was refused, at the point where it was dropped.

It stays, at a constant readable size, until the user's next click, key or
edit, and offers the fix the wire rules suggest ("Insert Reshape to (28, 28, 1)")
as a button (see `refusal.fixes`). `place` picks where it goes: near the drop
point, inside the view, clear of the two layers the wire was meant to join
(and of other layers where there is room)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from studio.ui import theme

WIDTH = 340.0  # the text wraps at this width
PAD = 10.0
BUTTON_H = 24.0
OFFSET = 14.0  # from the drop point to the nearest corner of the note, where there is room
MARGIN = 4.0  # kept free inside the view's edges
CLEARANCE = 8.0  # kept free around a layer
STEP = 32.0  # the grid of places tried across the view


def place(anchor: QPointF, size: QSizeF, port: QRectF, ends: list[QRectF], others: list[QRectF]) -> QPointF:
    """The top-left (viewport pixels) for a note of `size` dropped at `anchor`: all of it inside
    `port`; never over the `ends` (the layers at both ends of the refused wire) when the view has
    room anywhere; then over as little of the `others` (other layers) and as near the drop point
    as it can (covering a whole layer weighs like ~300 px further away), preferring below right."""
    w, h = size.width(), size.height()
    ax, ay = anchor.x(), anchor.y()
    left, top = port.left() + MARGIN, port.top() + MARGIN
    right, bottom = max(left, port.right() - MARGIN - w), max(top, port.bottom() - MARGIN - h)

    def box(r: QRectF) -> tuple[float, float, float, float]:
        return (r.left() - CLEARANCE, r.top() - CLEARANCE, r.right() + CLEARANCE, r.bottom() + CLEARANCE)

    end_boxes = [box(r) for r in ends]
    # the layers nearest the drop point are the ones a note near it can cover
    other_boxes = sorted((box(r) for r in others), key=lambda b: abs((b[0] + b[2]) / 2 - ax) + abs((b[1] + b[3]) / 2 - ay))
    other_boxes = other_boxes[:40]
    # the corners around the drop point, flush against the layers' sides, and a grid over the view
    xs = {ax + OFFSET, ax - OFFSET - w}
    ys = {ay + OFFSET, ay - OFFSET - h}
    for b in end_boxes + other_boxes[:12]:
        xs.update((b[2] + 1, b[0] - 1 - w))
        ys.update((b[3] + 1, b[1] - 1 - h))
    xs.update(left + i * STEP for i in range(int((right - left) / STEP) + 2))
    ys.update(top + i * STEP for i in range(int((bottom - top) / STEP) + 2))
    spots = []
    for x in {min(max(x, left), right) for x in xs}:
        dx = max(x - ax, ax - (x + w), 0.0)
        for y in {min(max(y, top), bottom) for y in ys}:
            dy = max(y - ay, ay - (y + h), 0.0)
            # the nearest point of the note to the drop point, a little further when above or left
            lean = (x + w / 2 < ax) * 10 + (y + h / 2 < ay) * 5
            spots.append(((dx * dx + dy * dy) ** 0.5 + lean, x, y))
    spots.sort()
    best, best_cost = (spots[0][1], spots[0][2]), None
    for near, x, y in spots:
        if best_cost is not None and best_cost[0] == 0 and best_cost[1] <= near:
            break  # clear of the ends, and nothing further on can be cheaper
        cost = (_covered(x, y, w, h, end_boxes), _covered(x, y, w, h, other_boxes) / 50 + near)
        if best_cost is None or cost < best_cost:
            best, best_cost = (x, y), cost
    return QPointF(*best)


def _covered(x: float, y: float, w: float, h: float, boxes: list[tuple[float, float, float, float]]) -> float:
    """How much of the `boxes` the rect (x, y, w, h) covers, in square pixels."""
    total = 0.0
    for left, top, right, bottom in boxes:
        cw = min(x + w, right) - max(x, left)
        if cw > 0:
            ch = min(y + h, bottom) - max(y, top)
            if ch > 0:
                total += cw * ch
    return total


class RefusalCallout(QGraphicsItem):
    def __init__(self, reason: str, actions: list[str]) -> None:
        super().__init__()
        self.reason = reason
        self.actions = actions
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(30)
        self._title = QFont()
        self._title.setPointSizeF(9.5)
        self._title.setBold(True)
        self._font = QFont()
        self._font.setPointSizeF(9.5)
        fm = QFontMetricsF(self._font)
        self._text = fm.boundingRect(QRectF(0, 0, WIDTH, 2000), Qt.TextFlag.TextWordWrap, reason)
        self._title_h = QFontMetricsF(self._title).height()
        y = PAD + self._title_h + 4 + self._text.height() + 8
        self._buttons: list[QRectF] = []
        for label in actions:
            w = fm.horizontalAdvance(label) + 24
            self._buttons.append(QRectF(PAD, y, w, BUTTON_H))
            y += BUTTON_H + 6
        self._rect = QRectF(0, 0, WIDTH + 2 * PAD, y + PAD - (6 if actions else 8))

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def button_rects(self) -> list[QRectF]:
        """The buttons' rects in the item's (device-sized) coordinates."""
        return list(self._buttons)

    def action_at(self, local: QPointF) -> int | None:
        for i, rect in enumerate(self._buttons):
            if rect.contains(local):
                return i
        return None

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(t.error, 1.5))
        painter.setBrush(QColor(t.node_body))
        painter.drawRoundedRect(self._rect, 6, 6)
        painter.setFont(self._title)
        painter.setPen(t.error)
        painter.drawText(QRectF(PAD, PAD, WIDTH, self._title_h), Qt.AlignmentFlag.AlignLeft, "Cannot connect")
        painter.setFont(self._font)
        painter.setPen(t.text)
        painter.drawText(QRectF(PAD, PAD + self._title_h + 4, WIDTH, self._text.height()),
                         Qt.TextFlag.TextWordWrap, self.reason)
        for rect, label in zip(self._buttons, self.actions):
            painter.setPen(QPen(t.accent, 1.2))
            painter.setBrush(QColor(t.node_body).darker(104))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setPen(t.text)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
