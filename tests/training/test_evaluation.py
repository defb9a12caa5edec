"""Evaluation metrics on hand-made predictions, and one real model evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from studio.core.errors import TrainingError
from studio.training.evaluation import (
    confusion_matrix,
    evaluate_model,
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
