"""Ask Keras, off the GUI thread, for the shapes of layers outside the catalog.

Whenever the document's report has an opaque node (e.g. a custom or newer
Keras layer kept from an import) whose input shapes are known but whose own
shape is not, a snapshot of the graph goes to a worker thread that runs
`studio.compiler.keras_shapes.opaque_shapes`; the result comes back as a
queued signal and is handed to `document.set_external_shapes`. TensorFlow is
imported only then, in that worker: a project without opaque nodes never
loads it.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject

from studio.graph.inference import ShapeReport, analyse
from studio.graph.model import Graph
from studio.ui.document import ProjectDocument
from studio.ui.workers import FunctionRunner


class OpaqueShapeJob(QObject):
    def __init__(self, document: ProjectDocument, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.document = document
        self.runner = FunctionRunner(self)
        self.known: dict[str, tuple[list, tuple[int, int]]] = {}
        self.problems: dict[str, str] = {}
        self._inputs_at: dict[str, list] = {}  # the input shapes each known result was computed for
        self._again = False
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        document.reportChanged.connect(self._on_report)
        document.projectReplaced.connect(self._on_replaced)
        self._on_report(document.report)  # the project may already hold opaque layers

    def _pending(self, report: ShapeReport) -> bool:
        graph = self.document.graph
        for node in graph.nodes:
            if graph.catalog.find(node.type) is not None or node.id in self.known or node.id in self.problems:
                continue
            inputs = report.inputs.get(node.id) or []
            if inputs and all(shape is not None for shape in inputs):
                return True
        return False

    def _on_report(self, report: ShapeReport) -> None:
        stale = [k for k in self.known if report.inputs.get(k) != self._inputs_at.get(k)]
        if stale:  # an upstream change altered what feeds these layers: ask Keras again
            for node_id in stale:
                self.known.pop(node_id, None)
                self._inputs_at.pop(node_id, None)
            self.document.set_external_shapes(self.known)
            return  # set_external_shapes announces a new report, which comes back here
        if not self._pending(report):
            return
        if self.runner.is_running():
            self._again = True  # the graph changed meanwhile: look again when this one ends
            return
        snapshot = Graph.from_dict(self.document.graph.to_dict(), self.document.graph.catalog)
        known = dict(self.known)

        def compute():
            from studio.compiler.keras_shapes import opaque_shapes

            return opaque_shapes(snapshot, known)

        self.runner.start(compute)

    def _on_done(self, result) -> None:
        graph = self.document.graph
        # Keep only nodes that still exist with the same config.
        self.known = {k: v for k, v in result.shapes.items() if graph.has_node(k)}
        for node_id, message in result.problems.items():
            if graph.has_node(node_id) and node_id not in self.problems:
                self.problems[node_id] = message
                self.document.message.emit(message)
        inputs = analyse(graph, external=self.known).inputs  # what each result was computed for
        self._inputs_at = {k: inputs.get(k) for k in self.known}
        self.document.set_external_shapes(self.known)
        if self._again:
            self._again = False
            self._on_report(self.document.report)

    def _on_failed(self, message: str) -> None:
        self.document.message.emit(f"Keras could not compute the shapes of layers outside the catalog: {message}")

    def _on_replaced(self, _project) -> None:
        self.known.clear()
        self.problems.clear()
        self._inputs_at.clear()

    def shutdown(self) -> None:
        self.runner.wait()
