""""Share weights with..." in the window (issue 12, point 4): the node menu lists the layers
of the same type; choosing one makes the node another call of that layer (one undo step),
the node says which layer it shares, the totals count the weights once; "Stop sharing
weights" and Undo give it its own layer back. The layers of a nested model (a group) are
listed and selected as one (collapsing a group: tests/ui/test_group_nodes.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.graph.model import Edge, Graph, Node
from studio.project.model import Project
from studio.ui.document import ProjectDocument
from tests.ui.conftest import click, node_pos


def _project(tmp_path) -> Project:
    g = Graph()
    g.add_node(Node("Input", {"batch_shape": [None, 5]}, "a", (0, 0), id="a"))
    g.add_node(Node("Input", {"batch_shape": [None, 5]}, "b", (0, 200), id="b"))
    g.add_node(Node("Dense", {"units": 4, "activation": "relu"}, "tower_a", (260, 0), id="ta"))
    g.add_node(Node("Dense", {"units": 4}, "tower_b", (260, 200), id="tb"))
    g.add_node(Node("Subtract", {}, "diff", (520, 100), id="diff"))
    for src, dst, port in (("a", "ta", 0), ("b", "tb", 0), ("ta", "diff", 0), ("tb", "diff", 1)):
        g.connect(Edge(src, dst, 0, port))
    return Project(graph=g, name="towers", path=tmp_path / "towers.studio.json")


def _menu_item(menu, text):
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_share_weights_from_the_node_menu_then_stop_and_undo(qtbot, make_window, tmp_path):
    window = make_window(ProjectDocument(_project(tmp_path)))
    document = window.document
    before = document.report.total_params
    click(window.view, node_pos(window, "tb"))
    assert document.selection == ["tb"]
    menu = window.context_menu(window.scene.node_item("tb").scenePos())
    share = _menu_item(menu, "Share weights with").menu()
    assert [a.text() for a in share.actions()] == ["tower_a"]  # the other Dense, not the Subtract
    share.actions()[0].trigger()
    graph = document.graph
    assert graph.node("tb").shares == "ta" and graph.node("tb").params == {"units": 4, "activation": "relu"}
    qtbot.waitUntil(lambda: document.report.total_params == before - (5 * 4 + 4))
    qtbot.waitUntil(lambda: window.scene.node_item("tb").view.shares == "tower_a")
    assert "shares the weights of 'tower_a'" in window.scene.node_item("tb").view.tooltip

    stop = _menu_item(window.context_menu(window.scene.node_item("tb").scenePos()), "Stop sharing weights")
    stop.trigger()
    assert graph.node("tb").shares == ""
    qtbot.waitUntil(lambda: window.scene.node_item("tb").view.shares == "")
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert graph.node("tb").shares == "ta"
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert graph.node("tb").shares == "" and graph.node("tb").params == {"units": 4}
    qtbot.waitUntil(lambda: document.report.total_params == before)


def test_inputs_and_operations_offer_no_sharing(qtbot, make_window, tmp_path):
    window = make_window(ProjectDocument(_project(tmp_path)))
    for node_id in ("a", "diff"):
        window.document.set_selection([node_id])
        menu = window.context_menu(window.scene.node_item(node_id).scenePos())
        assert "Share weights with" not in [a.text() for a in menu.actions()]


def test_a_nested_models_layers_are_selected_as_one_group(qtbot, make_window, tmp_path):
    from studio.graph.model import Group

    project = _project(tmp_path)
    project.graph.add_group(Group("g1", "tower", ["ta", "tb", "gone"]))
    window = make_window(ProjectDocument(project))
    window.document.set_selection([])
    empty = window.context_menu(window.view.mapToScene(5, 5))
    groups = _menu_item(empty, "Select group").menu()
    assert [a.text() for a in groups.actions()] == ["tower (2 layers)"]
    groups.actions()[0].trigger()
    assert sorted(window.document.selection) == ["ta", "tb"]
    window.document.set_selection(["ta"])
    menu = window.context_menu(window.scene.node_item("ta").scenePos())
    _menu_item(menu, "Select group tower (2 layers)").trigger()
    assert sorted(window.document.selection) == ["ta", "tb"]


def test_stop_sharing_starts_from_a_copy_of_the_shared_weights(qtbot, make_window, tmp_path):
    import numpy as np

    from studio.graph.edits import ShareWeights
    from studio.project.weights import WeightEntry

    project = _project(tmp_path)
    ShareWeights("tb", "ta").apply(project.graph)
    arrays = [np.full((5, 4), 0.25, "float32"), np.arange(4, dtype="float32")]
    project.weights.set("ta", WeightEntry.of(arrays, "imported"))
    window = make_window(ProjectDocument(project))
    click(window.view, node_pos(window, "tb"))
    _menu_item(window.context_menu(window.scene.node_item("tb").scenePos()), "Stop sharing weights").trigger()
    assert window.document.graph.node("tb").shares == ""
    copied = project.weights.get("tb")
    assert copied is not None and copied.origin == "imported"
    assert all(np.array_equal(np.frombuffer(a.data, a.dtype).reshape(a.shape), b) for a, b in zip(copied.arrays, arrays))
    assert window.actions_.undo.isEnabled()
    window.actions_.undo.trigger()  # Edit > Undo: one step back
    assert window.document.graph.node("tb").shares == "ta" and project.weights.get("tb") is None


def test_a_pasted_copy_keeps_sharing_only_with_nodes_copied_along():
    from studio.ui.clipboard import copy_payload, paste_edit
    from tests.graph.test_share_weights import History, ShareWeights, siamese

    g, ids = siamese()
    History(g).push(ShareWeights(ids["tb"], ids["ta"]))
    both = paste_edit(g, copy_payload(g, [ids["ta"], ids["tb"]]))
    alone = paste_edit(g, copy_payload(g, [ids["tb"]]))
    both[0].apply(g)
    alone[0].apply(g)
    new_ta, new_tb = both[1]
    assert g.node(new_tb).shares == new_ta and g.node(new_ta).shares == ""  # one new layer, two calls
    assert g.node(alone[1][0]).shares == ""  # its layer was not copied: a layer of its own
