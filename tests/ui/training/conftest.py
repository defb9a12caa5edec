"""Tiny models and data for the training GUI tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def blobs():
    import numpy as np

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=400)
    x = rng.normal(size=(400, 4)).astype("float32") * 0.3
    x[:, 0] += y
    return x, y.astype("int64")


@pytest.fixture(scope="session")
def build_mlp():
    keras = pytest.importorskip("keras")

    def build():
        return keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )

    return build
