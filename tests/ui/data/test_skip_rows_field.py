"""The Data panel's 'Skip rows' field (issue 14, point 4): a file whose first line is notes
(scikit-learn's wine_data.csv: counts and class names above rows of 14 numbers) cannot be read;
the error names the line and the field; setting the field to 1 reads it, as one undo step."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.ui.data.test_data_panel import iris_project, make_panel, wait_described

SKLEARN = Path(__file__).resolve().parents[2] / "data" / "files" / "sklearn"


def test_skip_rows_reads_a_file_whose_first_line_is_notes(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    shutil.copy(SKLEARN / "wine_data.csv", tmp_path / "wine_data.csv")
    panel.set_source(str(tmp_path / "wine_data.csv"))
    wait_described(qtbot, panel)
    assert panel.info is None
    assert "wine_data.csv:1: line 1 has 5 fields (comma-separated), the rest 14: is it a header or notes?" \
        in panel.error and "'Skip rows'" in panel.error
    form = panel.form
    assert form.form.isRowVisible(form.skip_rows) and form.skip_rows.value() == 0
    form.skip_rows.setValue(1)  # what typing 1 and leaving the field does
    wait_described(qtbot, panel)
    assert document.project.dataset["skip_rows"] == 1
    assert panel.info is not None and panel.info.num_samples == 30 and panel.info.num_classes == 3
    assert panel.table.item(0, 0).text() == "14.23"  # the first row of numbers, not the counts
    assert form.skip_rows.value() == 1
    document.undo_stack.undo()
    wait_described(qtbot, panel)
    assert "skip_rows" not in document.project.dataset and panel.info is None
    assert form.skip_rows.value() == 0  # showing the spec again does not emit a change
    assert document.undo_stack.count() == 2  # the source, the skip; no echo from filling the form


def test_space_separated_files_show_their_delimiter_and_the_task_guess(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    shutil.copy(SKLEARN / "linnerud_exercise.csv", tmp_path / "linnerud_exercise.csv")
    panel.set_source(str(tmp_path / "linnerud_exercise.csv"))
    wait_described(qtbot, panel)
    assert panel.info.task == "regression" and panel.info.targets == ["Jumps"]
    assert panel.form.delimiter.itemText(0) == "(inferred): spaces"
    assert panel.form.task.itemText(0) == "(inferred): regression"
    assert any("guessed regression" in text and "set the task to classification" in text
               for text in panel.problem_texts())
    assert not panel.form.form.isRowVisible(panel.form.skip_rows) or panel.form.skip_rows.value() == 0
    panel.set_source("iris")  # a sample has no lines to skip
    wait_described(qtbot, panel)
    assert not panel.form.form.isRowVisible(panel.form.skip_rows)
