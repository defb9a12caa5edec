"""`studio data FILE`: what a user sees for good and bad input."""

from __future__ import annotations

import json
import re

import pytest

from studio.cli import main
from tests.data.conftest import write


def run(capsys, *args):
    rc = main(["data", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_table_report(capsys, tmp_path):
    path = write(tmp_path / "t.csv", "a;b;kind\n" + "\n".join(f"{i};{i * 2};{'xy'[i % 2]}" for i in range(30)))
    rc, out, err = run(capsys, path)
    assert rc == 0 and err == ""
    assert "CSV table, 30 rows" in out and "classification (2 classes)" in out
    assert re.search(r"^  a +numeric +\[feature\] +min 0 +max 29", out, re.M)
    assert re.search(r"^  kind +categorical +\[target\]", out, re.M)
    # 15 per class: 3 validation and 2 test each (rounded half up), stratified
    assert "split: train 20, validation 6, test 4 (stratified, seed 0)" in out
    assert "problems: none" in out


def test_json_output_and_target_option(capsys, tmp_path):
    path = write(tmp_path / "t.csv", "a,b,kind\n" + "\n".join(f"{i},{i * 0.5},{'xy'[i % 2]}" for i in range(30)))
    rc, out, _ = run(capsys, path, "--target", "b", "--json")
    data = json.loads(out)
    assert rc == 0 and data["ok"] and data["task"] == "regression" and data["targets"] == ["b"]
    assert data["feature_shape"] == [3]  # a + kind one-hot
    assert data["suggested"]["loss"] == "mean_squared_error"


def test_sample_and_image_folder(capsys):
    rc, out, _ = run(capsys, "shapes")
    assert rc == 0 and "image folder, 600 images" in out and "resized to 32x32, RGB" in out
    assert "circle" in out and "triangle" in out


@pytest.mark.parametrize("content, words", [
    ("a,b\n1,2\n3\n", ["t.csv:3", "1 field", "header has 2"]),
    ("", ["empty", "0 bytes"]),
    ("x,label\n1,a\n2,a\n3,a\n", ["same class 'a'"]),
    ("x,label\n1,a\nfoo,b\n3,a\n4,b\n5,a\n6,b\n7,a\n8,b\n9,a\n10,b\n11,a\n12,b\n13,a\n14,b\n15,a\n16,b\n"
     "17,a\n18,b\n19,a\n20,b\n21,a\n", ["t.csv:3", "'foo' is not a number"]),
])
def test_bad_input_exits_1_with_one_line(capsys, tmp_path, content, words):
    path = tmp_path / "t.csv"
    path.write_text(content)
    rc, _, err = run(capsys, path)
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 1 and len(lines) == 1 and lines[0].startswith("studio: error: ")
    for word in words:
        assert word in lines[0]


def test_unknown_target_and_missing_file(capsys, tmp_path):
    rc, _, err = run(capsys, "iris", "--target", "colour")
    assert rc == 1 and "no column named 'colour'" in err and err.count("\n") == 1
    rc, _, err = run(capsys, tmp_path / "nope.csv")
    assert rc == 1 and "no such file or folder" in err
