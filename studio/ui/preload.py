"""Warm up TensorFlow on a background thread once the window is up, so the
first training starts quickly. The GUI thread never imports it.

A daemon thread, so quitting never waits for a half-finished import.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer


def _import_tensorflow() -> None:
    try:
        import tensorflow  # noqa: F401  (import only: warms the module cache)
    except Exception:  # missing or broken TF: training reports it when used
        pass


def preload_tensorflow_later(parent: QObject, delay_ms: int = 1500) -> None:
    def start() -> None:
        threading.Thread(target=_import_tensorflow, name="tf-preload", daemon=True).start()

    QTimer.singleShot(delay_ms, parent, start)
