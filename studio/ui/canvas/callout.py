"""`RefusalCallout`: why a wire was refused, at the point where it was dropped.

It stays, at a constant readable size, until the user's next click, key or
edit, and offers the fix the wire rules suggest ("Insert Reshape to (28, 28, 1)")
as a button (see `refusal.fixes`)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from studio.ui import theme

WIDTH = 340.0  # the text wraps at this width
PAD = 10.0
BUTTON_H = 24.0


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
