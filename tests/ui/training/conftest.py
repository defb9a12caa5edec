"""Tiny models and data for the training GUI tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "projects" / "iris-mlp.studio.json"


def iris_panel(qtbot, tmp_path, epochs=None):
    """A TrainingPanel on a copy of the bundled Iris example (`epochs`: set in its form)."""
    from studio.project.io import load_project
    from studio.ui.document import ProjectDocument
    from studio.ui.training.panel import TrainingPanel

    if not EXAMPLE.is_file():
        pytest.skip("the bundled iris example is missing")
    path = tmp_path / "iris.studio.json"
    shutil.copy(EXAMPLE, path)
    widget = TrainingPanel(ProjectDocument(load_project(path)))
    qtbot.addWidget(widget)
    if epochs is not None:
        widget.settings.epochs.setValue(epochs)
    return widget


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
