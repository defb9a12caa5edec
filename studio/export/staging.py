"""Write export files all-or-nothing: stage in a hidden folder beside the
target, verify, then move into place. On any failure nothing is left behind.

Pure Python (no TensorFlow).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from studio.core.errors import ExportError


def check_writable(target: Path) -> None:
    """Raise ExportError when `target` cannot be written (one clear line)."""
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise ExportError(f"{target}: the folder {parent} does not exist; create it or choose another path")
    if not parent.is_dir():
        raise ExportError(f"{target}: {parent} is not a folder; choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"{target}: cannot write in {parent} (permission denied); choose another folder")
    if target.exists() and not os.access(target, os.W_OK):
        raise ExportError(f"{target}: the existing file is read-only; choose another path")


class Staging:
    """A hidden folder beside the target; `commit` moves the staged files in."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        check_writable(self.target)
        parent = self.target.parent if str(self.target.parent) else Path(".")
        try:
            # absolute: the python check runs a process in this folder and passes paths inside it
            self.dir = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".export", dir=parent)).resolve()
        except OSError as exc:
            raise ExportError(f"{self.target}: cannot write here ({exc.strerror}); choose another folder") from None

    def path(self, name: str) -> Path:
        return self.dir / name

    def commit(self, moves: list[tuple[Path, Path]]) -> None:
        """Move each staged path onto its final path, replacing what is there.

        Existing targets are moved aside first and restored if a later move
        fails, so the user keeps either all old files or all new ones.
        """
        backups: list[tuple[Path, Path]] = []
        done: list[Path] = []
        try:
            for staged, final in moves:
                if final.exists() or final.is_symlink():
                    backup = self.dir / f".old.{len(backups)}"
                    os.replace(final, backup)
                    backups.append((backup, final))
                os.replace(staged, final)
                done.append(final)
        except OSError as exc:
            for final in done:
                _remove(final)
            for backup, final in backups:
                with contextlib.suppress(OSError):
                    os.replace(backup, final)
            raise ExportError(f"{self.target}: could not write the exported files ({exc.strerror}); "
                              "nothing was changed") from None

    def on_cleanup(self, action: Callable[[], None]) -> None:
        """Call `action` (e.g. end a helper process) before the folder is removed."""
        self._actions = getattr(self, "_actions", []) + [action]

    def cleanup(self) -> None:
        for action in getattr(self, "_actions", []):
            with contextlib.suppress(Exception):
                action()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def captured_native_stderr() -> Iterator[list[str]]:
    """Send native (C++) stderr chatter of converters to a buffer.

    Yields a list that holds the captured lines after the block, so an error
    message can quote the converter's own reason.
    """
    lines: list[str] = []
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # pytest capture or no real stderr
        yield lines
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as buf:
        os.dup2(buf.fileno(), fd)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            buf.seek(0)
            lines.extend(buf.read().decode("utf-8", "replace").splitlines())
