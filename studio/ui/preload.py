"""Warm up TensorFlow on a background thread once the window is up, so the
first training starts quickly. The GUI thread never imports it.

The same thread applies the start-time device settings (before anything else
sets TensorFlow's devices up) and lists the devices; `when_devices_known`
hands that list to the GUI thread (the training settings' Device box).

A daemon thread, so quitting never waits for a half-finished import.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QTimer, Signal


class _Devices(QObject):
    found = Signal(object)  # list[studio.training.devices.DeviceInfo]


_LOCK = threading.Lock()
_NOTIFIER: Optional[_Devices] = None  # made on the GUI thread
_FOUND: Optional[list[Any]] = None


def _notifier() -> _Devices:
    global _NOTIFIER
    if _NOTIFIER is None:
        _NOTIFIER = _Devices()
    return _NOTIFIER


def _import_tensorflow() -> None:
    global _FOUND
    try:
        from studio.training import devices

        devices.apply_startup_settings()  # imports TensorFlow (warms the module cache)
        found = devices.list_devices()
    except Exception:  # missing or broken TF: training reports it when used
        return
    with _LOCK:
        _FOUND = found
        if _NOTIFIER is not None:
            _NOTIFIER.found.emit(found)  # queued: the slots run on the GUI thread


def when_devices_known(callback: Callable[[list[Any]], None]) -> None:
    """Call `callback(devices)` on the GUI thread once the background thread has
    listed them (at once when it has). Call it on the GUI thread; `callback` is a
    QObject's method, so its connection ends with that object."""
    with _LOCK:
        found = _FOUND
        if found is None:
            _notifier().found.connect(callback)
    if found is not None:
        callback(found)


def preload_tensorflow_later(parent: QObject, delay_ms: int = 1500) -> None:
    _notifier()

    def start() -> None:
        threading.Thread(target=_import_tensorflow, name="tf-preload", daemon=True).start()

    QTimer.singleShot(delay_ms, parent, start)
