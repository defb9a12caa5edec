"""Waiting for the GUI to settle by counting event-loop rounds, not milliseconds.

`qtbot.wait(50)` is 50 ms of wall time: on a busy machine the process may get the
CPU once in that time, and the layout or paint that a test then looks at has not
happened yet. These helpers wait for conditions instead: a number of full rounds of
the event loop (each one delivers every event posted before it, and fires the
timers that are due), or, for paints, until no widget has painted for a few rounds.
"""

from __future__ import annotations

from typing import Callable, Iterable

ROUND_MS = 20
HANG_MS = 60_000  # only bounds a hang: waits end as soon as their condition holds


def settle(qtbot, rounds: int = 5) -> None:
    """Run `rounds` full rounds of the event loop (layouts, posted events, due timers)."""
    for _ in range(rounds):
        qtbot.wait(ROUND_MS)


def wait_quiet(qtbot, read: Callable[[], object], rounds: int = 5, timeout: int = HANG_MS) -> None:
    """Wait until `read()` (e.g. the paint counters of some widgets) has stayed the same
    over `rounds` consecutive rounds of the event loop."""
    state = {"value": read(), "same": 0}

    def quiet() -> bool:
        qtbot.wait(ROUND_MS)
        value = read()
        if value == state["value"]:
            state["same"] += 1
        else:
            state["value"], state["same"] = value, 0
        return state["same"] >= rounds

    qtbot.waitUntil(quiet, timeout=timeout)


def paint_totals(widgets: Iterable) -> dict:
    """The paint seconds of each plot widget (they grow with every paint)."""
    return {name: widget.paint_seconds for name, widget in widgets}
