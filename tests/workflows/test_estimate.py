"""The pre-flight estimate (studio/workflows/estimate.py) and `studio check --estimate`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studio.graph.inference import analyse
from studio.project.io import load_project, save_project
from studio.project.templates import make_project
from studio.workflows import estimate as est


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "cfg"))
    path = tmp_path / "p.studio.json"
    save_project(make_project("mlp", name="p"), path)
    return load_project(path)


def calibration(**changes) -> est.Calibration:
    values = dict(device="cpu: test", call_s=0.001, step_s=0.0005, flops_per_s={"dense": 1e9}, trace_s=2.0,
                  runtime_bytes=10_000_000, layer_bytes=1_000_000)
    values.update(changes)
    return est.Calibration(**values)


def with_training(project, **training):
    project.training = {**project.training, **training}
    return project


@pytest.mark.parametrize("optimizer,params,slots", [("sgd", {}, 0), ("sgd", {"momentum": 0.9}, 1),
                                                    ("adam", {}, 2), ("rmsprop", {"centered": True}, 2)])
def test_optimizer_state_memory_follows_the_chosen_optimizer(project, optimizer, params, slots):
    with_training(project, optimizer=optimizer, optimizer_params=params)
    e = est.estimate(project, analyse(project.graph))
    assert e.optimizer_slots == slots
    assert e.optimizer_bytes == 4 * slots * e.trainable_params > 0 or slots == 0
    assert e.weights_bytes == 4 * e.params


def test_activation_and_data_memory_grow_linearly_with_the_batch(project):
    report = analyse(project.graph)
    sizes = [est.estimate(project, report, batch_size=b) for b in (8, 16, 32)]
    assert sizes[0].activation_bytes > 0
    assert sizes[1].activation_bytes == 2 * sizes[0].activation_bytes
    assert sizes[2].activation_bytes == 4 * sizes[0].activation_bytes
    assert sizes[2].data_bytes == 4 * sizes[0].data_bytes
    assert sizes[0].weights_bytes == sizes[2].weights_bytes


def test_mixed_precision_halves_the_activations(project):
    report = analyse(project.graph)
    full = est.estimate(project, report)
    half = est.estimate(with_training(project, mixed_precision=True), report)
    assert half.activation_bytes * 2 == full.activation_bytes


def test_time_per_epoch_needs_a_calibration_and_grows_with_the_data(project):
    report = analyse(project.graph)
    assert est.estimate(project, report, samples=1000).epoch_seconds is None
    small = est.estimate(project, report, samples=1000, calibration=calibration())
    large = est.estimate(project, report, samples=4000, calibration=calibration())
    assert small.epoch_seconds > 0 and large.epoch_seconds > 2 * small.epoch_seconds
    assert small.first_epoch_seconds == pytest.approx(small.epoch_seconds + 2.0)
    slow = est.estimate(project, report, samples=1000, calibration=calibration(flops_per_s={"dense": 1e6}))
    assert slow.epoch_seconds > small.epoch_seconds


def test_the_calibration_is_cached_per_device(project):
    assert est.cached_calibration() is None
    est.save_calibration(calibration())
    est.save_calibration(calibration(device="gpu: other", measured_at=1.0))
    assert est.cached_calibration("cpu: test") == calibration()
    assert est.cached_calibration("gpu: other").device == "gpu: other"


def test_check_estimate_json_has_the_estimate_and_the_latest_run(project, tmp_path):
    est.save_calibration(calibration())
    run = project.runs_dir / "20260101-000000-abcdef"
    run.mkdir(parents=True)
    (run / "status.json").write_text(json.dumps({
        "status": "completed", "measured": {"epoch_seconds": [3.0, 0.5], "peak_memory_bytes": 20_000_000,
                                            "memory_method": "peak RSS during fit minus RSS before fit"}}))
    out = subprocess.run([sys.executable, "-m", "studio", "check", str(project.path), "--estimate", "--json"],
                         capture_output=True, text=True, env=_env(tmp_path))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)["estimate"]
    for key in ("weights_bytes", "gradient_bytes", "optimizer_bytes", "activation_bytes", "data_bytes",
                "runtime_bytes", "total_bytes", "optimizer_slots", "forward_flops", "epoch_seconds",
                "first_epoch_seconds", "steps_per_epoch", "device", "latest_run"):
        assert key in data
    assert data["device"] == "cpu: test"
    latest = data["latest_run"]
    assert latest["run"] == run.name
    assert latest["measured_epoch_seconds"] == 0.5 and latest["measured_peak_bytes"] == 20_000_000
    assert latest["memory_ratio"] == pytest.approx(data["total_bytes"] / 20_000_000)
    text = subprocess.run([sys.executable, "-m", "studio", "check", str(project.path), "--estimate"],
                          capture_output=True, text=True, env=_env(tmp_path))
    assert "time per epoch" in text.stdout and "estimated vs measured" in text.stdout


def _env(tmp_path):
    import os

    return dict(os.environ, STUDIO_CONFIG_DIR=str(tmp_path / "cfg"), TF_CPP_MIN_LOG_LEVEL="3")



def test_a_masked_recurrent_layer_uses_its_own_calibrated_memory():
    from pathlib import Path

    text_gru = load_project(Path(__file__).resolve().parents[2] / "projects" / "text-gru.studio.json")
    report = analyse(text_gru.graph)
    kinds = {"recurrent": 5_000_000, "recurrent-masked": 9_000_000}
    old = est.estimate(text_gru, report, calibration=calibration(kind_bytes={"recurrent": 5_000_000}))
    new = est.estimate(text_gru, report, calibration=calibration(kind_bytes=kinds))
    assert new.runtime_bytes - old.runtime_bytes == 4_000_000  # an older calibration: the plain kind
    text_gru.graph.node(next(n.id for n in text_gru.graph.nodes if n.type == "Embedding")).params["mask_zero"] = False
    unmasked = est.estimate(text_gru, analyse(text_gru.graph), calibration=calibration(kind_bytes=kinds))
    assert unmasked.runtime_bytes == old.runtime_bytes
