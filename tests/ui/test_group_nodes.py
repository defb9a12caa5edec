"""A group (the layers of a model used as a layer) on the canvas (issue 12, point 4): framed while
expanded; collapsed, ONE node showing its name, its shapes in and out and its parameter count, the
wires from outside attached to its ports, its layers hidden (not removed). Double-click and the
node's menu expand it; each collapse/expand is one undo step and is saved with the project."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from studio.graph.edits import MoveNodes
from studio.project import load_project
from studio.project.model import Project
from studio.ui.document import ProjectDocument
from tests.graph.test_groups import encoder_graph
from tests.ui.conftest import click, drag

LEFT, NO_MOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def _window(qtbot, make_window, tmp_path, collapsed=False):
    project = Project(graph=encoder_graph(collapsed), name="enc", path=tmp_path / "enc.studio.json")
    window = make_window(ProjectDocument(project))
    frames = window.group_frames
    key = frames.nodes if collapsed else frames.frames
    qtbot.waitUntil(lambda: "g" in key)
    return window, frames


def _at(window, item, offset: QPointF) -> QPoint:
    window.view.centerOn(item)
    return window.view.mapFromScene(item.mapToScene(offset))


def _double_click(window, pos: QPoint) -> None:
    QTest.mouseDClick(window.view.viewport(), LEFT, NO_MOD, pos)


def _members_visible(window) -> list[bool]:
    return [window.scene.node_item(n).isVisible() for n in ("e1", "e2", "add")]


def test_double_click_collapses_a_group_to_one_node_with_its_shapes_count_and_ports(qtbot, make_window, tmp_path):
    window, frames = _window(qtbot, make_window, tmp_path)
    graph, scene = window.document.graph, window.scene
    frame = frames.frames["g"]
    assert frame.label() == "▾ encoder (3 layers)"
    _double_click(window, _at(window, frame, frame.header_rect().topLeft() + QPointF(30, 10)))
    qtbot.waitUntil(lambda: "g" in frames.nodes)
    node = frames.nodes["g"]
    assert graph.group("g").collapsed and "g" not in frames.frames
    assert _members_visible(window) == [False, False, False]  # hidden, still in the graph
    assert all(graph.has_node(n) for n in ("e1", "e2", "add"))
    inner = [scene.edge_item(e) for e in graph.edges if e.source in ("e1", "e2") and e.target in ("e2", "add")]
    assert inner and not any(w.isVisible() for w in inner)
    # one node: the size of a layer, its name, shapes and Keras' parameter count
    assert node.body_rect().width() == scene.node_item("out").body_rect().width()
    assert node.body_rect().height() < 2 * scene.node_item("out").body_rect().height()
    assert (node.name, node.layers) == ("encoder", 3)
    assert node.input_text() == "in (None, 8)" and node.output_text() == "→ (None, 16)"
    assert node.param_text() == "416 params"  # 8*16+16 + 16*16+16
    # the wires from outside end at its ports
    wire_in = scene.edge_item(next(e for e in graph.edges if e.source == "x"))
    wire_out = scene.edge_item(next(e for e in graph.edges if e.target == "out"))
    assert wire_in.isVisible() and wire_out.isVisible()
    assert wire_in.endpoints()[1] == node.port_point(False, 0)
    assert wire_out.endpoints()[0] == node.port_point(True, 0)
    # moving a layer outside moves its wire's end, the group's end stays on the port
    window.document.push(MoveNodes({"out": (1200, 300)}))
    qtbot.waitUntil(lambda: wire_out.endpoints()[1] == scene.node_item("out").port(False, 0).scenePos())
    assert wire_out.endpoints()[0] == node.port_point(True, 0)
    # a click on it selects its layers (Delete, Copy... then act on the group)
    click(window.view, _at(window, node, QPointF(100, 50)))
    assert sorted(window.document.selection) == ["add", "e1", "e2"] and node.selected


def test_double_click_expands_and_each_step_is_one_undo(qtbot, make_window, tmp_path):
    window, frames = _window(qtbot, make_window, tmp_path, collapsed=True)
    graph, undo = window.document.graph, window.document.undo_stack
    node = frames.nodes["g"]
    assert _members_visible(window) == [False, False, False] and not window.document.is_dirty
    _double_click(window, _at(window, node, QPointF(100, 50)))
    qtbot.waitUntil(lambda: not graph.group("g").collapsed)
    qtbot.waitUntil(lambda: _members_visible(window) == [True, True, True])
    assert "g" not in frames.nodes and "g" in frames.frames
    assert undo.count() == 1 and undo.undoText() == "Expand group encoder" and window.document.is_dirty
    wire_in = window.scene.edge_item(next(e for e in graph.edges if e.source == "x"))
    assert wire_in.endpoints()[1] == window.scene.node_item("e1").port(False, 0).scenePos()
    window.actions_.undo.trigger()
    qtbot.waitUntil(lambda: "g" in frames.nodes)
    assert graph.group("g").collapsed and _members_visible(window) == [False, False, False]
    window.actions_.redo.trigger()
    qtbot.waitUntil(lambda: _members_visible(window) == [True, True, True])


def _menu_shown() -> QMenu | None:
    popup = QApplication.activePopupWidget()
    return popup if isinstance(popup, QMenu) else None


def test_the_group_nodes_menu_expands_it(qtbot, make_window, tmp_path):
    window, frames = _window(qtbot, make_window, tmp_path, collapsed=True)
    graph = window.document.graph
    node = frames.nodes["g"]
    pos = _at(window, node, QPointF(100, 50))
    viewport = window.view.viewport()
    QTest.mouseClick(viewport, Qt.MouseButton.RightButton, NO_MOD, pos)
    # what the windowing system sends after the right button (QTest does not synthesise it)
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos)))
    qtbot.waitUntil(lambda: _menu_shown() is not None)
    menu = _menu_shown()
    texts = [a.text().replace("&", "") for a in menu.actions()]
    assert texts[:2] == ["Expand group encoder", "Select its layers"]
    assert sorted(window.document.selection) == ["add", "e1", "e2"]  # the menu's Cut/Copy/Delete act on them
    expand = menu.actions()[0]
    QTest.mouseClick(menu, LEFT, NO_MOD, menu.actionGeometry(expand).center())
    qtbot.waitUntil(lambda: not graph.group("g").collapsed)
    qtbot.waitUntil(lambda: _members_visible(window) == [True, True, True])
    # and back, from a member's menu: "Collapse group encoder", one undo step
    window.document.set_selection(["e2"])
    menu = window.context_menu(window.scene.node_item("e2").scenePos())
    next(a for a in menu.actions() if a.text() == "Collapse group encoder").trigger()
    qtbot.waitUntil(lambda: "g" in frames.nodes)
    assert window.document.undo_stack.undoText() == "Collapse group encoder"
    assert window.document.selection == []  # a hidden layer is not left selected alone (Delete would remove it)


def test_the_collapsed_state_survives_save_and_reload(qtbot, make_window, tmp_path):
    window, frames = _window(qtbot, make_window, tmp_path)
    path = tmp_path / "enc.studio.json"
    frame = frames.frames["g"]
    _double_click(window, _at(window, frame, frame.header_rect().topLeft() + QPointF(30, 10)))
    qtbot.waitUntil(lambda: "g" in frames.nodes)
    assert window.files.save_to(path)
    assert load_project(path).graph.group("g").collapsed
    again = make_window()
    assert again.files.open(path, ask=False)
    qtbot.waitUntil(lambda: "g" in again.group_frames.nodes)
    assert [again.scene.node_item(n).isVisible() for n in ("e1", "e2", "add")] == [False, False, False]
    assert again.group_frames.nodes["g"].param_text() == "416 params"


def test_dragging_the_group_node_moves_all_its_layers_in_one_step(qtbot, make_window, tmp_path):
    window, frames = _window(qtbot, make_window, tmp_path, collapsed=True)
    graph, scene = window.document.graph, window.scene
    node = frames.nodes["g"]
    before = {n: graph.node(n).position for n in ("e1", "e2", "add", "x", "out")}
    start = _at(window, node, QPointF(100, 50))
    scale = window.view.transform().m11()
    drag(window.view, start, start + QPoint(round(120 * scale), round(80 * scale)))
    qtbot.waitUntil(lambda: graph.node("e1").position != before["e1"])
    dx, dy = graph.node("e1").position[0] - before["e1"][0], graph.node("e1").position[1] - before["e1"][1]
    assert (dx, dy) != (0, 0) and dx % 20 == 0 and dy % 20 == 0
    for n in ("e2", "add"):  # every layer of the group by the same step, the others stay
        assert graph.node(n).position == (before[n][0] + dx, before[n][1] + dy)
    assert graph.node("x").position == before["x"] and graph.node("out").position == before["out"]
    assert node.pos() == QPointF(*graph.node("e1").position)
    wire_in = scene.edge_item(next(e for e in graph.edges if e.source == "x"))
    assert wire_in.endpoints()[1] == node.port_point(False, 0)  # the wire followed
    assert window.document.undo_stack.undoText() == "Move group encoder"
    window.actions_.undo.trigger()
    qtbot.waitUntil(lambda: node.pos() == QPointF(*before["e1"]))
    assert {n: graph.node(n).position for n in before} == before


def test_an_imported_model_opens_with_its_nested_model_as_one_group_node_that_expands_in_place(
        qtbot, make_window, tmp_path):
    keras = pytest.importorskip("keras")
    from studio.workflows.importing import import_model

    inner = keras.Sequential([keras.Input((6,))] + [keras.layers.Dense(4, name=t) for t in "abcde"], name="block")
    x = keras.Input((6,), name="x")  # one row: the hidden layers lie under the head, which must not relayout it
    keras.Model(x, keras.layers.Dense(2, name="head")(inner(x)), name="outer").save(tmp_path / "m.keras")
    result = import_model(tmp_path / "m.keras", tmp_path / "m")
    (group,) = result.project.graph.groups
    assert group.name == "block" and group.collapsed  # saved collapsed
    window = make_window()
    assert window.files.open(result.project_path, ask=False)
    frames, graph, scene = window.group_frames, window.document.graph, window.scene
    qtbot.waitUntil(lambda: group.id in frames.nodes)
    title = {n.title: n.id for n in graph.nodes}
    shown = [n.title for n in graph.nodes if scene.node_item(n.id).isVisible()]
    assert sorted(shown) == ["head", "x"] and frames.nodes[group.id].isVisible()  # one node for the block
    node, head = frames.nodes[group.id], scene.node_item(title["head"])
    assert node.pos().y() == head.pos().y() and head.pos().x() == node.pos().x() + 280  # in the row
    _double_click(window, _at(window, node, QPointF(100, 50)))
    qtbot.waitUntil(lambda: not graph.group(group.id).collapsed)
    qtbot.waitUntil(lambda: all(scene.node_item(title[t]).isVisible() for t in "abcde"))
    xs = [graph.node(title[t]).position[0] for t in ("x", *"abcde", "head")]
    assert xs == sorted(xs) and len(set(xs)) == 7  # the layers in place, the head pushed clear
    assert window.document.undo_stack.count() == 1
    window.actions_.undo.trigger()  # collapsed again: every node back where the import put it
    qtbot.waitUntil(lambda: group.id in frames.nodes)
    assert head.pos().x() == node.pos().x() + 280
    window.document.push(MoveNodes({title["head"]: (3000, 400)}))
    window.actions_.auto_layout.trigger()  # Auto-layout keeps the collapsed group one node wide
    qtbot.waitUntil(lambda: head.pos().x() == node.pos().x() + 280 and head.pos().y() == node.pos().y())
