"""Autosave to a recovery file every minute, and recovery after a crash.

Each open document writes `<config>/recovery/<session>.studio.json` plus a
small `<session>.meta.json` (pid, original path) while it has unsaved
changes, and `<session>.weights.npz` while its weights differ from those
saved beside the project (imported, reset, taken from a run). A clean close or a save deletes them. At start-up, recovery files
whose process is gone (or whose session ended without cleaning up) are
offered for restoring.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from studio.core.errors import ProjectError
from studio.project.io import atomic_write_text, dumps_project, load_project
from studio.project.model import Project
from studio.project.weights import read_weights, weights_file_for, write_weights
from studio.ui.document import ProjectDocument
from studio.ui.settings import config_dir

INTERVAL_MS = 60_000
LIVE_SESSIONS: set[str] = set()  # sessions of this process that are still open


def recovery_dir() -> Path:
    folder = config_dir() / "recovery"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Recovery:
    """An autosave left behind by a session that did not close cleanly."""

    project_file: Path
    meta_file: Path
    name: str
    original: Path | None
    saved_at: float

    @property
    def weights_file(self) -> Path:
        return _weights_file(self.project_file)

    def load(self) -> Project:
        # The weights are the autosaved ones where the session changed them, else those
        # last saved beside the original project file.
        project = load_project(self.project_file, weights_beside=self.original)
        if self.weights_file.is_file():
            folder = self.original.parent if self.original is not None else self.weights_file.parent
            project.weights = read_weights(self.weights_file, folder)  # damaged: WeightsFileError names it
        project.path = self.original
        return project

    def discard(self) -> None:
        for path in (self.project_file, self.meta_file, self.weights_file):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def _weights_file(project_file: Path) -> Path:
    return project_file.with_name(project_file.name.replace(".studio.json", ".weights.npz"))


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_recoveries() -> list[Recovery]:
    """Autosaves whose session is over: its process died, or (same process)
    the session is no longer open."""
    found = []
    for meta_file in sorted(recovery_dir().glob("*.meta.json")):
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            pid, session = int(meta["pid"]), str(meta["session"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pid == os.getpid():
            if session in LIVE_SESSIONS:
                continue
        elif _alive(pid):
            continue
        project_file = meta_file.with_name(f"{session}.studio.json")
        if not project_file.exists():
            continue
        original = meta.get("original")
        found.append(Recovery(project_file, meta_file, str(meta.get("name", "untitled")),
                              Path(original) if original else None, float(meta.get("saved_at", 0))))
    return sorted(found, key=lambda r: -r.saved_at)


class Autosaver(QObject):
    """Writes the document to its recovery file every `interval_ms` while it
    has unsaved changes."""

    saved = Signal(Path)
    failed = Signal(str)

    def __init__(self, document: ProjectDocument, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.session = uuid.uuid4().hex[:12]
        LIVE_SESSIONS.add(self.session)
        folder = recovery_dir()
        self.project_file = folder / f"{self.session}.studio.json"
        self.meta_file = folder / f"{self.session}.meta.json"
        self.weights_file = _weights_file(self.project_file)
        self._weights_revision: int | None = None  # the store's revision in weights_file
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        document.dirtyChanged.connect(self._on_dirty)

    def autosave(self) -> bool:
        """Write the recovery file now if there is something to protect."""
        if not self.document.is_dirty:
            return False
        project = self.document.project
        try:
            atomic_write_text(self.project_file, dumps_project(project))
            self._autosave_weights(project)
            meta = {
                "pid": os.getpid(),
                "session": self.session,
                "name": project.name,
                "original": str(project.path) if project.path else None,
                "saved_at": time.time(),
            }
            atomic_write_text(self.meta_file, json.dumps(meta, indent=1))
        except ProjectError as exc:
            self.failed.emit(str(exc))
            return False
        self.saved.emit(self.project_file)
        return True

    def _autosave_weights(self, project: Project) -> None:
        """Keep a copy of the weights while they differ from those saved beside the project."""
        store = project.weights
        beside = weights_file_for(project.path) if project.path is not None else None
        if (store.empty and store.saved is None) or (beside is not None and store.saved == (beside, store.revision)):
            self._drop_weights()  # nothing stored, or exactly what the project's own file holds
            return
        if self._weights_revision != store.revision or not self.weights_file.is_file():
            write_weights(self.weights_file, store, [n.id for n in project.graph.nodes])
            self._weights_revision = store.revision

    def _drop_weights(self) -> None:
        self._weights_revision = None
        try:
            self.weights_file.unlink()
        except FileNotFoundError:
            pass

    def _on_dirty(self, dirty: bool) -> None:
        if not dirty:
            self.clear()

    def clear(self) -> None:
        for path in (self.project_file, self.meta_file):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        self._drop_weights()

    def close(self) -> None:
        """A clean end: stop and delete the recovery files."""
        self.timer.stop()
        self.clear()
        LIVE_SESSIONS.discard(self.session)

    def abandon(self) -> None:
        """Stop without cleaning up, as a crash would (tests)."""
        self.timer.stop()
        LIVE_SESSIONS.discard(self.session)
