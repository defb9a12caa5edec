"""CSV files with decimal commas (``5,1;3,5;setosa``), as Excel saves them in many countries."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from studio import data
from studio.cli import main
from studio.core.errors import DataError
from studio.data.codegen import loader_source
from tests.data.conftest import write

IRIS_DE = """sepal_length;sepal_width;species
5,1;3,5;setosa
4,9;3,0;setosa
4,7;3,2;setosa
5,0;3,6;setosa
7,0;3,2;versicolor
6,4;3,2;versicolor
6,9;3,1;versicolor
5,5;2,3;versicolor
6,3;3,3;virginica
5,8;2,7;virginica
7,1;3,0;virginica
6,5;3,0;virginica
"""
SEPAL_LENGTH = [5.1, 4.9, 4.7, 5.0, 7.0, 6.4, 6.9, 5.5, 6.3, 5.8, 7.1, 6.5]


def german_table(root, n=60):
    """A regression table: decimal commas, a category column and some integers."""
    rng = np.random.default_rng(3)
    rows = ["gewicht;farbe;stueck;preis"]
    expected = []
    for i in range(n):
        weight = round(float(rng.uniform(0, 10)), 2)
        price = round(weight * 1.5 + i % 3, 3)
        rows.append(f"{weight:.2f};{['rot', 'blau'][i % 2]};{i % 4};{price:.3f}".replace(".", ","))
        expected.append((weight, i % 2, i % 4, price))
    write(root / "preise.csv", "\n".join(rows) + "\n")
    return expected


def all_rows(prepared) -> dict[str, np.ndarray]:
    """Every (features..., target...) row of each split, sorted (training batches are shuffled)."""
    out = {}
    for name in ("train", "validation", "test"):
        ds = getattr(prepared, name)
        rows = [] if ds is None else [np.concatenate([np.ravel(xr), np.ravel(yr)]).astype("float64")
                                      for x, y in ds for xr, yr in zip(x.numpy(), y.numpy())]
        out[name] = np.array(sorted(map(tuple, rows)))
    return out


def test_a_semicolon_file_with_decimal_commas_has_numeric_columns(tmp_path):
    path = write(tmp_path / "iris_de.csv", IRIS_DE)
    info = data.describe(str(path))
    assert info.column("sepal_length").type == "numeric" and info.column("sepal_width").type == "numeric"
    assert info.column("sepal_length").minimum == 4.7 and info.column("sepal_length").maximum == 7.1
    assert info.column("sepal_width").mean == pytest.approx(37.1 / 12)
    assert info.features == ["sepal_length", "sepal_width"] and info.num_classes == 3
    assert info.ok and info.spec["decimal"] == "," and info.spec["delimiter"] == ";"
    notes = [p.message for p in info.problems if p.severity == "info"]
    assert any("decimal comma (5,1 is read as 5.1)" in m for m in notes), notes


def test_prepare_yields_the_numbers_written_with_commas(tmp_path):
    write(tmp_path / "iris_de.csv", IRIS_DE)
    spec = {"kind": "csv", "path": "iris_de.csv", "split": {"validation": 0.0, "test": 0.0}}
    prepared = data.prepare(spec, tmp_path, batch_size=4)
    x = np.concatenate([xb.numpy() for xb, _ in prepared.train])
    assert sorted(x[:, 0].tolist()) == pytest.approx(sorted(SEPAL_LENGTH))
    assert prepared.spec["decimal"] == ","


def test_regression_target_and_categories_with_decimal_commas(tmp_path):
    expected = german_table(tmp_path)
    info = data.describe({"kind": "csv", "path": "preise.csv", "targets": ["preis"]}, tmp_path)
    assert info.task == "regression" and [c.type for c in info.columns] == \
        ["numeric", "categorical", "numeric", "numeric"]
    assert info.column("stueck").integer and not info.column("gewicht").integer
    prepared = data.prepare({"kind": "csv", "path": "preise.csv", "targets": ["preis"],
                             "split": {"validation": 0, "test": 0}}, tmp_path, batch_size=16)
    got = all_rows(prepared)["train"]
    # features: gewicht, farbe one-hot (blau, rot), stueck; target preis
    want = sorted((w, float(c == 1), float(c == 0), s, p) for w, c, s, p in expected)
    assert np.allclose(got, np.array(want), atol=1e-4)


def test_points_in_a_semicolon_file_stay_decimal_points(tmp_path):
    write(tmp_path / "wine.csv", "acidity;sugar;quality\n" + "".join(
        f"{7 + i / 10:.1f};{1.5 + i % 3};{5 + i % 2}\n" for i in range(30)))
    info = data.describe({"kind": "csv", "path": "wine.csv"}, tmp_path)
    assert info.column("acidity").type == "numeric" and info.column("acidity").maximum == pytest.approx(9.9)
    assert "decimal" not in info.spec and not any("decimal" in p.message for p in info.problems)


def test_a_headerless_file_is_split_on_semicolons(tmp_path):
    path = write(tmp_path / "raw.csv", "".join(f"{i},5;{i % 3},25;{'ab'[i % 2]}\n" for i in range(20)))
    info = data.describe(str(path))
    assert info.spec["delimiter"] == ";" and info.spec["header"] is False and info.num_samples == 20
    assert info.column("column_1").type == "numeric" and info.column("column_1").maximum == 19.5
    assert info.column("column_2").minimum == 0.25


def test_the_setting_forces_the_decimal_mark_off_and_on(tmp_path):
    write(tmp_path / "iris_de.csv", IRIS_DE)
    off = data.describe({"kind": "csv", "path": "iris_de.csv", "decimal": "."}, tmp_path)
    assert off.column("sepal_length").type != "numeric"
    assert not any("decimal comma" in p.message for p in off.problems)
    assert off.spec["decimal"] == "."
    # Comma-separated with the decimal commas in quotes: only read as numbers when asked.
    write(tmp_path / "quoted.csv", 'a,b,label\n' + "".join(f'"{i},5","{i * 2},25",{"xy"[i % 2]}\n'
                                                            for i in range(12)))
    guessed = data.describe({"kind": "csv", "path": "quoted.csv"}, tmp_path)
    assert guessed.column("a").type != "numeric"
    forced = data.describe({"kind": "csv", "path": "quoted.csv", "decimal": ","}, tmp_path)
    assert forced.column("a").type == "numeric" and forced.column("b").maximum == 22.25
    assert any("as the dataset's decimal mark says" in p.message for p in forced.problems)
    with pytest.raises(DataError, match=r"dataset.decimal must be '.' \(5.1\) or ','"):
        data.describe({"kind": "csv", "path": "quoted.csv", "decimal": "comma"}, tmp_path)


def test_thousands_separators_are_reported_not_misread(tmp_path):
    rows = [f"{i},5;{['a', 'b'][i % 2]}" for i in range(30)]
    rows[7] = "1.234,5;a"
    write(tmp_path / "t.csv", "menge;sorte\n" + "\n".join(rows) + "\n")
    info = data.describe({"kind": "csv", "path": "t.csv"}, tmp_path)
    assert info.column("menge").type == "numeric" and not info.ok
    message = info.errors[0].message
    assert message.startswith(f"{tmp_path / 't.csv'}:9: column 'menge': '1.234,5' is not a number")
    assert "thousands separators are not read" in message and "\n" not in message


def test_a_ragged_file_keeps_its_line_message(tmp_path):
    write(tmp_path / "r.csv", "a;b;c\n1,5;2,5;x\n1,5;2,5\n" + "3,5;4,5;y\n" * 5)
    with pytest.raises(DataError, match=r"r.csv:3: the row has 2 fields but the header has 3; check the "
                                        r"delimiter \(semicolon\)"):
        data.describe({"kind": "csv", "path": "r.csv"}, tmp_path)


def test_studio_data_json_reports_the_decimal_comma(capsys, tmp_path):
    path = write(tmp_path / "iris_de.csv", IRIS_DE)
    rc = main(["data", str(path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["ok"] and out["spec"]["decimal"] == ","
    columns = {c["name"]: c for c in out["columns"]}
    assert columns["sepal_width"]["type"] == "numeric" and columns["sepal_width"]["maximum"] == 3.6
    assert any("decimal comma" in p["message"] for p in out["problems"])
    # forced to points, the comma columns are text again (the user's way out of a wrong guess)
    rc = main(["data", str(path), "--json", "--decimal", "."])
    forced = {c["name"]: c for c in json.loads(capsys.readouterr().out)["columns"]}
    assert rc == 0 and forced["sepal_width"]["type"] != "numeric"


def test_series_and_text_targets_read_decimal_commas(tmp_path):
    write(tmp_path / "temp.csv", "tag;grad\n" + "".join(f"{i};{20 + (i % 5) / 4:.2f}\n".replace(".", ",")
                                                       for i in range(60)))
    series = data.describe({"kind": "timeseries", "path": "temp.csv", "window": {"length": 5}}, tmp_path)
    assert series.ok and series.spec["decimal"] == "," and max(series.series["grad"]) == 21.0
    write(tmp_path / "notes.csv", "text;score\n" + "".join(f"{['good', 'bad'][i % 2]} film {i};{i % 7},5\n"
                                                           for i in range(30)))
    prepared = data.prepare({"kind": "text", "path": "notes.csv", "task": "regression",
                             "split": {"validation": 0, "test": 0}}, tmp_path, batch_size=30)
    y = np.concatenate([yb.numpy() for _, yb in prepared.train]).ravel()
    assert sorted(y.tolist()) == sorted(i % 7 + 0.5 for i in range(30))


RUNNER = """
import importlib, json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, sys.argv[1])
out = {}
for name in sys.argv[2].split(","):
    parts = importlib.import_module("loader_" + name).load_data(4)
    out[name] = {}
    for split, ds in zip(("train", "validation", "test"), parts):
        rows = [] if ds is None else [[float(v) for v in list(xr.ravel()) + list(yr.ravel())]
                                      for x, y in ds for xr, yr in zip(x.numpy(), y.numpy())]
        out[name][split] = sorted(rows)
print(json.dumps(out))
"""


def test_the_exported_script_reads_the_same_numbers_as_the_app(tmp_path):
    german_table(tmp_path)
    write(tmp_path / "iris_de.csv", IRIS_DE)
    write(tmp_path / "temp.csv", "tag;grad\n" + "".join(f"{i};{20 + (i % 5) / 4:.2f}\n".replace(".", ",")
                                                       for i in range(40)))
    specs = {
        "table": {"kind": "csv", "path": "preise.csv", "targets": ["preis"], "split": {"validation": 0.2,
                                                                                       "test": 0.2}},
        "classes": {"kind": "csv", "path": "iris_de.csv", "split": {"validation": 0.25, "test": 0.25}},
        "series": {"kind": "timeseries", "path": "temp.csv", "window": {"length": 4, "horizon": 1}},
    }
    app = {}
    for name, spec in specs.items():
        prepared = data.prepare(spec, tmp_path, batch_size=4)
        assert prepared.spec["decimal"] == ","
        (tmp_path / f"loader_{name}.py").write_text(loader_source(prepared.spec, tmp_path), encoding="utf-8")
        app[name] = all_rows(prepared)
    env = dict(os.environ, PYTHONPATH="")
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(tmp_path), ",".join(specs)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    script = json.loads(proc.stdout.strip().splitlines()[-1])
    for name in specs:
        for split in ("train", "validation", "test"):
            want, got = app[name][split], np.array(script[name][split])
            assert got.shape == want.shape, (name, split)
            assert np.allclose(got, want, atol=1e-5), (name, split)


def test_the_data_panel_shows_and_changes_the_decimal_mark(qtbot, tmp_path):
    from studio.project.io import load_project, save_project
    from studio.ui.data.panel import DataPanel
    from studio.ui.document import ProjectDocument

    examples = os.path.join(os.path.dirname(__file__), "..", "..", "projects", "iris-mlp.studio.json")
    project = load_project(examples)
    save_project(project, tmp_path / "iris.studio.json")
    write(tmp_path / "iris_de.csv", IRIS_DE)
    document = ProjectDocument(project)
    panel = DataPanel(document)
    qtbot.addWidget(panel)
    panel.set_source(str(tmp_path / "iris_de.csv"))
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    form = panel.form
    assert form.form.isRowVisible(form.decimal) and form.decimal.itemText(0) == "(inferred): comma: 5,1"
    assert panel.info.column("sepal_length").type == "numeric"
    assert "decimal commas" in panel.summary.text()
    assert "decimal" not in document.project.dataset  # found, not chosen
    form.decimal.setCurrentIndex(1)  # "point: 5.1"
    form.decimal.activated.emit(1)
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    assert document.project.dataset["decimal"] == "."
    assert panel.info.column("sepal_length").type != "numeric" and "decimal commas" not in panel.summary.text()
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    assert "decimal" not in document.project.dataset and panel.info.column("sepal_length").type == "numeric"
