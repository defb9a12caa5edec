"""Issue 10, the data points: a project's dataset path may name any file, and data files may be
hostile or broken. Nothing of a file that is not data is ever printed; special files are refused
before they are opened; infinite numbers are reported where the user looks (studio data, studio
check, the Data panel's problems) instead of surfacing as a NaN loss blamed on the learning rate; a
binary file named .csv says so; corrupt JPEGs are found, counted and skipped with a warning."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio import data
from studio.core.errors import DataError
from tests.cli.helpers import assert_one_clear_line, studio

PROJECTS = Path(__file__).resolve().parents[2] / "projects"
SECRET = "root:SECRET:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n"


@pytest.fixture(autouse=True)
def _isolated_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "studio-cache"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")


def project(tmp_path: Path, dataset: dict, inputs: int = 2, units: int = 1, template: str = "iris-mlp") -> Path:
    """A copy of an example project reading `dataset`, its Input and last layer fitted to it."""
    doc = json.loads((PROJECTS / f"{template}.studio.json").read_text(encoding="utf-8"))
    doc["dataset"] = dataset
    nodes = doc["graph"]["nodes"]
    if template == "iris-mlp":
        nodes[0]["params"]["batch_shape"] = [None, inputs]
        nodes[-1]["params"].update({"units": units, "activation": "sigmoid" if units == 1 else "softmax"})
    path = tmp_path / "p.studio.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# --- 1. a path that is not a data file is refused; file contents are never echoed ---------------
@pytest.mark.parametrize("name", ["shadow", "shadow.csv", "shadow.txt"])
def test_a_dataset_path_naming_a_password_file_never_shows_its_contents(tmp_path, name):
    secret = tmp_path / name
    secret.write_text(SECRET, encoding="utf-8")
    line = assert_one_clear_line(studio("data", secret), str(secret))
    assert "SECRET" not in line
    result = studio("check", project(tmp_path, {"kind": "csv", "path": str(secret)}))
    assert "SECRET" not in result.out + result.err and str(secret) in result.out
    result = studio("data", secret, "--json")
    assert "SECRET" not in result.out + result.err and result.rc == 1


def test_a_link_named_csv_to_a_file_of_another_kind_is_refused(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:SECRET,0\n" * 3, encoding="utf-8")  # two fields: it would read as a table
    link = tmp_path / "data.csv"
    link.symlink_to(secret)
    with pytest.raises(DataError, match="links to .*shadow, which is not a table") as err:
        data.describe(str(link))
    assert "SECRET" not in str(err.value)


@pytest.mark.parametrize("path, words", [
    ("/dev/zero", "is a system file, not a data file"),
    ("/proc/self/environ", "is a system file, not a data file"),
    ("/proc", "is a system file, not a data file"),
])
def test_system_files_are_refused_before_reading(path, words):
    if not os.path.exists(path):
        pytest.skip(f"no {path} here")
    with pytest.raises(DataError, match=words):
        data.describe({"kind": "csv", "path": path})
    with pytest.raises(DataError, match=words):
        data.describe(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_named_csv_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)  # open() would wait for a writer forever
    assert_one_clear_line(studio("data", fifo), str(fifo), "is not a regular file (a named pipe)")


@pytest.mark.parametrize("kind, name", [("csv", "table.json"), ("csv", "table"), ("npz", "arrays.csv"),
                                        ("npy", "x.npz"), ("timeseries", "series.xlsx")])
def test_a_file_of_another_type_is_refused_naming_what_is_expected(tmp_path, kind, name):
    path = tmp_path / name
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        data.describe({"kind": kind, "path": str(path)})
    message = str(err.value)
    assert message.startswith(f"{path}: is not ") and "the name must end in" in message
    assert "\n" not in message


def test_column_names_in_messages_are_short_and_escaped(tmp_path):
    evil = "\x1b]0;pwned\x07\x1b[2J" + "x" * 200
    path = tmp_path / "t.csv"
    path.write_text(f"a,{evil}\n" + "".join(f"{i},{i % 2}\n" for i in range(20)), encoding="utf-8")
    result = studio("data", path, "--target", "nope")
    line = assert_one_clear_line(result, "there is no column named 'nope'")
    assert "\x1b" not in result.out + result.err and "\x07" not in result.err
    assert "\\x1b]0;pwned\\x07" in line and "x" * 50 not in line
    result = studio("data", path)  # the columns table shows the name escaped too
    assert result.rc == 0 and "\x1b" not in result.out and "\\x1b]0;pwned" in result.out


# --- 2. infinite numbers ------------------------------------------------------------------------
INF_TABLE = "a,b,label\n" + "".join(
    f"{cell},{i % 7},{'xy'[i % 2]}\n"
    for i, cell in enumerate(["1.5", "inf", "2", "-inf", "1e309", "3", "1e39", "4", "5", "6"] * 3))


def test_infinite_cells_are_reported_by_studio_data(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text(INF_TABLE, encoding="utf-8")
    result = studio("data", path)
    line = assert_one_clear_line(result, f"{path}:3: column 'a' has 12 infinite or too large numbers",
                                 "'inf' on line 3 and 11 more on lines 5, 6, 8, 13")
    assert "learning rate" not in line and "problems: none" not in result.out
    assert "(12 infinite)" in result.out
    result = studio("data", path, "--json")
    info = json.loads(result.out)
    assert result.rc == 1 and info["ok"] is False
    assert [c.get("non_finite", 0) for c in info["columns"]] == [12, 0, 0]
    # The statistics are of the finite numbers only.
    column = info["columns"][0]
    assert column["maximum"] == 6 and column["mean"] == pytest.approx((1.5 + 2 + 3 + 4 + 5 + 6) / 6)


def test_infinite_cells_in_an_unused_column_are_not_an_error(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text(INF_TABLE, encoding="utf-8")
    info = data.describe({"kind": "csv", "path": str(path), "features": ["b"], "targets": ["label"]})
    assert info.ok, info.problems


def test_infinite_regression_targets_and_series_values_are_errors(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("x,y\n" + "".join(f"{i},{'inf' if i == 7 else i * 0.5}\n" for i in range(40)),
                    encoding="utf-8")
    info = data.describe({"kind": "csv", "path": str(path), "targets": ["y"], "task": "regression"})
    assert [p.message for p in info.errors] == [
        f"{path}:9: column 'y' has 1 infinite or too large number ('inf' on line 9); a model cannot learn "
        "from them (the loss becomes NaN): replace them with finite numbers, or leave the cells empty to mark "
        "them missing"]
    series = data.describe({"kind": "timeseries", "path": str(path), "features": ["y"], "targets": ["y"],
                            "window": {"length": 4}})
    assert any("column 'y' has 1 infinite" in p.message for p in series.errors)


def test_arrays_beyond_float32_or_infinite_name_the_samples(tmp_path):
    x = np.random.default_rng(0).normal(size=(30, 3))
    x[4, 1] = 1e39  # finite in float64, inf once trained on as float32
    x[9, 0] = np.inf
    y = np.arange(30, dtype=np.float64)
    y[2] = -np.inf
    np.savez(tmp_path / "d.npz", x=x, y=y)
    info = data.describe(str(tmp_path / "d.npz"))
    messages = [p.message for p in info.errors]
    assert any("array 'x' has missing or infinite values" in m and "in 2 samples (first in sample 4; then 9)" in m
               for m in messages), messages
    assert any("array 'y' has missing or infinite values" in m and "sample 2" in m for m in messages), messages


def test_studio_check_and_studio_train_name_the_infinite_cells(tmp_path):
    (tmp_path / "inf.csv").write_text(INF_TABLE, encoding="utf-8")
    path = project(tmp_path, {"kind": "csv", "path": "inf.csv"})
    result = studio("check", path)
    assert "column 'a' has 12 infinite or too large numbers" in result.out, result.out
    result = studio("train", path, "--epochs", "1", "--run-dir", tmp_path / "runs", timeout=300)
    line = assert_one_clear_line(result, "column 'a' has 12 infinite or too large numbers")
    assert "learning rate" not in line


def test_the_nan_advice_names_non_finite_inputs_instead_of_the_learning_rate():
    import keras

    from studio.training.config import TrainingConfig
    from studio.training.reports import Reporter
    from studio.training.session import TrainingSession

    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    x[5, 2] = np.inf
    y = (x[:, 0] > 0).astype("float32")

    def model():
        inputs = keras.Input((3,))
        return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))

    snapshot = {"dataset_resolved": {"path": "/somewhere/table.csv", "features": ["a", "b", "c"],
                                     "preprocessing": {"columns": [{"name": n, "width": 1} for n in "abc"]}}}
    config = TrainingConfig(epochs=1, batch_size=16, seed=0, validation_split=0.0)
    result = TrainingSession(model, (x, y), None, config, Reporter(), snapshot=snapshot, save_models=False,
                             tensorboard=False).run()
    assert result.status == "failed" and result.reason == "nan", result
    assert "The inputs (column 'c' of table.csv) hold infinite or NaN values" in result.message
    assert "lower learning rate will not help" in result.message and "Try a lower" not in result.message


# --- 3. binary files named .csv ----------------------------------------------------------------
@pytest.mark.parametrize("content, kind", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100), ": a PNG image"),
    (b"\x1f\x8b\x08\x00" + bytes(range(256)), ": a gzip archive"),
    (bytes(range(256)) * 4, ""),
])
def test_a_binary_file_named_csv_says_it_is_not_text(tmp_path, content, kind):
    path = tmp_path / "table.csv"
    path.write_bytes(content)
    line = assert_one_clear_line(studio("data", path))
    assert line == (f"studio: error: {path}: is not a text file (it looks binary{kind}); save the table as CSV "
                    "(comma-separated text) first")


# --- 4. corrupt JPEGs ---------------------------------------------------------------------------
def image_folder(root: Path, per_class: int = 4) -> Path:
    """A shapes-like folder of 32x32 JPEGs (three classes), plus a JPEG cut in half and a file of
    garbage named .jpg."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(("circle", "square", "triangle")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = (rng.random((32, 32, 3)) * 80 + 60 * k).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.jpg", quality=90)
    whole = (root / "square" / "0.jpg").read_bytes()
    (root / "circle" / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    (root / "triangle" / "junk.jpg").write_bytes(b"this is not a picture\n" * 20)
    return root


def test_corrupt_jpegs_are_counted_and_named_by_studio_data(tmp_path):
    root = image_folder(tmp_path / "shapes")
    result = studio("data", root)
    assert result.rc == 0, result.err
    assert (f"warning: {root}: 2 of 14 files cannot be read as images and are skipped "
            "(first: 'circle/cut.jpg', 'triangle/junk.jpg')") in result.out
    assert "image folder, 12 images" in result.out and "2 unreadable files skipped" in result.out
    assert "JPEG" not in result.err


def test_training_skips_corrupt_jpegs_with_one_warning_and_no_libjpeg_output(tmp_path):
    root = image_folder(tmp_path / "shapes")
    path = project(tmp_path, {"kind": "images", "path": "shapes", "image": {"size": [32, 32], "color": "rgb"},
                              "split": {"validation": 0.25, "test": 0.0, "seed": 0}}, template="shapes-cnn")
    result = studio("train", path, "--epochs", "1", "--batch-size", "4", "--run-dir", tmp_path / "runs",
                    timeout=300)
    assert result.rc == 0, result.err
    warnings = [line for line in result.err_lines if "cannot be read as images" in line]
    assert warnings == [f"studio: warning: {root}: 2 of 14 files cannot be read as images and are skipped "
                        "(first: 'circle/cut.jpg', 'triangle/junk.jpg')"], result.err
    for words in ("JPEG", "Corrupt", "Premature", "jpeg"):
        assert words not in result.err, result.err
    shutil.rmtree(tmp_path / "runs", ignore_errors=True)


def test_a_text_folder_does_not_read_links_to_other_kinds_of_file(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text(SECRET, encoding="utf-8")
    for label in ("pos", "neg"):
        (tmp_path / "texts" / label).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "texts" / label / f"{i}.txt").write_text(f"a {label} review number {i}", encoding="utf-8")
    (tmp_path / "texts" / "pos" / "leak.txt").symlink_to(secret)
    info = data.describe(str(tmp_path / "texts"))
    assert info.num_samples == 6 and not any("SECRET" in text for text, _ in info.preview_items)
    assert any("1 .txt file is a link to a file that is not a .txt file; it is skipped" in p.message for p in info.warnings)
