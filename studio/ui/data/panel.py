"""The Data panel: choose the project's data, see what is in it, fit the model to it.

`DataPanel(document)` follows `document.project.dataset`. Choosing a source
(a file, a folder or a bundled sample) or changing a setting replaces the
dataset section through `document.set_section`, so every change is one undo
step and is saved with the project. describe() runs on a worker thread (a
large CSV takes seconds); the views show its `DatasetInfo`: a table preview
with column types, an image grid, sample texts or the series, the class
balance and the split sizes. "Fit model to data" pushes the undoable edits
of `studio.data.binding.fix_edits`.

Whether the model fits the data (`studio.data.binding.check`) is handed to the
document (`set_data_check`), so those problems join its report and show on the
canvas node that causes them, like every other error; the panel lists them too.

A model with several Inputs or outputs gets the "Inputs & outputs" tab (`BindingEditor`): which
columns (or .npz arrays) feed each Input and which is each output's target, edited by clicks, each
change one undo step; a node whose binding is wrong is marked there and on the canvas.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.data import binding, registry
from studio.data.info import DatasetInfo
from studio.ui.data.bindings import BindingEditor
from studio.ui.data.form import DatasetForm
from studio.ui.data.views import ClassBars, ImageGrid, SeriesPlot, SplitBar, TablePreview, TextPreview
from studio.ui.workers import FunctionRunner

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
SEVERITY_COLORS = {"error": "#D64545", "warning": "#D99A1E", "info": "#6A8CB8"}
BINDABLE = ("csv", "tsv", "npz")  # the kinds whose columns or arrays can be bound per node
FILE_FILTER = "Data files (*.csv *.tsv *.tab *.txt *.npy *.npz);;All files (*)"


def choose_file(parent: QWidget, folder: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open data file", folder, FILE_FILTER)
    return path or None


def choose_folder(parent: QWidget, folder: str) -> str | None:
    path = QFileDialog.getExistingDirectory(parent, "Open a folder with one subfolder per class", folder)
    return path or None


def _describe(spec: dict, base_dir: Path | None) -> DatasetInfo:
    from studio.data.api import describe

    return describe(spec, base_dir)


class DataPanel(QWidget):
    """Signals: `described(object)` with the new DatasetInfo, or None when there is none/an error."""

    described = Signal(object)

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataPanel")
        self.document = document
        self.info: DatasetInfo | None = None
        self.error = ""
        self._described_spec: Any = None
        self._running_spec: Any = None
        self.runner = FunctionRunner(self)
        self.runner.done.connect(self._on_described)
        self.runner.failed.connect(self._on_failed)
        self.runner.busyChanged.connect(self._on_busy)
        self._again = False  # the dataset changed while describing: describe once more when done
        self._names: tuple[str, list[str]] = ("", [])  # (data path, its columns): kept while a binding is partial
        self._build()
        document.sectionChanged.connect(self._on_section)
        document.projectReplaced.connect(lambda _p: self._on_project_replaced())
        document.reportChanged.connect(lambda _r: self._show_binding())
        self.refresh()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = QLabel("No data", self)
        self.title.setObjectName("dataTitle")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.open_file = QPushButton("Open file…", self)
        self.open_file.clicked.connect(self._pick_file)
        self.open_folder = QPushButton("Open folder…", self)
        self.open_folder.clicked.connect(self._pick_folder)
        self.samples = QToolButton(self)
        self.samples.setText("Sample")
        self.samples.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.samples)
        for sample in registry.SAMPLES.values():
            suffix = " (download)" if sample.origin == "download" else ""
            action = QAction(f"{sample.title}{suffix}", menu)
            action.setToolTip(sample.description)
            action.triggered.connect(lambda _c=False, name=sample.name: self.set_source(name))
            menu.addAction(action)
        self.samples.setMenu(menu)
        sources = QHBoxLayout()
        for w in (self.samples, self.open_file, self.open_folder):
            sources.addWidget(w)
        sources.addStretch(1)

        self.form = DatasetForm(self)
        self.form.changed.connect(self.change)
        self.settings_box = settings = QGroupBox("Settings", self)
        QVBoxLayout(settings).addWidget(self.form)

        self.fit = QPushButton("Fit model to data", self)
        self.fit.setToolTip("Set the Input shape (and the last layer's units) from the data; undoable")
        self.fit.clicked.connect(self.fit_model)
        self.problems = QListWidget(self)
        self.problems.setObjectName("dataProblems")
        self.problems.setWordWrap(True)
        self.problems.setMaximumHeight(140)
        self.problems.itemClicked.connect(self._problem_clicked)

        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.title)
        column.addLayout(sources)
        column.addWidget(self.summary)
        column.addWidget(settings)
        column.addWidget(self.fit)
        column.addWidget(self.problems)
        column.addStretch(1)

        self.table = TablePreview(self)
        self.images = ImageGrid(self)
        self.texts = TextPreview(self)
        self.series = SeriesPlot(self)
        self.message = QLabel("", self)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.preview = QStackedWidget(self)
        for w in (self.message, self.table, self.images, self.texts, self.series):
            self.preview.addWidget(w)
        self.classes = ClassBars(self)
        self.split = SplitBar(self)
        self.split_label = QLabel("", self)
        split_page = QWidget(self)
        split_layout = QVBoxLayout(split_page)
        split_layout.addWidget(self.split)
        split_layout.addWidget(self.split_label)
        split_layout.addStretch(1)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.preview, "Preview")
        self.tabs.addTab(self.classes, "Classes")
        self.tabs.addTab(split_page, "Split")
        self.bindings = BindingEditor(self)
        self.bindings.changed.connect(self.change)
        self.bindings_tab = self.tabs.addTab(self.bindings, "Inputs && outputs")
        self.tabs.setTabVisible(self.bindings_tab, False)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

    # -- the dataset section ----------------------------------------------------------------
    @property
    def spec(self) -> dict | None:
        return self.document.project.dataset

    @property
    def base_dir(self) -> Path | None:
        return self.document.project.folder

    def _on_project_replaced(self) -> None:
        """Another project is open: nothing of the last one's data stays on show
        while its own is read."""
        self.info, self.error, self._described_spec = None, "", None
        self.summary.setText("")
        self._message("")
        self._clear()
        spec = self.spec
        self.settings_box.setVisible(bool(spec))
        if spec:
            self.form.show_spec(spec, None)
            self.title.setText("Reading the data…")
        self.refresh()

    def _on_section(self, key: str) -> None:
        if key == "dataset":
            self._show_editor()  # at once: a second click must start from the first one's bindings
            self.refresh()

    def refresh(self) -> None:
        """Describe the project's dataset (on a worker thread) and show it."""
        spec = copy.deepcopy(self.spec)
        if not spec:
            self.info, self.error, self._described_spec = None, "", None
            self._show()
            self.described.emit(None)
            return
        if self.runner.is_running():
            self._again = True
            return
        self._running_spec = spec
        self.title.setText("Reading the data…")
        base_dir = self.base_dir
        self.runner.start(lambda: _describe(spec, base_dir))

    def _on_described(self, info: DatasetInfo) -> None:
        self._finish(info, "")

    def _on_failed(self, message: str) -> None:
        self._finish(None, message)

    def _finish(self, info: DatasetInfo | None, error: str) -> None:
        spec = self._running_spec
        self._running_spec = None
        if spec != self.spec:  # stale: the worker's end (busyChanged) describes again
            self._again = True
            return
        self.info, self.error, self._described_spec = info, error, spec
        self._show()
        self.described.emit(info)

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Window closing: let a running describe() finish (its thread must not outlive the panel)."""
        self._again = False
        self.runner.wait(timeout_ms)

    def _on_busy(self, busy: bool) -> None:
        if not busy and self._again:
            self._again = False
            self.refresh()

    @property
    def busy(self) -> bool:
        """True while describing, or while a newer spec still waits to be described."""
        return self.runner.is_running() or self._again or self._running_spec is not None

    # -- changing the dataset ----------------------------------------------------------------
    def set_source(self, source: str) -> None:
        """Use a file, folder or sample name as the project's data (one undo step)."""
        old = self.spec or {}
        if source in registry.SAMPLES:
            new: dict = {"kind": "sample", "path": source}
            text = f"Use sample {registry.SAMPLES[source].title}"
        else:
            from studio.data.api import to_spec_dict

            path = Path(source)
            try:
                new = to_spec_dict(str(path), None)
            except StudioError as exc:
                self.document.message.emit(str(exc))
                return
            new["path"] = self._relative(path)
            text = f"Use data {path.name}"
        if "split" in old:
            new["split"] = copy.deepcopy(old["split"])
        self.document.set_section("dataset", new, text)

    def _relative(self, path: Path) -> str:
        folder = self.base_dir
        if folder is not None:
            try:
                return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix() \
                    if path.resolve().is_relative_to(folder.resolve()) else str(path)
            except ValueError:
                return str(path)
        return str(path)

    def change(self, key: str, value: Any) -> None:
        """Change one key of the dataset spec (None removes it), as one undo step."""
        if not self.spec:
            return
        new = copy.deepcopy(self.spec)
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
        series = self.info is not None and self.info.kind == "timeseries"  # may learn from its own past
        if key == "targets" and new.get("features") and not series:
            new["features"] = [f for f in new["features"] if f not in value]
        if key == "kind":  # another reading of the file: its columns mean other things
            for stale in ("features", "targets", "task"):
                new.pop(stale, None)
        if key in ("kind", "targets", "features", "task", "text", "image", "missing", "categorical", "window",
                   "delimiter", "header", "encoding", "decimal", "skip_rows", "inputs", "outputs"):
            new.pop("preprocessing", None)  # fitted for the old settings
        self.document.set_section("dataset", new, f"Change data {key}")

    def _pick_file(self) -> None:
        path = choose_file(self, str(self.base_dir or Path.home()))
        if path:
            self.set_source(path)

    def _pick_folder(self) -> None:
        path = choose_folder(self, str(self.base_dir or Path.home()))
        if path:
            self.set_source(path)

    def fit_model(self) -> None:
        if self.info is None:
            return
        batch = binding.fix_edits(self.document.graph, self.info)
        if batch is not None:
            self.document.push(batch)

    # -- showing ---------------------------------------------------------------------------------
    def _show(self) -> None:
        self._bind()
        info, spec = self.info, self.spec
        self.form.setEnabled(bool(spec))
        self.settings_box.setVisible(bool(spec))  # no greyed settings of no data
        if not spec:
            self.title.setText("No data yet: choose a sample or open a file")
            self.summary.setText("")
            self._message("Choose a bundled sample, a CSV/NumPy file, or a folder with one subfolder per class.")
            self._clear()
            return
        self.form.show_spec(spec, info)
        if info is None:
            self.title.setText("The data cannot be read")
            self.summary.setText(self.error)
            self._message(self.error)
            self._clear()
            self._list_problems([("error", self.error)])
            self._show_editor()
            return
        name = info.title or Path(info.path).name
        self.title.setText(name)
        self.summary.setText(bound_text(info, self.document.graph) if info.bound else summary_text(info))
        self._show_preview(info)
        classification = info.task == "classification"
        self.tabs.setTabEnabled(1, classification)
        self.classes.show_counts(info.class_names if classification else [], info.class_counts)
        self.split.show_sizes(info.split_sizes)
        self.split_label.setText(self.split.text())
        self._show_binding()

    def _show_preview(self, info: DatasetInfo) -> None:
        if info.kind == "timeseries" and info.series:
            self.series.show_series(info.series)
            self.preview.setCurrentWidget(self.series)
        elif info.kind == "images" or (info.kind == "keras" and info.image_size):
            self.images.show_images(info.preview_items)
            self.preview.setCurrentWidget(self.images)
            if not info.preview_items:
                self._message(f"{info.num_samples:,} images")
        elif info.kind == "text":
            self.texts.show_texts(info.preview_items)
            self.preview.setCurrentWidget(self.texts)
        elif info.preview_rows:
            self.table.show_table(info.columns, info.preview_rows)
            self.preview.setCurrentWidget(self.table)
        else:
            lines = [f"{c.name}: shape {c.shape} {c.dtype} ({c.role})" for c in info.columns]
            self._message("\n".join(lines) or f"{info.num_samples:,} samples")

    def _message(self, text: str) -> None:
        self.message.setText(text)
        self.preview.setCurrentWidget(self.message)

    def _clear(self) -> None:
        self.classes.show_counts([], [])
        self.split.show_sizes({})
        self.split_label.setText("")
        self.fit.setEnabled(False)
        if not self.error:
            self.problems.clear()

    def _bind(self) -> None:
        """Check the model against this data in the document's report (none without data; data
        bound per node that cannot be read yet: the binding's own errors, on their nodes)."""
        info = self.info

        def check(graph, report) -> list:
            return binding.check(graph, info, report) if graph.nodes else []

        if info is None and self._partial_binding() is not None:
            spec = self._partial_binding()
            self.document.set_data_check(lambda graph, _report: binding.bound_problems(graph, spec)
                                         if graph.nodes else [])
            return
        self.document.set_data_check(check if info is not None else None)

    def _partial_binding(self):
        """The dataset spec, when it binds data per node but could not be described (None otherwise)."""
        from studio.data.spec import DatasetSpec

        try:
            spec = DatasetSpec.from_dict(copy.deepcopy(self.spec)) if self.spec else None
        except StudioError:
            return None
        return spec if spec is not None and spec.bound else None

    def _bindable_names(self) -> list[str]:
        """The columns (or .npz arrays) a node can be bound to; while the data cannot be read (a
        binding half made), those of the last reading of the same file."""
        info, spec = self.info, self.spec or {}
        path = str(spec.get("path", ""))
        if info is not None:
            if info.kind not in BINDABLE:
                return []
            column = (spec.get("image") or {}).get("column") if isinstance(spec.get("image"), dict) else None
            if info.kind == "npz":
                from studio.data.multi import array_names

                names = array_names(info.path)
            else:
                names = [c.name for c in info.columns]
            if column and column in names and f"{column}:folder" not in names:
                names.append(f"{column}:folder")  # the class of each image's folder, for an output
            self._names = (path, names)
            return names
        return list(self._names[1]) if self._names[0] == path else []

    def _show_editor(self) -> None:
        """The binding editor's tab, shown where the model has several Inputs or outputs (or the
        data is bound per node already) and the data is a table or an .npz."""
        graph, spec = self.document.graph, self.spec or {}
        several = len(graph.input_nodes()) > 1 or len(graph.output_nodes()) > 1
        names = self._bindable_names() if spec else []
        wanted = bool(names) and (several or bool(spec.get("inputs") or spec.get("outputs")))
        self.tabs.setTabVisible(self.bindings_tab, wanted)
        if wanted:
            self.bindings.show_bindings(graph, spec, names, self.document.data_diagnostics)

    def _show_binding(self) -> None:
        info = self.info
        self._show_editor()
        if info is None:
            self.fit.setEnabled(False)
            return
        graph = self.document.graph
        diags = self.document.data_diagnostics
        items: list[tuple] = [(p.severity, p.message) for p in info.problems]
        items += [(d.severity, f"model: {d.message}", d.node) for d in diags]
        self._list_problems(items)
        self.fit.setEnabled(bool(graph.nodes) and binding.fix_edits(graph, info) is not None)

    def _list_problems(self, items: list[tuple]) -> None:
        """(severity, message) or (severity, message, node id): a model problem selects its node."""
        self.problems.clear()
        if not items:
            item = QListWidgetItem("No problems: the data and the model fit together.")
            item.setForeground(QColor("#3FA66B"))
            self.problems.addItem(item)
            return
        for severity, message, *node in items:
            item = QListWidgetItem(f"{severity}: {message}")
            item.setForeground(QColor(SEVERITY_COLORS.get(severity, "#888888")))
            item.setToolTip(message + ("\n(click to select the layer)" if node and node[0] else ""))
            item.setData(NODE_ROLE, node[0] if node else None)
            self.problems.addItem(item)

    def _problem_clicked(self, item: QListWidgetItem) -> None:
        node = item.data(NODE_ROLE)
        if node and self.document.graph.has_node(node):
            self.document.set_selection([node])

    def problem_texts(self) -> list[str]:
        return [self.problems.item(i).text() for i in range(self.problems.count())]


def summary_text(info: DatasetInfo) -> str:
    from studio.data.info import format_shape

    what = {"timeseries": "windows", "images": "images", "text": "texts"}.get(info.kind, "samples")
    parts = [f"{info.num_samples:,} {what}", f"input {format_shape(info.feature_shape)}"]
    if info.task == "classification":
        parts.append(f"{info.num_classes or 0} classes")
    else:
        parts.append(f"{info.task} of {', '.join(info.targets)}")
    parts.append(f"last layer: {info.target_size} unit{'s' if info.target_size != 1 else ''}, "
                 f"{info.suggested_activation}")
    if info.spec.get("decimal") == ",":
        parts.append("numbers with decimal commas (5,1)")
    return " · ".join(parts)


def bound_text(info: DatasetInfo, graph) -> str:
    """What each Input and output node gets, one line each, for data bound per node:
    "Input 'features a' <- a1, a2, a3 (3 values)", "output 'kind' <- kind: 3 classes (loss auto)"."""
    def label(node_id: str) -> str:
        return (graph.node(node_id).title or node_id) if graph.has_node(node_id) else node_id

    ins = [b for b in info.bound if b["role"] == "input"]
    outs = [b for b in info.bound if b["role"] == "output"]
    lines = [f"{info.num_samples:,} samples · {len(ins)} input{'s' if len(ins) != 1 else ''}, "
             f"{len(outs)} output{'s' if len(outs) != 1 else ''}, each bound to its columns"]
    for b in ins:
        if len(b["shape"]) > 1:  # an image named in the column
            what = "images " + "×".join(str(d) for d in b["shape"])
        else:
            width = b["shape"][-1] if b["shape"] else 1
            what = f"{width} value{'s' if width != 1 else ''}"
        lines.append(f"Input '{label(b['node'])}' ← {', '.join(b['names'])} ({what})")
    for b in outs:
        what = f"{b['num_classes']} classes" if b.get("task") == "classification" else "a number"
        extra = f", weight {b['weight']:g}" if b.get("weight") is not None else ""
        lines.append(f"output '{label(b['node'])}' ← {', '.join(b['names'])}: {what} (loss {b.get('loss', 'auto')}{extra})")
    return "\n".join(lines)
