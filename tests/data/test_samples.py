"""Bundled samples: generators are deterministic, every sample describes cleanly, Keras
downloads fail with a clear message when offline and nothing is cached."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from studio import data
from studio.core.errors import DataError
from studio.data import registry, samples

LOCAL = [name for name, s in registry.SAMPLES.items() if s.origin != "download"]


def test_generators_are_deterministic_and_seeded():
    assert samples.spirals(seed=3) == samples.spirals(seed=3)
    assert samples.spirals(seed=3) != samples.spirals(seed=4)
    assert samples.short_text(seed=1) == samples.short_text(seed=1)
    x1, y1 = samples.digits(n=50, seed=2)
    x2, y2 = samples.digits(n=50, seed=2)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert x1.shape == (50, 8, 8, 1) and x1.max() <= 16 and set(y1.tolist()) <= set(range(10))


def test_digits_of_a_class_look_alike():
    x, y = samples.digits(n=400, seed=0)
    x = x.reshape(len(x), -1).astype(float)
    means = np.stack([x[y == k].mean(axis=0) for k in range(10)])
    nearest = np.argmin(((x[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert (nearest == y).mean() > 0.8  # a nearest-mean classifier already does well


@pytest.mark.parametrize("name", LOCAL)
def test_every_local_sample_describes_cleanly(name):
    info = data.describe({"kind": "sample", "path": name})
    assert info.ok, info.problems
    assert info.num_samples > 100 and info.title == registry.SAMPLES[name].title
    if info.task == "classification":
        assert info.num_classes >= 2 and min(info.class_counts) > 10


def test_committed_tables_match_their_generators(tmp_path):
    written = samples.write_bundled(tmp_path)
    for path in written:
        committed = registry.resources_dir() / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{path.name} differs from its generator"


def test_iris_is_the_real_data():
    info = data.describe("iris")
    assert info.num_samples == 150 and info.class_counts == [50, 50, 50]
    petal = info.column("petal_length")
    assert (petal.minimum, petal.maximum) == (1.0, 6.9)


def test_readme_names_every_sample_and_licence():
    text = (registry.resources_dir() / "README.md").read_text(encoding="utf-8")
    for sample in registry.SAMPLES.values():
        assert sample.file in text or sample.name in text
    assert "NOT the UCI" in text or "not the UCI" in text


@pytest.mark.parametrize("name", ["mnist", "cifar10", "imdb"])
def test_keras_sets_without_network_or_cache_say_so(name):
    with pytest.raises(DataError) as err:
        data.describe({"kind": "sample", "path": name})
    message = str(err.value)
    assert "not in the cache" in message and "connect to the internet once" in message and "\n" not in message


def test_download_failure_without_network_is_a_clear_error(monkeypatch, sample_cache):
    monkeypatch.delenv("STUDIO_OFFLINE")

    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(DataError) as err:
        data.describe({"kind": "sample", "path": "mnist"})
    assert "could not be downloaded" in str(err.value)
    assert not list((sample_cache / "datasets" / "downloads").glob("mnist*"))  # no partial file left


def test_cached_mnist_file_is_used_without_network(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path))
    folder = tmp_path / "datasets" / "downloads"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.savez(folder / "mnist.npz", x_train=rng.integers(0, 255, (30, 28, 28), dtype=np.uint8),
             y_train=np.arange(30) % 10, x_test=rng.integers(0, 255, (10, 28, 28), dtype=np.uint8),
             y_test=np.arange(10))
    info = data.describe({"kind": "sample", "path": "mnist"})
    assert info.kind == "keras" and info.feature_shape == (28, 28, 1) and info.num_classes == 10
    assert info.split_sizes["test"] == 10


def test_describe_never_imports_tensorflow(tmp_path, sample_cache):
    import subprocess
    import sys
    from pathlib import Path

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "a.npz", x=rng.normal(size=(20, 3)), y=np.arange(20) % 2)
    code = f"""
import sys
import studio.data as d
for spec in ("iris", "digits", "shapes", "sine", "short-text", "spirals", {str(tmp_path / "a.npz")!r}):
    d.describe(spec)
try:
    d.describe("mnist")
except Exception:
    pass
print(sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
"""
    env = {**__import__("os").environ, "STUDIO_CACHE_DIR": str(sample_cache), "STUDIO_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2], env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"
