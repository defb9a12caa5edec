"""Where the app keeps its settings, recent files and autosaves.

`STUDIO_CONFIG_DIR` (tests set it) overrides the platform's config folder.
Settings are an INI file there, so tests never touch the user's registry.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

MAX_RECENT = 10


def config_dir() -> Path:
    env = os.environ.get("STUDIO_CONFIG_DIR")
    if env:
        path = Path(env).expanduser()
    else:
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
        path = Path(base or Path.home() / ".config") / "network-studio"
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings() -> QSettings:
    return QSettings(str(config_dir() / "settings.ini"), QSettings.Format.IniFormat)


def recent_files() -> list[Path]:
    value = settings().value("recent/files", [])
    if isinstance(value, str):
        value = [value]
    return [Path(v) for v in (value or []) if v]


def add_recent_file(path: Path) -> list[Path]:
    path = Path(path).resolve()
    files = [p for p in recent_files() if p != path]
    files.insert(0, path)
    files = files[:MAX_RECENT]
    s = settings()
    s.setValue("recent/files", [str(p) for p in files])
    s.sync()
    return files


def clear_recent_files() -> None:
    s = settings()
    s.remove("recent/files")
    s.sync()
