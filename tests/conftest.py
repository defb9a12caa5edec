"""Test-wide settings: no display, quiet TensorFlow, deterministic hypothesis."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Keep Qt settings, autosaves and recent files of tests away from the user's, and (under
# pytest -n) each worker's away from the others'.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
os.environ.setdefault(
    "STUDIO_CONFIG_DIR",
    os.path.join(os.path.dirname(__file__), "..", ".pytest_cache", f"config-{_WORKER}" if _WORKER else "config"),
)

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "default",
    deadline=None,
    max_examples=40,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", deadline=None, max_examples=400)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


import gc  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _delete_closed_widgets():
    """After a test, the widgets qtbot closed (and `deleteLater`-ed) are deleted now, by Qt.

    `processEvents()` never runs deferred deletes, so closed windows stayed alive in C++ until
    some later test ran a nested event loop, or until Python's cyclic collector freed their
    wrappers: a full `gc.collect()` much later (a training run's) then deleted whole windows
    from inside the collector, while it was also clearing their children's wrappers, and the
    test process died of a segmentation fault (seen twice, both times in
    tests/ui/test_eval_samples.py's training fixture, under `pytest -n 2`)."""
    yield
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is None or widgets.QApplication.instance() is None:
        return
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    # What the test left (Qt wrappers in reference cycles: windows the app opened and the test
    # never closed, plots, models) is frozen, never collected: a later test's full collection (a
    # training run's, on this same thread) freed such wrappers inside the collector and crashed
    # the worker (a third time, after the deletes above, in the same fixture). The app itself
    # freezes what exists before its first run the same way (studio/training/memory.py).
    gc.freeze()
