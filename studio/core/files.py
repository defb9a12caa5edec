"""Atomic file writes and the clean-up of their stray temporary files.

    atomic_write(path, write, suffix="")   # write(tmp_path) fills a temp file beside `path`
    atomic_write_text(path, text)
    atomic_write_json(path, data)

Each writes a temporary file in the target's folder, fsyncs it, renames it
over the target (`os.replace`, atomic on one file system) and fsyncs the
folder. A crash or kill mid-write leaves the old file (or none), never a
truncated one; a write that raises removes its temporary file. What is left
behind by a killed process is a file named

    NAME.<pid>-<random>.tmp[SUFFIX]      e.g. best.keras.4242-k3j9x2ab.tmp.keras

(`SUFFIX` is there for writers that insist on a file extension, like Keras'
`.keras`). `remove_stray_temps(folder)` deletes those whose process is gone.

An `OSError` while writing becomes a `FileWriteError` that names the target
file (not the temp file) and says whether the disk is full.

Pure: standard library and `studio.core.errors` only.
"""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Optional, Union

from studio.core.errors import StudioError

PathLike = Union[str, "os.PathLike[str]"]

#: errno values that mean "the disk (or the user's quota) is full".
DISK_FULL_ERRNOS = frozenset(e for e in (getattr(errno, "ENOSPC", None), getattr(errno, "EDQUOT", None)) if e)
_DISK_FULL_TEXT = ("no space left on device", "disk quota exceeded", "not enough space on the disk")

# NAME.<pid>-<random>.tmp or NAME.<pid>-<random>.tmp.<ext>; `pid` is absent in older temp names
# (and older names: NAME.tmp, NAME.<random>.tmp, NAME.tmp.keras)
_TEMP = re.compile(r"^(?P<base>.+?)(?:\.(?:(?P<pid>\d+)-)?[A-Za-z0-9_]+)?\.tmp(?:\.[A-Za-z0-9]+)?$")


class FileWriteError(StudioError):
    """A file could not be written; `path` is the file that was meant to be written."""

    def __init__(self, path: PathLike, cause: BaseException) -> None:
        self.path = Path(path)
        self.errno = getattr(cause, "errno", None)
        self.reason = getattr(cause, "strerror", None) or _first_line(cause)
        self.disk_full = is_disk_full(cause)
        self.permission = isinstance(cause, PermissionError) or self.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
        super().__init__(f"{self.path}: cannot write ({self.reason})")


def is_disk_full(exc: BaseException) -> bool:
    """True when `exc` (or what it was raised from) says the disk or the quota is full."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, FileWriteError):
            return exc.disk_full
        if getattr(exc, "errno", None) in DISK_FULL_ERRNOS:
            return True
        if any(text in str(exc).lower() for text in _DISK_FULL_TEXT):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def temp_path(path: PathLike, suffix: str = "") -> Path:
    """A fresh temporary name beside `path` (the file is not created)."""
    path = Path(path)
    return path.with_name(f"{path.name}.{os.getpid()}-{os.urandom(5).hex()}.tmp{suffix}")


def is_temp_name(name: str) -> bool:
    return bool(_TEMP.match(name))


def atomic_write(path: PathLike, write: Callable[[Path], Any], suffix: str = "") -> None:
    """Fill a temp file beside `path` with `write(tmp)`, fsync it, rename it over `path`.

    If `write` (or anything after it) raises, the temp file is removed and
    `path` is as it was. OSErrors come out as `FileWriteError` naming `path`."""
    path = Path(path)
    tmp = temp_path(path, suffix)
    try:  # created with the umask's permissions, like the file a plain open() makes
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666))
    except OSError as exc:
        raise FileWriteError(path, exc) from exc
    try:
        write(tmp)
        commit(tmp, path)
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError):
            raise FileWriteError(path, exc) from exc
        raise


def commit(tmp: PathLike, path: PathLike) -> None:
    """fsync the finished temp file `tmp`, rename it over `path`, fsync the folder."""
    _fsync_file(Path(tmp))
    os.replace(tmp, path)
    fsync_folder(Path(path).parent)


def discard(tmp: PathLike) -> None:
    """Remove a temp file if it is there."""
    try:
        os.unlink(tmp)
    except OSError:
        pass


def atomic_write_text(path: PathLike, text: str) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)

    atomic_write(path, write)


def atomic_write_json(path: PathLike, data: Any) -> None:
    """JSON (indented, NaN allowed, unknown objects as str) written atomically.

    The text is made before the disk is touched."""
    atomic_write_text(path, json.dumps(data, indent=2, allow_nan=True, default=str))


def remove_stray_temps(folder: PathLike, is_alive: Optional[Callable[[int], bool]] = None) -> list[Path]:
    """Delete the temp files in `folder` left by killed writers; returns what was removed.

    A temp file naming a live process other than this one is kept (that
    process may be writing it now), as is one of this process (another
    thread may be writing it). Files that cannot be removed are skipped."""
    alive = is_alive or pid_alive
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    me = os.getpid()
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match:
            continue
        pid = int(match["pid"]) if match["pid"] else None
        if pid is not None and (pid == me or alive(pid)):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def pid_alive(pid: Any) -> bool:
    """Whether a process with this id exists (on this machine)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _fsync_file(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except IsADirectoryError:  # a saver that writes a folder (SavedModel)
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX); a no-op elsewhere or when it cannot."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__
