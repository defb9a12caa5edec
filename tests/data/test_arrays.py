"""NumPy sources: .npy pairs and .npz with named arrays, and their bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from studio import data
from studio.core.errors import DataError


def blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.normal(0, 1, (n, 5)).astype("float32") + y[:, None] * 3
    return x, y


def test_npy_pair_found_beside_the_features(tmp_path):
    x, y = blobs()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    info = data.describe(str(tmp_path / "x.npy"))
    assert info.kind == "npy" and info.num_samples == 60 and info.feature_shape == (5,)
    assert info.task == "classification" and info.class_counts == [20, 20, 20]
    prepared = data.prepare(str(tmp_path / "x.npy"), batch_size=16)
    assert prepared.counts == {"train": 42, "validation": 12, "test": 6}
    xb, yb = next(iter(prepared.train))
    assert xb.shape == (16, 5) and yb.dtype.name == "int32"


def test_npz_named_arrays_and_regression(tmp_path):
    x, _ = blobs()
    target = (x.sum(axis=1) * 0.37).astype("float32")
    np.savez(tmp_path / "d.npz", features=x, price=target)
    info = data.describe({"kind": "npz", "path": str(tmp_path / "d.npz"), "features": ["features"],
                          "targets": ["price"]})
    assert info.task == "regression" and info.target_shape == (1,)
    prepared = data.prepare({"kind": "npz", "path": "d.npz", "features": ["features"], "targets": ["price"]},
                            tmp_path, batch_size=8)
    _, yb = next(iter(prepared.train))
    assert yb.shape == (8, 1)


def test_npz_with_its_own_test_split_and_label_renumbering(tmp_path):
    x, y = blobs(90)
    np.savez(tmp_path / "d.npz", x_train=x[:60], y_train=y[:60] + 1, x_test=x[60:], y_test=y[60:] + 1)
    info = data.describe(str(tmp_path / "d.npz"))
    assert info.split_sizes["test"] == 30 and info.class_names == ["1", "2", "3"]
    assert any("numbered 0..2" in p.message for p in info.problems)
    prepared = data.prepare(str(tmp_path / "d.npz"), batch_size=64)
    assert prepared.counts["test"] == 30
    xt, yt = next(iter(prepared.test))
    assert np.allclose(xt.numpy(), x[60:]) and np.array_equal(yt.numpy(), y[60:])


def test_one_hot_targets_become_class_indices(tmp_path):
    x, y = blobs()
    np.savez(tmp_path / "d.npz", x=x, y=np.eye(3)[y])
    info = data.describe(str(tmp_path / "d.npz"))
    assert info.task == "classification" and info.num_classes == 3 and info.target_shape == ()


def test_string_labels(tmp_path):
    x, y = blobs()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "labels.npy", np.array(["ant", "bee", "cow"])[y])
    info = data.describe({"kind": "npy", "path": str(tmp_path / "x.npy")})
    assert info.class_names == ["ant", "bee", "cow"]


@pytest.mark.parametrize("case, words", [
    ("mismatch", ["60 samples", "50"]),
    ("missing_array", ["no features array", "'a'", "'b'"]),
    ("wrong_name", ["no array named 'pixels'"]),
    ("objects", ["Python objects"]),
    ("not_npz", ["not a NumPy .npz file"]),
    ("empty", ["empty"]),
    ("no_targets", ["no targets file"]),
    ("nan", ["missing or infinite values", "sample 3"]),
])
def test_bad_arrays(tmp_path, case, words):
    x, y = blobs()
    spec = {"kind": "npz", "path": str(tmp_path / "d.npz")}
    if case == "mismatch":
        np.savez(tmp_path / "d.npz", x=x, y=y[:50])
    elif case == "missing_array":
        np.savez(tmp_path / "d.npz", a=x, b=y)
    elif case == "wrong_name":
        np.savez(tmp_path / "d.npz", x=x, y=y)
        spec["features"] = ["pixels"]
    elif case == "objects":
        np.savez(tmp_path / "d.npz", x=np.array([[1], [1, 2]], dtype=object), y=y[:2])
    elif case == "not_npz":
        (tmp_path / "d.npz").write_text("hello")
    elif case == "empty":
        (tmp_path / "d.npz").write_bytes(b"")
    elif case == "no_targets":
        np.save(tmp_path / "feat.npy", x)
        spec = {"kind": "npy", "path": str(tmp_path / "feat.npy")}
    elif case == "nan":
        x[3, 1] = np.nan
        np.savez(tmp_path / "d.npz", x=x, y=y)
    try:
        info = data.describe(spec)
        message = info.errors[0].message
    except DataError as exc:
        message = str(exc)
    assert "\n" not in message
    for word in words:
        assert word in message, message
