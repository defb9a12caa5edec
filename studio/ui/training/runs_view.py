"""The runs list: every run of the project with its final metrics, duration and device.

Reading run folders is plain file I/O (`studio.training.runs`), no
TensorFlow. Tick runs in the "compare" column to overlay their curves;
select one to show its curves and evaluation; delete asks first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import TrainingError
from studio.core.text import duration
from studio.training import runs

STATUS_TEXT = {
    "running": "running",
    "completed": "completed",
    "stopped": "stopped",
    "failed": "failed",
    "interrupted": "interrupted",
}
COLUMNS = ("Run", "Status", "Epochs", "loss", "val_loss", "Metric", "Duration", "Device")


def _main_metric(metrics: dict[str, float]) -> str:
    for key, value in metrics.items():
        if key.startswith("val_") and key != "val_loss":
            return f"{key} {value:.4g}"
    for key, value in metrics.items():
        if key not in ("loss", "learning_rate", "val_loss"):
            return f"{key} {value:.4g}"
    return ""


class RunsView(QWidget):
    """Lists the runs under `runs_root()`.

    Signals: runSelected(RunInfo or None), compareChanged(list[RunInfo]),
    tensorboardRequested(Path: the runs folder), restoreRequested(RunInfo),
    exportRequested(RunInfo): the Export… button (the window's export dialog on that run),
    weightsRequested(RunInfo): "Use these weights" (the run's trained weights become the
    project's stored weights, which Train starts from).
    """

    runSelected = Signal(object)
    compareChanged = Signal(list)
    tensorboardRequested = Signal(object)
    restoreRequested = Signal(object)
    exportRequested = Signal(object)
    weightsRequested = Signal(object)

    def __init__(self, runs_root: Callable[[], Optional[Path]], parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.runs_root = runs_root
        self.runs: list[runs.RunInfo] = []
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSortingEnabled(False)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemChanged.connect(self._item_changed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete_selected)
        self.tensorboard_button = QPushButton("Open in TensorBoard")
        self.tensorboard_button.setToolTip(
            "Start TensorBoard on this project's runs and open it in the browser"
        )
        self.tensorboard_button.clicked.connect(self._tensorboard)
        self.tensorboard_available = True  # the panel says False when tensorboard is not installed
        self.restore_button = QPushButton("Restore network")
        self.restore_button.setToolTip(
            "Put the network this run trained back on the canvas (one undo step)"
        )
        self.restore_button.clicked.connect(self._restore)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            "Export this run's model (.keras, SavedModel, TFLite, ONNX, Python script or a bundle)"
        )
        self.export_button.clicked.connect(self._export)
        self.weights_button = QPushButton("Use these weights")
        self.weights_button.setToolTip(
            "Store this run's trained weights (best, else final) on the network's layers: "
            "Train starts from them and Export writes them (one undo step)"
        )
        self.weights_button.clicked.connect(self._use_weights)
        buttons = QHBoxLayout()
        for button in (
            self.refresh_button,
            self.delete_button,
            self.restore_button,
            self.export_button,
            self.weights_button,
            self.tensorboard_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.empty = QLabel("No runs yet. Press Train (Ctrl+Enter): every run is kept beside the project "
                            "and listed here, to compare its curves, evaluate it and export it.")
        self.empty.setObjectName("placeholder")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(buttons)
        self._filling = False
        self.refresh()

    # --- data ---------------------------------------------------------------------------
    def refresh(self) -> None:
        selected = self.selected_run()
        compared = {r.id for r in self.compared_runs()}
        self.runs = list(reversed(runs.list_runs(self.runs_root())))  # newest first
        self._filling = True
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            for info in self.runs:
                started = (
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(info.started)) if info.started else info.id
                )
                m = info.final_metrics
                item = QTreeWidgetItem(
                    [
                        f"{started}  ({info.id[-6:]})",
                        STATUS_TEXT.get(info.status, info.status),
                        str(info.epochs_done),
                        f"{m['loss']:.4g}" if "loss" in m else "",
                        f"{m['val_loss']:.4g}" if "val_loss" in m else "",
                        _main_metric(m),
                        duration(info.duration_s, unknown=""),
                        info.device,
                    ]
                )
                item.setData(0, Qt.ItemDataRole.UserRole, info.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    0, Qt.CheckState.Checked if info.id in compared else Qt.CheckState.Unchecked
                )
                item.setToolTip(0, "Tick to overlay this run's curves on the plots")
                if info.message:
                    item.setToolTip(1, info.message)
                self.tree.addTopLevelItem(item)
                if selected is not None and info.id == selected.id:
                    item.setSelected(True)
            for column in range(len(COLUMNS)):
                self.tree.resizeColumnToContents(column)
        finally:
            self.tree.blockSignals(False)
            self._filling = False
        now = self.selected_run()
        if (now.id if now else None) != (selected.id if selected else None):
            self.runSelected.emit(now)
        self.tree.setVisible(bool(self.runs))
        self.empty.setVisible(not self.runs)
        self.delete_button.setEnabled(bool(self.runs))
        self.tensorboard_button.setEnabled(
            self.tensorboard_available and self.runs_root() is not None and bool(self.runs)
        )
        self.restore_button.setEnabled(self.selected_run() is not None)
        self.export_button.setEnabled(self._exportable(self.selected_run()))
        self.weights_button.setEnabled(self._exportable(self.selected_run()))

    def _info(self, item: QTreeWidgetItem) -> Optional[runs.RunInfo]:
        run_id = item.data(0, Qt.ItemDataRole.UserRole)
        return next((r for r in self.runs if r.id == run_id), None)

    def selected_run(self) -> Optional[runs.RunInfo]:
        items = self.tree.selectedItems()
        return self._info(items[0]) if items else None

    def select(self, run_id: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == run_id:
                self.tree.setCurrentItem(item)
                return

    def compared_runs(self) -> list[runs.RunInfo]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.checkState(0) == Qt.CheckState.Checked:
                info = self._info(item)
                if info is not None:
                    out.append(info)
        return out

    def set_compared(self, run_ids: list[str]) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            on = item.data(0, Qt.ItemDataRole.UserRole) in run_ids
            item.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    # --- actions ------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        self.restore_button.setEnabled(self.selected_run() is not None)
        self.export_button.setEnabled(self._exportable(self.selected_run()))
        self.weights_button.setEnabled(self._exportable(self.selected_run()))
        self.runSelected.emit(self.selected_run())

    def _restore(self) -> None:
        info = self.selected_run()
        if info is not None:
            self.restoreRequested.emit(info)

    @staticmethod
    def _exportable(info: Optional[runs.RunInfo]) -> bool:
        return info is not None and info.is_finished and (info.has_final or info.has_best)

    def _export(self) -> None:
        info = self.selected_run()
        if self._exportable(info):
            self.exportRequested.emit(info)

    def _use_weights(self) -> None:
        info = self.selected_run()
        if self._exportable(info):
            self.weightsRequested.emit(info)

    def _item_changed(self, _item: QTreeWidgetItem, column: int) -> None:
        if column == 0 and not self._filling:
            self.compareChanged.emit(self.compared_runs())

    def delete_selected(self, confirm: bool = True) -> bool:
        info = self.selected_run()
        if info is None:
            return False
        if confirm:
            answer = QMessageBox.question(
                self,
                "Delete run",
                f"Delete the run {info.id} and its saved models?\n{info.path}",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            runs.delete_run(info)
        except TrainingError as exc:
            QMessageBox.warning(self, "Delete run", str(exc))
            return False
        self.refresh()
        self.runSelected.emit(self.selected_run())
        self.compareChanged.emit(self.compared_runs())
        return True

    def _tensorboard(self) -> None:
        root = self.runs_root()
        if root is not None:
            self.tensorboardRequested.emit(root)
