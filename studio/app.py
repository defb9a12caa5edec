"""The GUI's composition root: QApplication, theme, catalog, main window.

`run(project)` is what `studio` and `studio open PROJECT` call. TensorFlow is
never imported here: the window shows at once and TF is warmed up on a
background thread afterwards (DESIGN.md section 6).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from studio.core.errors import StudioError


def display_available() -> bool:
    """False on a machine without a display where Qt would abort."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(project: str | os.PathLike | None = None, screenshot: str | None = None,
        preload_tensorflow: bool | None = None) -> int:
    """Open the main window on `project` (or the bundled example) and run."""
    if not display_available():
        raise StudioError(
            "no display found (DISPLAY and WAYLAND_DISPLAY are unset); run the GUI on a desktop, "
            "or headless with `xvfb-run studio` (or QT_QPA_PLATFORM=offscreen)"
        )
    if project is not None and not Path(project).exists():
        raise StudioError(f"{project}: no such project file; create one with `studio new {project}`")

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from studio.ui.theme import ThemeManager

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Network Studio")
    app.setOrganizationName("Network Studio")
    app.setApplicationDisplayName("Network Studio")
    from studio.ui import settings

    themes = ThemeManager(app)
    themes.set_mode(str(settings.settings().value("view/theme", "system")))

    from studio.ui.main_window import MainWindow

    window = MainWindow()
    window.use_themes(themes)
    window.show()
    window.start(str(project) if project is not None else None)

    screenshot = screenshot or os.environ.get("STUDIO_SCREENSHOT")
    if screenshot:
        # Screenshot mode (docs, smoke test): grab the window once it has
        # painted, say what is shown, and quit.
        def grab() -> None:
            window.grab().save(str(screenshot))
            print(f"studio: shown {window.windowTitle().replace('[*]', '')!r} with "
                  f"{len(window.document.graph.nodes)} layers; tensorflow loaded: {'tensorflow' in sys.modules}",
                  flush=True)
            window.document.undo_stack.setClean()
            window.close()

        QTimer.singleShot(int(os.environ.get("STUDIO_SCREENSHOT_DELAY_MS", "300")), grab)
    if preload_tensorflow is None:
        preload_tensorflow = os.environ.get("STUDIO_PRELOAD_TF", "1") != "0" and not screenshot
    if preload_tensorflow:
        from studio.ui.preload import preload_tensorflow_later

        preload_tensorflow_later(app, delay_ms=1500)
    return app.exec()
