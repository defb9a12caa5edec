"""Evaluation metrics on hand-made predictions, and one real model evaluation."""

from __future__ import annotations

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
