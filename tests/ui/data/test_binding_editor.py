"""The Data panel's "Inputs & outputs" tab: which columns feed each Input and which column is each
output's target, edited by clicks on the grid; each click is one undo step, and a wrong binding is
marked on its node (the grid's header and the canvas' diagnostics)."""

from __future__ import annotations

import copy
from pathlib import Path

from PySide6.QtCore import Qt

from studio.project.io import load_project, save_project
from tests.ui.data.test_data_panel import make_panel, wait_described

EXAMPLE = Path(__file__).resolve().parents[3] / "projects" / "two-heads.studio.json"


def _project(tmp_path, unbound: bool = False):
    project = load_project(EXAMPLE)
    if unbound:
        project.dataset = {k: v for k, v in project.dataset.items() if k not in ("inputs", "outputs")}
    save_project(project, tmp_path / "two-heads.studio.json")
    return project


def _open_tab(qtbot, panel):
    bar = panel.tabs.tabBar()
    tab = next(i for i in range(bar.count()) if bar.tabText(i) == "Inputs && outputs")
    assert panel.tabs.isTabVisible(tab)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(tab).center())
    assert panel.tabs.currentWidget() is panel.bindings
    return panel.bindings


def _click(qtbot, panel, column: str, node: str) -> None:
    editor = panel.bindings
    rect = editor.cell_rect(column, node)
    editor.grid.scrollToItem(editor.grid.item(editor.names.index(column), 0))
    rect = editor.cell_rect(column, node)
    assert editor.grid.viewport().rect().contains(rect.center()), f"the cell {column}/{node} is out of view"
    qtbot.mouseClick(editor.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    wait_described(qtbot, panel)


def _header(editor, node: str):
    column = [n for n, _r, _l in editor.nodes].index(node)
    return editor.grid.horizontalHeaderItem(column)


def _node_errors(document, node: str) -> list[str]:
    return [d.message for d in document.data_diagnostics if d.node == node and d.severity == "error"]


def test_a_click_binds_a_column_marks_the_wrong_node_and_undo_takes_it_back(qtbot, tmp_path):
    document, panel = make_panel(qtbot, _project(tmp_path))
    before = copy.deepcopy(document.project.dataset)
    editor = _open_tab(qtbot, panel)
    assert editor.names == ["a1", "a2", "a3", "b1", "b2", "kind", "amount"]
    assert [label for _n, _r, label in editor.nodes] == ["features a", "features b", "kind", "amount"]
    assert editor.is_bound("a3", "features-a") and editor.is_bound("amount", "amount")
    assert editor.grid.item(2, 0).text() == "✓" and editor.grid.item(2, 1).text() == ""
    assert not _header(editor, "features-b").text().startswith("⚠")
    # The settings' single target and inputs would contradict the bindings: they are hidden.
    assert not panel.form.form.isRowVisible(panel.form.target_row)
    assert not panel.form.form.isRowVisible(panel.form.inputs)

    # a3 fed to 'features b' too: the column is bound twice, an error on that node.
    _click(qtbot, panel, "a3", "features-b")
    assert document.project.dataset["inputs"][1] == {"node": "features-b", "features": ["b1", "b2", "a3"]}
    qtbot.waitUntil(lambda: _header(panel.bindings, "features-b").text().startswith("⚠"))
    assert "bound to 'features a' and to 'features b'" in _header(panel.bindings, "features-b").toolTip()
    assert any("bound to 'features a' and to 'features b'" in m for m in _node_errors(document, "features-b"))
    assert document.undo_stack.undoText() == "Change data inputs"

    document.undo_stack.undo()
    wait_described(qtbot, panel)
    assert document.project.dataset == before
    qtbot.waitUntil(lambda: not _header(panel.bindings, "features-b").text().startswith("⚠"))
    assert not panel.bindings.is_bound("a3", "features-b")

    # a3 taken from 'features a': its Input expects 3 values, the columns give 2: an error on it.
    _click(qtbot, panel, "a3", "features-a")
    assert document.project.dataset["inputs"][0]["features"] == ["a1", "a2"]
    qtbot.waitUntil(lambda: any("expects samples of shape (3,)" in m for m in _node_errors(document, "features-a")))
    assert "⚠" in _header(panel.bindings, "features-a").text()
    assert "⚠ 'features a': 'features a' expects samples of shape (3,)" in panel.bindings.wrong.text()

    # The number head's target moved to another column, then its loss chosen below the grid.
    _click(qtbot, panel, "a3", "amount")
    assert document.project.dataset["outputs"][1]["targets"] == ["a3"]
    assert document.project.dataset["outputs"][1]["weight"] == 0.1  # its weight stays
    column = [n for n, _r, _l in panel.bindings.nodes].index("amount")
    loss = panel.bindings.grid.cellWidget(len(panel.bindings.names) + 1, column)
    loss.setCurrentText("huber")
    wait_described(qtbot, panel)
    assert document.project.dataset["outputs"][1]["loss"] == "huber"
    assert "output 'amount' ← a3: a number (loss huber, weight 0.1)" in panel.summary.text()


def test_binding_a_model_with_two_inputs_and_outputs_from_scratch_by_clicks(qtbot, tmp_path):
    document, panel = make_panel(qtbot, _project(tmp_path, unbound=True))
    assert any("bind columns to each Input in the Data panel's 'Inputs & outputs' tab" in t
               for t in panel.problem_texts())
    assert panel.form.form.isRowVisible(panel.form.target_row)
    editor = _open_tab(qtbot, panel)
    assert not any(editor.is_bound(c, n) for c in editor.names for n, _r, _l in editor.nodes)
    steps = [("a1", "features-a"), ("a2", "features-a"), ("a3", "features-a"), ("b1", "features-b"),
             ("b2", "features-b"), ("kind", "kind")]
    for column, node in steps:
        _click(qtbot, panel, column, node)
        assert panel.bindings.is_bound(column, node)
    # One output still has no target: the data cannot train, and the error is on that node.
    assert any("output 'amount' has no target" in m for m in _node_errors(document, "amount"))
    assert "⚠" in _header(panel.bindings, "amount").text()
    _click(qtbot, panel, "amount", "amount")
    qtbot.waitUntil(lambda: panel.problem_texts() == ["No problems: the data and the model fit together."])
    assert document.project.dataset["inputs"] == [{"node": "features-a", "features": ["a1", "a2", "a3"]},
                                                  {"node": "features-b", "features": ["b1", "b2"]}]
    assert [b["targets"] for b in document.project.dataset["outputs"]] == [["kind"], ["amount"]]
    assert panel.summary.text().splitlines()[0] == "600 samples · 2 inputs, 2 outputs, each bound to its columns"
    for _ in steps + [None]:  # every click was its own undo step
        document.undo_stack.undo()
    wait_described(qtbot, panel)
    assert "inputs" not in document.project.dataset and "outputs" not in document.project.dataset


def test_an_image_column_and_side_features_bound_by_clicks(qtbot, tmp_path):
    """A CSV naming an image per row (8x8 PNGs in a folder per class) with two side numbers: the
    image column and its folder are chosen above the grid, then each node bound by a click."""
    from studio.project import Project
    from tests.data.test_image_table import graph, make_folder

    make_folder(tmp_path, rows=16)
    project = Project(graph=graph(), name="pictures", dataset={"kind": "csv", "path": "side.csv"})
    save_project(project, tmp_path / "pictures.studio.json")
    document, panel = make_panel(qtbot, project)
    editor = _open_tab(qtbot, panel)
    assert "file:folder" not in editor.names
    combo = editor.image_column
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # "none" -> "file", the first column
    wait_described(qtbot, panel)
    assert document.project.dataset["image"] == {"column": "file"}
    assert panel.bindings.names[-1] == "file:folder"  # an output can take each image's folder as its class
    folder = panel.bindings.image_folder
    qtbot.mouseClick(folder, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(folder, "pics")
    qtbot.keyClick(folder, Qt.Key.Key_Return)
    wait_described(qtbot, panel)
    assert document.project.dataset["image"] == {"column": "file", "folder": "pics"}
    for column, node in [("file", "picture"), ("width", "side"), ("height", "side"), ("file:folder", "animal"),
                         ("weight", "weight")]:
        _click(qtbot, panel, column, node)
    qtbot.waitUntil(lambda: panel.problem_texts() == ["No problems: the data and the model fit together."])
    lines = panel.summary.text().splitlines()
    assert "Input 'picture' ← file (images 8×8×3)" in lines
    assert "output 'animal' ← file:folder: 2 classes (loss auto)" in lines
    # The image Input expecting other pictures is an error on that node.
    from studio.graph.edits import SetParam

    document.push(SetParam("picture", "batch_shape", [None, 16, 16, 3]))
    qtbot.waitUntil(lambda: any("expects samples of shape (16, 16, 3)" in m
                                for m in _node_errors(document, "picture")))
