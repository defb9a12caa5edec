"""Local modules for the hub tests (built once per session, in a temporary folder)."""

from __future__ import annotations

import pytest

from tests.hub.modules import image_feature_vector, module_fixture, text_embedding

image_module = module_fixture(image_feature_vector, "image_feature_vector")
text_module = module_fixture(text_embedding, "text_embedding")


@pytest.fixture(autouse=True)
def _hub_cache(tmp_path, monkeypatch):
    """Every test gets its own empty module cache; no test reaches the network."""
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub-cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    # Keras read KERAS_HOME when it was imported (maybe by an earlier test in this process): point
    # its own copy there too, or keras.applications would look for downloads elsewhere.
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras-home"))
