"""Each example project trains to a sensible score in a few epochs, through `studio train`.

A user opens an example and presses Train; here the same engine runs in-process through
the command line (`studio train PROJECT --epochs N --json`) on a copy of the project in
tmp_path (the text example writes its vocabulary beside the project). Epoch counts are
a fraction of each project's own setting; the thresholds leave room for the run-to-run
spread of a CPU training. The shapes CNN (the slowest, about 10 s) is marked slow.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest

from studio.cli import main

PROJECTS = Path(__file__).resolve().parents[2] / "projects"


def train(capsys, tmp_path: Path, name: str, epochs: int, seed: int = 0) -> tuple[list[dict], dict, Path]:
    """Train a copy of an example with a fixed seed; (epoch records, end summary, project copy)."""
    project = tmp_path / f"{name}.studio.json"
    if not project.exists():
        shutil.copy(PROJECTS / project.name, project)
    capsys.readouterr()
    rc = main(["train", str(project), "--epochs", str(epochs), "--seed", str(seed), "--json",
               "--run-dir", str(tmp_path / "runs")])
    out, err = capsys.readouterr()
    assert rc == 0, err[-2000:]
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    epochs_seen = [r for r in records if r["event"] == "epoch"]
    end = records[-1]
    assert end["event"] == "end" and end["status"] == "completed", end
    assert [r["epoch"] for r in epochs_seen] == list(range(1, epochs + 1))
    return epochs_seen, end, project


def run_config(end: dict) -> dict:
    return json.loads((Path(end["run_dir"]) / "config.json").read_text(encoding="utf-8"))


def test_iris_mlp_reaches_90_percent_validation_accuracy(capsys, tmp_path):
    epochs, end, _ = train(capsys, tmp_path, "iris-mlp", 20)
    assert epochs[-1]["val_accuracy"] >= 0.9, epochs[-1]
    assert epochs[-1]["val_accuracy"] > epochs[0]["val_accuracy"] or epochs[0]["val_accuracy"] >= 0.9
    assert end["evaluation"]["samples"] == 15 and end["evaluation"]["accuracy"] >= 0.8
    # The normalisation fitted on the training split is recorded with the run...
    text = json.dumps(run_config(end))
    assert '"normalize"' in text and '"mean"' in text
    # ...and compiled into the saved model, which therefore takes raw centimetres.
    import keras
    import numpy as np

    from studio.data import registry

    table = np.genfromtxt(registry.resources_dir() / "iris.csv", delimiter=",", skip_header=1, dtype=str)
    x = table[:, :4].astype("float32")
    y = np.searchsorted(["setosa", "versicolor", "virginica"], table[:, 4])
    model = keras.saving.load_model(Path(end["run_dir"]) / "best.keras", safe_mode=True)
    assert any(isinstance(layer, keras.layers.Normalization) for layer in model.layers)
    assert (model.predict(x, verbose=0).argmax(axis=1) == y).mean() >= 0.85


def test_spirals_mlp_separates_the_spirals(capsys, tmp_path):
    epochs, end, _ = train(capsys, tmp_path, "spirals-mlp", 30)
    assert epochs[-1]["val_accuracy"] >= 0.9, epochs[-1]
    assert end["evaluation"]["accuracy"] >= 0.85


def test_the_same_seed_repeats_a_run_and_another_seed_does_not(capsys, tmp_path):
    def curve(seed: int) -> list[tuple[float, float]]:
        epochs, _, _ = train(capsys, tmp_path, "spirals-mlp", 3, seed=seed)
        return [(e["loss"], e["val_loss"]) for e in epochs]

    first = curve(7)
    assert curve(7) == first
    assert curve(8) != first


def test_text_gru_classifies_topics_and_saves_its_vocabulary(capsys, tmp_path):
    epochs, end, project = train(capsys, tmp_path, "text-gru", 4)
    assert epochs[-1]["val_accuracy"] >= 0.9, epochs[-1]
    assert end["evaluation"]["accuracy"] >= 0.85
    vocabs = list(project.parent.glob("short_text.*.vocab.txt"))  # from the training split, beside the project
    assert len(vocabs) == 1, vocabs  # named by the data and a digest of its contents
    words = vocabs[0].read_text(encoding="utf-8").split()
    assert "the" in words and len(words) > 50


def test_digits_cnn_reads_the_digits(capsys, tmp_path):
    epochs, end, _ = train(capsys, tmp_path, "digits-cnn", 5)
    assert epochs[-1]["val_accuracy"] >= 0.9, epochs[-1]
    assert end["evaluation"]["accuracy"] >= 0.85


@pytest.mark.slow
def test_shapes_cnn_with_a_residual_block_tells_the_shapes_apart(capsys, tmp_path):
    epochs, end, _ = train(capsys, tmp_path, "shapes-cnn", 12)
    assert epochs[-1]["val_accuracy"] >= 0.8, epochs[-1]
    assert end["evaluation"]["accuracy"] >= 0.75


def test_sine_lstm_forecasts_within_the_noise(capsys, tmp_path):
    epochs, end, _ = train(capsys, tmp_path, "sine-lstm", 4)
    # The series swings over about +-1.5 (predicting its mean gives an MAE near 0.7); the noise
    # has a standard deviation of 0.1, so an MAE near 0.1 is about as good as it gets.
    assert epochs[-1]["val_mae"] < 0.2, epochs[-1]
    assert epochs[-1]["val_loss"] < epochs[0]["loss"]
    assert end["evaluation"]["samples"] > 100 and end["evaluation"]["keras"]["mae"] < 0.2

    # The forecast is evaluated (it printed "mae nan"): finite errors on the test windows, beside
    # the naive forecast (the last value of each window), which the model beats.
    evaluation = end["evaluation"]
    assert math.isfinite(evaluation["mae"]) and math.isfinite(evaluation["rmse"]), evaluation
    assert evaluation["mae"] == pytest.approx(evaluation["keras"]["mae"], rel=1e-3)
    naive = evaluation["naive"]
    assert math.isfinite(naive["mae"]) and evaluation["mae"] < 0.85 * naive["mae"], (evaluation["mae"], naive)
    assert evaluation["rmse"] < naive["rmse"]
    assert "y_true" not in evaluation and "y_naive" not in json.dumps(end["evaluation"]["forecast"])


def test_sine_lstm_evaluation_reports_the_naive_forecast_beside_the_model(capsys, tmp_path):
    _, end, project = train(capsys, tmp_path, "sine-lstm", 4)
    assert main(["evaluate", str(project), "--run", end["run_dir"]]) == 0
    out = capsys.readouterr().out
    assert "Forecast of 'value', 1 step ahead, 168 test windows" in out
    assert re.search(r"^model +\d\.\d+ +\d\.\d+ +\d+\.\d %$", out, re.M), out
    assert re.search(r"^naive \(last value\) +\d\.\d+ +\d\.\d+ +\d+\.\d %$", out, re.M), out
    assert "below the naive forecast's: it beats the obvious baseline" in out
    assert main(["evaluate", str(project), "--run", end["run_dir"], "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["task"] == "forecast" and result["mae"] < result["naive"]["mae"]
    assert result["forecast"]["horizon"] == 1 and result["forecast"]["steps"][0]["naive_mae"] == result["naive"]["mae"]
    assert not {"y_true", "y_pred", "y_naive"} & set(result)  # per window: in evaluation.json only
    saved = json.loads((Path(end["run_dir"]) / "evaluation.json").read_text(encoding="utf-8"))
    assert len(saved["y_true"]) == len(saved["y_naive"]) == 168
