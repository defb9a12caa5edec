"""The one rule for what a task trains with (pure): loss, metrics, last activation.

`TrainingConfig.resolve_loss` (what the model is compiled with when the loss
is "auto") and `DataInfo.suggested_*` (what `studio data` and the Data panel
suggest for a file) both ask these functions, so what the data suggests is
what training then uses.
"""

from __future__ import annotations

from typing import Optional


def auto_loss(task: str, label_encoding: str = "index", output_units: Optional[int] = None) -> str:
    """regression -> mean_squared_error; classification with one-hot labels ->
    categorical_crossentropy; binary or multi-label targets, or a single (sigmoid)
    output unit -> binary_crossentropy; otherwise (class indices) ->
    sparse_categorical_crossentropy."""
    if task != "classification":
        return "mean_squared_error"
    if label_encoding == "onehot":
        return "categorical_crossentropy"
    if label_encoding in ("binary", "multilabel") or output_units == 1:
        return "binary_crossentropy"
    return "sparse_categorical_crossentropy"


def auto_metrics(task: str, label_encoding: str = "index") -> list[str]:
    if task != "classification":
        return ["mae"]
    if label_encoding == "multilabel":
        return ["binary_accuracy"]
    return ["accuracy"]


def output_units_for(task: str, num_classes: Optional[int]) -> Optional[int]:
    """The units of the output layer a task needs: one sigmoid unit for two classes,
    one per class otherwise; one for a regression on one target."""
    if task != "classification":
        return 1
    if num_classes == 2:
        return 1
    return num_classes


def output_activation(task: str, num_classes: Optional[int]) -> str:
    if task != "classification":
        return "linear"
    return "sigmoid" if output_units_for(task, num_classes) == 1 else "softmax"
