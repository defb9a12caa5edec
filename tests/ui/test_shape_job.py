"""In the window, layers outside the catalog get their shapes from Keras in the background."""

from __future__ import annotations

from studio.graph.edits import SetParam
from studio.graph.model import Edge, Graph, Node
from studio.project.model import Project
from studio.ui.document import ProjectDocument
from studio.ui.main_window import MainWindow

WAIT_MS = 60_000  # the first job imports TensorFlow (seconds on a busy machine)


def _project(middle: Node) -> Project:
    graph = Graph()
    for node in (Node("Input", {"batch_shape": [None, 8, 4]}, id="in"), middle,
                 Node("Dense", {"units": 3}, title="head", id="out")):
        graph.add_node(node)
    graph.connect(Edge("in", middle.id), check_shapes=False)
    graph.connect(Edge(middle.id, "out"), check_shapes=False)
    return Project(graph, name="opaque")


def _window(qtbot, project: Project) -> MainWindow:
    window = MainWindow(ProjectDocument(project), optional_panels=False)
    qtbot.addWidget(window)
    window.show()
    return window


def test_shapes_after_an_opaque_layer_appear_and_follow_edits(qtbot):
    # Masking is a Keras layer our catalog does not describe.
    window = _window(qtbot, _project(Node("Masking", {"mask_value": 0.0}, id="mask")))
    document = window.document
    # The window is up while Keras works on another thread.
    assert window.shape_job.is_running() and document.report.outputs["out"] is None
    qtbot.waitUntil(lambda: document.report.outputs.get("out") == [(None, 8, 3)], timeout=WAIT_MS)
    assert document.report.params["out"] == (15, 0) and document.report.ok
    item = window.scene.node_item("out")
    qtbot.waitUntil(lambda: item.view.shape == "(None, 8, 3)")  # the canvas shows it too
    assert window.scene.node_item("mask").view.shape == "(None, 8, 4)"

    # A new input shape flows through the opaque layer again.
    document.push(SetParam("in", "batch_shape", [None, 5, 6]))
    qtbot.waitUntil(lambda: document.report.outputs.get("out") == [(None, 5, 3)], timeout=WAIT_MS)
    assert document.report.params["out"] == (21, 0)
    # Undo brings the first answer back.
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: document.report.outputs.get("out") == [(None, 8, 3)], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.shape_job.is_running(), timeout=WAIT_MS)
    window.shape_job.shutdown()
    document.undo_stack.setClean()


def test_a_custom_layer_keras_cannot_build_shows_why_on_the_node(qtbot):
    window = _window(qtbot, _project(Node("AcmeAttention", {"heads": 2}, title="acme", id="acme")))
    document = window.document
    qtbot.waitUntil(lambda: any(d.severity == "error" for d in document.report.for_node("acme")),
                    timeout=WAIT_MS)
    (error,) = [d for d in document.report.for_node("acme") if d.severity == "error"]
    assert error.message.startswith("'acme': AcmeAttention is not a layer built into Keras")
    assert not document.report.ok and document.report.outputs["out"] is None
    item = window.scene.node_item("acme")
    qtbot.waitUntil(lambda: item.view.severity == "error")
    assert "custom layer needs its code" in item.view.tooltip
    window.shape_job.shutdown()
    document.undo_stack.setClean()
