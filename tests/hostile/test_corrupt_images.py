"""Issue 10, the last point: a JPEG damaged in the middle of its entropy-coded data.

Pillow decodes such a file without a word (its decoder hides libjpeg's warnings), so `studio
data` cannot tell it from a good one; TensorFlow's decoder prints "Corrupt JPEG data: ..." straight
to the process's stderr. Training finds these files before building the pipeline (each JPEG decoded
once at 1/8 scale with fd 2 captured), skips them and says so in one warning: no libjpeg line ever
reaches the user's terminal.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio import data
from studio.data import stderr_capture
from studio.data.sources import images
from studio.data.stderr_capture import capture_fd2
from tests.cli.helpers import studio
from tests.hostile.test_data_files import project


@pytest.fixture(autouse=True)
def _isolated_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "studio-cache"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")


def corrupt_jpeg(seed: int = 0, side: int = 64) -> bytes:
    """A JPEG of noise with bytes flipped mid-stream: its markers and end-of-image are intact."""
    pixels = (np.random.default_rng(seed).random((side, side, 3)) * 255).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90)
    raw = bytearray(buf.getvalue())
    for i in range(len(raw) // 2, len(raw) // 2 + 40, 3):
        raw[i] ^= 0x55
    return bytes(raw)


def shapes(root: Path, per_class: int = 4, bad: str = "circle/bad.jpg") -> Path:
    """Three classes of good 32x32 JPEGs plus one mid-corrupted JPEG at `bad`."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(("circle", "square", "triangle")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = (rng.random((32, 32, 3)) * 80 + 60 * k).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.jpg", quality=90)
    (root / bad).write_bytes(corrupt_jpeg())
    return root


def test_the_damaged_file_really_is_what_libjpeg_complains_about_and_pillow_does_not(tmp_path):
    import tensorflow as tf

    path = tmp_path / "bad.jpg"
    path.write_bytes(corrupt_jpeg())
    with Image.open(path) as im:
        im.load()  # no error: describe() cannot find it
    with capture_fd2() as cap:
        image = tf.io.decode_image(tf.io.read_file(str(path)), channels=3)
    assert image.shape == (64, 64, 3)
    assert b"Corrupt JPEG data" in cap.data


def test_prepare_leaves_the_corrupt_jpeg_out_and_the_pipeline_prints_nothing(tmp_path):
    root = shapes(tmp_path / "shapes")
    spec = {"kind": "images", "path": str(root), "image": {"size": [16, 16], "color": "rgb"},
            "split": {"validation": 0.25, "test": 0.0, "seed": 0}}
    info = data.describe(spec)
    assert info.num_samples == 13 and info.skipped == 0  # studio data cannot see it (no TensorFlow)
    with capture_fd2() as cap:
        prepared = data.prepare(spec, batch_size=4)
        seen = sum(int(y.shape[0]) for split in (prepared.train, prepared.validation) for _, y in split)
    assert cap.data == b"", cap.text  # neither the check nor the pipeline printed anything
    assert prepared.warnings == [f"{root}: 1 of 13 images has corrupt data and is skipped (first: 'circle/bad.jpg')"]
    assert sum(prepared.counts.values()) == seen == 12


def test_the_corrupt_file_keeps_the_other_files_in_their_splits(tmp_path):
    good = shapes(tmp_path / "good", per_class=10, bad="circle/9.jpg")
    Image.new("RGB", (32, 32), (255, 255, 255)).save(good / "circle" / "9.jpg")  # the file, undamaged
    bad = shapes(tmp_path / "bad", per_class=10, bad="circle/9.jpg")
    spec = {"kind": "images", "image": {"size": [8, 8]}, "split": {"validation": 0.2, "test": 0.2, "seed": 3}}
    a = data.prepare({**spec, "path": str(good)}, batch_size=64)
    b = data.prepare({**spec, "path": str(bad)}, batch_size=64)
    missing = 0
    for part in ("train", "validation", "test"):  # the same files in each split, less the damaged one
        xa = sorted(x.numpy().reshape(len(x), -1).sum(1).tolist() for x, _ in getattr(a, part))
        xb = sorted(x.numpy().reshape(len(x), -1).sum(1).tolist() for x, _ in getattr(b, part))
        xa, xb = sorted(sum(xa, [])), sorted(sum(xb, []))
        assert set(xb) <= set(xa) and len(set(xb)) == len(xb)
        missing += len(xa) - len(xb)
        if len(xa) > len(xb):
            assert set(xa) - set(xb) == {8 * 8 * 3 * 255.0}  # the white one
    assert missing == 1 and sum(b.counts.values()) == 29


def test_studio_train_warns_once_names_the_file_and_prints_no_libjpeg_line(tmp_path):
    root = shapes(tmp_path / "shapes")
    path = project(tmp_path, {"kind": "images", "path": "shapes", "image": {"size": [32, 32], "color": "rgb"},
                              "split": {"validation": 0.25, "test": 0.0, "seed": 0}}, template="shapes-cnn")
    result = studio("train", path, "--epochs", "1", "--batch-size", "4", "--run-dir", tmp_path / "runs")
    assert result.rc == 0, result.err
    warnings = [line for line in result.err_lines if "corrupt data" in line]
    assert warnings == [f"studio: warning: {root}: 1 of 13 images has corrupt data and is skipped "
                        "(first: 'circle/bad.jpg')"], result.err
    for words in ("JPEG", "Corrupt", "Huffman", "extraneous", "jpeg"):
        assert words not in result.err, result.err
    result = studio("data", root)  # no TensorFlow: nothing found, and nothing printed either
    assert result.rc == 0 and "JPEG" not in result.err and "Corrupt" not in result.err
    shutil.rmtree(tmp_path / "runs", ignore_errors=True)


def test_many_corrupt_files_are_counted_and_the_first_three_named(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "CHECK_CHUNK", 5)  # several batches, some clean, some rechecked
    root = shapes(tmp_path / "shapes", per_class=8)
    for k in range(1, 5):
        (root / "square" / f"bad{k}.jpg").write_bytes(corrupt_jpeg(seed=k))
    prepared = data.prepare({"kind": "images", "path": str(root), "image": {"size": [8, 8]}}, batch_size=8)
    assert prepared.warnings == [f"{root}: 5 of 29 images have corrupt data and are skipped "
                                 "(first: 'circle/bad.jpg', 'square/bad1.jpg', 'square/bad2.jpg', ...)"]
    assert sum(prepared.counts.values()) == 24


def test_a_jpeg_tensorflow_cannot_decode_at_all_is_found_too(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "CHECK_CHUNK", 3)
    good = tmp_path / "good.jpg"
    Image.new("RGB", (20, 20), (10, 200, 30)).save(good)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[:200])
    files = [str(good), str(cut)] + [str(good)] * 4
    with capture_fd2() as cap:
        assert images._jpegs_with_corrupt_data(files) == [str(cut)]
    assert cap.data == b""


def test_verdicts_are_kept_per_path_size_and_time(tmp_path):
    path = tmp_path / "x.jpg"
    path.write_bytes(corrupt_jpeg())
    assert images._jpegs_with_corrupt_data([str(path)]) == [str(path)]
    assert images._jpegs_with_corrupt_data([str(path)]) == [str(path)]  # from the session's verdicts
    Image.new("RGB", (64, 64)).save(path)  # repaired: another size and time, checked again
    os.utime(path, ns=(1, 1))
    assert images._jpegs_with_corrupt_data([str(path)]) == []


# --- the fd 2 capture itself ------------------------------------------------------------------
def test_capture_catches_c_level_writes_and_restores_fd_2(capfd):
    before = os.fstat(2)
    with capture_fd2() as cap:
        os.write(2, b"from C\n")
        sys.__stderr__.write("from Python")  # no newline: flushed into the capture at its end
        assert cap.size() > 0
    assert cap.data == b"from C\nfrom Python" and cap.text == "from C\nfrom Python"
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_capture_restores_fd_2_when_the_block_raises(capfd):
    with pytest.raises(RuntimeError):
        with capture_fd2() as cap:
            os.write(2, b"inside\n")
            raise RuntimeError("boom")
    assert cap.data == b"inside\n"
    os.write(2, b"outside\n")
    assert capfd.readouterr().err == "outside\n"


def test_nested_captures_hand_fd_2_back_to_the_outer_one():
    with capture_fd2() as outer:
        os.write(2, b"a")
        with capture_fd2() as inner:
            os.write(2, b"b")
        os.write(2, b"c")
    assert (outer.data, inner.data) == (b"ac", b"b")


def test_output_not_explained_by_a_corrupt_file_is_passed_on():
    with capture_fd2() as cap:
        images._pass_on(b"0123456789", [(2, 4), (3, 6), (8, 9)])
        stderr_capture.write_to_stderr(b"")
    assert cap.data == b"01679"
