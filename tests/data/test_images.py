"""Image folders: formats, sizes, unreadable files counted, empty classes, streamed batches."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio import data
from studio.core.errors import DataError


def make_folder(root, per_class=6, size=(12, 10), mode="RGB", formats=("png", "jpg", "bmp", "gif")):
    rng = np.random.default_rng(0)
    for k, name in enumerate(("dark", "light")):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            base = 40 if k == 0 else 200
            pixels = np.clip(rng.normal(base, 10, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
            img = Image.fromarray(pixels, "RGB").convert(mode)
            img.save(root / name / f"img{i}.{formats[i % len(formats)]}")
    return root


def test_describe_counts_classes_and_size(tmp_path):
    root = make_folder(tmp_path / "imgs")
    info = data.describe(str(root))
    assert info.kind == "images" and info.task == "classification"
    assert info.class_names == ["dark", "light"] and info.class_counts == [6, 6]
    assert info.feature_shape == (10, 12, 3) and info.image_size == (10, 12, 3)
    assert len(info.preview_items) == 12 and info.preview_items[0][1] == "dark"
    assert info.ok


def test_grayscale_images_give_one_channel_and_resize_option(tmp_path):
    root = make_folder(tmp_path / "g", mode="L", formats=("png",))
    assert data.describe(str(root)).feature_shape == (10, 12, 1)
    info = data.describe({"kind": "images", "path": str(root), "image": {"size": [8, 8], "color": "rgb"}})
    assert info.feature_shape == (8, 8, 3)


def test_prepare_streams_decoded_resized_batches(tmp_path):
    root = make_folder(tmp_path / "imgs", per_class=10)
    prepared = data.prepare({"kind": "images", "path": str(root), "image": {"size": [16, 16]}}, batch_size=4)
    assert prepared.counts == {"train": 14, "validation": 4, "test": 2}
    x, y = next(iter(prepared.train))
    assert x.shape == (4, 16, 16, 3) and x.dtype.name == "float32"
    assert float(x.numpy().max()) > 1.0  # raw pixels; the model rescales
    assert prepared.preprocessing["rescale"] == pytest.approx(1 / 255)
    xs, ys = [], []
    for xb, yb in prepared.validation:
        xs.append(xb.numpy())
        ys.append(yb.numpy())
    xs, ys = np.concatenate(xs), np.concatenate(ys)
    # dark images are dark, light are light: decoding kept the labels with their pixels
    assert np.all(xs[ys == 0].mean(axis=(1, 2, 3)) < 100) and np.all(xs[ys == 1].mean(axis=(1, 2, 3)) > 150)


def test_unreadable_images_are_skipped_and_counted(tmp_path):
    root = make_folder(tmp_path / "imgs")
    (root / "dark" / "broken.png").write_bytes(b"not really a png")
    (root / "light" / "notes.txt").write_text("ignored: not an image name")
    info = data.describe(str(root))
    assert info.skipped == 1 and info.class_counts == [6, 6]
    assert any("1 of 13 files cannot be read" in p.message and "broken.png" in p.message for p in info.warnings)
    prepared = data.prepare(str(root), batch_size=64)
    assert sum(prepared.counts.values()) == 12


def test_all_images_unreadable_is_an_error(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.jpg").write_bytes(b"\x00garbage")
    with pytest.raises(DataError, match="none of the 2 image files can be read"):
        data.describe({"kind": "images", "path": str(tmp_path)})


def test_empty_class_folder_is_reported_and_left_out(tmp_path):
    root = make_folder(tmp_path / "imgs")
    (root / "zebra").mkdir()
    info = data.describe(str(root))
    assert info.class_names == ["dark", "light"]
    assert any("'zebra' has no images" in p.message for p in info.warnings)


def test_one_class_only_is_an_error(tmp_path):
    root = make_folder(tmp_path / "imgs")
    for f in (root / "light").iterdir():
        f.unlink()
    info = data.describe({"kind": "images", "path": str(root)})
    assert not info.ok and "same class 'dark'" in info.errors[0].message


def test_folder_without_class_subfolders(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    with pytest.raises(DataError, match="no class subfolders"):
        data.describe({"kind": "images", "path": str(tmp_path)})


def test_files_tensorflow_cannot_decode_are_skipped_at_describe(tmp_path):
    root = make_folder(tmp_path / "imgs", formats=("png",))
    Image.new("RGB", (12, 10)).save(root / "dark" / "really.jpg", format="WEBP")  # another format, renamed
    raw = (root / "light" / "img0.png").read_bytes()
    (root / "light" / "cut.png").write_bytes(raw[: len(raw) // 2])  # a cut-off download
    info = data.describe(str(root))
    assert info.skipped == 2 and info.class_counts == [6, 6]
    assert any("2 of 14 files cannot be read" in p.message for p in info.warnings)


def test_splits_have_a_known_size_and_train_without_warnings(tmp_path):
    import warnings

    import keras

    root = make_folder(tmp_path / "imgs", per_class=10)
    prepared = data.prepare({"kind": "images", "path": str(root), "image": {"size": [8, 8]}}, batch_size=4)
    assert prepared.train.cardinality().numpy() == 4  # 14 training images in batches of 4
    assert prepared.validation.cardinality().numpy() == 1
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. Keras' "Your input ran out of data"
        model.fit(prepared.train, validation_data=prepared.validation, epochs=2, shuffle=False, verbose=0)


def test_large_folders_are_streamed_from_disk_not_cached(tmp_path, monkeypatch):
    from studio.data import pipeline

    monkeypatch.setattr(pipeline, "IN_MEMORY_BYTES", 0)  # every folder counts as too big to keep
    root = make_folder(tmp_path / "imgs", per_class=10, formats=("png",))
    prepared = data.prepare({"kind": "images", "path": str(root), "image": {"size": [8, 8]}}, batch_size=5)
    assert prepared.train.cardinality().numpy() == 3
    first = np.concatenate([x.numpy() for x, _ in prepared.train])
    for f in root.rglob("*.png"):  # the files change on disk between two epochs
        Image.new("RGB", (12, 10), (255, 255, 255)).save(f)
    second = np.concatenate([x.numpy() for x, _ in prepared.train])
    assert len(first) == len(second) == 14
    assert first.mean() < 200 and second.min() == 255  # read again from disk, not from a cache
