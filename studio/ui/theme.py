"""Colours and fonts of the app, light and dark, following the system.

Colours per layer category are view state: they live here, never in the
model or the project file (STYLE.md, things to avoid).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from studio.core import paths

CATEGORY_COLORS = {
    "Input": "#3FA66B",
    "Core": "#3D7FD9",
    "Convolution": "#E07B39",
    "Pooling": "#D1A030",
    "Recurrent": "#9657CF",
    "Attention": "#D14D86",
    "Merge": "#23A3A3",
    "Normalization": "#5C86C4",
    "Regularization": "#9A7A5C",
    "Reshaping": "#6E9A3A",
    "Activation": "#C268B8",
    "Preprocessing": "#3A9BC9",
    "Transfer learning": "#B38A1F",
}
OPAQUE_COLOR = "#7A7A7A"


@dataclass(frozen=True)
class Theme:
    dark: bool
    canvas: QColor
    grid_minor: QColor
    grid_major: QColor
    node_body: QColor
    node_border: QColor
    text: QColor
    muted: QColor
    header_text: QColor
    accent: QColor
    wire: QColor
    wire_hover: QColor
    port: QColor
    ok: QColor
    error: QColor
    warning: QColor
    minimap_bg: QColor
    categories: dict = field(default_factory=dict)

    def category_color(self, category: str | None) -> QColor:
        return self.categories.get(category or "", QColor(OPAQUE_COLOR))


def _theme(dark: bool) -> Theme:
    c = QColor
    categories = {k: c(v) for k, v in CATEGORY_COLORS.items()}
    if dark:
        return Theme(
            dark=True,
            canvas=c("#1E1F22"),
            grid_minor=c("#26282C"),
            grid_major=c("#2F3236"),
            node_body=c("#2B2D31"),
            node_border=c("#45484E"),
            text=c("#E6E7E9"),
            muted=c("#9A9EA6"),
            header_text=c("#FFFFFF"),
            accent=c("#F0B43C"),
            wire=c("#8A8F98"),
            wire_hover=c("#C9CDD4"),
            port=c("#B8BCC4"),
            ok=c("#4CC27A"),
            error=c("#F0524F"),
            warning=c("#E8A93A"),
            minimap_bg=c(20, 21, 24, 215),
            categories=categories,
        )
    return Theme(
        dark=False,
        canvas=c("#F4F5F7"),
        grid_minor=c("#E8EAEE"),
        grid_major=c("#DADDE3"),
        node_body=c("#FFFFFF"),
        node_border=c("#C5C9D1"),
        text=c("#1F2328"),
        muted=c("#656B75"),
        header_text=c("#FFFFFF"),
        accent=c("#E8950C"),
        wire=c("#7D848F"),
        wire_hover=c("#3D434C"),
        port=c("#6C737E"),
        ok=c("#1F9D55"),
        error=c("#D93A36"),
        warning=c("#C98A12"),
        minimap_bg=c(255, 255, 255, 225),
        categories=categories,
    )


_current: Theme | None = None


def system_is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hasattr(hints, "colorScheme") else Qt.ColorScheme.Unknown
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def current() -> Theme:
    global _current
    if _current is None:
        _current = _theme(system_is_dark())
    return _current


def _palette(theme: Theme) -> QPalette:
    p = QPalette()
    R = QPalette.ColorRole
    if theme.dark:
        window, base, alt, text, button = "#2A2C30", "#1F2124", "#26282C", "#E6E7E9", "#33363B"
        highlight, disabled = "#3B6FB6", "#6D7178"
    else:
        window, base, alt, text, button = "#EEF0F3", "#FFFFFF", "#F6F7F9", "#1F2328", "#F7F8FA"
        highlight, disabled = "#3D7FD9", "#9AA0A8"
    p.setColor(R.Window, QColor(window))
    p.setColor(R.WindowText, QColor(text))
    p.setColor(R.Base, QColor(base))
    p.setColor(R.AlternateBase, QColor(alt))
    p.setColor(R.Text, QColor(text))
    p.setColor(R.Button, QColor(button))
    p.setColor(R.ButtonText, QColor(text))
    p.setColor(R.ToolTipBase, QColor(base))
    p.setColor(R.ToolTipText, QColor(text))
    p.setColor(R.PlaceholderText, QColor(disabled))
    p.setColor(R.Highlight, QColor(highlight))
    p.setColor(R.HighlightedText, QColor("#FFFFFF"))
    p.setColor(R.Link, QColor(highlight))
    for role in (R.Text, R.WindowText, R.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    return p


MODES = ("system", "light", "dark")  # View > Theme


class ThemeManager(QObject):
    """Applies the light or dark theme to the app; in "system" mode it follows the system."""

    changed = Signal(object)

    def __init__(self, app: QApplication, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.mode = "system"
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._system_changed)

    def _system_changed(self, _scheme: object = None) -> None:
        if self.mode == "system":
            self.apply()

    def set_mode(self, mode: str) -> Theme:
        """"system", "light" or "dark" (anything else counts as "system")."""
        self.mode = mode if mode in MODES else "system"
        return self.apply(None if self.mode == "system" else self.mode == "dark")

    def apply(self, dark: bool | None = None) -> Theme:
        global _current
        if dark is None:
            dark = system_is_dark()
        _current = _theme(dark)
        self.app.setStyle("Fusion")
        self.app.setPalette(_palette(_current))
        self.app.setStyleSheet(stylesheet(_current))
        self.changed.emit(_current)
        return _current


def stylesheet(theme: Theme) -> str:
    name = "dark.qss" if theme.dark else "light.qss"
    styles = paths.resources_dir() / "styles"
    base = styles / "base.qss"
    extra = styles / name
    parts = [p.read_text(encoding="utf-8") for p in (base, extra) if p.exists()]
    return "\n".join(parts)
