"""Icons from resources/icons, tinted for the current theme.

The SVGs draw with `currentColor`; we substitute a colour and render them, so
one file serves light and dark themes and category colours.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from studio.core import paths
from studio.ui import theme


def icons_dir() -> Path:
    """resources/icons of the checkout, or of the installed copy (studio.core.paths)."""
    return paths.resources_dir() / "icons"


def category_slug(category: str | None) -> str:
    if not category:
        return "unknown"
    return category.lower().replace(" ", "-")


@lru_cache(maxsize=256)
def _svg(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return ""


def render(path: str, color: str, size: int, background: str | None = None, dpr: float = 2.0) -> QPixmap:
    """Render an SVG tinted with `color`, optionally on a rounded square."""
    pixmap = QPixmap(int(size * dpr), int(size * dpr))
    pixmap.fill(Qt.GlobalColor.transparent)
    pixmap.setDevicePixelRatio(dpr)
    text = _svg(path)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    inset = 0.0
    if background:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(background))
        painter.drawRoundedRect(QRectF(0, 0, size, size), size * 0.22, size * 0.22)
        inset = size * 0.18
    if text:
        renderer = QSvgRenderer(QByteArray(text.replace("currentColor", color).encode()))
        renderer.render(painter, QRectF(inset, inset, size - 2 * inset, size - 2 * inset))
    painter.end()
    return pixmap


def faded(pixmap: QPixmap, opacity: float) -> QPixmap:
    out = QPixmap(pixmap.size())
    out.setDevicePixelRatio(pixmap.devicePixelRatio())
    out.fill(Qt.GlobalColor.transparent)
    painter = QPainter(out)
    painter.setOpacity(opacity)
    painter.drawPixmap(0, 0, pixmap)
    painter.end()
    return out


@lru_cache(maxsize=256)
def action_icon(name: str, color: str | None = None) -> QIcon:
    color = color or theme.current().text.name()
    path = str(icons_dir() / "actions" / f"{name}.svg")
    icon = QIcon()
    for size in (16, 20, 24, 32):
        normal = render(path, color, size)
        icon.addPixmap(normal)
        icon.addPixmap(faded(normal, 0.3), QIcon.Mode.Disabled)
    return icon


@lru_cache(maxsize=64)
def category_icon(category: str | None) -> QIcon:
    """A white glyph on the category's colour: palette entries, quick-add."""
    color = theme.current().category_color(category).name()
    path = str(icons_dir() / "categories" / f"{category_slug(category)}.svg")
    icon = QIcon()
    for size in (16, 20, 24, 32):
        icon.addPixmap(render(path, "#FFFFFF", size, background=color))
    return icon


@lru_cache(maxsize=64)
def category_glyph(category: str | None, size: int = 14) -> QPixmap:
    """A white glyph alone, drawn on node headers."""
    path = str(icons_dir() / "categories" / f"{category_slug(category)}.svg")
    return render(path, "#FFFFFF", size, dpr=3.0)


def clear_cache() -> None:
    """Forget tinted icons after a theme change."""
    action_icon.cache_clear()
    category_icon.cache_clear()
    category_glyph.cache_clear()
