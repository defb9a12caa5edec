"""The Data panel driven like a user: pick a source, change settings, undo, fit the model."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.graph.model import Edge, Node
from studio.project.io import load_project, save_project
from studio.ui.data import panel as panel_module
from studio.ui.data.panel import DataPanel
from studio.ui.document import ProjectDocument

EXAMPLES = Path(__file__).resolve().parents[3] / "projects"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "studio-cache"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")


def make_panel(qtbot, project):
    document = ProjectDocument(project)
    panel = DataPanel(document)
    qtbot.addWidget(panel)
    panel.resize(1000, 420)
    panel.show()
    wait_described(qtbot, panel)
    return document, panel


def wait_described(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)


def iris_project(tmp_path):
    project = load_project(EXAMPLES / "iris-mlp.studio.json")
    save_project(project, tmp_path / "iris.studio.json")
    return project


def test_shows_the_iris_table_classes_and_split(qtbot, tmp_path):
    _, panel = make_panel(qtbot, iris_project(tmp_path))
    assert panel.title.text() == "Iris flowers"
    assert "150 samples" in panel.summary.text() and "3 classes" in panel.summary.text()
    headers = panel.table.header_texts()
    assert headers[0] == "sepal_length\nnumeric · input" and headers[-1] == "species\ncategorical · target"
    assert panel.table.rowCount() == 20 and panel.table.item(0, 4).text() == "setosa"
    assert panel.classes.counts == [50, 50, 50]
    assert panel.split_label.text() == "train 105 · validation 30 · test 15"
    assert panel.problem_texts() == ["No problems: the data and the model fit together."]
    assert not panel.fit.isEnabled()
    assert panel.form.target.currentText() == "species" and panel.form.target.isEnabled()


def test_choosing_a_sample_is_one_undo_step(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    before = copy.deepcopy(document.project.dataset)
    panel.set_source("spirals")
    wait_described(qtbot, panel)
    assert document.project.dataset["path"] == "spirals" and document.project.dataset["split"] == before["split"]
    assert panel.title.text() == "Two spirals" and document.is_dirty
    assert any("expects samples of shape (4,)" in t for t in panel.problem_texts())
    document.undo_stack.undo()
    wait_described(qtbot, panel)
    assert document.project.dataset == before and panel.title.text() == "Iris flowers"


def test_settings_change_the_spec_undoably(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    panel.form.validation.setValue(30)
    wait_described(qtbot, panel)
    assert document.project.dataset["split"]["validation"] == pytest.approx(0.3)
    assert panel.split_label.text() == "train 90 · validation 45 · test 15"
    panel.change("targets", ["petal_width"])
    panel.change("task", "regression")
    wait_described(qtbot, panel)
    assert panel.info.task == "regression" and not panel.tabs.isTabEnabled(1)
    assert any("1 target value per sample but 'species' outputs 3; set units to 1" in t
               for t in panel.problem_texts())
    for _ in range(3):
        document.undo_stack.undo()
    wait_described(qtbot, panel)
    assert panel.info.task == "classification" and panel.split_label.text().startswith("train 105")


def test_fit_model_to_data_sets_the_input_and_output(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    panel.set_source("digits")
    wait_described(qtbot, panel)
    assert panel.fit.isEnabled()
    panel.fit.click()
    graph = document.graph
    assert graph.node("measurements").params["batch_shape"] == [None, 8, 8, 1]
    assert graph.node("species").params["units"] == 10
    # a Dense on an image: the report says so, but the data binding itself is satisfied
    qtbot.waitUntil(lambda: not panel.fit.isEnabled(), timeout=60_000)
    document.undo_stack.undo()
    assert graph.node("measurements").params["batch_shape"] == [None, 4]


def test_bad_file_shows_one_clear_error(qtbot, tmp_path, monkeypatch):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    monkeypatch.setattr(panel_module, "choose_file", lambda *a: str(bad))
    panel.open_file.click()
    wait_described(qtbot, panel)
    assert document.project.dataset["path"] == "bad.csv"  # relative to the project folder
    assert panel.info is None and "bad.csv:3: the row has 1 field" in panel.error
    assert panel.problem_texts()[0].startswith("error:")
    assert panel.title.text() == "The data cannot be read"


def test_image_folder_shows_thumbnails_and_the_text_and_series_views(qtbot, tmp_path, monkeypatch):
    project = iris_project(tmp_path)
    for k, name in enumerate(("cats", "dogs")):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((6, 6, 3), 80 * k, np.uint8)).save(tmp_path / "pets" / name / f"{i}.png")
    _, panel = make_panel(qtbot, project)
    monkeypatch.setattr(panel_module, "choose_folder", lambda *a: str(tmp_path / "pets"))
    panel.open_folder.click()
    wait_described(qtbot, panel)
    assert panel.preview.currentWidget() is panel.images and panel.images.count() == 6
    assert panel.images.item(0).text() == "cats" and not panel.images.item(0).icon().isNull()
    assert panel.form.form.isRowVisible(panel.form.image_size)
    panel.set_source("sine")
    wait_described(qtbot, panel)
    assert panel.preview.currentWidget() is panel.series and list(panel.series.curves) == ["value"]
    assert panel.form.form.isRowVisible(panel.form.window_length)
    panel.set_source("short-text")
    wait_described(qtbot, panel)
    assert panel.preview.currentWidget() is panel.texts and panel.texts.rowCount() == 12


def test_project_without_data_and_replacing_the_project(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    project = load_project(EXAMPLES / "text-gru.studio.json")
    project.dataset = None
    document.set_project(project)
    wait_described(qtbot, panel)
    assert panel.info is None and "No data yet" in panel.title.text()
    g = document.graph
    assert g.nodes  # the graph is there; only the data is missing
    g.add_node(Node("Dense", {"units": 2}, id="extra"))
    g.connect(Edge("topic", "extra"))
    panel.set_source("short-text")
    wait_described(qtbot, panel)
    assert panel.info.kind == "text"


def test_main_window_docks_the_data_panel(qtbot, dialog_log, tmp_path):
    from studio.ui.main_window import MainWindow

    window = MainWindow(ProjectDocument(iris_project(tmp_path)), optional_panels=True)
    qtbot.addWidget(window)
    panel = window.panels["DataPanel"]
    assert isinstance(panel, DataPanel) and "DataPanelDock" in window.docks
    wait_described(qtbot, panel)
    assert panel.info is not None and panel.info.num_classes == 3
    panel.shutdown()
    window.files.close()


def test_data_settings_are_saved_in_the_project_file(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    csv = tmp_path / "data" / "flowers.csv"
    csv.parent.mkdir()
    csv.write_text("petal,width,kind\n" + "".join(f"{i % 9}.5,{i % 4},{'ab'[i % 2]}\n" for i in range(40)))
    panel.set_source(str(csv))
    wait_described(qtbot, panel)
    panel.form.missing.setCurrentText("fill")
    panel.form.missing.activated.emit(panel.form.missing.currentIndex())  # as a user's pick does
    wait_described(qtbot, panel)
    panel.form.test.setValue(20)
    wait_described(qtbot, panel)
    assert document.is_dirty
    path = save_project(document.project, tmp_path / "iris.studio.json")
    document.mark_saved(path)
    saved = load_project(path).dataset
    assert saved["kind"] == "csv" and saved["path"] == "data/flowers.csv"  # relative: the folder can move
    assert saved["missing"] == "fill" and saved["split"]["test"] == pytest.approx(0.2)
    assert saved["split"]["validation"] == pytest.approx(0.2)  # kept from the Iris project
    document.undo_stack.undo()
    assert document.is_dirty and document.project.dataset["split"]["test"] == pytest.approx(0.1)


def test_input_columns_are_chosen_in_the_form(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    actions = panel.form.input_actions
    assert list(actions) == ["sepal_length", "sepal_width", "petal_length", "petal_width"]  # not the target
    assert all(a.isChecked() for a in actions.values()) and panel.form.inputs.text() == "all 4 columns"
    actions["sepal_width"].setChecked(False)  # the user unticks a column
    wait_described(qtbot, panel)
    assert document.project.dataset["features"] == ["sepal_length", "petal_length", "petal_width"]
    assert panel.info.feature_shape == (3,) and panel.form.inputs.text() == "sepal_length, petal_length, petal_width"
    assert any("expects samples of shape (4,) but the data has (3,)" in t for t in panel.problem_texts())
    for name in ("sepal_length", "petal_length", "petal_width"):
        panel.form.input_actions[name].setChecked(False)
        wait_described(qtbot, panel)
    assert document.project.dataset["features"] == ["petal_width"]  # the last input stays ticked
    assert panel.form.input_actions["petal_width"].isChecked()
    for _ in range(3):
        document.undo_stack.undo()
    wait_described(qtbot, panel)
    assert "features" not in document.project.dataset and panel.info.feature_shape == (4,)


def test_a_text_dataset_has_one_text_input(qtbot, tmp_path):
    project = iris_project(tmp_path)
    csv = tmp_path / "notes.csv"
    rows = [f'"note number {i} about {"cats" if i % 2 else "dogs"} and more words",'
            f'"short {i} text here too",{"ab"[i % 2]}' for i in range(30)]
    csv.write_text("body,title,label\n" + "\n".join(rows) + "\n")
    document, panel = make_panel(qtbot, project)
    panel.set_source(str(csv))
    wait_described(qtbot, panel)
    panel.change("kind", "text")
    wait_described(qtbot, panel)
    assert panel.info.kind == "text" and panel.info.features == ["body"]
    panel.form.input_actions["title"].setChecked(True)  # exclusive: "body" is unticked
    wait_described(qtbot, panel)
    assert document.project.dataset["features"] == ["title"] and panel.info.features == ["title"]
    document.undo_stack.undo()
    wait_described(qtbot, panel)
    assert panel.info.features == ["body"]


def test_several_targets_make_a_regression_with_one_output_each(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    panel.change("targets", ["petal_width"])
    panel.change("task", None)  # inferred again: petal widths are a regression
    wait_described(qtbot, panel)
    assert panel.info.task == "regression"
    assert list(panel.form.target_actions) == ["sepal_length", "sepal_width", "petal_length"]
    panel.form.target_actions["petal_length"].setChecked(True)  # "+": also predict petal_length
    wait_described(qtbot, panel)
    assert document.project.dataset["targets"] == ["petal_width", "petal_length"]
    assert panel.info.task == "regression" and panel.info.target_shape == (2,)
    assert panel.form.more_targets.text() == "+1" and "petal_length" not in panel.form.input_actions
    assert any("2 target values per sample but 'species' outputs 3; set units to 2" in t
               for t in panel.problem_texts())
    panel.fit.click()
    assert document.graph.node("species").params["units"] == 2


def test_a_file_in_another_encoding_is_fixed_in_the_form(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    path = tmp_path / "old.csv"
    path.write_bytes(("name;size;label\n" + "".join(f"caf\u00e9 {i};{i};{'ab'[i % 2]}\n" for i in range(20)))
                     .encode("cp1252"))
    panel.set_source(str(path))
    wait_described(qtbot, panel)
    assert panel.info is None and "old.csv:2: the text is not valid utf-8" in panel.error
    assert panel.form.form.isRowVisible(panel.form.encoding)
    panel.form.encoding.setCurrentText("cp1252")
    panel.form.encoding.activated.emit(panel.form.encoding.currentIndex())
    wait_described(qtbot, panel)
    assert document.project.dataset["encoding"] == "cp1252" and panel.info.num_samples == 20
    assert panel.table.item(0, 0).text() == "caf\u00e9 0"
    assert panel.form.delimiter.itemText(0) == "(inferred): semicolon ;"  # found, not chosen
    assert "delimiter" not in document.project.dataset
    document.undo_stack.undo()
    wait_described(qtbot, panel)
    assert panel.info is None and "encoding" not in document.project.dataset


def test_a_csv_is_read_as_a_time_series_or_texts(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    path = tmp_path / "temps.csv"
    path.write_text("day,temp\n" + "".join(f"{i},{20 + (i % 7) * 0.5}\n" for i in range(120)))
    panel.set_source(str(path))
    wait_described(qtbot, panel)
    assert panel.info.kind == "csv" and panel.form.form.isRowVisible(panel.form.read_as)
    assert [panel.form.read_as.itemData(i) for i in range(3)] == ["csv", "timeseries", "text"]
    panel.change("targets", ["temp"])
    panel.form.read_as.setCurrentIndex(1)
    panel.form.read_as.activated.emit(1)
    wait_described(qtbot, panel)
    assert document.project.dataset["kind"] == "timeseries" and "targets" not in document.project.dataset
    assert panel.info.task == "forecast" and panel.preview.currentWidget() is panel.series
    assert panel.form.form.isRowVisible(panel.form.window_length)
    document.undo_stack.undo()
    wait_described(qtbot, panel)
    assert panel.info.kind == "csv" and panel.form.read_as.currentData() == "csv"
    panel.set_source("iris")  # a sample is read one way only
    wait_described(qtbot, panel)
    assert not panel.form.form.isRowVisible(panel.form.read_as)
    assert not panel.form.form.isRowVisible(panel.form.encoding)


def test_clicking_a_model_problem_selects_its_layer(qtbot, tmp_path):
    document, panel = make_panel(qtbot, iris_project(tmp_path))
    panel.set_source("digits")
    wait_described(qtbot, panel)
    texts = panel.problem_texts()
    row = next(i for i, t in enumerate(texts) if "expects samples of shape (4,)" in t)
    panel.problems.itemClicked.emit(panel.problems.item(row))
    assert document.selection == ["measurements"]  # the Input node, where the fix goes
    row = next(i for i, t in enumerate(texts) if "10 classes" in t)
    panel.problems.itemClicked.emit(panel.problems.item(row))
    assert document.selection == ["species"]
