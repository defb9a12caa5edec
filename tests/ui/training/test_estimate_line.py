"""The pre-flight estimate beside Train follows the settings the user changes."""

from __future__ import annotations

from studio.workflows import estimate as est
from tests.ui.training.conftest import iris_panel


def test_the_estimate_beside_train_follows_the_batch_size_and_uses_the_cached_calibration(qtbot, tmp_path):
    est.save_calibration(est.Calibration(device="cpu: test", call_s=0.001, step_s=0.001,
                                         flops_per_s={"dense": 1e9}, trace_s=1.0, runtime_bytes=30 * 1024 * 1024))
    panel = iris_panel(qtbot, tmp_path)
    line = panel.estimate_line
    qtbot.waitUntil(lambda: line.estimate is not None and "per epoch" in line.text(), timeout=20_000)
    assert "needs ~" in line.text() and "MB" in line.text()
    assert "optimizer state" in line.toolTip() and "activations" in line.toolTip()
    before = line.estimate
    panel.settings.batch_size.setValue(before["batch_size"] * 4)
    qtbot.waitUntil(lambda: line.estimate["batch_size"] == before["batch_size"] * 4, timeout=20_000)
    assert line.estimate["activation_bytes"] == 4 * before["activation_bytes"]
    assert line.estimate["steps_per_epoch"] < before["steps_per_epoch"]
    panel.shutdown()


def test_without_a_calibration_the_line_offers_to_calibrate(qtbot, tmp_path):
    panel = iris_panel(qtbot, tmp_path)
    line = panel.estimate_line
    qtbot.waitUntil(lambda: line.estimate is not None, timeout=20_000)
    assert "calibrate" in line.text() and line.estimate["epoch_seconds"] is None
    # iris' model is a few KB: the line says so (not "~0 MB"), and that TensorFlow's own
    # memory, which only a calibration measures, comes on top
    assert "~0 MB" not in line.text() and "KB + TensorFlow's own" in line.text()
    panel.shutdown()
