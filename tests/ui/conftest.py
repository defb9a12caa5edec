"""Fixtures for GUI tests: a private config folder, a main window, dialog stubs
and helpers that drive the canvas with real mouse events."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from studio.ui import dialogs


@dataclass
class DialogLog:
    """What the stubbed dialogs were asked, and what they answer."""

    calls: list = field(default_factory=list)
    save_changes: str = "discard"
    restore: str = "restore"
    reload: bool = True
    open_file: object = None
    save_file: object = None
    template: str | None = ""

    def named(self, name: str) -> list:
        return [c for c in self.calls if c[0] == name]


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    folder = tmp_path / "config"
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def dialog_log(monkeypatch) -> DialogLog:
    log = DialogLog()

    def record(name, answer):
        def stub(*args, **kwargs):
            log.calls.append((name, args[1:], kwargs))
            return answer() if callable(answer) else answer
        return stub

    monkeypatch.setattr(dialogs, "ask_save_changes", record("ask_save_changes", lambda: log.save_changes))
    monkeypatch.setattr(dialogs, "show_problems", record("show_problems", None))
    monkeypatch.setattr(dialogs, "show_error", record("show_error", None))
    monkeypatch.setattr(dialogs, "ask_restore", record("ask_restore", lambda: log.restore))
    monkeypatch.setattr(dialogs, "ask_reload", record("ask_reload", lambda: log.reload))
    monkeypatch.setattr(dialogs, "choose_open_file", record("choose_open_file", lambda: log.open_file))
    monkeypatch.setattr(dialogs, "choose_save_file", record("choose_save_file", lambda: log.save_file))
    monkeypatch.setattr(dialogs, "choose_template", record("choose_template", lambda: log.template))
    return log


@pytest.fixture(autouse=True)
def no_blocking_stop_question(monkeypatch):
    """A window closed while a run trains (a test that failed mid-run, qtbot's teardown) asks
    'Stop training?' in a modal box nobody answers offscreen: the run is stopped instead.
    Tests that check the question patch it again themselves."""
    monkeypatch.setattr(dialogs, "ask_stop_training", lambda parent, before="closing": True)


@pytest.fixture
def make_window(qtbot, dialog_log):
    from studio.ui.main_window import MainWindow

    windows = []

    def make(document=None, *, optional_panels: bool = False, size: tuple[int, int] = (1280, 800), **kwargs):
        """A shown main window; `optional_panels` docks the Data and Training panels too."""
        window = MainWindow(document, optional_panels=optional_panels, **kwargs)
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        for panel in window.panels.values():
            panel.shutdown()
        window.shape_job.shutdown()
        window.files.close()


@pytest.fixture
def window(make_window):
    return make_window()


# -- driving the canvas -------------------------------------------------------------
def vp(view, scene_pos: QPointF) -> QPoint:
    """Viewport pixel of a scene point."""
    return view.mapFromScene(scene_pos)


def drag(view, start: QPoint, end: QPoint, button=Qt.MouseButton.LeftButton,
         modifier=Qt.KeyboardModifier.NoModifier, steps: int = 6) -> None:
    """Press at `start`, move in steps, release at `end` (viewport pixels)."""
    viewport = view.viewport()
    QTest.mouseMove(viewport, start)
    QTest.mousePress(viewport, button, modifier, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(viewport, QPoint(round(p.x()), round(p.y())))
    QTest.mouseRelease(viewport, button, modifier, end)


def click(view, pos: QPoint, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, pos)


def port_pos(window, node_id: str, is_output: bool, index: int = 0) -> QPoint:
    item = window.scene.node_item(node_id)
    port = item.port(is_output, index)
    return vp(window.view, port.scenePos())


def node_pos(window, node_id: str) -> QPoint:
    item = window.scene.node_item(node_id)
    return vp(window.view, item.mapToScene(item.body_rect().center()))
