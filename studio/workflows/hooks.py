"""The plain-Python hooks of a long use case: progress messages and a cancel flag.

A workflow reports what it is doing through `progress(text)` (a command prints
it to stderr, the window shows it in its status line) and checks `cancel`
between its steps: anything with `is_set()`, such as a `threading.Event` the
front sets from Ctrl-C or a Cancel button. A cancelled workflow raises
`Cancelled` before its next step and leaves nothing half written.
"""

from __future__ import annotations

from typing import Callable, Optional, Protocol

from studio.core.errors import StudioError

Progress = Callable[[str], None]


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


class Cancelled(StudioError):
    """The user cancelled the workflow before it finished."""


def report(progress: Optional[Progress], text: str) -> None:
    """Send `text` to `progress` when there is one."""
    if progress is not None:
        progress(text)


def check_cancel(cancel: Optional[CancelFlag], what: str) -> None:
    """Raise `Cancelled` ("cancelled: WHAT") when `cancel` is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"cancelled: {what}")


def steps(cancel: Optional[CancelFlag], step: Optional[Progress], what: str) -> Progress:
    """The step hook a workflow hands to the package doing the work: before each step it
    checks `cancel` (raising `Cancelled`, "cancelled: WHAT") and then tells `step` the step."""

    def start(text: str) -> None:
        check_cancel(cancel, what)
        report(step, text)

    return start
