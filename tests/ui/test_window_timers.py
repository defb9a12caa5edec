"""A window closed and deleted before its deferred start-up work runs: nothing fires on it."""
from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QApplication

from studio.ui.main_window import MainWindow


def test_view_restore_scheduled_on_a_window_deleted_before_it_runs(qtbot, capfd):
    window = MainWindow(optional_panels=False)
    window.show()
    qtbot.waitExposed(window)
    view = window.view
    window.restore_view({"zoom": 1.5, "center": [10.0, 20.0]})  # applied on the next event turn
    window.shape_job.shutdown()
    window.files.close()
    shiboken6.delete(window)  # the window goes first, as when the user closes it at once
    assert not shiboken6.isValid(view)
    for _ in range(3):
        QApplication.processEvents()
    # PySide prints errors raised inside a timer's callback to stderr instead of raising them.
    assert "already deleted" not in capfd.readouterr().err


def test_view_restore_applies_on_a_live_window(window, qtbot):
    window.restore_view({"zoom": 1.5, "center": [10.0, 20.0]})
    qtbot.waitUntil(lambda: abs(window.view.zoom() - 1.5) < 1e-6)
