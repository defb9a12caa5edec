"""Ask Keras, off the GUI thread, for the shapes of layers outside the catalog.

Whenever the document's report has an opaque node (a layer type the catalog
does not know, e.g. a custom or newer Keras layer kept from an import) whose
input shapes are known but whose own shape is not, a snapshot of the graph
goes to a worker thread that runs `studio.compiler.keras_shapes.opaque_shapes`;
the result comes back as a queued signal (`FunctionRunner.done`) and is handed
to `document.set_external_shapes` on the GUI thread, which recomputes the
report so the shapes after the opaque node appear too.

Each result remembers what it was computed for (the node's type, config and
trainable flag, and its input shapes); when an edit changes any of them the
result is dropped and Keras is asked again. TensorFlow is imported only in
that worker, and only once an opaque node exists: opening a project without
one never loads it. One job runs at a time; edits made meanwhile are looked
at when it ends.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from PySide6.QtCore import QObject, Signal

from studio.graph.inference import ShapeReport
from studio.graph.model import Graph, Node
from studio.ui.document import ProjectDocument
from studio.ui.workers import FunctionRunner


def _signature(node: Node, inputs: Any) -> str:
    """What a Keras answer for `node` depends on."""
    return json.dumps([node.type, node.params, node.trainable, [list(s) for s in inputs]],
                      sort_keys=True, default=str)


class OpaqueShapeJob(QObject):
    """Keeps `document`'s external shapes (those Keras computes) up to date.

    Signals: `busyChanged(bool)` while a job runs; `updated()` after its
    results reached the document.
    """

    busyChanged = Signal(bool)
    updated = Signal()

    def __init__(self, document: ProjectDocument, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.document = document
        self.runner = FunctionRunner(self)
        self.shapes: dict[str, tuple[list, tuple[int, int]]] = {}
        self.problems: dict[str, str] = {}
        self._computed_for: dict[str, str] = {}  # node id -> signature of its shape or problem
        self._again = False
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.runner.busyChanged.connect(self._on_busy)
        document.reportChanged.connect(self._on_report)
        document.projectReplaced.connect(self._on_replaced)
        self._on_report(document.report)  # the project may hold opaque layers already

    def is_running(self) -> bool:
        return self.runner.is_running()

    # -- deciding -------------------------------------------------------------------
    def _wanted(self, report: ShapeReport) -> dict[str, str]:
        """Opaque nodes whose input shapes are known, with their signatures."""
        graph = self.document.graph
        wanted = {}
        for node in graph.nodes:
            if graph.catalog.find(node.type) is not None:
                continue
            inputs = report.inputs.get(node.id) or []
            if inputs and all(shape is not None for shape in inputs):
                wanted[node.id] = _signature(node, inputs)
        return wanted

    def _on_report(self, report: ShapeReport) -> None:
        wanted = self._wanted(report)
        stale = [k for k, sig in self._computed_for.items() if wanted.get(k) != sig]
        if stale:  # an edit changed such a layer or what feeds it: forget, then ask again
            for node_id in stale:
                self.shapes.pop(node_id, None)
                self.problems.pop(node_id, None)
                self._computed_for.pop(node_id, None)
            self.document.set_external_shapes(self.shapes, self.problems)
            return  # that announces a new report, which comes back here
        if not any(k not in self._computed_for for k in wanted):
            return
        if self.runner.is_running():
            self._again = True
            return
        graph = self.document.graph
        snapshot = Graph.from_dict(graph.to_dict(), graph.catalog)
        known = dict(self.shapes)

        def compute() -> Any:
            from studio.compiler.keras_shapes import opaque_shapes

            return snapshot, opaque_shapes(snapshot, known=known)

        self.runner.start(compute)

    # -- results ---------------------------------------------------------------------
    def _on_done(self, value: Any) -> None:
        snapshot, result = value
        for node_id, inputs in result.inputs.items():
            self._computed_for[node_id] = _signature(snapshot.node(node_id), inputs)
            if node_id in result.shapes:
                self.shapes[node_id] = result.shapes[node_id]
            else:
                self.problems[node_id] = result.problems[node_id]
        # Results for nodes that changed meanwhile are dropped by the report check.
        self.document.set_external_shapes(self.shapes, self.problems)
        self.updated.emit()

    def _on_failed(self, message: str) -> None:
        self.document.message.emit(f"Keras could not compute the shapes of layers outside the catalog: {message}")

    def _on_busy(self, busy: bool) -> None:
        self.busyChanged.emit(busy)
        if not busy and self._again:
            self._again = False
            self._on_report(self.document.report)

    def _on_replaced(self, _project: object) -> None:
        self.shapes.clear()
        self.problems.clear()
        self._computed_for.clear()
        self._again = False  # the new project's report follows at once

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Wait for a running job (the window is closing)."""
        self.runner.wait(timeout_ms)
