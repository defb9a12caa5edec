"""The Data panel on a model with two Inputs and two outputs: each node's binding is shown, and a
binding problem is listed on the node that causes it (a click selects that node)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from studio.project.io import load_project, save_project
from tests.ui.data.test_data_panel import make_panel

EXAMPLE = Path(__file__).resolve().parents[3] / "projects" / "two-heads.studio.json"


def test_each_input_and_output_shows_its_columns_and_problems_name_the_node(qtbot, tmp_path):
    project = load_project(EXAMPLE)
    save_project(project, tmp_path / "two-heads.studio.json")
    document, panel = make_panel(qtbot, project)
    lines = panel.summary.text().splitlines()
    assert lines[0] == "600 samples · 2 inputs, 2 outputs, each bound to its columns"
    assert "Input 'features a' ← a1, a2, a3 (3 values)" in lines
    assert "output 'kind' ← kind: 3 classes (loss auto)" in lines
    assert "output 'amount' ← amount: a number (loss auto, weight 0.1)" in lines
    assert panel.problem_texts() == ["No problems: the data and the model fit together."]

    dataset = dict(project.dataset, inputs=[{"node": "features-a", "features": ["a1", "a2", "a3"]},
                                             {"node": "features-b", "features": ["b1", "a3"]}])
    panel.change("inputs", dataset["inputs"])
    qtbot.waitUntil(lambda: any("bound to 'features a' and to 'features b'" in t for t in panel.problem_texts()),
                    timeout=60_000)
    row = next(i for i, t in enumerate(panel.problem_texts()) if "column 'a3'" in t)
    item = panel.problems.item(row)
    rect = panel.problems.visualItemRect(item)
    qtbot.mouseClick(panel.problems.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: list(document.selection) == ["features-b"])
