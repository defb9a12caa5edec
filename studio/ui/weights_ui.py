"""The window's weight commands: Reset Weights (selected layers, from the canvas menu),
Model > Reset All Weights, and a run's "Use these weights".

Each is one undoable edit on the project's weight store (`studio.project.weights`):
undo brings the arrays back. A run's weights are read by
`studio.workflows.weights.run_weights` on a `FunctionRunner` thread (loading a
`.keras` needs TensorFlow, which the GUI thread never calls); the edit is pushed
when they arrive.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Iterable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from studio.project.weights import ResetAllWeights, SetWeights, summary
from studio.training import runs
from studio.ui.workers import FunctionRunner

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


class WeightsController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.runner = FunctionRunner(self)
        self.runner.done.connect(self._run_weights_ready)
        self.runner.failed.connect(self.window.show_message)
        self._run: runs.RunInfo | None = None
        self.reset_all_action = QAction("Reset All &Weights", window)
        self.reset_all_action.setObjectName("resetAllWeights")
        self.reset_all_action.setStatusTip("Every layer starts from random weights again (imported, "
                                           "pasted or a run's weights are forgotten; Undo brings them back)")
        self.reset_all_action.triggered.connect(self.reset_all)
        window.menus.model.addSeparator()
        window.menus.model.addAction(self.reset_all_action)
        panel = window.panels.get("TrainingPanel")
        signal = getattr(getattr(panel, "runs_view", None), "weightsRequested", None)
        if signal is not None:
            signal.connect(self.use_run)
        # "stored weights: 3 of 3 layers (imported)" in the status bar while the project holds any.
        self.label = QLabel("", window)
        self.label.setObjectName("weightsLabel")
        self.label.setToolTip("Train starts from these stored weights and Export writes them; a layer's menu "
                              "(Reset weights) or Model > Reset All Weights forgets them")
        window.statusBar().insertPermanentWidget(0, self.label)
        document = window.document
        document.undo_stack.indexChanged.connect(self.update_label)
        document.projectReplaced.connect(self.update_label)
        document.reportChanged.connect(self.update_label)
        self.update_label()

    def label_text(self) -> str:
        """'' when no layer has stored weights, else e.g. "stored weights: 3 of 4 layers (imported)"."""
        store, document = self.store, self.window.document
        if store.empty:
            return ""
        report = document.report
        weighted = [n.id for n in document.graph.nodes  # layers with weights, or with stored ones
                    if n.id in store.entries or sum(report.params.get(n.id) or (0, 0)) > 0]
        counts = summary(store, weighted)
        if store.legacy is not None:
            legacy = [n for n in weighted if n not in store.entries and n not in store.skip]
            if legacy:
                counts[f"{store.legacy.name}"] = len(legacy)
        if not counts:
            return ""
        held = sum(counts.values())
        origins = ", ".join(f"{origin} {n}" if len(counts) > 1 else origin for origin, n in counts.items())
        return f"stored weights: {held} of {len(weighted)} layer{'s' if len(weighted) != 1 else ''} ({origins})"

    def update_label(self, *_args) -> None:
        text = self.label_text()
        self.label.setText(text)
        self.label.setVisible(bool(text))

    @property
    def store(self):
        return self.window.document.project.weights

    def has_weights(self, node_ids: Iterable[str]) -> bool:
        store = self.store
        return any(n in store or (store.legacy is not None and n not in store.skip) for n in node_ids)

    def reset(self, node_ids: Iterable[str]) -> bool:
        """The layers `node_ids` start from random weights again (one undo step)."""
        ids = [n for n in node_ids if self.has_weights([n])]
        if not ids:
            self.window.show_message("The selected layers have no stored weights (they start from random weights)")
            return False
        n = len(ids)
        if self.window.document.push(SetWeights(self.store, {i: None for i in ids},
                                                f"Reset weights of {n} layer{'s' if n != 1 else ''}")):
            self.window.show_message(f"Reset the weights of {n} layer{'s' if n != 1 else ''}: "
                                     f"{'they start' if n != 1 else 'it starts'} from random weights (Undo keeps them)")
            return True
        return False

    def reset_all(self) -> bool:
        if self.store.empty:
            self.window.show_message("No layer has stored weights")
            return False
        if self.window.document.push(ResetAllWeights(self.store)):
            self.window.show_message("Every layer starts from random weights now (Undo keeps the old ones)")
            return True
        return False

    def use_run(self, info: runs.RunInfo) -> bool:
        """Read `info`'s best model's weights on a worker thread, then store them (one undo step)."""
        from studio.workflows.weights import run_weights

        project = copy.copy(self.window.document.project)
        project.graph = project.graph.copy()  # the worker reads this copy while the user edits on
        if not self.runner.start(lambda: run_weights(project, info)):
            self.window.show_message("Still reading a run's weights; try again in a moment")
            return False
        self._run = info
        self.window.show_message(f"Reading the weights of run {info.id}…")
        return True

    def _run_weights_ready(self, result) -> None:
        entries, notes = result
        info, self._run = self._run, None
        graph = self.window.document.graph
        entries = {n: e for n, e in entries.items() if graph.has_node(n)}
        if not entries:
            self.window.show_message(f"No layer of run {info.id if info else ''} fits this network"
                                     + (f" ({notes[0]})" if notes else ""))
            return
        n = len(entries)
        run_id = info.id if info else "the run"
        if self.window.document.push(SetWeights(self.store, entries, f"Use the weights of run {run_id}")):
            skipped = f"; {len(notes)} left as they were ({notes[0]})" if notes else ""
            self.window.show_message(f"{n} layer{'s' if n != 1 else ''} now hold the weights of run {run_id}"
                                     f"{skipped}; Train starts from them")

    def shutdown(self) -> None:
        self.runner.wait()
