"""ProjectDocument: undo, coalesced reports, dirty state, selection."""

from __future__ import annotations

from studio.graph.edits import AddNode, Batch, Connect, SetParam
from studio.graph.model import Edge, Node
from studio.ui.document import ProjectDocument
from tests.ui.waiting import settle


def _mlp(doc: ProjectDocument) -> tuple[Node, Node]:
    inp = Node("Input", {"batch_shape": [None, 4]})
    dense = Node("Dense", {"units": 8})
    doc.push(Batch([AddNode(inp), AddNode(dense), Connect(Edge(inp.id, dense.id))], "Add MLP"))
    return inp, dense


def test_push_undo_redo_and_dirty(qtbot):
    doc = ProjectDocument()
    assert not doc.is_dirty
    with qtbot.waitSignal(doc.dirtyChanged) as blocker:
        inp, dense = _mlp(doc)
    assert blocker.args == [True]
    assert doc.report.params[dense.id] == (4 * 8 + 8, 0)
    doc.push(SetParam(dense.id, "units", 3))
    assert doc.report.outputs[dense.id] == [(None, 3)]
    doc.undo_stack.undo()
    assert doc.report.outputs[dense.id] == [(None, 8)]
    doc.undo_stack.undo()
    assert doc.graph.nodes == [] and not doc.is_dirty
    doc.undo_stack.redo()
    assert len(doc.graph.nodes) == 2 and doc.is_dirty


def test_refused_edit_is_not_recorded(qtbot):
    doc = ProjectDocument()
    inp, dense = _mlp(doc)
    count = doc.undo_stack.count()
    with qtbot.waitSignal(doc.message) as blocker:
        ok = doc.push(Connect(Edge(dense.id, inp.id)))
    assert not ok and "Input" in blocker.args[0]
    assert doc.undo_stack.count() == count


def test_report_announced_once_for_many_edits(qtbot):
    doc = ProjectDocument()
    seen = []
    doc.reportChanged.connect(seen.append)
    doc.push(Batch([AddNode(Node("Dense")) for _ in range(100)], "Paste"))
    qtbot.waitUntil(lambda: len(seen) >= 1)
    settle(qtbot)  # a second announcement would come within these event rounds
    assert len(seen) == 1
    assert len(seen[0].params) == 100


def test_selection_follows_removal(qtbot):
    doc = ProjectDocument()
    inp, dense = _mlp(doc)
    doc.set_selection([dense.id, "nope"])
    assert doc.selection == [dense.id]
    with qtbot.waitSignal(doc.selectionChanged):
        doc.undo_stack.undo()
    assert doc.selection == []


def test_section_change_is_undoable(qtbot):
    doc = ProjectDocument()
    with qtbot.waitSignal(doc.sectionChanged) as blocker:
        doc.set_section("training", {"epochs": 3})
    assert blocker.args == ["training"] and doc.project.training == {"epochs": 3}
    doc.undo_stack.undo()
    assert doc.project.training == {}
