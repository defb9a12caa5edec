"""A Normalization layer placed without a mean and variance is fitted on the training data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from studio.cli import main
from tests.training.conftest import iris_with_norm


def test_a_normalization_without_statistics_is_fitted_before_training(tmp_path, capsys, keras):
    # hidden (Dense, relu) -> norm -> species: the statistics are those of the hidden layer's output
    project = iris_with_norm(tmp_path)

    assert main(["train", str(project), "--epochs", "1", "--seed", "3", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "Normalization 'norm' was fitted on 105 training samples" in out + err  # 70% of 150
    end = json.loads(out.strip().splitlines()[-1])
    config = json.loads((Path(end["run_dir"]) / "config.json").read_text())
    assert config["adapted"] and "norm" in config["adapted"][0]

    model = keras.saving.load_model(Path(end["run_dir"]) / "final.keras", safe_mode=True)
    layer = next(layer for layer in _layers(model) if layer.name == "norm")
    mean, variance = np.asarray(layer.mean).ravel(), np.asarray(layer.variance).ravel()
    # relu outputs: non-negative means, and not Keras' silent identity (mean 0, variance 1)
    assert mean.shape == (16,) and (mean >= 0).all() and mean.max() > 0
    assert np.isfinite(variance).all() and not np.allclose(variance, 1.0)


def _layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _layers(layer)
