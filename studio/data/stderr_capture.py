"""Catch what C libraries print on the process's standard error (file descriptor 2).

Some decoders inside TensorFlow (libjpeg: "Corrupt JPEG data: bad Huffman code") report
problems by writing straight to fd 2, where neither Python's `sys.stderr` nor
`TF_CPP_MIN_LOG_LEVEL` reaches. `capture_fd2()` points fd 2 at a temporary file for the length
of a `with` block, so the caller can tell whether, when and what was written while it ran, and
puts the real stderr back however the block ends:

    with capture_fd2() as cap:
        before = cap.size()
        decode(...)
        noisy = cap.size() > before
    cap.data  # everything written during the block (bytes), once it has ended

fd 2 belongs to the whole process: while a capture lasts, every thread's output lands in the
file. Keep captures short, and pass on (`write_to_stderr`) what was not the caller's. Captures
are serialised by a lock; one nested in the same thread captures into its own file and hands fd 2
back to the outer one. Where fd 2 is closed, it is closed again afterwards. (On Windows a DLL may
have its own C runtime whose stderr this does not redirect: nothing is caught there, nothing
breaks.)
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Iterator

_LOCK = threading.RLock()


class Capture:
    """The file fd 2 points at during a capture; `data` / `text` once the capture has ended."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self.data = b""

    def fileno(self) -> int:
        return self._file.fileno()

    def size(self) -> int:
        """How many bytes have been written so far (cheap: one fstat)."""
        if self._file.closed:
            return len(self.data)
        return os.fstat(self._file.fileno()).st_size

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def _finish(self) -> None:
        try:
            self._file.seek(0)
            self.data = self._file.read()
        finally:
            self._file.close()


def _flush() -> None:
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing to flush
            pass


@contextmanager
def capture_fd2() -> Iterator[Capture]:
    """Redirect file descriptor 2 to a temporary file for the block (see the module text)."""
    with _LOCK:
        cap = Capture()
        try:
            _flush()
            try:
                saved: int | None = os.dup(2)
            except OSError:  # fd 2 is closed (a daemon, pythonw)
                saved = None
            try:
                os.dup2(cap.fileno(), 2)
                try:
                    yield cap
                finally:
                    _flush()
                    _restore(saved)
            finally:
                if saved is not None:
                    os.close(saved)
        finally:
            cap._finish()


def _restore(saved: int | None) -> None:
    if saved is not None:
        os.dup2(saved, 2)
        return
    try:
        os.close(2)
    except OSError:
        pass


def write_to_stderr(data: bytes) -> None:
    """Write raw bytes to fd 2 (where a capture found output that was not the caller's)."""
    if not data:
        return
    _flush()
    try:
        while data:
            data = data[os.write(2, data):]
    except OSError:  # fd 2 closed or broken: the output had nowhere to go anyway
        pass
