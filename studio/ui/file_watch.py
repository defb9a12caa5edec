"""Notice when the open project file is changed by something else."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal


def fingerprint(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha1(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class FileWatcher(QObject):
    """Emits `changedOnDisk(path)` when the file's content differs from what we
    last loaded or saved (our own atomic saves do not count)."""

    changedOnDisk = Signal(Path)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._poke)
        self.watcher.directoryChanged.connect(self._poke)
        self.path: Path | None = None
        self.known: str | None = None
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.check)

    def watch(self, path: Path | None) -> None:
        """Start watching `path`, taking its current content as ours."""
        for p in self.watcher.files() + self.watcher.directories():
            self.watcher.removePath(p)
        self.path = Path(path) if path else None
        self.known = fingerprint(self.path)
        if self.path is not None:
            if self.path.exists():
                self.watcher.addPath(str(self.path))
            self.watcher.addPath(str(self.path.parent))

    def accept_current(self) -> None:
        """After our own save: the file as it is now is ours."""
        self.watch(self.path)

    def _poke(self, _path: str) -> None:
        self._debounce.start()

    def check(self) -> bool:
        """True (and a signal) if the file changed behind our back."""
        if self.path is None:
            return False
        if self.path.exists() and str(self.path) not in self.watcher.files():
            self.watcher.addPath(str(self.path))  # an atomic replace drops the watch
        now = fingerprint(self.path)
        if now is not None and now != self.known:
            self.known = now
            self.changedOnDisk.emit(self.path)
            return True
        return False
