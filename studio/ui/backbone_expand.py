"""A backbone node's "Expand to layers" (issue 13, point 2), in the window.

The work (building the backbone, reading its layers back through the importer, checking them) runs
on a worker thread (`studio.workflows.expand.expand_backbone` on a snapshot of the project); the
result becomes ONE undoable edit on the document (`expansion_edit`): the backbone node replaced by
its layers, shown collapsed as one group node named after it. The status bar says what happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu

from studio.ui import dialogs
from studio.ui.workers import FunctionRunner

if TYPE_CHECKING:  # pragma: no cover
    from studio.ui.main_window import MainWindow

BACKBONE = "Backbone"


class BackboneExpander(QObject):
    """Signals: expanded(Expansion) once the layers are in the graph; failed(str)."""

    expanded = Signal(object)
    failed = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.runner = FunctionRunner(self)
        self.runner.done.connect(self._done)
        self.runner.failed.connect(self._failed)
        self._project: Any = None
        self._label = ""

    def busy(self) -> bool:
        return self.runner.is_running()

    def add_menu(self, menu: QMenu, node_id: str) -> None:
        """"Expand to layers" in a backbone node's menu."""
        graph = self.window.document.graph
        if graph.node(node_id).type != BACKBONE:
            return
        action = menu.addAction("Expand to layers")
        action.setStatusTip("Replace this backbone by its layers (one group, collapsed), with its weights and "
                            "frozen layers; Undo puts the backbone back")
        action.setEnabled(not self.busy())
        action.triggered.connect(lambda: self.start(node_id))

    def start(self, node_id: str) -> bool:
        from studio.ui.model_io import snapshot
        from studio.workflows.expand import expand_backbone

        if self.busy():
            self.window.show_message("Wait for the backbone being expanded")
            return False
        document = self.window.document
        self._project = document.project
        self._label = document.graph.label(node_id)
        project = snapshot(document.project)
        self.window.show_message(f"Expanding {self._label} to its layers…")
        return self.runner.start(lambda: expand_backbone(project, node_id))

    def _done(self, expansion: Any) -> None:
        from studio.workflows.expand import expansion_edit, result_line

        document = self.window.document
        if document.project is not self._project:
            self.window.show_message(f"{self._label} was not expanded: another project was opened meanwhile")
            return
        if not document.push(expansion_edit(expansion, document.project.weights)):
            return  # the document said why (the node was deleted meanwhile...)
        self.window.show_message(" ".join([result_line(expansion)] + [f"Note: {n}." for n in expansion.notes]))
        self.expanded.emit(expansion)

    def _failed(self, message: str) -> None:
        self.failed.emit(message)
        dialogs.show_error(self.window, "Cannot expand the backbone", message)

    def shutdown(self, timeout_ms: int = 120_000) -> None:
        """The window closes: wait for a running expansion (it cannot be stopped part-way)."""
        if self.runner.is_running():
            self.runner.wait(timeout_ms)

