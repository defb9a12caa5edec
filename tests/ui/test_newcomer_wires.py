"""A refused wire says why after the release: a callout at the drop point with the full reason
and the fix as a button, also listed in Diagnostics, until the next click, key or edit."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.graph.edits import AddNode, Batch
from studio.graph.model import Edge, Node
from tests.ui.conftest import click, drag, port_pos


def _refuse(window, source: Node, target: Node) -> None:
    drag(window.view, port_pos(window, source.id, True), port_pos(window, target.id, False))


def _setup(window, shape, target: Node):
    inp = Node("Input", {"batch_shape": shape}, title="x", position=(0, 0))
    window.document.push(Batch([AddNode(inp), AddNode(target)], "setup"))
    window.document.refresh_report()
    window.view.centerOn(250, 100)
    return inp


def _button_pos(window, index: int = 0) -> QPoint:
    callout = window.scene.callout
    rect = callout.button_rects()[index]
    to_view = callout.deviceTransform(window.view.viewportTransform())
    return to_view.map(rect.center()).toPoint()


def _diagnostic_texts(window) -> list[str]:
    lst = window.diagnostics.list
    return [lst.item(i).text() for i in range(lst.count())]


def test_refused_wire_explains_itself_until_the_next_click_and_offers_insert_reshape(window, qtbot):
    conv = Node("Conv2D", {"filters": 4, "kernel_size": [3, 3]}, title="conv", position=(320, 0))
    inp = _setup(window, [None, 28, 28], conv)
    steps = window.document.undo_stack.count()
    _refuse(window, inp, conv)
    graph = window.document.graph
    assert graph.edges == []
    callout = window.scene.callout
    assert callout is not None and callout.isVisible()
    reason = graph.can_connect(Edge(inp.id, conv.id))[1]
    assert callout.reason == reason and reason.endswith("or use Conv1D for sequences")  # the full reason
    assert callout.actions == ["Insert Reshape to (28, 28, 1)"]
    # readable: drawn at a constant size, wrapped inside the view, not cut off
    shown = callout.deviceTransform(window.view.viewportTransform()).mapRect(callout.boundingRect())
    assert shown.width() <= 380 and shown.height() >= 50
    assert window.view.viewport().rect().contains(shown.toRect())  # all of it in sight
    # listed in Diagnostics, with the fix
    texts = _diagnostic_texts(window)
    assert texts[0] == f"Wire refused: {reason}"
    assert "Insert Reshape to (28, 28, 1)" in texts[1]
    # still there later (no timer takes it away): a mouse move does not close it
    QTest.mouseMove(window.view.viewport(), QPoint(20, 20))
    qtbot.wait(50)
    assert window.scene.callout is callout

    # the button inserts a Reshape between the two layers and wires it, as one undo step
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     _button_pos(window))
    assert window.scene.callout is None
    reshape = next(n for n in graph.nodes if n.type == "Reshape")
    assert list(reshape.params["target_shape"]) == [28, 28, 1]
    assert set(graph.edges) == {Edge(inp.id, reshape.id), Edge(reshape.id, conv.id)}
    assert window.document.undo_stack.count() == steps + 1
    qtbot.waitUntil(lambda: not any(t.startswith("Wire refused") for t in _diagnostic_texts(window)))
    window.document.undo_stack.undo()
    assert graph.edges == [] and len(graph.nodes) == 2


def test_the_next_key_or_click_closes_the_callout_and_diagnostics_fix_inserts_flatten(window, qtbot):
    repeat = Node("RepeatVector", {"n": 3}, title="rv", position=(320, 0))
    inp = _setup(window, [None, 8, 8, 3], repeat)
    _refuse(window, inp, repeat)
    assert window.scene.callout.actions == ["Insert Flatten"]
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_Shift)  # the next key closes it
    assert window.scene.callout is None
    assert not any(t.startswith("Wire refused") for t in _diagnostic_texts(window))

    _refuse(window, inp, repeat)
    assert window.scene.callout is not None
    click(window.view, QPoint(5, 5))  # a click elsewhere closes it
    assert window.scene.callout is None

    _refuse(window, inp, repeat)  # the fix listed in Diagnostics is clickable too
    lst = window.diagnostics.list
    fix = next(lst.item(i) for i in range(lst.count()) if "Insert Flatten" in lst.item(i).text())
    rect = lst.visualItemRect(fix)
    QTest.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    graph = window.document.graph
    flatten = next(n for n in graph.nodes if n.type == "Flatten")
    assert set(graph.edges) == {Edge(inp.id, flatten.id), Edge(flatten.id, repeat.id)}
    assert window.scene.callout is None


def test_a_refusal_without_a_fix_has_no_button(window, qtbot):
    dense = Node("Dense", {"units": 2}, title="d", position=(320, 0))
    inp = _setup(window, [None, 4], dense)
    first = Node("Input", {"batch_shape": [None, 4]}, title="y", position=(0, 200))
    window.document.push(AddNode(first))
    drag(window.view, port_pos(window, inp.id, True), port_pos(window, dense.id, False))
    assert window.document.graph.edges == [Edge(inp.id, dense.id)]
    _refuse(window, first, dense)  # the Dense input is taken
    callout = window.scene.callout
    assert callout is not None and callout.actions == [] and "remove that wire first" in callout.reason


def test_a_new_project_clears_the_last_projects_status_message(window, qtbot):
    window.show_message("Exported iris-mlp-best.keras")
    window.files.new("")
    assert window.statusBar().currentMessage() == ""
