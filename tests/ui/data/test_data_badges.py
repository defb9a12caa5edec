"""Problems between the model and its data show on the canvas node that causes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.graph.edits import SetParam
from studio.graph.inference import ERROR, WARNING, Diagnostic
from studio.project.io import load_project, save_project
from studio.ui.document import ProjectDocument
from tests.ui.waiting import settle

EXAMPLES = Path(__file__).resolve().parents[3] / "projects"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "studio-cache"))
    monkeypatch.setenv("STUDIO_OFFLINE", "1")


def iris_project(tmp_path, units: int = 3, with_data: bool = True):
    """The iris example (3 classes) with `units` on its last Dense 'species'."""
    project = load_project(EXAMPLES / "iris-mlp.studio.json")
    project.graph.node("species").params["units"] = units
    if not with_data:
        project.dataset = None
    save_project(project, tmp_path / "iris.studio.json")
    return project


def open_window(make_window, qtbot, project):
    window = make_window(ProjectDocument(project), optional_panels=True)
    panel = window.panels["DataPanel"]
    window.docks["DataPanelDock"].raise_()
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    return window, panel


def badge(window, node_id: str):
    view = window.scene.node_item(node_id).view
    return view.severity, view.tooltip


def ctrl(window, key, modifier=Qt.KeyboardModifier.NoModifier):
    window.activateWindow()
    window.view.setFocus()
    QTest.keyClick(window.view, key, Qt.KeyboardModifier.ControlModifier | modifier)


def test_a_wrong_unit_count_is_a_badge_on_the_last_dense_until_fitted(make_window, qtbot, tmp_path):
    window, panel = open_window(make_window, qtbot, iris_project(tmp_path, units=5))
    qtbot.waitUntil(lambda: badge(window, "species")[0] == ERROR, timeout=60_000)
    severity, tooltip = badge(window, "species")
    assert "3 classes" in tooltip and "set units to 3" in tooltip
    assert badge(window, "hidden")[0] is None and badge(window, "measurements")[0] is None
    # the same problem in the diagnostics list, the inspector (on the units field) and the panel
    assert any("set units to 3" in window.diagnostics.list.item(i).text()
               for i in range(window.diagnostics.list.count()))
    window.document.set_selection(["species"])
    qtbot.waitUntil(lambda: "set units to 3" in window.inspector.editors["units"].error.text(), timeout=60_000)
    assert any("set units to 3" in t for t in panel.problem_texts())

    assert panel.fit.isEnabled()
    qtbot.mouseClick(panel.fit, Qt.MouseButton.LeftButton)
    assert window.document.graph.node("species").params["units"] == 3
    qtbot.waitUntil(lambda: badge(window, "species")[0] is None, timeout=60_000)
    assert "set units" not in badge(window, "species")[1]
    assert not window.diagnostics.list.isVisible() or not any(
        "classes" in window.diagnostics.list.item(i).text() for i in range(window.diagnostics.list.count()))

    ctrl(window, Qt.Key.Key_Z)  # undo the fit: the badge comes back
    assert window.document.graph.node("species").params["units"] == 5
    qtbot.waitUntil(lambda: badge(window, "species")[0] == ERROR, timeout=60_000)
    assert "set units to 3" in badge(window, "species")[1]

    ctrl(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ShiftModifier)  # redo: gone again
    assert window.document.graph.node("species").params["units"] == 3
    qtbot.waitUntil(lambda: badge(window, "species")[0] is None, timeout=60_000)


def test_a_warning_stays_a_warning_on_its_node(make_window, qtbot, tmp_path):
    window, panel = open_window(make_window, qtbot, iris_project(tmp_path))
    assert badge(window, "species")[0] is None  # iris fits the example as it is
    panel.change("targets", ["petal_width"])
    panel.change("task", "regression")  # one target value, and the species become an input
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    qtbot.waitUntil(lambda: badge(window, "species")[0] == ERROR, timeout=60_000)
    assert "set units to 1" in badge(window, "species")[1]
    assert badge(window, "measurements")[0] == ERROR and "set batch_shape" in badge(window, "measurements")[1]
    qtbot.mouseClick(panel.fit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: badge(window, "species")[0] is None, timeout=60_000)
    assert badge(window, "measurements")[0] is None
    # a sigmoid on a regression output: advice (a warning badge), not an error
    window.document.push(SetParam("species", "activation", "sigmoid"))
    qtbot.waitUntil(lambda: badge(window, "species")[0] == WARNING, timeout=60_000)
    assert "use a linear activation" in badge(window, "species")[1]
    assert [d.severity for d in window.document.report.for_node("species")] == [WARNING]


def test_no_dataset_no_data_badges_and_removing_the_data_clears_them(make_window, qtbot, tmp_path):
    window, panel = open_window(make_window, qtbot, iris_project(tmp_path, units=5, with_data=False))
    assert panel.info is None
    for node in window.document.graph.nodes:
        assert badge(window, node.id)[0] is None, node.id
    assert window.document.data_diagnostics == []
    # with data the badge appears; undoing the choice of data (no data again) removes it
    panel.set_source("iris")
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    qtbot.waitUntil(lambda: badge(window, "species")[0] == ERROR, timeout=60_000)
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: badge(window, "species")[0] is None, timeout=60_000)
    assert window.document.data_diagnostics == []


def test_another_project_drops_the_old_projects_data_problems(make_window, qtbot, tmp_path):
    window, panel = open_window(make_window, qtbot, iris_project(tmp_path, units=5))
    qtbot.waitUntil(lambda: badge(window, "species")[0] == ERROR, timeout=60_000)
    other = tmp_path / "other"
    other.mkdir()
    window.document.set_project(iris_project(other, units=5, with_data=False))  # same layers, no data
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    assert badge(window, "species")[0] is None and window.document.report.for_node("species") == []
    assert panel.info is None


def test_setting_the_same_data_problems_announces_nothing_and_cannot_loop(qtbot, tmp_path):
    document = ProjectDocument(iris_project(tmp_path, units=5))
    calls = []

    def check(graph, report):
        calls.append(1)
        units = graph.node("species").params["units"]
        return [Diagnostic("species", ERROR, f"units {units}", "units")] if units != 3 else []

    with qtbot.waitSignal(document.reportChanged, timeout=60_000) as blocker:
        document.set_data_check(check)
    assert [d.message for d in blocker.args[0].for_node("species")] == ["units 5"]

    # a reportChanged slot that sets the check again (as the Data panel may) does not re-announce
    seen = []
    document.reportChanged.connect(lambda r: (seen.append(r), document.set_data_check(check)))
    with qtbot.assertNotEmitted(document.reportChanged, wait=50):
        document.set_data_check(lambda graph, report: check(graph, report))
    document.push(SetParam("species", "units", 3))
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=60_000)
    settle(qtbot)  # a loop would announce again within these event rounds
    assert len(seen) == 1 and seen[0].for_node("species") == []
    assert len(calls) < 10  # recomputed per report, not in a loop
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=60_000)
    assert [d.message for d in document.report.for_node("species")] == ["units 5"]


def test_a_failing_check_is_one_warning_and_the_report_still_works(qtbot, tmp_path):
    document = ProjectDocument(iris_project(tmp_path))

    def broken(graph, report):
        raise ValueError("boom")

    document.set_data_check(broken)
    report = document.report
    assert list(report.outputs["species"][0]) == [None, 3]  # shapes are still there
    assert [(d.node, d.severity) for d in document.data_diagnostics] == [(None, WARNING)]
    assert "could not be checked against the data: boom" in document.data_diagnostics[0].message
