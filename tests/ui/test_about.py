"""Help > About shows the environment report `studio --version --verbose` prints (issue 16,
point 1), made off the GUI thread, with a Copy button."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio import __version__
from tests.ui.waiting import HANG_MS


def test_help_about_through_the_menu_shows_the_environment_report_and_copies_it(qtbot, window):
    from studio.ui.about_dialog import READING, AboutDialog

    bar = window.menuBar()
    help_menu = window.menus.help
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(help_menu.menuAction()).center())
    qtbot.waitUntil(help_menu.isVisible)
    (about,) = [a for a in help_menu.actions() if a.text().replace("&", "") == "About Network Studio"]
    qtbot.mouseClick(help_menu, Qt.MouseButton.LeftButton, pos=help_menu.actionGeometry(about).center())
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(AboutDialog)))
    (dialog,) = [d for d in window.findChildren(AboutDialog) if d.isVisible()]
    # the report comes from a background thread: TensorFlow's build and devices, as the CLI prints them
    qtbot.waitUntil(dialog.copy_button.isEnabled, timeout=HANG_MS)
    text = dialog.report.toPlainText()
    assert text != READING
    for item in ("Network Studio:", "TensorFlow:", "Keras:", "Built with CUDA:", "Devices:", "Start-time settings:",
                 "Hub module cache:", "Keras weights cache:"):
        assert item in text, text
    assert __version__ in text and "cpu (the CPU" in text
    QApplication.clipboard().clear()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == text
    dialog.close()
