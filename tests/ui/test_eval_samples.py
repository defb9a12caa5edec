"""The Evaluation tab shows the samples behind its numbers: click a cell of the confusion matrix
and its test samples are listed as themselves (thumbnails of image files, rows of a CSV with
their columns) with their most probable classes, sortable by confidence; a regression lists its
largest errors. Tiny projects trained for one epoch through `studio.workflows.train`."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from studio.workflows import evaluate
from tests.workflows.test_eval_samples import LONG_CLASS, image_project, table_project, text_project, trained


def _panel(qtbot, project, result):
    """The training panel of `project` with the evaluated run selected and the Evaluation tab
    opened by a click on its tab, as a user does."""
    from studio.ui.document import ProjectDocument
    from studio.ui.training.panel import TrainingPanel

    panel = TrainingPanel(ProjectDocument(project))
    qtbot.addWidget(panel)
    panel.resize(1100, 420)
    panel.show()
    qtbot.waitExposed(panel)
    panel.runs_view.select(result["run"])
    bar = panel.tabs.tabBar()
    tab = next(i for i in range(bar.count()) if bar.tabText(i) == "Evaluation")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(tab).center())
    assert panel.tabs.currentWidget() is panel.evaluation
    return panel.evaluation


def _click_cell(qtbot, view, row: int, column: int) -> None:
    table = view.confusion
    rect = table.visualItemRect(table.item(row, column))
    assert table.viewport().rect().contains(rect.center()), "the cell is out of view"
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _loaded(qtbot, samples) -> None:
    qtbot.waitUntil(lambda: not samples.loading(), timeout=20_000)


def _column(samples, header: str) -> list[str]:
    c = samples.header_labels().index(header)
    return [samples.table.item(r, c).text() for r in range(samples.table.rowCount())]


@pytest.fixture(scope="module")
def image_eval(tmp_path_factory):
    folder = tmp_path_factory.mktemp("img")
    project = trained(image_project(folder))
    return project, evaluate.evaluate_run(project)


def test_clicking_a_cell_shows_its_images_as_thumbnails_with_their_probabilities(qtbot, image_eval):
    project, result = image_eval
    view = _panel(qtbot, project, result)
    names = result["class_names"]
    assert view.predicted_axis.text() == "predicted class" and view.true_axis.text() == "true class"
    assert view.predicted_axis.isVisible() and view.true_axis.isVisible()
    long = names.index(LONG_CLASS)
    # The long class name is elided in the headers and whole in their tooltips.
    header = view.confusion.verticalHeaderItem(long)
    assert header.text() != LONG_CLASS and header.text().endswith("…") and LONG_CLASS in header.toolTip()
    assert LONG_CLASS in view.confusion.horizontalHeaderItem(long).toolTip()

    # The cell with the most samples, clicked where it is on screen.
    cells = [(i, j) for i in range(2) for j in range(2)]
    row, column = max(cells, key=lambda c: result["confusion"][c[0]][c[1]])
    _click_cell(qtbot, view, row, column)
    samples = view.samples
    expected = [i for i, (t, p) in enumerate(zip(result["y_true"], result["y_pred"])) if (t, p) == (row, column)]
    assert samples.table.rowCount() == len(expected) >= 2
    assert f"of class {names[row]} predicted as {names[column]}" in samples.title.text()
    _loaded(qtbot, samples)
    refs = result["sample_refs"]
    table = samples.table
    for r in range(table.rowCount()):
        first = table.item(r, 0)
        assert first.text() in {refs[i] for i in expected}  # the image's file, in its class folder
        assert first.text().startswith(names[row] + "/") and first.text().endswith(".png")
        pixmap = first.icon().pixmap(40, 40)
        assert not first.icon().isNull() and pixmap.width() == 40  # a thumbnail, not a placeholder
        assert '<img src="file://' in first.toolTip() and first.text() in first.toolTip()  # a larger preview
    image = table.item(0, 0).icon().pixmap(40, 40).toImage()
    bright = image.pixelColor(20, 20).lightness() > 128
    assert bright == (names[row] == LONG_CLASS)  # the thumbnail shows the file's own pixels
    # Each sample's probabilities: its confidence, and the classes by probability.
    tops = _column(samples, "top classes")
    assert all(names[column][:10] in t and "%" in t for t in tops)
    confidences = [float(t.rstrip("%")) for t in _column(samples, "confidence")]
    assert all(50.0 <= c <= 100.0 for c in confidences)

    # Sorting by confidence: click its header (twice: both ways).
    hh = table.horizontalHeader()
    c = samples.header_labels().index("confidence")
    for _ in range(2):
        x = hh.sectionViewportPosition(c) + hh.sectionSize(c) // 2
        qtbot.mouseClick(hh.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, hh.height() // 2))
        shown = [float(t.rstrip("%")) for t in _column(samples, "confidence")]
        order = hh.sortIndicatorOrder()
        assert shown == sorted(shown, reverse=order == Qt.SortOrder.DescendingOrder)
        assert sorted(shown) == sorted(confidences)
    assert len(set(_column(samples, "sample"))) == len(expected)  # the rows moved whole


def test_the_tab_first_lists_the_mistakes_most_confident_first_or_else_the_least_confident(qtbot, image_eval):
    project, result = image_eval
    view = _panel(qtbot, project, result)
    wrong = [i for i, (t, p) in enumerate(zip(result["y_true"], result["y_pred"])) if t != p]
    samples = view.samples
    _loaded(qtbot, samples)
    confidences = [float(t.rstrip("%")) for t in _column(samples, "confidence")]
    if wrong:
        assert samples.table.rowCount() == len(wrong)
        assert confidences == sorted(confidences, reverse=True)
        assert set(_column(samples, "sample")) == {result["sample_refs"][i] for i in wrong}
    else:  # no mistakes: every sample, the nearest to a mistake first
        assert samples.table.rowCount() == result["samples"]
        assert confidences == sorted(confidences) and "least confident first" in samples.title.text()


def test_a_csv_cell_lists_its_rows_with_their_columns(qtbot, tmp_path):
    project = trained(table_project(tmp_path))
    result = evaluate.evaluate_run(project)
    view = _panel(qtbot, project, result)
    names = result["class_names"]
    row = column = names.index("large")
    _click_cell(qtbot, view, row, column)
    samples = view.samples
    _loaded(qtbot, samples)
    assert samples.header_labels()[-3:] == ["width", "height", "target"]
    lines = (tmp_path / "table.csv").read_text(encoding="utf-8").splitlines()
    expected = [i for i, (t, p) in enumerate(zip(result["y_true"], result["y_pred"])) if t == p == row]
    assert samples.table.rowCount() == len(expected)
    for r in range(samples.table.rowCount()):
        label = samples.table.item(r, 0).text()  # "row 12 (line 13)"
        line = int(label.split("line ")[1].rstrip(")"))
        cells = [samples.table.item(r, c).text() for c in range(samples.table.columnCount() - 3,
                                                                    samples.table.columnCount())]
        assert cells == lines[line - 1].split(",") and cells[2] == "large"
        assert samples.table.item(r, 0).icon().isNull()  # rows have no thumbnails
    assert all(t.startswith(("large", "small")) for t in _column(samples, "top classes"))


def test_a_regression_lists_its_largest_errors_with_their_rows(qtbot, tmp_path):
    project = trained(table_project(tmp_path, "regression"))
    result = evaluate.evaluate_run(project)
    view = _panel(qtbot, project, result)
    assert view.stack.currentWidget() is view.regression
    worst = view.worst
    _loaded(qtbot, worst)
    assert worst.table.rowCount() == result["samples"]
    errors = [abs(float(t)) for t in _column(worst, "error")]
    assert errors == sorted(errors, reverse=True)
    assert errors[0] == pytest.approx(result["max_error"], rel=1e-3)
    # The worst sample is the one `studio evaluate --json` names first, shown with its row's cells.
    first = result["worst"][0]
    assert _column(worst, "sample")[0].startswith(f"row {first['row']} ")
    assert worst.header_labels()[-3:] == ["width", "height", "target"]
    assert float(_column(worst, "target")[0]) == pytest.approx(first["true"], abs=1e-3)
    # Selecting a sample rings it on the predicted-against-actual plot.
    table = worst.table
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(table.item(0, 1)).center())
    x, y = view.picked.getData()
    assert (x[0], y[0]) == pytest.approx((first["true"], first["predicted"]), rel=1e-4)


def test_an_old_evaluation_without_sample_sources_still_lists_numbers(qtbot):
    from studio.ui.training.evaluation_view import EvaluationView

    view = EvaluationView()
    qtbot.addWidget(view)
    view.set_evaluation({"task": "classification", "samples": 3, "accuracy": 2 / 3, "class_names": ["a", "b"],
                         "confusion": [[1, 1], [0, 1]], "macro": {"precision": 1, "recall": 1, "f1": 1},
                         "weighted": {"precision": 1, "recall": 1, "f1": 1},
                         "per_class": [{"class": c, "precision": 1, "recall": 1, "f1": 1, "support": 1}
                                       for c in "ab"], "y_true": [0, 0, 1], "y_pred": [0, 1, 1]})
    view.show_cell(0, 1)
    assert view.samples.table.rowCount() == 1 and view.samples.table.item(0, 0).text() == "test sample #1"
    assert "evaluate the run again" in view.samples.table.item(0, 0).toolTip()
    assert not view.samples.loading()


def test_a_text_cell_shows_the_start_of_each_text(qtbot, tmp_path):
    project = trained(text_project(tmp_path))
    result = evaluate.evaluate_run(project)
    view = _panel(qtbot, project, result)
    names = result["class_names"]
    row = column = max(range(2), key=lambda i: result["confusion"][i][i])
    _click_cell(qtbot, view, row, column)
    samples = view.samples
    _loaded(qtbot, samples)
    assert samples.table.rowCount() == result["confusion"][row][column] > 0
    for label, text in zip(_column(samples, "sample"), _column(samples, "text")):
        assert label.startswith(f"{names[row]}/note") and text.startswith(f"{names[row]} note ")



def test_ten_long_class_names_stay_readable_in_a_bottom_dock(qtbot):
    """Names too long for ten columns: the columns are numbered and the rows say which number is
    which class; every name is whole in its tooltip; nothing scrolls sideways."""
    from studio.ui.training.evaluation_view import EvaluationView

    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck with a very long trailer"]
    confusion = [[80 if i == j else (5 if j == (i + 1) % 10 else 1) for j in range(10)] for i in range(10)]
    row = {"precision": 0.9, "recall": 0.9, "f1": 0.9, "support": 93}
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(980, 320)  # the Evaluation tab of a default window's Training dock, a little taller
    view.show()
    qtbot.waitExposed(view)
    view.set_evaluation({"task": "classification", "samples": 930, "accuracy": 0.86, "class_names": names,
                         "confusion": confusion, "per_class": [{"class": c, **row} for c in names],
                         "macro": dict(row), "weighted": dict(row), "y_true": [], "y_pred": []})
    table = view.confusion
    assert [table.horizontalHeaderItem(j).text() for j in range(10)] == [str(j + 1) for j in range(10)]
    rows = [table.verticalHeaderItem(i).text() for i in range(10)]
    assert rows[:9] == [f"{i + 1} {n}" for i, n in enumerate(names[:9])]
    assert rows[9].startswith("10 truck") and rows[9].endswith("…")
    assert table.verticalHeaderItem(9).toolTip() == f"true {names[9]}"
    assert table.horizontalHeaderItem(9).toolTip() == f"predicted {names[9]}"
    assert table.horizontalScrollBar().maximum() == 0 and table.verticalScrollBar().maximum() == 0
    assert "kept no per-sample results" in view.samples.title.text()  # not "no mistakes"


def test_without_mistakes_the_least_confident_samples_come_first(qtbot):
    from studio.ui.training.evaluation_view import EvaluationView

    view = EvaluationView()
    qtbot.addWidget(view)
    scores = {"precision": 1, "recall": 1, "f1": 1}
    view.set_evaluation({"task": "classification", "samples": 4, "accuracy": 1.0, "class_names": ["a", "b"],
                         "confusion": [[2, 0], [0, 2]], "macro": scores, "weighted": scores,
                         "per_class": [{"class": c, **scores, "support": 2} for c in "ab"],
                         "y_true": [0, 0, 1, 1], "y_pred": [0, 0, 1, 1], "top_classes": [[0, 1], [0, 1], [1, 0], [1, 0]],
                         "top_probs": [[0.9, 0.1], [0.55, 0.45], [0.99, 0.01], [0.7, 0.3]]})
    assert _column(view.samples, "confidence") == ["55.0%", "70.0%", "90.0%", "99.0%"]
    assert _column(view.samples, "sample") == ["test sample #1", "test sample #3", "test sample #0", "test sample #2"]
    assert _column(view.samples, "top classes")[0] == "a 55%, b 45%"
