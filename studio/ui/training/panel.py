"""`TrainingPanel`: settings, Train / Pause / Stop / Continue, progress, live curves,
the runs list, evaluation and predict tabs, for one `ProjectDocument`.

Dock it in the main window:

    panel = TrainingPanel(document)            # document: studio.ui.document.ProjectDocument
    dock = QDockWidget("Training"); dock.setWidget(panel)

Before closing the window or replacing the project while `panel.is_training()`,
ask the user, then `panel.stop_and_wait()` (stops after the current batch and
saves the run as "stopped"); call `panel.shutdown()` when the window closes.

TensorFlow never runs on the GUI thread: training runs on `TrainingRunner`'s
thread, evaluation and predictions on `FunctionRunner` threads; the curves
read the panel's own `MetricsHistory`, appended here from queued reports.
"""

from __future__ import annotations

import gc
import importlib.util
import socket
import sys
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QProcess, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.text import duration
from studio.training import runs
from studio.training.health import load_history as load_health
from studio.training.history import MetricsHistory
from studio.training.reports import BatchReport, EpochReport, RunResult, StartInfo
from studio.ui.training.estimate_line import EstimateLine
from studio.ui.training.evaluation_view import EvaluationView
from studio.ui.training.health_view import HealthView
from studio.ui.training.plots import MetricsPlots
from studio.ui.training.predict_view import PredictView
from studio.ui.training.runs_view import RunsView
from studio.ui.training.settings import TrainingSettingsForm
from studio.ui.workers import FunctionRunner, TrainingRunner

STATE_TEXT = {
    "building": "Preparing data and building the model…",
    "training": "Training",
    "validating": "Validating",
    "paused": "Paused",
    "stopping": "Stopping after this batch…",
    "saving": "Saving the run…",
    "evaluating": "Evaluating on the test split…",
    "finished": "",
}
# Batch reports per second the panel asks for: the progress line and curves
# do not need more, and every report costs the GUI thread a little CPU.
REPORT_INTERVAL = 0.1
LEVEL_COLOR = {"info": "#333333", "warning": "#9a6700", "error": "#b00020"}
# Width of the Curves / Runs / ... tabs the settings column gives way to in a narrow
# dock (three plots side by side, each MIN_PLOT_WIDTH wide); the settings then scroll.
TABS_WIDTH = 470
SETTINGS_MIN_WIDTH = 180
MARGIN = 6


def finished_text(result: RunResult) -> str:
    """What the progress bar says once a run has ended: no speed or ETA any more."""
    epochs = f"{result.epochs_done} epoch{'s' if result.epochs_done != 1 else ''}"
    took = f" in {duration(result.duration_s)}" if result.duration_s else ""
    if result.status == "completed":
        return f"Done · {epochs}{took}"
    if result.status == "stopped":
        return f"Stopped after {epochs}{took}"
    return "Failed"


class TrainingPanel(QWidget):
    """Signals: trainingChanged(bool) when a run starts/ends; runFinished(RunResult)."""

    trainingChanged = Signal(bool)
    runFinished = Signal(object)
    trainRequested = Signal()  # Train by its shortcut: the window shows the panel
    healthChanged = Signal(object)  # {node id: (status, heat, tooltip)}: the canvas' health overlay

    def __init__(self, document: Any, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.document = document
        self.runner = TrainingRunner(self)
        self.eval_runner = FunctionRunner(self)
        self.history = MetricsHistory()
        self.last_result: Optional[RunResult] = None
        self._start: Optional[StartInfo] = None
        self._tensorboard: Optional[QProcess] = None
        self._shown_run: Optional[str] = None  # the run whose curves are on the plots

        self.settings = TrainingSettingsForm(document)
        self.plots = MetricsPlots(self.history)
        self.runs_view = RunsView(lambda: self.document.project.runs_dir)
        self.evaluation = EvaluationView()
        self.predict = PredictView()
        self.health = HealthView()  # per-layer training health, live (studio/training/health.py)
        # View > Training Health on Nodes: the canvas' badges and tint (off by default; the tab always shows it)
        self.health_overlay_action = QAction("Training &Health on Nodes", self)
        self.health_overlay_action.setCheckable(True)
        self.health_overlay_action.setStatusTip("Tint each node by its training health and badge the flagged ones")

        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train the model from scratch with these settings (a new run) — Ctrl+Enter")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch; the run is saved as 'stopped' — Esc")
        # Ctrl+Enter trains from anywhere in the window (the main window lists it in its
        # Model menu); Esc stops only while the focus is in this panel.
        self.train_action = QAction("&Train", self)
        self.train_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.train_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.train_action.setStatusTip("Train the model with the Training panel's settings (a new run)")
        self.train_action.triggered.connect(self._train_by_shortcut)
        self.stop_action = QAction("&Stop Training", self)
        self.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.stop_action.setStatusTip("Stop after the current batch (Esc in the Training panel)")
        self.stop_action.triggered.connect(self.stop)
        self.addAction(self.train_action)
        self.addAction(self.stop_action)
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip("Train more epochs starting from the selected (or latest) run")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.status = QLabel("")
        self.status.hide()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

        # Height is what a bottom dock lacks: the buttons and the progress bar share a row,
        # the status and message lines show only when they say something.
        buttons = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.stop_button, self.continue_button):
            buttons.addWidget(button)
        # the pre-flight estimate (memory, time per epoch); its tooltip breaks it down
        self.estimate_line = EstimateLine(document, lambda: not self.runner.is_running())
        self.estimate_line.calibratingChanged.connect(lambda _busy: self._update_buttons())
        buttons.addWidget(self.estimate_line)
        buttons.addWidget(self.progress, 1)
        lines = QHBoxLayout()
        lines.addWidget(self.status)
        lines.addWidget(self.message, 1)
        self.settings_scroll = scroll = QScrollArea()
        scroll.setWidget(self.settings)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setMinimumWidth(SETTINGS_MIN_WIDTH)
        self._settings_width = self.settings.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.plots, "Curves")
        self.tabs.addTab(self.runs_view, "Runs")
        self.tabs.addTab(self.evaluation, "Evaluation")
        self.tabs.addTab(self.predict, "Predict")
        self.tabs.addTab(self.health, "Health")
        self.splitter = splitter = QSplitter()
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(scroll)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        self._splitter_dragged = False  # once the user drags it, the split is theirs
        splitter.splitterMoved.connect(self._on_splitter_dragged)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addLayout(lines)
        layout.addWidget(splitter, 1)

        self.train_button.clicked.connect(lambda: self.train())
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.continue_button.clicked.connect(lambda: self.continue_training())
        self.runner.started.connect(self._on_started)
        self.runner.batches.connect(self._on_batches)
        self.runner.epochEnded.connect(self._on_epoch)
        self.runner.stateChanged.connect(self._on_state)
        self.runner.message.connect(self.show_message)
        self.runner.health.connect(self.health.add_report)
        self.health.overlayChanged.connect(self.healthChanged)
        self.health.nodeActivated.connect(self._select_node)
        document.selectionChanged.connect(lambda ids: len(ids) == 1 and self.health.select_node(ids[0]))
        self.runner.finished.connect(self._on_finished)
        self.runs_view.runSelected.connect(self._on_run_selected)
        self.runs_view.compareChanged.connect(self._on_compare)
        self.runs_view.tensorboardRequested.connect(self.open_tensorboard)
        self.evaluation.evaluateRequested.connect(self.evaluate_selected)
        self.eval_runner.done.connect(self._on_evaluated)
        self.eval_runner.failed.connect(lambda text: self.show_message("error", text))
        document.projectReplaced.connect(self._on_project_replaced)
        document.pathChanged.connect(lambda _p: self.runs_view.refresh())
        self.runs_view.restoreRequested.connect(self.restore_network)
        if importlib.util.find_spec("tensorboard") is None:
            self.runs_view.tensorboard_available = False
            self.runs_view.tensorboard_button.setEnabled(False)
            self.runs_view.tensorboard_button.setToolTip(
                "TensorBoard is not installed (pip install tensorboard)"
            )
        self._update_buttons()

    # --- the hooks the main window needs --------------------------------------------------
    def is_training(self) -> bool:
        return self.runner.is_running()

    def stop_and_wait(self, timeout_ms: int = 30_000) -> bool:
        """Stop a run after its current batch and wait until it is saved; True when it ended."""
        return self.runner.stop_and_wait(timeout_ms)

    def shutdown(self) -> None:
        """Window closing: stop training (saving the run), wait for helpers, end TensorBoard."""
        self.stop_and_wait()
        self.eval_runner.wait()
        self.predict.runner.wait()
        if self._tensorboard is not None:
            self._tensorboard.kill()
            self._tensorboard.waitForFinished(3000)
            self._tensorboard = None

    # --- actions ------------------------------------------------------------------------
    def train(self, continue_from: Optional[Path] = None) -> bool:
        """Start a run (from scratch, or continuing `continue_from`); False with a message if refused."""
        if self.runner.is_running():
            return False
        # Python objects of Qt's (closed windows, old dialogs) that are garbage now must be
        # collected here, on the GUI thread: collected by the training thread's garbage
        # collection, their Qt destructors wait for this thread while it waits for the GIL.
        gc.collect()
        from studio.workflows.train import make_session

        project = self.document.project
        try:
            config = self.settings.config()
            self.runner.start(
                lambda reporter: make_session(
                    project,
                    reporter,
                    config=config,
                    continue_from=continue_from,
                    report_interval=REPORT_INTERVAL,
                    health=True,
                )
            )
        except StudioError as exc:
            self.show_message("error", str(exc))
            if getattr(exc, "node_id", None):
                self.document.point_at(exc.node_id)
            return False
        self.history = MetricsHistory()
        self._shown_run = None
        self.health.reset()
        self.plots.set_history(self.history)
        self.plots.set_live(True)
        self.tabs.setCurrentWidget(self.plots)
        self.progress.setRange(0, 0)  # busy until the first report
        self.progress.setFormat("")
        self.show_message(
            "info", "" if project.runs_dir else "The project is not saved: this run will not be kept."
        )
        self._update_buttons()
        self.trainingChanged.emit(True)
        return True

    def _train_by_shortcut(self) -> None:
        self.trainRequested.emit()
        if self.train_button.isEnabled():
            self.train()

    def continue_training(self) -> bool:
        info = self._run_to_continue()
        if info is None:
            self.show_message("warning", "No finished run with a saved model to continue; train first.")
            return False
        return self.train(continue_from=info.path)

    def _run_to_continue(self) -> Optional[runs.RunInfo]:
        selected = self.runs_view.selected_run()
        if selected is not None and selected.is_finished and selected.has_final:
            return selected
        return runs.latest_run(self.document.project.runs_dir)

    def stop(self) -> None:
        if not self.runner.is_running():
            return
        self.runner.stop()
        self._on_state("stopping")
        self.progress.setFormat("Stopping after this batch…")

    def toggle_pause(self) -> None:
        if self.runner.is_paused():
            self.runner.resume()
        else:
            self.runner.pause()
        self._update_buttons()

    def evaluate_selected(self) -> bool:
        info = self.runs_view.selected_run() or runs.latest_run(self.document.project.runs_dir)
        if info is None:
            self.show_message("warning", "No run to evaluate; train first.")
            return False
        project = self.document.project

        def work() -> dict:
            from studio.workflows.evaluate import evaluate_run

            return evaluate_run(project, info)

        self.show_message("info", f"Evaluating run {info.id}…")
        return self.eval_runner.start(work)

    def restore_network(self, info: runs.RunInfo) -> bool:
        """Put the network `info` trained (its config.json snapshot) on the canvas, as one undo step."""
        from studio.graph.edits import AddNode, Batch, Connect, RemoveNode
        from studio.graph.model import Edge, Node

        if self.runner.is_running():
            self.show_message("warning", "Stop the training before restoring another network.")
            return False
        snapshot = runs.load_config(info).get("graph")
        try:
            nodes = [Node.from_dict(n) for n in snapshot["nodes"]]
            edges = [Edge.from_dict(e) for e in snapshot["edges"]]
        except (TypeError, KeyError, ValueError, AttributeError):
            self.show_message("error", f"{info.path / runs.CONFIG_FILE}: holds no readable network")
            return False
        graph = self.document.graph
        edit = Batch(
            [RemoveNode(n.id) for n in list(graph.nodes)]
            + [AddNode(n) for n in nodes]
            + [Connect(e, check_shapes=False) for e in edges],
            f"Restore the network of run {info.id}",
        )
        if not self.document.push(edit):
            self.show_message("error", f"run {info.id}: its network cannot be restored in this project")
            return False
        self.show_message("info", f"Restored the network of run {info.id} (Undo puts yours back)")
        return True

    def open_tensorboard(self, logdir: Path) -> bool:
        """Start TensorBoard on the runs folder (once) and open it in the browser."""
        if self._tensorboard is None or self._tensorboard.state() == QProcess.ProcessState.NotRunning:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            process = QProcess(self)
            process.setProgram(sys.executable)
            process.setArguments(
                [
                    "-m",
                    "tensorboard.main",
                    "--logdir",
                    str(logdir),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ]
            )
            process.start()
            if not process.waitForStarted(5000):
                self.show_message(
                    "error", "TensorBoard did not start; is it installed (pip install tensorboard)?"
                )
                return False
            self._tensorboard = process
            self._tensorboard_url = QUrl(f"http://127.0.0.1:{port}/")
            self.show_message("info", f"TensorBoard is starting at {self._tensorboard_url.toString()}")
            QTimer.singleShot(3000, lambda: QDesktopServices.openUrl(self._tensorboard_url))
        else:
            QDesktopServices.openUrl(self._tensorboard_url)
        return True

    # --- reports from the training thread (queued) ---------------------------------------
    def _on_started(self, info: StartInfo) -> None:
        self._start = info
        if info.previous is not None:
            self.history.extend(info.previous)
        steps = info.steps_per_epoch or 0
        total = (info.epochs - info.initial_epoch) * steps
        self.progress.setRange(0, max(1, total) if steps else 0)
        self.progress.setValue(0)
        params = f", {info.parameters:,} parameters" if info.parameters else ""
        self.status.setText(f"Training on {info.device}{params}")
        self.status.show()

    def _on_batches(self, report: BatchReport) -> None:
        self.history.add_batches(report.xs, report.values)
        info = self._start
        steps = report.steps_per_epoch
        epochs = info.epochs if info else report.epoch
        if info is not None and steps:
            done = (report.epoch - 1 - info.initial_epoch) * steps + report.step
            if self.progress.maximum() == 0:
                self.progress.setRange(0, (info.epochs - info.initial_epoch) * steps)
            self.progress.setValue(min(done, self.progress.maximum()))
        batch = f"batch {report.step}/{steps}" if steps else f"batch {report.step}"
        session = self.runner.session
        if session is not None and session.stop_requested:
            self.progress.setFormat(f"Epoch {report.epoch}/{epochs} · {batch} · stopping…")
        elif report.eta_s is None:  # the first batches trace the model: no honest estimate yet
            self.progress.setFormat(f"Epoch {report.epoch}/{epochs} · {batch} · estimating…")
        else:
            self.progress.setFormat(
                f"Epoch {report.epoch}/{epochs} · {batch} · {report.samples_per_s:,.0f} samples/s · "
                f"ETA {duration(report.eta_s)}"
            )

    def _on_epoch(self, report: EpochReport) -> None:
        self.history.add_epoch(report.epoch, report.logs)

    def _on_state(self, state: str) -> None:
        text = STATE_TEXT.get(state, state)
        if text:
            self.status.setText(text)
            self.status.show()
        self._update_buttons()

    def _on_finished(self, result: RunResult) -> None:
        self.last_result = result
        self._shown_run = result.run_id
        self.plots.set_live(False)
        value, most = self.progress.value(), self.progress.maximum()
        self.progress.setRange(0, max(1, most))
        self.progress.setValue(most if result.status == "completed" else max(0, value))
        self.progress.setFormat(finished_text(result))
        level = "error" if result.status == "failed" else "info"
        where = f" — saved as run {result.run_id}" if result.run_id else ""
        self.show_message(level, f"{result.status.capitalize()}: {result.message}{where}")
        self.status.setText("")
        self.status.hide()
        self.runs_view.refresh()
        if result.run_id:
            self.runs_view.select(result.run_id)
        self.evaluation.set_evaluation(result.evaluation)
        self.estimate_line.refresh()  # the tooltip puts the run's measurement beside the estimate
        if result.node_id and self.document.graph.has_node(result.node_id):
            self.document.point_at(result.node_id)  # show the layer Keras refused
        self._update_buttons()
        self.trainingChanged.emit(False)
        self.runFinished.emit(result)

    # --- runs, evaluation ------------------------------------------------------------------
    def _on_run_selected(self, info: Optional[runs.RunInfo]) -> None:
        self.predict.set_run(info)
        self._update_buttons()
        if info is None:
            return
        self.evaluation.set_evaluation(runs.load_evaluation(info))
        if not self.runner.is_running() and info.id != self._shown_run:
            self._shown_run = info.id
            self.history = runs.load_history(info)
            self.plots.set_history(self.history)
            self.health.set_history(load_health(info.path))  # empty for a run without health

    def _select_node(self, node_id: str) -> None:
        """A Health row was clicked: select its node on the canvas."""
        if self.document.graph.has_node(node_id):
            self.document.point_at(node_id)

    def _on_compare(self, infos: list) -> None:
        self.plots.set_overlays([(info.id[-6:], runs.load_history(info)) for info in infos])

    def _on_evaluated(self, evaluation: dict) -> None:
        self.evaluation.set_evaluation(evaluation)
        self.tabs.setCurrentWidget(self.evaluation)
        self.show_message(
            "info", f"Evaluated run {evaluation.get('run')} on {evaluation.get('samples')} test samples"
        )

    def _on_project_replaced(self, _project: Any) -> None:
        """Another project is open: show its runs, nothing of the last one's."""
        self.runs_view.refresh()
        if not self.runner.is_running():
            self.history = MetricsHistory()
            self.plots.set_history(self.history)
            self.plots.set_overlays([])
            self.last_result = None
            self._shown_run = None
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("")
            self.status.setText("")
            self.status.hide()
            self.show_message("info", "")
        self.evaluation.set_evaluation(None)
        self.predict.set_run(None)
        self._update_buttons()

    # --- layout -----------------------------------------------------------------------------
    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        """The least height that shows everything at `width`.

        The main window docks the panel in a QScrollArea. Once a wrapped label (the
        message) makes the layout height-for-width, the scroll area sizes the panel to
        this height instead of to its viewport; Qt's default answer is the preferred
        height of every child (~1100 px), which ran the curves off the bottom of the
        dock. The minimum plus the wrapped lines of the message is what is needed.
        """
        height = self.minimumSizeHint().height()
        if self.message.isVisibleTo(self) and self.message.text():
            margins = self.layout().contentsMargins()
            room = width - margins.left() - margins.right()
            if self.status.isVisibleTo(self):
                room -= self.status.sizeHint().width() + self.layout().spacing()
            wrapped = self.message.heightForWidth(max(room, 1))
            height += max(0, wrapped - self.message.minimumSizeHint().height())
        return height

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_splitter()

    def _fit_splitter(self) -> None:
        """Give the settings column its natural width unless the tabs would get less
        than TABS_WIDTH; in a narrow dock the settings scroll sideways instead."""
        if self._splitter_dragged:
            return
        total = self.splitter.width() - self.splitter.handleWidth()
        settings = max(SETTINGS_MIN_WIDTH, min(self._settings_width, total - TABS_WIDTH))
        if self.splitter.sizes()[0] != settings:
            self.splitter.setSizes([settings, max(0, total - settings)])

    def _on_splitter_dragged(self, _pos: int, _index: int) -> None:
        self._splitter_dragged = True

    # --- view state -------------------------------------------------------------------------
    def show_message(self, level: str, text: str) -> None:
        self.message.setStyleSheet(f"color: {LEVEL_COLOR.get(level, '#333333')};")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _update_buttons(self) -> None:
        running = self.runner.is_running()
        paused = running and self.runner.is_paused()
        calibrating = self.estimate_line.calibrating  # the calibration trains small models: one at a time
        self.train_button.setEnabled(not running and not calibrating)
        self.train_action.setEnabled(not running and not calibrating)
        self.stop_action.setEnabled(running)
        self.continue_button.setEnabled(not running and self._run_to_continue() is not None)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.stop_button.setEnabled(running)
        self.settings.setEnabled(not running)
