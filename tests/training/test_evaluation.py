"""Evaluation metrics on hand-made predictions, and one real model evaluation."""

from __future__ import annotations

import re

import numpy as np
import pytest

from studio.core.errors import TrainingError
from studio.training.evaluation import (
    confusion_matrix,
    evaluate_model,
    forecast_errors,
    forecast_metrics,
    per_class_scores,
    predicted_classes,
    regression_metrics,
    true_classes,
)
from studio.training.reports import TaskInfo


def test_confusion_matrix_rows_are_truth_columns_predictions():
    matrix = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    with pytest.raises(TrainingError, match="3 classes"):
        confusion_matrix([0, 3], [0, 0], 3)


def test_per_class_precision_recall_f1():
    scores = per_class_scores([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert scores["precision"] == pytest.approx([0.5, 0.5, 1.0])
    assert scores["recall"] == pytest.approx([0.5, 1.0, 2 / 3])
    assert scores["f1"][1] == pytest.approx(2 / 3)
    assert scores["support"] == [2, 1, 3]
    assert scores["accuracy"] == pytest.approx(4 / 6)
    assert scores["macro"]["recall"] == pytest.approx((0.5 + 1.0 + 2 / 3) / 3)
    empty = per_class_scores([[0, 0], [0, 3]])  # class 0 never seen nor predicted
    assert empty["precision"][0] == 0.0 and empty["f1"][0] == 0.0


def test_regression_metrics():
    m = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    assert m["mae"] == pytest.approx(2 / 3) and m["mse"] == pytest.approx(4 / 3)
    assert m["max_error"] == 2.0 and m["r2"] == pytest.approx(1 - 4 / 2)


def test_class_decoding():
    assert predicted_classes(np.array([[0.1, 0.9], [0.8, 0.2]])).tolist() == [1, 0]
    assert predicted_classes(np.array([[0.7], [0.2]])).tolist() == [1, 0]
    assert true_classes(np.array([[0, 0, 1]]), "onehot").tolist() == [2]


def test_evaluate_model_on_arrays(blobs, mlp):
    x, y = blobs
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    result = evaluate_model(model, (x[:60], y[:60]), TaskInfo(num_classes=3))
    assert result["samples"] == 60
    assert np.asarray(result["confusion"]).sum() == 60
    assert result["accuracy"] == pytest.approx(result["keras"]["accuracy"], abs=1e-6)
    assert len(result["y_pred"]) == 60 and len(result["per_class"]) == 3


def test_predict_one_parses_typed_values_and_names_classes(mlp):
    from studio.training.predict import predict_one

    model = mlp()
    result = predict_one(model, "1.0, 0.2 0.3;0.1", ["a", "b", "c"])
    assert result["kind"] == "classes"
    assert sorted(name for name, _p in result["classes"]) == ["a", "b", "c"]
    probs = [p for _n, p in result["classes"]]
    assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(TrainingError, match="takes 4 value"):
        predict_one(model, "1, 2")
    with pytest.raises(TrainingError, match="not a list of numbers"):
        predict_one(model, "one, two")
    assert predict_one(model, "1 2 3 4")["kind"] == "values"


# --- forecasts: errors beside the naive "last value" forecast (issue 14, point 2) ------------

def test_forecast_errors_mae_rmse_and_mape_over_nonzero_actuals():
    errors = forecast_errors([1.0, 2.0, 0.0, -4.0], [1.5, 1.0, 0.5, -4.0])
    assert errors["mae"] == pytest.approx((0.5 + 1.0 + 0.5 + 0.0) / 4)
    assert errors["rmse"] == pytest.approx(((0.25 + 1.0 + 0.25) / 4) ** 0.5)
    assert errors["mape"] == pytest.approx((50 + 50 + 0) / 3) and errors["mape_values"] == 3  # not over the 0


def test_the_naive_forecast_repeats_each_windows_last_target_value():
    # three windows of two steps of two input columns; the target is input column 1
    windows = np.array([[[0, 1], [0, 2]], [[0, 2], [0, 3]], [[0, 3], [0, 5]]], dtype="float32")
    y_true = np.array([[3, 4], [5, 6], [6, 8]], dtype="float32")  # horizon 2, one target
    y_pred = np.array([[3, 4], [5, 6], [6, 8]], dtype="float32")  # a perfect model
    layout = {"targets": ["load"], "horizon": 2, "inputs": [1], "stride": 1, "first_row": 40}
    result = forecast_metrics(y_true, y_pred, windows[:, -1, :], layout)
    assert result["model"]["mae"] == 0.0 and result["targets"] == ["load"] and result["first_row"] == 40
    # naive: 2, 3, 5 for both steps -> step 1 errors 1, 2, 1; step 2 errors 2, 3, 3
    assert result["naive_values"].tolist() == [[2.0], [3.0], [5.0]]
    assert [s["step"] for s in result["steps"]] == [1, 2]
    assert result["steps"][0]["naive_mae"] == pytest.approx(4 / 3)
    assert result["steps"][1]["naive_mae"] == pytest.approx(8 / 3)
    assert result["naive"]["mae"] == pytest.approx(2.0) and result["naive"]["rmse"] == pytest.approx((28 / 6) ** 0.5)


def test_several_targets_are_laid_out_step_after_step():
    last = np.array([[10.0, 1.0], [20.0, 2.0]])
    # two targets (inputs 1 and 0), horizon 2: [t1 a, t1 b, t2 a, t2 b]
    y_true = np.array([[1.0, 10.0, 1.0, 10.0], [2.0, 20.0, 4.0, 20.0]])
    layout = {"targets": ["a", "b"], "horizon": 2, "inputs": [1, 0]}
    result = forecast_metrics(y_true, y_true, last, layout)
    assert result["naive_values"].tolist() == [[1.0, 10.0], [2.0, 20.0]]
    assert result["steps"][0]["naive_mae"] == 0.0 and result["steps"][1]["naive_mae"] == pytest.approx(2 / 4)


def test_a_series_of_one_column_is_its_own_target_without_a_layout():
    last = np.array([[1.0], [2.0]])
    result = forecast_metrics([[2.0, 2.0], [3.0, 4.0]], [[2.0, 2.0], [3.0, 3.0]], last)
    assert result["horizon"] == 2 and result["naive"]["mae"] == pytest.approx((1 + 1 + 1 + 2) / 4)
    wide = forecast_metrics([[2.0], [3.0]], [[2.0], [3.0]], np.array([[1.0, 5.0], [2.0, 6.0]]))
    assert wide["naive"] is None and "did not say which input" in wide["naive_note"]
    with pytest.raises(TrainingError, match="forecasts 3 values per window but the data has 2 steps of 1"):
        forecast_metrics([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]], [[1.0]], {"targets": ["v"], "horizon": 2})


class _Persistence:
    """A 'model' forecasting a damped last value: x[:, -1, 0] * 0.9 + 0.1 * mean of the window."""

    compiled = False

    def predict(self, x, batch_size=32, verbose=0):
        return (0.9 * x[:, -1, :1] + 0.1 * x[:, :, :1].mean(axis=1)).astype("float32")


def test_evaluate_model_reports_a_forecast_beside_the_naive_one():
    series = np.sin(np.arange(120) / 5).astype("float32")
    x = np.stack([series[i:i + 10] for i in range(100)])[:, :, None]
    y = series[10:110, None]
    layout = {"targets": ["value"], "horizon": 1, "inputs": [0], "stride": 1, "first_row": 500}
    result = evaluate_model(_Persistence(), (x, y), TaskInfo(task="forecast"), forecast=layout)
    assert result["task"] == "forecast" and result["samples"] == 100
    for key in ("mae", "rmse", "mse", "mape"):
        assert np.isfinite(result[key]), key  # 'mae nan' was printed after training a forecast
    assert set(result["naive"]) >= {"mae", "rmse", "mape"} and result["naive"]["mae"] > 0
    assert result["forecast"]["first_row"] == 500 and result["forecast"]["steps"][0]["step"] == 1
    assert len(result["y_true"]) == 100 and len(result["y_pred"][0]) == 1
    assert result["y_naive"][3] == [pytest.approx(float(series[12]))]  # window 3's last input
    # without a layout, one input column is taken as the target itself
    again = evaluate_model(_Persistence(), (x, y), TaskInfo(task="forecast"))
    assert again["naive"] == result["naive"] and again["forecast"]["first_row"] is None


# --- a series of several input columns, trained and evaluated through `studio` (issue 14) -------

def _two_column_series_project(folder):
    """A copy of the sine example reading `weather.csv`: temperature and load, forecasting load
    from both (windows of 8 rows; 120 rows: 72 train, 24 validation, 24 test)."""
    import json
    from pathlib import Path

    t = np.arange(120)
    temperature = 10 + 5 * np.sin(t / 6)
    load = 50 + 0.8 * temperature + np.cos(t / 4)
    (folder / "weather.csv").write_text("temperature,load\n" + "\n".join(
        f"{a:.4f},{b:.4f}" for a, b in zip(temperature, load)) + "\n", encoding="utf-8")
    project = json.loads((Path(__file__).resolve().parents[2] / "projects" / "sine-lstm.studio.json")
                         .read_text(encoding="utf-8"))
    project["dataset"] = {"kind": "timeseries", "path": "weather.csv", "window": {"length": 8, "horizon": 1},
                          "split": {"validation": 0.2, "test": 0.2, "seed": 0}}
    project["training"] = {"epochs": 1, "batch_size": 16}
    for node in project["graph"]["nodes"]:
        if node["type"] == "Input":
            node["params"]["batch_shape"] = [None, 8, 2]
    path = folder / "weather.studio.json"
    path.write_text(json.dumps(project), encoding="utf-8")
    return path


def test_the_task_of_a_series_carries_its_forecast_layout(tmp_path):
    from studio import data
    from studio.workflows.train import task_info

    _two_column_series_project(tmp_path)
    prepared = data.prepare({"kind": "timeseries", "path": "weather.csv", "window": {"length": 8, "horizon": 1},
                             "split": {"validation": 0.2, "test": 0.2}}, tmp_path, batch_size=16)
    task = task_info(prepared.info)
    assert task.task == "forecast"
    assert task.forecast == {"targets": ["load"], "horizon": 1, "stride": 1, "length": 8, "inputs": [1],
                             "first_row": 96 + 8}  # the test part starts at row 96; its first window's forecast
    assert TaskInfo.from_dict(task.to_dict()) == task  # as config.json keeps it
    assert "forecast" not in task_info(data.prepare({"kind": "sample", "path": "iris"}).info).to_dict()


def test_a_two_column_series_is_evaluated_beside_the_naive_forecast_by_row(tmp_path, capsys):
    """`studio train` on a series of two input columns: the test windows' forecasts are placed at
    their rows of the series (the Evaluation tab's x axis) and compared with the naive forecast
    (the target's last input value); --json leaves the per-window values in evaluation.json."""
    import json
    from pathlib import Path

    from studio.cli import main

    project = _two_column_series_project(tmp_path)
    capsys.readouterr()
    assert main(["train", str(project), "--json", "--seed", "0"]) == 0
    end = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    evaluation = end["evaluation"]
    assert evaluation["task"] == "forecast" and evaluation["samples"] == 24 - 8 - 1 + 1
    assert np.isfinite(evaluation["naive"]["mae"]) and evaluation["naive"]["mae"] > 0
    assert evaluation["forecast"]["first_row"] == 104 and evaluation["forecast"]["stride"] == 1
    assert evaluation["forecast"]["steps"][0]["naive_mae"] == pytest.approx(evaluation["naive"]["mae"])
    assert not {"y_true", "y_pred", "y_naive"} & set(evaluation)  # one per window: in the file only
    run = Path(end["run_dir"])
    saved = json.loads((run / "evaluation.json").read_text(encoding="utf-8"))
    assert saved["forecast"]["first_row"] == 104 and len(saved["y_naive"]) == len(saved["y_true"]) == 16
    load = np.loadtxt(tmp_path / "weather.csv", delimiter=",", skiprows=1)[:, 1]
    # window w forecasts row 104 + w; its naive forecast is the load of the row before
    np.testing.assert_allclose([v[0] for v in saved["y_naive"]], load[103:119], atol=1e-3)
    np.testing.assert_allclose([v[0] for v in saved["y_true"]], load[104:120], atol=1e-3)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert config["task"]["forecast"]["inputs"] == [1]

    assert main(["evaluate", str(project), "--run", str(run), "--json"]) == 0  # a run evaluated again
    again = json.loads(capsys.readouterr().out)
    assert again["naive"] == evaluation["naive"] and again["forecast"]["first_row"] == 104
    assert "y_naive" not in again

    assert main(["train", str(project), "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^Test split \(16 samples\): mae [\d.e-]+ \(naive [\d.e-]+\)$", out, re.M), out
