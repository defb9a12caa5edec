"""Every bad input of issue 5, as a user meets it through `studio data` (the Data panel runs
the same describe()): exit status, one clear line naming the file (and the line, or the
column, where there is one), the fix, and never a traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from studio.cli import main
from tests.data.conftest import write


def studio_data(capsys, *args):
    rc = main(["data", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    return rc, out, err


def one_error(capsys, *args) -> str:
    """The single error line `studio data` prints when it refuses the data."""
    rc, _, err = studio_data(capsys, *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 1 and len(lines) == 1, err
    assert lines[0].startswith("studio: error: ")
    return lines[0]


def numbers(n: int, bad_line: int | None = None, bad: str = "") -> str:
    """A table of n rows; the cell of column 'a' on file line `bad_line` (header = line 1) is `bad`."""
    rows = ["a,b,label"]
    for i in range(n):
        a = bad if bad_line == i + 2 else str(i * 0.5)
        rows.append(f"{a},{i % 7},{'xy'[i % 2]}")
    return "\n".join(rows) + "\n"


# --- tables --------------------------------------------------------------------------------
def test_ragged_row(capsys, tmp_path):
    path = write(tmp_path / "ragged.csv", "a,b,label\n1,2,x\n3,4\n5,6,y\n")
    line = one_error(capsys, path)
    assert "ragged.csv:3: the row has 2 fields but the header has 3" in line and "delimiter" in line


def test_non_numeric_text_in_a_numeric_column(capsys, tmp_path):
    path = write(tmp_path / "cells.csv", numbers(100, bad_line=42, bad="oops"))
    line = one_error(capsys, path)
    assert "cells.csv:42: column 'a': 'oops' is not a number" in line and "leave it empty" in line


def test_a_column_that_is_mostly_numbers_is_a_warning_naming_the_cell(capsys, tmp_path):
    path = write(tmp_path / "few.csv", "a,b,label\n1,2,x\nfoo,4,y\n5,6,x\n7,8,y\n")
    rc, out, _ = studio_data(capsys, path)
    assert rc == 0
    assert "warning: " in out and "few.csv:3: column 'a' is mostly numbers but has 'foo' on line 3" in out


def test_missing_values_offer_drop_or_fill(capsys, tmp_path):
    path = write(tmp_path / "holes.csv", numbers(50, bad_line=7, bad=""))
    line = one_error(capsys, path)
    assert "holes.csv:7: column 'a' has 1 missing value" in line
    assert "'drop'" in line and "'fill'" in line
    for policy, words in (("drop", "that row is skipped"), ("fill", "that cell is filled")):
        rc, out, _ = studio_data(capsys, path, "--missing", policy)
        assert rc == 0 and "holes.csv: column 'a' has 1 missing value; " + words in out


@pytest.mark.parametrize("content, words", [
    (b"", "the file is empty (0 bytes)"),
    (b"\n \n\n", "the file holds no data (only blank lines)"),
    (b"a,b,label\n", "the file has a header but no data rows"),
])
def test_empty_file(capsys, tmp_path, content, words):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert f"{path}: {words}" in one_error(capsys, path)


def test_target_column_that_does_not_exist(capsys, tmp_path):
    path = write(tmp_path / "t.csv", numbers(20))
    line = one_error(capsys, path, "--target", "price")
    assert f"{path}: there is no column named 'price'; the columns are 'a', 'b', 'label'" in line


def test_single_class(capsys, tmp_path):
    path = write(tmp_path / "one.csv", "x,label\n" + "".join(f"{i},a\n" for i in range(10)))
    line = one_error(capsys, path)
    assert f"{path}: column 'label': every sample has the same class 'a'" in line and "two classes" in line


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",  # an image renamed .csv
    bytes(range(256)) * 4,  # arbitrary bytes
])
def test_binary_file_named_csv(capsys, tmp_path, content):
    path = tmp_path / "table.csv"
    path.write_bytes(content)
    line = one_error(capsys, path)
    assert f"{path}: is not a text file (it looks binary" in line


def test_text_in_another_encoding_names_the_line(capsys, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name,v,label\nabc,1,x\ncaf\u00e9,2,y\n".encode("latin-1"))
    line = one_error(capsys, path)
    assert "latin.csv:3: the text is not valid utf-8" in line and "latin-1" in line


# --- images ------------------------------------------------------------------------------------
def image_folder(root, classes=("cats", "dogs"), per_class=4):
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(np.full((8, 8, 3), 60 * k + i, np.uint8)).save(root / name / f"{i}.png")
    return root


def test_an_image_that_fails_to_decode_is_skipped_and_counted(capsys, tmp_path):
    root = image_folder(tmp_path / "pets")
    (root / "cats" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    (root / "dogs" / "empty.png").write_bytes(b"")  # a 0-byte image
    rc, out, _ = studio_data(capsys, root)
    assert rc == 0 and "image folder, 8 images" in out
    assert f"warning: {root}: 2 of 10 files cannot be read as images and are skipped (first: " in out
    assert "2 unreadable files skipped" in out


def test_every_image_failing_is_an_error(capsys, tmp_path):
    for name in ("cats", "dogs"):
        (tmp_path / "pets" / name).mkdir(parents=True)
        (tmp_path / "pets" / name / "a.png").write_bytes(b"garbage")
    line = one_error(capsys, tmp_path / "pets")
    assert f"{tmp_path / 'pets'}: none of the 2 image files can be read as an image" in line


def test_an_empty_class_folder_is_left_out_with_a_warning(capsys, tmp_path):
    root = image_folder(tmp_path / "pets")
    (root / "birds").mkdir()
    rc, out, _ = studio_data(capsys, root)
    assert rc == 0 and "(2 classes)" in out
    assert f"warning: {root / 'birds'}: the class folder 'birds' has no images" in out


def test_an_image_folder_with_one_class_is_an_error(capsys, tmp_path):
    root = image_folder(tmp_path / "pets", classes=("cats",))
    line = one_error(capsys, root)
    assert f"{root}: every sample has the same class 'cats'" in line


# --- NumPy ----------------------------------------------------------------------------------------
def test_npz_without_the_expected_arrays(capsys, tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, pixels=np.zeros((10, 3)), answers=np.arange(10) % 2)
    line = one_error(capsys, path)
    assert f"{path}: has no features array (looked for x, X, features, data); it holds 'pixels', 'answers'" \
        in line and "set the dataset's features" in line
    line = one_error(capsys, path, "--features", "pixels", "--target", "labels")
    assert f"{path}: has no array named 'labels'; it holds 'pixels', 'answers'" in line


def test_mismatched_x_and_y_lengths(capsys, tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((60, 3)), y=np.arange(50) % 2)
    line = one_error(capsys, tmp_path / "d.npz")
    assert f"{tmp_path / 'd.npz'}: 'x' has 60 samples but 'y' has 50" in line
    np.save(tmp_path / "x.npy", np.zeros((60, 3)))
    np.save(tmp_path / "y.npy", np.arange(59) % 2)
    line = one_error(capsys, tmp_path / "x.npy")
    assert f"{tmp_path / 'x.npy'}: 'x.npy' has 60 samples but 'y.npy' has 59" in line


@pytest.mark.parametrize("name", ["x.npy", "d.npz"])
def test_zero_byte_array_files(capsys, tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    assert f"{tmp_path / name}: the file is empty (0 bytes)" in one_error(capsys, tmp_path / name)


@pytest.mark.parametrize("name, content, words", [
    ("x.npy", b"just some text\n", "not a NumPy .npy file"),
    ("d.npz", b"just some text\n", "not a NumPy .npz file"),
    ("d.npz", None, "holds a single array, not named arrays; rename it to .npy"),
])
def test_array_files_that_are_something_else(capsys, tmp_path, name, content, words):
    path = tmp_path / name
    if content is None:
        with open(path, "wb") as fh:
            np.save(fh, np.zeros(3))
    else:
        path.write_bytes(content)
    line = one_error(capsys, path)
    assert f"{path}: {words}" in line and "Python objects" not in line


# --- time series --------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, words", [
    ({30}, "s.csv:32: column 'value': 'oops' is not a number"),  # one stray word in 200 numbers
    (set(range(5, 200, 10)), "s.csv:7: column 'value' is not all numbers: it has 'oops' on line 7 (and 19 more "
                             "such cells)"),  # one cell in ten
])
def test_series_with_stray_words_names_the_cell(capsys, tmp_path, bad, words):
    rows = [f"{i},{'oops' if i in bad else round(float(np.sin(i / 5)), 4)}" for i in range(200)]
    path = write(tmp_path / "s.csv", "step,value\n" + "\n".join(rows) + "\n")
    assert words in one_error(capsys, path, "--kind", "timeseries")


def test_the_encoding_the_message_suggests_can_be_given(capsys, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"name;v;label\n" + "".join(f"caf\u00e9{i};{i};{'xy'[i % 2]}\n" for i in range(20))
                     .encode("latin-1"))
    assert "latin.csv:2: the text is not valid utf-8" in one_error(capsys, path)
    rc, out, _ = studio_data(capsys, path, "--encoding", "latin-1")
    assert rc == 0 and "CSV table, 20 rows" in out
    assert f"{path}: dataset.encoding: unknown text encoding 'klingon'" in one_error(
        capsys, path, "--encoding", "klingon")


def test_delimiter_and_header_can_be_given(capsys, tmp_path):
    path = write(tmp_path / "plain.csv", "".join(f"{i}|{i * 2}|{'xy'[i % 2]}\n" for i in range(20)))
    rc, out, _ = studio_data(capsys, path, "--delimiter", "|", "--no-header", "--json")
    info = json.loads(out)
    assert rc == 0 and info["num_samples"] == 20 and info["targets"] == ["column_3"]
    assert info["spec"]["delimiter"] == "|" and info["spec"]["header"] is False
