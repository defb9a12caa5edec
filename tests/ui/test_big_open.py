"""Big projects in the window (issue 11, point 4): File > Open reads a big file while
the window keeps answering, an edit re-infers only what it affects yet shows the same
shapes as a full analysis, and a node with thousands of wires paints them as one bundle
whose wires still answer the mouse. Speeds live in bench/bench_canvas_open.py."""

from __future__ import annotations

import gc

from PySide6.QtCore import QPoint, Qt, QTimer

from studio.graph.edits import Disconnect, SetParam
from studio.graph.inference import analyse
from studio.ui import dialogs, theme
from studio.ui.canvas.edge_item import BUNDLE_MIN, MAX_STRANDS, EdgeItem
from studio.ui.main_window import BIG_FILE
from tests.ui.test_canvas_scale import WAIT_MS, assert_mirrors, project_file


def same_report(report, full) -> None:
    assert report.outputs == full.outputs and report.params == full.params
    assert report.inputs == full.inputs and report.diagnostics == full.diagnostics


def test_file_open_reads_a_big_project_while_the_window_answers_keys(window, qtbot, tmp_path, monkeypatch):
    path = project_file(tmp_path, 2000, "wide")
    assert path.stat().st_size > BIG_FILE  # read on a worker thread
    monkeypatch.setattr(dialogs, "choose_open_file", lambda *_a, **_k: path)
    old_graph = window.document.graph
    seen = {}

    def meanwhile() -> None:  # runs while File > Open is still reading the file
        seen["still old"] = window.document.graph is old_graph
        window.view.setFocus()
        qtbot.keyClick(window.view, Qt.Key.Key_Tab)  # the canvas opens quick-add
        seen["quick add shown"] = window.quick_add.isVisible()
        qtbot.keyClick(window.quick_add, Qt.Key.Key_Escape)

    QTimer.singleShot(0, meanwhile)
    window.actions_.open.trigger()
    assert seen == {"still old": True, "quick add shown": True}
    graph = window.document.graph
    assert graph is not old_graph and len(graph.nodes) == 2000
    qtbot.waitUntil(lambda: not window.scene.building, timeout=WAIT_MS)
    assert_mirrors(window.scene, graph)
    cat = window.scene.node_item("cat")
    assert cat.view.shape == "(None, 7992)" and all(p.connected for p in cat.inputs[:-1])
    same_report(window.document.report, analyse(graph))
    assert not window.document.is_dirty and window.windowTitle().startswith("wide2000")


def test_a_broken_big_file_names_its_problem_and_keeps_the_open_project(window, tmp_path, monkeypatch):
    path = project_file(tmp_path, 2000, "chain")
    path.write_text(path.read_text().replace('"units": 16}', '"units": 16', 1))
    assert path.stat().st_size > BIG_FILE
    shown = []
    monkeypatch.setattr(dialogs, "show_problems", lambda _w, title, text, problems: shown.append((title, text)))
    before = window.document.graph
    assert not window.files.open(path, ask=False)
    assert window.document.graph is before
    [(title, text)] = shown
    assert title == "Cannot open project" and path.name in text


def test_an_edit_on_a_big_graph_shows_the_shapes_of_a_full_analysis(window, qtbot, tmp_path):
    assert window.files.open(project_file(tmp_path, 2000, "chain"), ask=False)
    qtbot.waitUntil(lambda: not window.scene.building, timeout=WAIT_MS)
    doc, scene = window.document, window.scene
    assert doc.push(SetParam("d1000", "units", 7))
    qtbot.waitUntil(lambda: scene.node_item("d1000").view.shape == "(None, 7)")
    assert scene.node_item("d1001").view.params == "128 params"  # 7 x 16 + 16
    same_report(doc.report, analyse(doc.graph))
    wire = doc.graph.inputs_of("d1500")[0]
    assert doc.push(Disconnect(wire))  # every layer after it loses its shape
    qtbot.waitUntil(lambda: scene.node_item("d1998").view.shape == "?")
    assert scene.node_item("d1500").view.severity == "error" and scene.node_item("d1499").view.shape == "(None, 16)"
    same_report(doc.report, analyse(doc.graph))
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: scene.node_item("d1998").view.shape == "(None, 16)")
    assert scene.node_item("d1000").view.shape == "(None, 16)" and scene.node_item("d1500").view.severity is None
    same_report(doc.report, analyse(doc.graph))


def test_a_fan_of_thousands_of_wires_paints_as_one_bundle_and_its_wires_answer_clicks(window, qtbot, tmp_path,
                                                                                      monkeypatch):
    assert window.files.open(project_file(tmp_path, 2000, "wide"), ask=False)
    qtbot.waitUntil(lambda: not window.scene.building, timeout=WAIT_MS)
    scene, view, doc = window.scene, window.view, window.document
    fan = [w for w in scene.edge_items() if w.edge.source == "in"]
    assert len(fan) == 1998 > BUNDLE_MIN and len({w.bundle for w in fan}) == 1 and fan[0].bundle is not None
    view.reset_zoom()
    view.center_on_node("d8")
    view.viewport().repaint()
    wire = scene.edge_item(next(e for e in doc.graph.inputs_of("d8")))
    painted = []
    paint = EdgeItem.paint
    monkeypatch.setattr(EdgeItem, "paint", lambda self, *a: (painted.append(self), paint(self, *a))[1])
    view.viewport().repaint()
    # every wire ending at a node in view is drawn, and only a sample of the others
    in_view = {i.node_id for i in scene.nodes_in(scene.visible_rect())}
    assert {"d7", "d8", "d9"} <= in_view and "in" not in in_view  # the fan comes from above
    assert {w.edge.target for w in painted if w.edge.source == "in"} >= in_view - {"in", "cat"}
    assert len(painted) <= MAX_STRANDS + len(in_view) + 100 < len(fan)
    # a pixel on the wire into d8 is not the canvas
    image = view.viewport().grab().toImage()
    near = view.mapFromScene(wire.path().pointAtPercent(0.97))
    canvas = theme.current().canvas.rgb()
    assert any(image.pixelColor(near + QPoint(dx, dy)).rgb() != canvas for dx in (-1, 0, 1) for dy in (-1, 0, 1))
    # and its wires answer the mouse like any wire: a click selects the one under the
    # cursor (the wires of the fan overlap there), Delete removes it
    at = view.mapFromScene(wire.path().pointAtPercent(0.5))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    [chosen] = scene.selected_edges()
    hit = scene.edge_item(chosen)
    assert chosen.source == "in" and hit.bundle is wire.bundle
    assert hit.shape().contains(view.mapToScene(at))
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: not doc.graph.inputs_of(chosen.target))
    other = next(w for w in fan if w is not hit)
    assert scene.edge_item(chosen) is None and hit.bundle is None and len(other.bundle.members) == 1997


def test_the_garbage_collector_runs_again_once_a_big_graph_is_up(window, qtbot, tmp_path):
    """It is held while a big graph is read and mirrored (its passes over the heap stopped
    the window for up to a second), never longer."""
    assert gc.isenabled()
    assert window.files.open(project_file(tmp_path, 2000, "chain"), ask=False)
    assert window.scene.building and not gc.isenabled()
    qtbot.waitUntil(lambda: not window.scene.building, timeout=WAIT_MS)
    assert gc.isenabled()
    assert window.files.open(project_file(tmp_path, 2000, "wide"), ask=False)
    assert not gc.isenabled()
    window.document.undo_stack.setClean()
    window.close()  # closed while still building
    qtbot.waitUntil(gc.isenabled, timeout=WAIT_MS)
