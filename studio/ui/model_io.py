"""File > Import Model…, File > Export… and a run's Export…: the dialogs and their workers.

Both go through the same `studio.workflows` functions as `studio import` and
`studio export` (and `workflows.bundle` for a run's reproducible bundle). The
work runs on a `FunctionRunner` thread: the GUI thread never calls
TensorFlow. The workflow's `step(text)` hook is called on that thread and
crosses to the GUI thread as a queued Qt signal (`_Relay`); Cancel sets a
`threading.Event` the workflow checks before each step, so a cancelled export
stops at the next step and its staged files are removed (nothing is written).

The file choosers are module-level functions (`choose_model_file`,
`choose_model_folder`, `choose_export_path`), so tests replace them instead of
clicking through native file dialogs; the dialogs themselves open with
`open()` (window-modal, not blocking) and tests press their buttons.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.graph.model import Graph
from studio.project.model import SUFFIX, Project, project_stem
from studio.training import runs
from studio.ui import dialogs
from studio.ui.workers import FunctionRunner

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"


@dataclasses.dataclass(frozen=True)
class Format:
    key: str  # the workflow's name for it
    title: str
    suffix: str  # "" for a folder
    needs_run: bool = False
    module: str = ""  # a converter that must be installed


FORMATS = (
    Format("keras", "Keras model (.keras)", ".keras"),
    Format("savedmodel", "TensorFlow SavedModel (folder)", ""),
    Format("tflite", "TensorFlow Lite (.tflite)", ".tflite"),
    Format("onnx", "ONNX (.onnx)", ".onnx", module="tf2onnx"),
    Format("python", "Python script (.py and its weights)", ".py"),
    Format("bundle", "Reproducible bundle of a run (folder)", "", needs_run=True),
)


def format_named(key: str) -> Format:
    return next(f for f in FORMATS if f.key == key)


def missing_converter(fmt: Format) -> str:
    """Why `fmt` cannot be written in this install ("" when it can)."""
    if fmt.module and importlib.util.find_spec(fmt.module) is None:
        return f"needs {fmt.module}, which is not installed: pip install network-studio[onnx]"
    return ""


# --- the file choosers (tests replace these) --------------------------------------------------
def choose_model_file(parent: QWidget | None, folder: str = "") -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Import a Keras model", folder, MODEL_FILTER)
    return Path(name) if name else None


def choose_model_folder(parent: QWidget | None, folder: str = "") -> Path | None:
    name = QFileDialog.getExistingDirectory(parent, "Import a SavedModel folder", folder)
    return Path(name) if name else None


def choose_project_file(parent: QWidget | None, suggested: str) -> Path | None:
    return dialogs.choose_save_file(parent, suggested)


def choose_export_path(parent: QWidget | None, fmt: Format, suggested: str) -> Path | None:
    if not fmt.suffix:
        name, _ = QFileDialog.getSaveFileName(parent, f"Export as {fmt.title}", suggested,
                                              "Folders (*)", options=QFileDialog.Option.ShowDirsOnly)
    else:
        name, _ = QFileDialog.getSaveFileName(parent, f"Export as {fmt.title}", suggested,
                                              f"{fmt.title} (*{fmt.suffix});;All files (*)")
    if not name:
        return None
    path = Path(name)
    return path.with_name(path.name + fmt.suffix) if fmt.suffix and path.suffix != fmt.suffix else path


def free_project_path(model: Path) -> Path:
    """`NAME.studio.json` beside the model; `NAME-2`, `NAME-3`... when that project exists."""
    stem = model.name if model.is_dir() else model.stem
    folder = model.parent
    path = folder / f"{stem}{SUFFIX}"
    n = 2
    while path.exists() or path.with_name(f"{project_stem(path)}.weights.h5").exists():
        path = folder / f"{stem}-{n}{SUFFIX}"
        n += 1
    return path


def snapshot(project: Project) -> Project:
    """A copy of `project` the worker thread may read while the user goes on editing."""
    graph = Graph.from_dict(project.graph.to_dict(), project.graph.catalog)
    store = project.weights.copy() if hasattr(project.weights, "copy") else project.weights
    return dataclasses.replace(project, graph=graph, dataset=copy.deepcopy(project.dataset),
                               training=copy.deepcopy(project.training), assets=dict(project.assets),
                               weights=store)


# --- progress ---------------------------------------------------------------------------------
class _Relay(QObject):
    """Lives on the GUI thread; the worker emits, the connection is queued."""

    step = Signal(str)


class ProgressDialog(QDialog):
    """The running job's current step, a busy bar and Cancel; at the end, the result and Close."""

    cancelRequested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelIoProgress")
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.heading = QLabel(title + "…", self)
        self.heading.setObjectName("heading")
        bold = self.heading.font()
        bold.setBold(True)
        self.heading.setFont(bold)
        self.step_label = QLabel("Starting…", self)
        self.step_label.setObjectName("stepLabel")
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # busy: the steps have no fixed length
        self.bar.setTextVisible(False)
        self.verify_label = QLabel("", self)  # the export's check: max difference and tolerance
        self.verify_label.setObjectName("verifyLabel")
        self.verify_label.setFont(bold)
        self.verify_label.hide()
        self.result_label = QLabel("", self)
        self.result_label.setObjectName("resultLabel")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.clicked.connect(self.request_cancel)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.clicked.connect(self.accept)
        self.close_button.hide()
        layout = QVBoxLayout(self)
        for widget in (self.heading, self.step_label, self.bar, self.verify_label, self.result_label):
            layout.addWidget(widget)
        layout.addWidget(self.buttons)
        # The dialog takes its contents' size (it grows to the result when the job ends). The
        # labels do not word-wrap: a wrapped label's height depends on its width, which a
        # dialog sized from its hints gets wrong (the buttons were squeezed to nothing).
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
        for label in (self.step_label, self.verify_label, self.result_label):
            label.setMinimumWidth(540)
        self.finished_ok = False

    def show_step(self, text: str) -> None:
        if self.cancel_button.isEnabled():
            self.step_label.setText(text[:1].upper() + text[1:] + "…")

    def request_cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.step_label.setText("Cancelling after this step…")
        self.cancelRequested.emit()

    def reject(self) -> None:  # Esc or the window's close button: cancel while running
        if self.close_button.isVisible():
            super().reject()
        elif self.cancel_button.isEnabled():
            self.request_cancel()

    def show_result(self, heading: str, lines: list[str], verified: str = "") -> None:
        """The end: `verified` (the check's result, in bold) above the other `lines`."""
        self.finished_ok = True
        self.heading.setText(heading)
        self.step_label.hide()
        self.bar.hide()
        self.verify_label.setText(verified)
        self.verify_label.setVisible(bool(verified))
        self.result_label.setText("\n".join(lines))
        self.result_label.show()
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setDefault(True)
        self.fit()
        QTimer.singleShot(0, self.fit)  # again once the newly shown widgets are polished

    def fit(self) -> None:
        """Take the size of what is shown now (the buttons' height included)."""
        for widget in (self.close_button, self.verify_label, self.result_label, self.buttons):
            widget.ensurePolished()
        self.layout().invalidate()
        self.layout().activate()



# --- import -----------------------------------------------------------------------------------
def _problem_and_buttons(dialog: QDialog, verb: str,
                         accept: Callable[[], None]) -> tuple[QLabel, QDialogButtonBox, QPushButton]:
    """A dialog's hidden problem line and its `verb` / Cancel buttons (`accept` checks first)."""
    problem = QLabel("", dialog)
    problem.setObjectName("problem")
    problem.setWordWrap(True)
    problem.hide()
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, dialog)
    button = buttons.addButton(verb, QDialogButtonBox.ButtonRole.AcceptRole)
    button.setDefault(True)
    buttons.accepted.connect(accept)
    buttons.rejected.connect(dialog.reject)
    return problem, buttons, button


class ImportDialog(QDialog):
    """Which model (a file or a SavedModel folder) and where to write its project."""

    def __init__(self, folder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle("Import model")
        self.setMinimumWidth(560)
        self.folder = folder
        self._project_chosen = False
        intro = QLabel("A Keras model (.keras or .h5 file, or a SavedModel folder) becomes an editable "
                       "project with its weights. Nothing in the file is run as code.", self)
        intro.setWordWrap(True)
        self.model_edit = QLineEdit(self)
        self.model_edit.setObjectName("modelPath")
        self.model_edit.setPlaceholderText("choose a model file or folder")
        self.file_button = QPushButton("File…", self)
        self.file_button.setToolTip("A .keras or .h5 model file")
        self.file_button.clicked.connect(self.pick_file)
        self.folder_button = QPushButton("Folder…", self)
        self.folder_button.setToolTip("A SavedModel folder written by Keras 2")
        self.folder_button.clicked.connect(self.pick_folder)
        row = QHBoxLayout()
        row.addWidget(self.model_edit, 1)
        row.addWidget(self.file_button)
        row.addWidget(self.folder_button)
        self.project_edit = QLineEdit(self)
        self.project_edit.setObjectName("projectPath")
        self.project_edit.setPlaceholderText("beside the model")
        self.project_edit.textEdited.connect(lambda _t: setattr(self, "_project_chosen", True))
        self.project_button = QPushButton("Browse…", self)
        self.project_button.clicked.connect(self.pick_project)
        prow = QHBoxLayout()
        prow.addWidget(self.project_edit, 1)
        prow.addWidget(self.project_button)
        form = QFormLayout()
        form.addRow("Model:", row)
        form.addRow("Project:", prow)
        self.problem, self.buttons, self.import_button = _problem_and_buttons(self, "Import", self._accept)
        self.model_edit.textChanged.connect(self._model_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._model_changed("")

    def model_path(self) -> Path | None:
        text = self.model_edit.text().strip()
        return Path(text).expanduser() if text else None

    def project_path(self) -> Path | None:
        text = self.project_edit.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        return path if path.name.endswith(SUFFIX) else path.with_name(path.name + SUFFIX)

    def pick_file(self) -> None:
        path = choose_model_file(self, self.folder)
        if path is not None:
            self.model_edit.setText(str(path))

    def pick_folder(self) -> None:
        path = choose_model_folder(self, self.folder)
        if path is not None:
            self.model_edit.setText(str(path))

    def pick_project(self) -> None:
        model = self.model_path()
        suggested = self.project_edit.text() or (str(free_project_path(model)) if model else self.folder)
        path = choose_project_file(self, suggested)
        if path is not None:
            self._project_chosen = True
            self.project_edit.setText(str(path))

    def _model_changed(self, _text: str) -> None:
        model = self.model_path()
        self.import_button.setEnabled(model is not None)
        self.problem.hide()
        if model is not None and not self._project_chosen:
            self.project_edit.setText(str(free_project_path(model)))

    def _accept(self) -> None:
        model, project = self.model_path(), self.project_path()
        problem = ""
        if model is None or not model.exists():
            problem = f"{model}: no such file or folder"
        elif project is None:
            problem = "Choose where to write the project."
        elif project.exists():
            problem = f"{project}: already exists; choose another name"
        if problem:
            self.problem.setText(problem)
            self.problem.show()
            return
        self.accept()


# --- export -----------------------------------------------------------------------------------
@dataclasses.dataclass
class WeightsChoice:
    label: str
    run: Optional[str]  # run id; None: the project's current weights
    which: str  # "best", "final" or "current"


def weights_choices(project: Project) -> list[WeightsChoice]:
    """A run's best / final model for each finished run (newest first), then the current weights."""
    out = []
    for info in reversed(runs.list_runs(project.runs_dir)):
        if not info.is_finished:
            continue
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.started)) if info.started else ""
        tag = f"Run {started} ({info.id[-6:]})" if started else f"Run {info.id}"
        if info.has_best:
            out.append(WeightsChoice(f"{tag}: best epoch (best.keras)", info.id, "best"))
        if info.has_final:
            out.append(WeightsChoice(f"{tag}: last epoch (final.keras)", info.id, "final"))
    stored = project.weights
    has_stored = bool(getattr(stored, "entries", None)) or getattr(stored, "legacy", None) is not None \
        or project.asset_path("weights") is not None
    out.append(WeightsChoice("Current weights (as imported or stored in the project)" if has_stored
                             else "Current weights (untrained: freshly initialised)", None, "current"))
    return out


class ExportDialog(QDialog):
    """Format, weights and destination of an export."""

    def __init__(self, project: Project, run: Optional[str] = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export model")
        self.setMinimumWidth(560)
        self.project = project
        self.folder = project.folder or Path.home()
        self.stem = project_stem(project.path) if project.path else (project.name or "model").replace(" ", "-")
        self._path_chosen = False
        self.format_box = QComboBox(self)
        self.format_box.setObjectName("formatBox")
        for i, fmt in enumerate(FORMATS):
            self.format_box.addItem(fmt.title, fmt.key)
            why = missing_converter(fmt)
            if why:
                self.format_box.model().item(i).setEnabled(False)
                self.format_box.setItemData(i, why, Qt.ItemDataRole.ToolTipRole)
        self.weights_box = QComboBox(self)
        self.weights_box.setObjectName("weightsBox")
        self.choices = weights_choices(project)
        for choice in self.choices:
            self.weights_box.addItem(choice.label)
        if run is not None:
            matching = [i for i, c in enumerate(self.choices) if c.run == run]
            if matching:
                self.weights_box.setCurrentIndex(matching[0])
        self.path_edit = QLineEdit(self)
        self.path_edit.setObjectName("exportPath")
        self.path_edit.textEdited.connect(lambda _t: setattr(self, "_path_chosen", True))
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Format:", self.format_box)
        form.addRow("Weights:", self.weights_box)
        form.addRow("Save to:", row)
        self.note = QLabel("The written file is loaded back in its own runtime and compared with the "
                           "Keras model before it is kept.", self)
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.problem, self.buttons, self.export_button = _problem_and_buttons(self, "Export", self._accept)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.format_box.currentIndexChanged.connect(self._changed)
        self.weights_box.currentIndexChanged.connect(self._changed)
        self._changed()

    def format(self) -> Format:
        return format_named(self.format_box.currentData())

    def set_format(self, key: str) -> None:
        self.format_box.setCurrentIndex(self.format_box.findData(key))

    def weights(self) -> WeightsChoice:
        return self.choices[self.weights_box.currentIndex()]

    def path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text).expanduser() if text else None

    def suggested_path(self) -> Path:
        fmt, choice = self.format(), self.weights()
        name = self.stem + (f"-{choice.run[-6:]}-{choice.which}" if choice.run else "")
        if fmt.key == "savedmodel":
            name += "_savedmodel"
        elif fmt.key == "bundle":
            name += "_bundle"
        return self.folder / (name + fmt.suffix)

    def browse(self) -> None:
        path = choose_export_path(self, self.format(), str(self.path() or self.suggested_path()))
        if path is not None:
            self._path_chosen = True
            self.path_edit.setText(str(path))

    def _changed(self, _index: int = 0) -> None:
        fmt, choice = self.format(), self.weights()
        path = self.path()
        if not self._path_chosen or path is None:
            self.path_edit.setText(str(self.suggested_path()))
        elif fmt.suffix and path.suffix != fmt.suffix:  # keep the user's name, fix its ending
            self.path_edit.setText(str(path.with_suffix(fmt.suffix) if path.suffix else
                                       path.with_name(path.name + fmt.suffix)))
        problem = ""
        if fmt.needs_run and choice.run is None:
            problem = "A bundle reproduces a run: choose one of the runs' weights."
        elif missing_converter(fmt):
            problem = f"{fmt.title} {missing_converter(fmt)}"
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self.export_button.setEnabled(not problem)

    def _accept(self) -> None:
        if self.path() is None:
            self.problem.setText("Choose where to save the export.")
            self.problem.show()
            return
        self.accept()


# --- the controller -----------------------------------------------------------------------------
class ModelIO(QObject):
    """The window's Import Model… and Export… actions, and a run's Export… button.

    Signals: imported(MainWindow) with the new window on the imported project;
    exported(ExportResult or BundleResult); cancelled(str) when a job stopped on Cancel."""

    imported = Signal(object)
    exported = Signal(object)
    cancelled = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.runner = FunctionRunner(self)
        self.runner.done.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.relay = _Relay(self)
        self.cancel_flag = threading.Event()
        self.progress: Optional[ProgressDialog] = None
        self.import_dialog: Optional[ImportDialog] = None
        self.export_dialog: Optional[ExportDialog] = None
        self._on_done: Callable[[Any], None] = lambda _value: None
        self._what = ""
        self.import_action = QAction("&Import Model…", window)
        self.import_action.setStatusTip("Open a Keras model (.keras, .h5 or a SavedModel folder) as a new project")
        self.import_action.triggered.connect(lambda _checked=False: self.import_model())
        self.export_action = QAction("&Export…", window)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setStatusTip("Write the model as .keras, SavedModel, TFLite, ONNX or a Python script, "
                                        "verified against the Keras model")
        self.export_action.triggered.connect(lambda _checked=False: self.export())
        self._install()

    def _install(self) -> None:
        menu = self.window.menus.file
        before = self.window.actions_.quit
        actions = menu.actions()
        # after Save As, before the separator that precedes Quit
        index = actions.index(before)
        anchor = actions[index - 1] if index > 0 and actions[index - 1].isSeparator() else before
        menu.insertSeparator(anchor)
        menu.insertAction(anchor, self.import_action)
        menu.insertAction(anchor, self.export_action)
        panel = self.window.panels.get("TrainingPanel")
        runs_view = getattr(panel, "runs_view", None)
        signal = getattr(runs_view, "exportRequested", None)
        if signal is not None:
            signal.connect(lambda info: self.export(run=info.id))

    def busy(self) -> bool:
        return self.runner.is_running()

    # -- import ------------------------------------------------------------------------------
    def import_model(self) -> Optional[ImportDialog]:
        if self.busy():
            self.window.show_message("Wait for the import or export that is running")
            return None
        path = self.window.document.path
        dialog = ImportDialog(str(path.parent) if path else str(Path.home()), self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.start_import(dialog.model_path(), dialog.project_path()))
        self.import_dialog = dialog
        dialog.open()
        return dialog

    def start_import(self, model: Path, project: Path) -> bool:
        from studio.workflows import importing

        def work() -> Any:
            return importing.import_model(model, project, cancel=cancel, step=self.relay.step.emit)

        cancel = self._begin("Importing " + model.name)
        return self._start(work, f"importing {model}", lambda result: self._imported(result, model))

    def _imported(self, result: Any, model: Path) -> None:
        from studio.workflows import importing

        self._close_progress()
        window = self.window.new_window()
        if not window.files.open(result.project_path, ask=False):
            return
        text = importing.result_lines(result)[0]
        window.show_message(text)
        self.imported.emit(window)

    # -- export ------------------------------------------------------------------------------
    def export(self, run: Optional[str] = None) -> Optional[ExportDialog]:
        if self.busy():
            self.window.show_message("Wait for the import or export that is running")
            return None
        project = self.window.document.project
        dialog = ExportDialog(project, run, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.start_export(dialog.format().key, dialog.path(), dialog.weights()))
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def start_export(self, fmt: str, path: Path, weights: WeightsChoice) -> bool:
        from studio.workflows import bundle, export

        project = snapshot(self.window.document.project)
        notes: list[str] = []
        emit = self.relay.step.emit

        def work() -> Any:
            if fmt == "bundle":
                return bundle.export_bundle(project, path, run=weights.run, progress=emit, cancel=cancel)
            return export.export_project(project, fmt, path, run=weights.run, which=weights.which,
                                         progress=notes.append, cancel=cancel, step=emit)

        def show(result: Any) -> None:
            verified = ""
            if fmt == "bundle":
                lines = bundle.result_lines(result)
            else:
                verified = (f"Verified: max abs difference {result.max_abs_diff:.3g} "
                            f"(tolerance {result.tolerance:.3g})")
                lines = ["Reloaded in its own runtime, the file gives the Keras model's answers."]
                lines += [line for line in export.result_lines(result) if not line.startswith("Verified")]
                lines.append(f"Report: {result.report_path}")
            if self.progress is not None:
                self.progress.show_result(f"Exported {path.name}", lines, verified)
            self.window.show_message(f"Exported {path.name}")
            self.exported.emit(result)

        cancel = self._begin(f"Exporting {path.name}")
        return self._start(work, f"exporting {path}", show)

    # -- running ------------------------------------------------------------------------------
    def _begin(self, title: str) -> threading.Event:
        self.cancel_flag = threading.Event()
        progress = ProgressDialog(title, self.window)
        progress.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        progress.cancelRequested.connect(self.cancel_flag.set)
        self.relay.step.connect(progress.show_step)
        progress.finished.connect(lambda _code, p=progress: self._progress_closed(p))
        self.progress = progress
        progress.open()
        return self.cancel_flag

    def _start(self, work: Callable[[], Any], what: str, on_done: Callable[[Any], None]) -> bool:
        self._on_done, self._what = on_done, what
        return self.runner.start(work)

    def _done(self, value: Any) -> None:
        self._disconnect_relay()
        self._on_done(value)

    def _failed(self, message: str) -> None:
        self._disconnect_relay()
        self._close_progress()
        if self.cancel_flag.is_set() and message.startswith("cancelled"):
            text = f"Cancelled {self._what}; nothing was written"
            self.window.show_message(text)
            self.cancelled.emit(text)
            return
        title = "Cannot import model" if self._what.startswith("importing") else "Cannot export model"
        target = self._what.split(" ", 1)[1]
        if Path(target).name not in message:  # every message names the file
            message = f"{target}: {message}"
        dialogs.show_error(self.window, title, message)

    def _disconnect_relay(self) -> None:
        try:
            self.relay.step.disconnect()
        except (RuntimeError, TypeError):
            pass

    def _progress_closed(self, progress: ProgressDialog) -> None:
        if self.progress is progress:
            self.progress = None

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.done(QDialog.DialogCode.Accepted)
            self.progress = None

    def shutdown(self) -> None:
        """The window closes: cancel a running job and wait for it to stop."""
        if self.runner.is_running():
            self.cancel_flag.set()
            self.runner.wait(120_000)
