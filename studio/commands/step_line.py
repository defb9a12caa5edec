"""A progress line on stderr for the steps of a command that take a while.

    with StepLine() as step:
        import_model(..., step=step)

Each call `step("converting to tflite")` starts a step. A step still running
after `DELAY` seconds gets one line, "studio: converting to tflite…", printed
by a timer thread while it runs; a step that ends before the timer fired but
took at least `DELAY` gets its line when it ends. Quick steps print nothing,
so a fast export stays a few lines long.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Optional

DELAY = 1.0  # seconds a step must take to be shown


class StepLine:
    def __init__(self, stream: Optional[IO[str]] = None, delay: Optional[float] = None) -> None:
        self.stream = stream
        self.delay = DELAY if delay is None else delay
        self._lock = threading.Lock()
        self._text: Optional[str] = None
        self._started = 0.0
        self._shown = True
        self._timer: Optional[threading.Timer] = None

    def __call__(self, text: str) -> None:
        self._end()
        with self._lock:
            self._text, self._started, self._shown = text, time.monotonic(), False
            timer = threading.Timer(self.delay, self._show, args=(text,))
            timer.daemon = True
            self._timer = timer
        timer.start()

    def close(self) -> None:
        """The last step ended (call it also when the command fails)."""
        self._end()

    def __enter__(self) -> StepLine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _end(self) -> None:
        with self._lock:  # printing under the lock keeps the lines in step order
            timer, self._timer = self._timer, None
            if self._text is not None and not self._shown and time.monotonic() - self._started >= self.delay:
                self._shown = True
                self._print(self._text)
        if timer is not None:
            timer.cancel()

    def _show(self, text: str) -> None:
        with self._lock:
            if self._text == text and not self._shown:
                self._shown = True
                self._print(text)

    def _print(self, text: str) -> None:
        stream = self.stream or sys.stderr
        print(f"studio: {text}…", file=stream, flush=True)
