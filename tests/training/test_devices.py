"""The devices TensorFlow sees, start-time device settings, `--device` checks
and `studio --version [--verbose]` (issue 16, point 1).

These run on the CPU-only test machines: a GPU, when there is one, only adds
devices to what is checked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.errors import TrainingError
from studio.training import devices
from tests.cli.helpers import REPO, assert_one_clear_line, studio

EXAMPLE = REPO / "projects" / "iris-mlp.studio.json"


def _python(code: str, config: Path) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python (TensorFlow's devices are fixed once per process)."""
    env = dict(os.environ, STUDIO_CONFIG_DIR=str(config), TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def config(tmp_path, monkeypatch):
    folder = tmp_path / "config"
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(folder))
    return folder


# --- start-time settings (no TensorFlow) ------------------------------------------------------
def test_settings_default_without_a_file(config):
    assert devices.load_startup_settings() == devices.StartupSettings()
    assert devices.startup_settings_path() == config / devices.STARTUP_FILE
    assert not config.exists()  # reading never writes


def test_settings_round_trip(config):
    saved = devices.StartupSettings(visible_gpus=[2, 0, 2], memory_growth=True, cpu_split=2)
    path = devices.save_startup_settings(saved)
    assert path == config / devices.STARTUP_FILE
    loaded = devices.load_startup_settings()
    assert loaded.visible_gpus == [0, 2] and loaded.memory_growth and loaded.cpu_split == 2
    assert "CPU split into 2" in loaded.describe() and "GPUs 0, 2" in loaded.describe()


@pytest.mark.parametrize(
    "data, word",
    [
        ({"cpu_split": 0}, "cpu_split"),
        ({"gpu_split": 99}, "gpu_split"),
        ({"visible_gpus": "0"}, "visible_gpus"),
        ({"memory_growth": "yes"}, "memory_growth"),
        ({"gpu_split_memory_mb": 1}, "gpu_split_memory_mb"),
        ({"cpu_splits": 2}, "cpu_splits"),
        ([1], "JSON object"),
    ],
)
def test_bad_settings_name_the_setting(config, data, word):
    config.mkdir()
    (config / devices.STARTUP_FILE).write_text(json.dumps(data))
    with pytest.raises(TrainingError, match=word):
        devices.load_startup_settings()


def test_settings_file_not_json(config):
    config.mkdir()
    (config / devices.STARTUP_FILE).write_text("{")
    with pytest.raises(TrainingError, match="not JSON"):
        devices.load_startup_settings()


# --- the devices there are --------------------------------------------------------------------
def test_list_devices_has_the_cpu(config):
    pytest.importorskip("tensorflow")
    found = devices.list_devices()
    assert found[0].name == "cpu" and found[0].kind == "CPU"
    assert [d.name for d in found if d.kind == "GPU"] == [f"gpu:{i}" for i in range(len(found) - 1)]
    assert "cpu" in found[0].label()


def test_cpu_box_has_no_gpu_and_says_why(config):
    tf = pytest.importorskip("tensorflow")
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    assert [d.kind for d in devices.list_devices()] == ["CPU"]
    assert devices.no_gpu_reason()
    with pytest.raises(TrainingError) as caught:
        devices.check_device("gpu:3")
    message = str(caught.value)
    assert "there is no gpu:3" in message and "cpu (the CPU" in message and "no GPU" in message
    assert "use --device cpu or auto" in message
    devices.check_device("cpu")
    devices.check_device("auto")


def test_cpu_split_into_two_logical_devices_at_start(tmp_path):
    pytest.importorskip("tensorflow")
    devices.save_startup_settings(devices.StartupSettings(cpu_split=2), tmp_path / devices.STARTUP_FILE)
    code = (
        "from studio.training import devices\n"
        "for d in devices.list_devices():\n"
        "    print(d.name, d.kind, d.logical, d.tf_name)\n"
        "print(devices.place('auto', 'mirrored').description)\n"
    )
    proc = _python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "cpu CPU True /device:CPU:0" in lines and "cpu:1 CPU True /device:CPU:1" in lines
    if not any(" GPU " in line for line in lines):  # no GPU: the mirrored strategy uses the two CPUs
        assert "2 replica(s)" in lines[-1]


def test_settings_after_tensorflow_started_are_a_note(tmp_path):
    pytest.importorskip("tensorflow")
    devices.save_startup_settings(devices.StartupSettings(cpu_split=2), tmp_path / devices.STARTUP_FILE)
    code = (
        "import tensorflow as tf\n"
        "tf.config.list_logical_devices()\n"  # TensorFlow sets its devices up here
        "from studio.training import devices\n"
        "print(devices.apply_startup_settings())\n"
        "print(len(tf.config.list_logical_devices('CPU')))\n"
    )
    proc = _python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    notes, cpus = proc.stdout.splitlines()[-2:]
    assert "next start" in notes and cpus == "1"


# --- the command line -------------------------------------------------------------------------
def test_train_on_a_gpu_that_is_not_there_names_the_devices(tmp_path):
    """Issue 16's acceptance: `--device gpu:3` on a CPU box names the devices that exist."""
    tf = pytest.importorskip("tensorflow")
    if len(tf.config.list_physical_devices("GPU")) > 3:
        pytest.skip("this machine has a gpu:3")
    if not EXAMPLE.is_file():
        pytest.skip("the bundled iris example is missing")
    project = tmp_path / "iris.studio.json"
    shutil.copy(EXAMPLE, project)
    result = studio("train", project, "--epochs", "1", "--device", "gpu:3")
    line = assert_one_clear_line(
        result, "--device gpu:3", "there is no gpu:3", "cpu (the CPU", "use --device cpu"
    )
    if not tf.config.list_physical_devices("GPU"):
        assert "no GPU (" in line
    assert not list(tmp_path.glob("*.runs/*"))  # refused before a run folder was made


def test_version_verbose_reports_tensorflow_and_devices(tmp_path):
    tf = pytest.importorskip("tensorflow")
    result = studio("--version", "--verbose")
    assert result.rc == 0, result.err
    assert "Traceback" not in result.err
    lines = dict(line.split(":", 1) for line in result.out.splitlines())
    assert tf.__version__ in lines["TensorFlow"]
    assert "Built with CUDA" in lines and "Devices" in lines and "cpu (the CPU" in lines["Devices"]
    if not tf.config.list_physical_devices("GPU"):
        assert lines["No GPU because"].strip()
    # where downloads go, for a person who fetches a module or weights file on another machine
    assert "TFHUB_CACHE_DIR" in lines["Hub module cache"] and "KERAS_HOME" in lines["Keras weights cache"]


def test_version_alone_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from studio.cli import main\n"
        "assert main(['--version']) == 0\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["Network Studio 0.1.0", "False False"]
