"""MetricsHistory: appending, alignment of missing metrics, CSV round trip, helpers."""

from __future__ import annotations

import math

import pytest

from studio.training.history import MetricsHistory, interval_mean, smooth


def test_batches_and_epochs_append_and_bump_version():
    history = MetricsHistory()
    assert history.epochs_done == 0 and history.batch_count == 0
    history.add_batches([0.25, 0.5], {"loss": [2.0, 1.5]})
    v = history.version
    history.add_batches([0.75, 1.0], {"loss": [1.2, 1.0], "accuracy": [0.5, 0.6]})
    assert history.version > v
    assert list(history.batch_x) == [0.25, 0.5, 0.75, 1.0]
    assert list(history.batch["loss"]) == [2.0, 1.5, 1.2, 1.0]
    acc = list(history.batch["accuracy"])
    assert math.isnan(acc[0]) and math.isnan(acc[1]) and acc[2:] == [0.5, 0.6]
    history.add_epoch(1, {"loss": 1.1, "val_loss": 1.3, "accuracy": 0.55})
    history.add_epoch(2, {"loss": 0.9, "val_loss": 1.0, "accuracy": 0.7, "val_accuracy": 0.6, "lr": 0.001})
    assert history.epochs_done == 2
    assert math.isnan(history.epoch["val_accuracy"][0])
    assert history.metric_names() == ["loss", "accuracy"]
    assert history.last_epoch_logs()["val_accuracy"] == 0.6
    assert history.best_epoch("val_loss") == (2, 1.0)
    assert history.best_epoch("val_accuracy") == (2, 0.6)
    assert history.best_epoch("nope") is None


def test_mismatched_batch_lengths_are_refused():
    with pytest.raises(ValueError):
        MetricsHistory().add_batches([1.0, 2.0], {"loss": [1.0]})


def test_csv_round_trip_keeps_epochs_and_missing_values(tmp_path):
    history = MetricsHistory()
    history.add_epoch(1, {"loss": 1.0, "val_loss": float("nan")})
    history.add_epoch(2, {"loss": 0.5, "val_loss": 0.75, "accuracy": 0.125})
    path = tmp_path / "history.csv"
    history.to_csv(path)
    again = MetricsHistory.from_csv(path)
    assert list(again.epoch_x) == [1.0, 2.0]
    assert list(again.epoch["loss"]) == [1.0, 0.5]
    assert math.isnan(again.epoch["val_loss"][0]) and again.epoch["val_loss"][1] == 0.75
    assert math.isnan(again.epoch["accuracy"][0])


def test_extend_appends_an_earlier_run():
    first = MetricsHistory()
    first.add_batches([0.5, 1.0], {"loss": [2.0, 1.0]})
    first.add_epoch(1, {"loss": 1.5})
    second = MetricsHistory()
    second.extend(first)
    second.add_epoch(2, {"loss": 1.0})
    assert list(second.epoch["loss"]) == [1.5, 1.0]
    assert list(second.batch["loss"]) == [2.0, 1.0]


def test_smooth_is_debiased_and_follows_a_constant():
    assert smooth([3.0, 3.0, 3.0]) == pytest.approx([3.0, 3.0, 3.0])
    out = smooth([0.0, 10.0], weight=0.5)
    assert out[0] == 0.0 and 0.0 < out[1] < 10.0
    assert math.isnan(smooth([float("nan")])[0])


def test_interval_mean_recovers_the_batches_between_running_means():
    # batches of losses 4, 2 | 1, 1: running means after 2 and 4 batches are 3 and 2.
    assert interval_mean(3.0, 2, 2.0, 4) == pytest.approx(1.0)
    assert interval_mean(0.0, 0, 3.0, 2) == pytest.approx(3.0)
