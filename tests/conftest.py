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
