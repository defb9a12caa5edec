"""Local modules for the hub tests (built once per session, in a temporary folder)."""

from __future__ import annotations

import pytest

from tests.hub.modules import image_feature_vector, text_embedding


@pytest.fixture(scope="session")
def image_module(tmp_path_factory):
    path = tmp_path_factory.mktemp("hub") / "image_feature_vector"
    image_feature_vector(path)
    return path


@pytest.fixture(scope="session")
def text_module(tmp_path_factory):
    path = tmp_path_factory.mktemp("hub") / "text_embedding"
    text_embedding(path)
    return path


@pytest.fixture(autouse=True)
def _hub_cache(tmp_path, monkeypatch):
    """Every test gets its own empty module cache; no test reaches the network."""
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub-cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
