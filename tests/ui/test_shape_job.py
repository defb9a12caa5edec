"""In the window, layers outside the catalog get their shapes from Keras in the background."""

from __future__ import annotations

from studio.graph.edits import SetParam
from studio.graph.model import Edge, Graph, Node
from studio.project.model import Project
from studio.ui.document import ProjectDocument
from studio.ui.main_window import MainWindow


def _project() -> Project:
    graph = Graph()
    nodes = [
        Node("Input", {"batch_shape": [None, 8, 4]}, id="in"),
        Node("Masking", {"mask_value": 0.0}, id="mask"),  # not in our catalog
        Node("Dense", {"units": 3}, id="out"),
    ]
    for node in nodes:
        graph.add_node(node)
    graph.connect(Edge("in", "mask"), check_shapes=False)
    graph.connect(Edge("mask", "out"), check_shapes=False)
    return Project(graph, name="opaque")


def test_shapes_after_an_opaque_layer_appear_and_follow_edits(qtbot):
    window = MainWindow(ProjectDocument(_project()), optional_panels=False)
    qtbot.addWidget(window)
    window.show()
    document = window.document
    qtbot.waitUntil(lambda: document.report.outputs.get("out") == [(None, 8, 3)], timeout=60_000)
    assert document.report.params["out"] == (15, 0)

    # A new input shape flows through the opaque layer again.
    document.push(SetParam("in", "batch_shape", [None, 5, 6]))
    qtbot.waitUntil(lambda: document.report.outputs.get("out") == [(None, 5, 3)], timeout=60_000)
    assert document.report.params["out"] == (21, 0)
    window.shape_job.shutdown()
    document.undo_stack.setClean()
