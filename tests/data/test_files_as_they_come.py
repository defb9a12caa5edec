"""Files as they come (issue 14, points 4 and 5), through `studio data` and `studio train`.

scikit-learn's bundled CSV files (excerpts in tests/data/files/sklearn, byte for byte as
shipped, fewer rows) are read correctly with at most one flag: values separated by spaces
are sniffed; a first line of counts and class names is named as such, with the flag that
skips it; a whole-number target with many values per row is a regression, and the guess
says how to change it. Each then trains.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.errors import DataError
from studio.data import csvreader
from tests.data.conftest import write

SKLEARN = Path(__file__).resolve().parent / "files" / "sklearn"


def data(capsys, *args):
    rc = main(["data", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def data_json(capsys, *args):
    rc, out, err = data(capsys, *args, "--json")
    return rc, json.loads(out), err


# --- what `studio data` says, file by file ---------------------------------------------------

@pytest.mark.parametrize("name, fields, rest", [("wine_data", 5, 14), ("breast_cancer", 4, 31)])
def test_a_first_line_of_counts_is_named_with_the_flag_that_skips_it(capsys, name, fields, rest):
    path = SKLEARN / f"{name}.csv"
    rc, out, err = data(capsys, path)
    assert rc == 1 and out == ""
    assert err.strip() == (f"studio: error: {path}:1: line 1 has {fields} fields (comma-separated), the rest {rest}: "
                           "is it a header or notes? if it is notes, skip it with --skip-rows 1 (the Data panel's "
                           "'Skip rows'); a header needs one name per column")
    rc, result, _ = data_json(capsys, path)  # a file that cannot be read at all: still one JSON object
    assert rc == 1 and result["ok"] is False and f"line 1 has {fields} fields" in result["error"]
    assert "--skip-rows 1" in result["error"]


def test_iris_first_line_of_numbers_and_class_names_is_one_clear_error(capsys):
    path = SKLEARN / "iris.csv"
    rc, result, err = data_json(capsys, path)
    errors = [p["message"] for p in result["problems"] if p["severity"] == "error"]
    assert rc == 1 and result["ok"] is False
    # one error, naming the line and the cause; not three "'setosa' is not a number"
    assert errors == [f"{path}:1: line 1 ('150,4,setosa,versicolor,virginica') holds numbers, and words above "
                      "columns of numbers: it is neither data nor a header of names; if it is notes (counts, class "
                      "names...), skip it with --skip-rows 1 (the Data panel's 'Skip rows'); if it is the header, "
                      "set the header row to yes (--header)"]
    assert err.startswith(f"studio: error: {path}:1: line 1 ")


@pytest.mark.parametrize("name, rows, classes", [("iris", 30, ["0", "1", "2"]), ("wine_data", 30, ["0", "1", "2"]),
                                                 ("breast_cancer", 30, ["0", "1"])])
def test_with_skip_rows_1_the_tables_are_read_as_classes(capsys, name, rows, classes):
    rc, result, err = data_json(capsys, SKLEARN / f"{name}.csv", "--skip-rows", 1)
    assert rc == 0 and err == "" and result["ok"]
    assert result["num_samples"] == rows and result["task"] == "classification"
    assert result["class_names"] == classes and result["spec"]["skip_rows"] == 1
    assert [p["severity"] for p in result["problems"]] == ["info"]  # the task guess, said
    assert "guessed classification" in result["problems"][0]["message"]
    assert "--task regression" in result["problems"][0]["message"]


def test_space_separated_values_without_a_header_are_sniffed(capsys):
    rc, result, err = data_json(capsys, SKLEARN / "diabetes_data_raw.csv")
    assert rc == 0 and err == "" and result["ok"]
    assert result["spec"]["delimiter"] == " " and result["spec"]["header"] is False
    assert result["num_samples"] == 30 and len(result["columns"]) == 10
    assert result["columns"][2]["minimum"] == pytest.approx(18.6)  # BMI, the third value of each line
    assert result["task"] == "regression" and result["feature_shape"] == [9]
    rc, out, _ = data(capsys, SKLEARN / "diabetes_data_raw.csv")
    assert "CSV table, 30 rows" in out


def test_digits_need_no_flag(capsys):
    rc, result, _ = data_json(capsys, SKLEARN / "digits.csv")
    assert rc == 0 and result["num_samples"] == 40 and result["feature_shape"] == [64]
    assert result["task"] == "classification" and result["class_names"] == [str(i) for i in range(10)]


def test_linnerud_jumps_is_a_regression_and_the_guess_says_how_to_change_it(capsys):
    path = SKLEARN / "linnerud_exercise.csv"
    rc, result, _ = data_json(capsys, path)
    assert rc == 0 and result["spec"]["delimiter"] == " " and result["targets"] == ["Jumps"]
    assert [c["name"] for c in result["columns"]] == ["Chins", "Situps", "Jumps"]
    assert result["task"] == "regression" and result["target_shape"] == [1]
    assert [p["message"] for p in result["problems"]] == [
        f"{path}: guessed regression: column 'Jumps' holds 17 distinct whole numbers in 20 rows, too many per row "
        "for classes; set the task to classification (--task classification) to treat them as classes"]
    rc, out, _ = data(capsys, path)
    assert "task: regression; target 'Jumps'" in out and "guessed regression" in out
    rc, result, _ = data_json(capsys, path, "--task", "classification")  # the way the note says
    assert rc == 0 and result["task"] == "classification" and result["num_classes"] == 17
    assert not any("guessed" in p["message"] for p in result["problems"])


def test_linnerud_physiological_reads_its_header(capsys):
    rc, result, _ = data_json(capsys, SKLEARN / "linnerud_physiological.csv", "--target", "Weight")
    assert rc == 0 and result["features"] == ["Waist", "Pulse"] and result["task"] == "regression"


@pytest.mark.parametrize("target, rows, task", [
    ([0, 1, 2] * 10, 30, "classification"),  # 3 values in 30 rows: classes
    ([0, 1] * 2, 4, "classification"),  # two values are always classes
    (list(range(30)), 30, "regression"),  # 30 values: too many
    ([i % 12 for i in range(20)], 20, "regression"),  # 12 values in 20 rows: too many per row
    ([i % 10 for i in range(20)], 20, "classification"),  # 10 values in 20 rows: two per class
    ([i * 0.5 for i in range(30)], 30, "regression"),  # decimals: no guess to say
])
def test_the_task_guess_weighs_the_values_their_count_and_their_ratio(tmp_path, capsys, target, rows, task):
    path = write(tmp_path / "t.csv", "x,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(target)))
    rc, result, _ = data_json(capsys, path)
    assert result["task"] == task
    notes = [p["message"] for p in result["problems"] if "guessed" in p["message"]]
    if isinstance(target[1], float):
        assert notes == []
    else:
        assert len(notes) == 1 and notes[0].split(": ")[1] == f"guessed {task}" and f" in {rows} rows" in notes[0]


# --- the reader --------------------------------------------------------------------------------

def read_all(path, **kw):
    fmt = csvreader.sniff(path, **kw)
    rows, lines = [], []
    for chunk, numbers in csvreader.read_chunks(fmt, chunk_rows=4):
        rows.extend(chunk)
        lines.extend(numbers)
    return fmt, rows, lines


def test_runs_of_spaces_and_tabs_separate_values(tmp_path):
    text = "  a   b\tc\n" + "".join(f" {i}  {i * 1.5}\t\t{i % 2}\n" for i in range(9)) + "\n"
    fmt, rows, lines = read_all(write(tmp_path / "s.txt", text))
    assert fmt.delimiter == csvreader.WHITESPACE and fmt.header and fmt.names == ["a", "b", "c"]
    assert rows[1] == ["1", "1.5", "1"] and len(rows) == 9 and lines == list(range(2, 11))


def test_a_comma_file_with_spaces_in_its_cells_stays_a_comma_file(tmp_path):
    text = "name,city,age\n" + "".join(f"Ann Lee {i},New York,{20 + i}\n" for i in range(10))
    fmt, rows, _ = read_all(write(tmp_path / "c.csv", text))
    assert fmt.delimiter == "," and rows[0] == ["Ann Lee 0", "New York", "20"]


def test_lines_of_words_are_not_a_space_separated_table(tmp_path):
    fmt = csvreader.sniff(write(tmp_path / "w.csv", "note\n" + "".join(f"some words here {i}\n" for i in range(9))))
    assert fmt.delimiter != csvreader.WHITESPACE


def test_a_space_separated_row_with_a_missing_value_names_its_line(tmp_path):
    path = write(tmp_path / "s.csv", "1 2 3\n4 5 6\n7 8\n" + "".join(f"{i} {i} {i}\n" for i in range(12)))
    fmt = csvreader.sniff(path)
    with pytest.raises(DataError, match=r"s.csv:3: the row has 2 fields but the first rows have 3; check the "
                                        r"delimiter \(space\)"):
        csvreader.scan(fmt)


def test_skipped_lines_keep_the_files_line_numbers(tmp_path):
    path = write(tmp_path / "n.csv", "exported by a lab machine\nrun 7, 2024\na,b,label\n1,2,x\n3,oops,y\n5,6,x\n"
                 + "".join(f"{i},{i},{'xy'[i % 2]}\n" for i in range(7, 20)))
    with pytest.raises(DataError) as err:
        csvreader.sniff(path)
    assert str(err.value) == (f"{path}:1: lines 1 to 2 have 1 and 2 fields (comma-separated), the rest 3: are they "
                              "notes? skip them with --skip-rows 2 (the Data panel's 'Skip rows')")
    fmt = csvreader.sniff(path, skip_rows=2)
    assert fmt.header and fmt.names == ["a", "b", "label"] and fmt.first_data_line == 4
    scan = csvreader.scan(fmt)
    assert scan.rows == 16 and scan.stat("b").bad == [(5, "oops")] and scan.preview_lines[:2] == [4, 5]
    _, rows, lines = read_all(path, skip_rows=2, delimiter=" ")  # a delimiter given by hand is kept
    assert lines[0] == 4


def test_a_header_with_a_name_too_few_is_named_too(tmp_path):
    path = write(tmp_path / "r.csv", "a,b\n" + "".join(f"{i},{i},{i}\n" for i in range(6)))
    with pytest.raises(DataError, match="r.csv:1: line 1 has 2 fields .comma-separated., the rest 3: is it a header "
                                        "or notes?.*a header needs one name per column"):
        csvreader.sniff(path)


def test_skipping_more_lines_than_the_file_has_says_so(tmp_path):
    path = write(tmp_path / "short.csv", "a,b\n1,2\n")
    with pytest.raises(DataError, match="short.csv: the file has 2 lines, and 5 are to be skipped"):
        csvreader.sniff(path, skip_rows=5)


def test_skip_rows_is_a_checked_spec_key(capsys):
    from studio.data.spec import DatasetSpec

    spec = DatasetSpec.from_dict({"kind": "csv", "path": "x.csv", "skip_rows": 2})
    assert spec.skip_rows == 2 and spec.to_dict()["skip_rows"] == 2
    assert "skip_rows" not in DatasetSpec.from_dict({"kind": "csv", "path": "x.csv"}).to_dict()
    with pytest.raises(DataError, match="dataset.skip_rows must be a whole number of lines"):
        DatasetSpec.from_dict({"kind": "csv", "path": "x.csv", "skip_rows": -1})
    with pytest.raises(SystemExit) as exit_:
        data(capsys, SKLEARN / "iris.csv", "--skip-rows", "x")
    assert exit_.value.code == 2 and "--skip-rows: must be a whole number of lines" in capsys.readouterr().err


def test_a_time_series_and_texts_skip_rows_too(tmp_path):
    from studio import data as studio_data

    series = write(tmp_path / "s.csv", "sensor log v2\n" + "t,load\n" + "".join(f"{i},{i % 5}\n" for i in range(80)))
    info = studio_data.describe({"kind": "timeseries", "path": str(series), "skip_rows": 1,
                                 "window": {"length": 8, "stride": 1, "horizon": 1}})
    assert info.ok and info.targets == ["load"] and info.spec["skip_rows"] == 1
    with pytest.raises(DataError, match="--skip-rows 1"):
        studio_data.describe({"kind": "timeseries", "path": str(series)})


# --- and they train ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, flags, task", [
    ("iris", {"skip_rows": 1}, "classification"),
    ("wine_data", {"skip_rows": 1}, "classification"),
    ("breast_cancer", {"skip_rows": 1}, "classification"),
    ("diabetes_data_raw", {}, "regression"),
    ("digits", {}, "classification"),
    ("linnerud_exercise", {}, "regression"),
])
def test_each_file_trains(capsys, tmp_path, name, flags, task):
    from studio import data as studio_data
    from studio.data.binding import fix_edits
    from studio.project.io import save_project
    from studio.project.templates import make_project

    shutil.copy(SKLEARN / f"{name}.csv", tmp_path / f"{name}.csv")
    project = make_project("mlp", name)
    project.dataset = {"kind": "csv", "path": f"{name}.csv", **flags}
    info = studio_data.describe(project.dataset, tmp_path)
    assert info.ok and info.task == task
    batch = fix_edits(project.graph, info)  # what the Data panel's "Fit model to data" does
    if batch is not None:
        batch.apply(project.graph)
    path = tmp_path / f"{name}.studio.json"
    save_project(project, path)
    capsys.readouterr()
    rc = main(["train", str(path), "--epochs", "2", "--seed", "0", "--json", "--run-dir", str(tmp_path / "runs")])
    out, err = capsys.readouterr()
    assert rc == 0, err[-2000:]
    end = json.loads(out.splitlines()[-1])
    assert end["status"] == "completed", end
