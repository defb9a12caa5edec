"""Exported scripts read files as they come, the way the app reads them: ``skip_rows`` lines
above the table (scikit-learn's wine_data.csv and iris.csv begin with a line of counts and
class names) and values separated by runs of spaces or tabs (the delimiter " ", as in
diabetes_data_raw.csv). The script's ``load_data()`` yields the app's rows, and the script
trains on them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from studio import data
from studio.cli import main
from studio.data.codegen import loader_source
from tests.export.helpers import import_script, run_script

SKLEARN = Path(__file__).resolve().parents[1] / "data" / "files" / "sklearn"


def _x(dataset) -> np.ndarray:
    return np.concatenate([np.asarray(x) for x, _ in dataset])


def _y(dataset) -> np.ndarray:
    return np.concatenate([np.asarray(y) for _, y in dataset])


def _sorted_rows(x: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    return flat[np.lexsort(flat.T[::-1])]


def _assert_same_splits(prepared, got, what: str) -> None:
    """Each split of the script's `load_data()` holds the app's rows (the training split in any order)."""
    for part, app_split, script_split in zip(("train", "validation", "test"),
                                             (prepared.train, prepared.validation, prepared.test), got):
        if app_split is None:
            assert script_split is None, f"{what} {part}"
            continue
        a, b = _x(app_split), _x(script_split)
        assert len(b) == len(a) == prepared.counts[part], f"{what} {part}"
        if part == "train":
            a, b = _sorted_rows(a), _sorted_rows(b)
        else:
            np.testing.assert_allclose(_y(script_split), _y(app_split), err_msg=f"{what} {part}")
        np.testing.assert_allclose(b, a, rtol=1e-6, err_msg=f"{what} {part}")


def _exported(tmp_path: Path, name: str, flags: dict) -> tuple[Path, dict]:
    """scikit-learn's file as a project (the MLP template fitted to the data, as the Data panel
    does), exported with `studio export --format python`; (script, the app's dataset spec)."""
    from studio.data.binding import fix_edits
    from studio.project.io import save_project
    from studio.project.templates import make_project

    shutil.copy(SKLEARN / f"{name}.csv", tmp_path / f"{name}.csv")
    project = make_project("mlp", name)
    project.dataset = {"kind": "csv", "path": f"{name}.csv", **flags}
    project.training = {"epochs": 1, "batch_size": 8}
    info = data.describe(project.dataset, tmp_path)
    assert info.ok, [p.message for p in info.problems]
    batch = fix_edits(project.graph, info)
    if batch is not None:
        batch.apply(project.graph)
    path = tmp_path / f"{name}.studio.json"
    save_project(project, path)
    script = tmp_path / f"{name}_model.py"
    assert main(["export", str(path), "--format", "python", "-o", str(script)]) == 0
    return script, project.dataset


@pytest.mark.parametrize("name, flags, delimiter, rows", [
    ("wine_data", {"skip_rows": 1}, ",", 30),  # 178,13,class_0,class_1,class_2 above 14 numbers a row
    ("iris", {"skip_rows": 1}, ",", 30),  # 150,4,setosa,versicolor,virginica above 5 numbers a row
    ("diabetes_data_raw", {}, " ", 30),  # 59 2 32.1 101.0 157 93.2 38.0 4.0 4.8598 87: runs of spaces
])
def test_an_exported_script_reads_scikit_learns_files_like_the_app(tmp_path, capsys, name, flags, delimiter,
                                                                     rows):
    script, spec = _exported(tmp_path, name, flags)
    text = script.read_text(encoding="utf-8")
    assert f"SKIP_ROWS = {flags.get('skip_rows', 0)}" in text
    prepared = data.prepare(spec, tmp_path, batch_size=8)
    assert prepared.spec["delimiter"] == delimiter and sum(prepared.counts.values()) == rows
    _assert_same_splits(prepared, import_script(script).load_data(8), name)
    capsys.readouterr()
    printed = run_script(script)  # builds, trains an epoch and saves, in a fresh process
    assert "Saved" in printed


def test_lines_above_a_table_of_space_runs_and_tabs(tmp_path):
    """Notes above the header, values between runs of spaces and tabs, a blank line: the table,
    a time series and a text CSV read from such files give the app's rows."""
    rng = np.random.default_rng(0)
    lines = ["Measured at the station, 2024", "units: cm, kg", "size \t weight   kind"]
    for i in range(40):
        lines.append(f"  {10 + i % 7 + rng.normal():.3f}\t {50 + rng.normal() * 5:.2f}    {'ab'[i % 2]}")
        if i == 20:
            lines.append("   ")
    (tmp_path / "table.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    series = ["exported by the logger", "t;load"] + [f"{i};{5 + 3 * np.sin(i / 3):.4f}" for i in range(80)]
    (tmp_path / "series.csv").write_text("\n".join(series) + "\n", encoding="utf-8")
    words = ["match goal team", "bread cheese soup", "chip code robot"]
    texts = ["a note line", "text,topic"] + [f'"{words[i % 3]} {i}",{"abc"[i % 3]}' for i in range(45)]
    (tmp_path / "texts.csv").write_text("\n".join(texts) + "\n", encoding="utf-8")
    specs = {
        "table": {"kind": "csv", "path": "table.txt", "skip_rows": 2, "delimiter": " ", "targets": ["kind"]},
        "series": {"kind": "timeseries", "path": "series.csv", "skip_rows": 1, "features": ["load"],
                   "window": {"length": 6, "horizon": 2}},
        "text": {"kind": "text", "path": "texts.csv", "skip_rows": 1, "features": ["text"], "targets": ["topic"],
                 "text": {"sequence_length": 6}},
    }
    for name, spec in specs.items():
        prepared = data.prepare(spec, tmp_path, batch_size=4)
        if name == "table":
            assert prepared.spec["delimiter"] == " " and sum(prepared.counts.values()) == 40
        (tmp_path / f"load_{name}.py").write_text(loader_source(prepared.spec, tmp_path), encoding="utf-8")
        _assert_same_splits(prepared, import_script(tmp_path / f"load_{name}.py").load_data(4), name)
