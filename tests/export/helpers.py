"""Shared checks for export tests: two models are the same network."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

from studio.export.verify import max_abs_diff, predict, sample_inputs


def layer_summary(model) -> list[tuple[str, str, int]]:
    return [(type(layer).__name__, layer.name, layer.count_params()) for layer in model.layers]


def _normal(value):
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def assert_same_model(expected, got, atol: float = 1e-5) -> float:
    """Same layer classes, names and order, same configs and parameter count,
    and the same outputs once `got` has `expected`'s weights."""
    assert layer_summary(got) == layer_summary(expected)
    for a, b in zip(expected.layers, got.layers):
        assert _normal(b.get_config()) == _normal(a.get_config()), a.name
    assert got.count_params() == expected.count_params()
    got.set_weights(expected.get_weights())
    x = sample_inputs(expected, batch=3)
    diff = max_abs_diff(predict(expected, x), predict(got, x))
    assert diff <= atol, diff
    assert np.isfinite(diff)
    return diff


def import_script(path: Path, module_name: str | None = None) -> ModuleType:
    """Import a generated script as a module (its `main()` does not run). Tests only: the app never
    runs generated code in its own process."""
    path = Path(path)
    name = module_name or f"_studio_export_{path.stem}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def run_script(script: Path) -> str:
    """`python SCRIPT` in a fresh process that sees no GPU, from its folder; its stdout.

    The script must exit 0, warn about nothing (e.g. a checkpoint watching a missing
    metric) and have trained (printed a loss)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, script.name], capture_output=True, text=True, cwd=script.parent,
                         env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Warning" not in run.stderr, run.stderr[-2000:]
    assert "loss:" in run.stdout, run.stdout[-2000:]
    return run.stdout


RUFF = Path(sys.executable).with_name("ruff")


def assert_ruff_clean(path: Path) -> None:
    """A generated script passes ruff's checks and is formatted as `ruff format` would."""
    lint = subprocess.run([str(RUFF), "check", "--isolated", "--select", "E,W,F,I,B,UP", str(path)],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run([str(RUFF), "format", "--isolated", "--check", str(path)], capture_output=True,
                         text=True)
    assert fmt.returncode == 0, (path.name, fmt.stdout)
