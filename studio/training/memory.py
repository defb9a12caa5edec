"""Give back what a finished training run no longer needs, so ten runs in one app session
do not grow the process run after run.

Three things keep a finished run's memory alive in TensorFlow 2.20 / Keras 3:

* **The custom-gradient registry.** Every `tf.custom_gradient` traced inside a
  `tf.function` (Keras' train step uses some) registers a `CustomGradient-N`
  entry in TensorFlow's global gradient registry that is never removed. It
  holds the traced function, and through it the whole train-step graph: about
  5 MB per run for a small MLP, 45 MB over ten runs (measured with
  `bench/bench_run_memory.py`). `LEDGER` notes the entries each run added and
  removes them once that run's model has been released; gradients are looked
  up only while a train step is being traced, which for those graphs is over.
* **Python's cyclic garbage** (models, layers, graphs refer to each other):
  `collect_garbage()`.
* **glibc's arenas**, which keep freed small blocks in the process:
  `return_freed_memory()` (`malloc_trim(0)`, Linux only, ~1 ms).
"""

from __future__ import annotations

import gc
import sys
from typing import Any

_FROZEN = False
_LIBC: Any = None
_PREFIX = "CustomGradient-"


def _registry() -> dict | None:
    """TensorFlow's gradient registry dict, or None where this TensorFlow lays it out otherwise."""
    try:
        from tensorflow.python.framework import ops
    except ImportError:
        return None
    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None


def custom_gradients() -> set[str]:
    """The names of the custom gradients registered so far (taken before a run starts)."""
    registry = _registry()
    return {name for name in registry if name.startswith(_PREFIX)} if registry is not None else set()


class GradientLedger:
    """The custom gradients each run registered, forgotten once the run's model is gone.

        before = LEDGER.snapshot()          # as a run starts
        ...train...
        LEDGER.finished(before)             # the run's own entries, noted
        ...next run: clear_session(), collect_garbage()...
        LEDGER.forget_finished()            # removed; gradients of still-living models stay
    """

    def __init__(self) -> None:
        self._finished: set[str] = set()

    @staticmethod
    def snapshot() -> set[str]:
        return custom_gradients()

    def finished(self, before: set[str]) -> None:
        self._finished |= custom_gradients() - before

    def forget_finished(self) -> int:
        """Remove the noted entries (call when those runs' models are released); how many."""
        registry = _registry()
        stale, self._finished = self._finished, set()
        if registry is None:
            return 0
        return sum(registry.pop(name, None) is not None for name in stale)


LEDGER = GradientLedger()


def collect_garbage() -> None:
    """Free the previous run's model and graphs without freezing the GUI for long.

    A full `gc.collect()` walks every Python object TensorFlow, Keras and Qt
    made (~370k here): ~130 ms holding the GIL, so the GUI thread stops. The
    first time, only the young generations are collected and everything older
    is `gc.freeze()`-d (modules, classes, the app: objects that live as long as
    the process; a little import-time garbage stays), so every later collection
    - ours and Python's automatic ones during training - only walks what was
    made since: a few ms.
    """
    global _FROZEN
    if not _FROZEN:
        gc.collect(1)
        gc.freeze()
        _FROZEN = True
    else:
        gc.collect()
    return_freed_memory()


def return_freed_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc only; elsewhere nothing)."""
    global _LIBC
    if _LIBC is None:
        _LIBC = False
        if sys.platform.startswith("linux"):
            import ctypes
            import ctypes.util

            name = ctypes.util.find_library("c")
            try:
                _LIBC = ctypes.CDLL(name) if name else False
            except OSError:
                _LIBC = False
    if _LIBC and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)
