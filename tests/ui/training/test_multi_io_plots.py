"""A model with several outputs logs each output's loss and metrics as OUTPUT_metric: the training
plots show one plot per output metric, each with its train and validation curves."""

from __future__ import annotations

from studio.training.history import MetricsHistory
from studio.ui.training.plots import MetricsPlots

# What Keras logs for a model with a class head "kind" and a number head "amount".
NAMES = ("loss", "kind_loss", "amount_loss", "kind_accuracy", "amount_mae")


def test_each_outputs_metrics_get_their_own_plot_with_validation_curves(qtbot):
    history = MetricsHistory()
    for epoch in range(1, 4):
        history.add_batches([epoch - 0.5, float(epoch)], {n: [1.0 / epoch, 0.9 / epoch] for n in NAMES})
        history.add_epoch(epoch, {**{n: 1.0 / epoch for n in NAMES}, **{"val_" + n: 1.1 / epoch for n in NAMES},
                                  "learning_rate": 0.01})
    plots = MetricsPlots(history)
    qtbot.addWidget(plots)
    plots.refresh(force=True)
    assert plots.plot_names() == [*NAMES, "learning_rate"]
    for name in ("kind_accuracy", "amount_mae", "kind_loss"):
        assert plots.curve_points(name, "train") == 3 and plots.curve_points(name, "val") == 3, name
