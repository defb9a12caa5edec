"""One of each (issue 11): one loss rule (what the data suggests is what "auto" trains
with) and one time format."""

from __future__ import annotations

import pytest

from studio.core.tasks import output_units_for
from studio.data.info import DatasetInfo
from studio.training.config import TrainingConfig


@pytest.mark.parametrize("task, num_classes", [
    ("classification", 2), ("classification", 3), ("classification", 10), ("regression", None),
])
def test_the_data_suggests_what_auto_then_compiles_with(task, num_classes):
    info = DatasetInfo(kind="csv", path="x.csv", task=task, num_classes=num_classes)
    resolved = TrainingConfig().resolve_loss(task, num_classes, "index",
                                             output_units=output_units_for(task, num_classes))
    assert info.suggested_loss == resolved.loss
    assert info.suggested_metrics == resolved.metrics


def test_two_classes_suggest_one_sigmoid_unit_and_binary_crossentropy():
    info = DatasetInfo(kind="csv", path="x.csv", task="classification", num_classes=2)
    assert (info.suggested_activation, info.suggested_loss) == ("sigmoid", "binary_crossentropy")
    info = DatasetInfo(kind="csv", path="x.csv", task="classification", num_classes=4)
    assert (info.suggested_activation, info.suggested_loss) == ("softmax", "sparse_categorical_crossentropy")


@pytest.mark.parametrize("seconds, text", [
    (7.9, "0:07"), (754, "12:34"), (3723, "1:02:03"), (None, "--:--"), (float("nan"), "--:--"),
    (float("inf"), "--:--"), (-3, "0:00"),
])
def test_one_time_format_for_every_view_and_command(seconds, text):
    from studio.core.text import duration

    assert duration(seconds) == text
