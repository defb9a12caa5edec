"""Copy, paste and duplicate layers with their internal wires."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.graph.edits import AddNode, Batch, Connect
from studio.graph.model import Edge, Node


def _chain(window):
    inp = Node("Input", {"batch_shape": [None, 4]}, title="x", position=(0, 0))
    a = Node("Dense", {"units": 8}, title="a", position=(260, 0))
    b = Node("Dense", {"units": 3}, title="b", position=(520, 0))
    window.document.push(Batch([AddNode(inp), AddNode(a), AddNode(b), Connect(Edge(inp.id, a.id)),
                                Connect(Edge(a.id, b.id))], "setup"))
    return inp, a, b


def _keys(window, key):
    window.activateWindow()
    window.view.setFocus()
    QTest.keyClick(window.view, key, Qt.KeyboardModifier.ControlModifier)


def test_copy_paste_subgraph_with_keyboard(window, qtbot):
    inp, a, b = _chain(window)
    window.document.set_selection([a.id, b.id])
    _keys(window, Qt.Key.Key_C)
    _keys(window, Qt.Key.Key_V)
    graph = window.document.graph
    assert len(graph.nodes) == 5
    new = [n for n in graph.nodes if n.id not in (inp.id, a.id, b.id)]
    assert {n.title for n in new} == {"a_1", "b_1"}
    assert {n.params["units"] for n in new} == {8, 3}
    by_title = {n.title: n for n in new}
    assert Edge(by_title["a_1"].id, by_title["b_1"].id) in graph.edges
    assert len(graph.edges) == 3  # the wire from the Input was not copied
    assert set(window.document.selection) == {n.id for n in new}
    assert window.document.undo_stack.undoText() == "Paste 2 layers"
    window.document.undo_stack.undo()
    assert len(graph.nodes) == 3


def test_duplicate_and_cut(window, qtbot):
    inp, a, b = _chain(window)
    window.document.set_selection([a.id])
    _keys(window, Qt.Key.Key_D)
    assert len(window.document.graph.nodes) == 4
    assert window.document.undo_stack.undoText() == "Duplicate 1 layer"
    window.document.set_selection([b.id])
    _keys(window, Qt.Key.Key_X)
    assert not window.document.graph.has_node(b.id)
    _keys(window, Qt.Key.Key_V)
    assert [n.title for n in window.document.graph.nodes].count("b") == 1


def test_paste_between_two_windows(make_window, qtbot):
    first = make_window()
    second = first.new_window()
    qtbot.addWidget(second)
    inp, a, b = _chain(first)
    first.document.set_selection([inp.id, a.id, b.id])
    first.copy()
    ids = second.paste()
    assert len(ids) == 3 and not set(ids) & {inp.id, a.id, b.id}
    second.document.refresh_report()
    assert second.document.report.total_params == (4 * 8 + 8) + (8 * 3 + 3)
    assert first.document.graph.nodes[0].id == inp.id  # the source is untouched
    second.files.close()


def test_paste_of_foreign_text_does_nothing(window, qtbot):
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.clipboard().setText("not layers")
    assert window.paste() == []
    assert "no layers" in window.statusBar().currentMessage()


def _group_window(make_window, qtbot, tmp_path):
    from studio.project.model import Project
    from studio.ui.document import ProjectDocument
    from tests.graph.test_groups import encoder_graph

    project = Project(graph=encoder_graph(collapsed=True), name="enc", path=tmp_path / "enc.studio.json")
    window = make_window(ProjectDocument(project))
    qtbot.waitUntil(lambda: "g" in window.group_frames.nodes)
    return window


def test_copying_a_whole_group_pastes_a_new_group_collapsed_as_it_was(make_window, qtbot, tmp_path):
    from PySide6.QtCore import QPointF

    from tests.ui.conftest import click

    window = _group_window(make_window, qtbot, tmp_path)
    graph, frames = window.document.graph, window.group_frames
    node = frames.nodes["g"]
    window.view.centerOn(node)
    click(window.view, window.view.mapFromScene(node.mapToScene(QPointF(100, 50))))  # selects its layers
    assert sorted(window.document.selection) == ["add", "e1", "e2"]
    _keys(window, Qt.Key.Key_C)
    _keys(window, Qt.Key.Key_V)
    qtbot.waitUntil(lambda: len(graph.groups) == 2)
    new = next(g for g in graph.groups if g.id != "g")
    members = graph.group_members(new.id)
    assert new.name == "encoder" and new.collapsed and len(members) == 3
    assert not set(members) & {"e1", "e2", "add"} and set(window.document.selection) == set(members)
    assert [graph.node(m).type for m in members] == ["Dense", "Dense", "Add"]  # the group's order: its entry first
    qtbot.waitUntil(lambda: new.id in frames.nodes)
    assert frames.nodes[new.id].isVisible() and not any(window.scene.node_item(m).isVisible() for m in members)
    assert window.document.undo_stack.undoText() == "Paste 3 layers"
    window.document.undo_stack.undo()  # one step: the layers and their group
    assert [g.id for g in graph.groups] == ["g"] and len(graph.nodes) == 5


def test_copying_part_of_a_group_pastes_plain_layers(make_window, qtbot, tmp_path):
    window = _group_window(make_window, qtbot, tmp_path)
    graph = window.document.graph
    window.group_frames.set_collapsed("g", False)
    window.document.set_selection(["e1", "e2"])
    _keys(window, Qt.Key.Key_C)
    _keys(window, Qt.Key.Key_V)
    qtbot.waitUntil(lambda: len(graph.nodes) == 7)
    new = [n.id for n in graph.nodes][-2:]
    assert [g.id for g in graph.groups] == ["g"] and not graph.groups_of(new[0]) and not graph.groups_of(new[1])
    assert all(window.scene.node_item(n).isVisible() for n in new)
