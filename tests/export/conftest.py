"""Export tests: generated samples go to a per-session cache, never the user's; no downloads."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sample_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("studio-cache")


@pytest.fixture(autouse=True)
def _isolated_cache(monkeypatch, sample_cache):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(sample_cache))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")
