"""Hub modules in the window: the "Hub module…" dialog, the trust question, and the loading job.

* `HubDialog` asks for a module's handle (a TensorFlow Hub / Kaggle URL, a Kaggle model path) or a
  local SavedModel folder, and shows the cache folder downloads go to; for a KerasHub preset node
  (`kind=PRESET`) it asks for a preset folder, a kaggle:// / hf:// handle or a preset name.
* `ask_trust(parent, name, handles)` lists the modules a project opened from disk names and asks
  once whether to load them (a SavedModel is a TensorFlow graph that runs on this machine). The
  answer is kept per project file and list of modules (`is_trusted` / `remember_trust`).
* `HubJob` keeps every HubModule node's discovered facts current. When a node's handle,
  signature or output key changes (the dialog, the inspector, paste), a worker thread
  (`FunctionRunner`: the GUI thread never calls TensorFlow) resolves the handle and reads the
  module's signature; the facts come back as one undoable "Load module" edit, so the node shows
  its shapes and parameter count. A module that cannot be resolved or loaded (offline, not a
  SavedModel, a damaged file) gets one error on the node saying what to do; a module whose
  input dtype differs from the wired Input's gets one error naming both. A node whose facts came
  from the project file is only checked to resolve (no TensorFlow import). Nothing runs for a
  project whose modules the user did not trust. KerasHubPreset nodes are kept current the same way
  (`studio.hub.presets.discover` for the wired input: shapes, exact parameter counts per layer).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.graph.edits import Batch, Connect, SetParam
from studio.graph.layers.presets import DISCOVERED as PRESET_DISCOVERED
from studio.graph.layers.presets import POPULAR_PRESETS, PRESET
from studio.graph.layers.transfer import BACKBONE, HUB_MODULE
from studio.graph.model import Edge
from studio.hub.presets import validate_preset
from studio.hub.resolve import hub_cache_dir, validate_handle
from studio.hub.trust import module_handles
from studio.ui import settings
from studio.ui.workers import FunctionRunner

#: The params `studio.hub.module_layer.node_params` discovers.
DISCOVERED = ("input_shape", "input_dtype", "output_shape", "output_dtype", "param_counts", "endpoint",
              "input_keyword", "takes_training")
_FLOATS = {"float16", "bfloat16", "float32", "float64"}
EXAMPLE_HANDLE = "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5"
EXAMPLE_PRESET = "kaggle://keras/resnetv2/keras/resnet_50_imagenet"


# --- asking for a handle ------------------------------------------------------------------
class HubDialog(QDialog):
    """Asks for a module handle or folder (or, with `kind=PRESET`, a KerasHub preset); `handle()` once
    accepted."""

    def __init__(self, parent: Optional[QWidget] = None, handle: str = "", kind: str = HUB_MODULE) -> None:
        super().__init__(parent)
        self.setObjectName("hubDialog")
        self.kind = kind
        preset = kind == PRESET
        self.setWindowTitle("Add a KerasHub preset" if preset else "Add a Hub module")
        intro = QLabel(
            "A pretrained KerasHub backbone (ResNet, EfficientNet, MobileNet, ViT...) used as one node. Give a "
            "preset folder (it holds <i>config.json</i> and <i>model.weights.h5</i>), a kaggle:// or hf:// "
            "handle, or a KerasHub preset name. It is loaded in the background: its shapes and parameter counts "
            "then appear on the node." if preset else
            "A pretrained TensorFlow Hub / Kaggle module or any TensorFlow SavedModel folder, used as one layer. "
            "Give its handle or choose the folder that holds <i>saved_model.pb</i>. The module is downloaded "
            "once and read in the background: its input and output shapes then appear on the node.", self)
        intro.setWordWrap(True)
        intro.setFixedWidth(560)
        self.edit = QLineEdit(handle, self)
        self.edit.setObjectName("hubHandle")
        self.edit.setPlaceholderText(EXAMPLE_PRESET if preset else EXAMPLE_HANDLE)
        if preset:  # the well-known image presets' names complete as they are typed
            self.edit.setCompleter(QCompleter([name for name, _text in POPULAR_PRESETS], self))
        self.browse = QPushButton("Folder…", self)
        self.browse.setObjectName("hubBrowse")
        self.browse.clicked.connect(self._choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)
        cache = QLabel("Downloads are kept in KerasHub's caches (kagglehub: KAGGLEHUB_CACHE, Hugging Face: "
                       "HF_HOME). Offline, put a downloaded preset's files into a folder and give that folder."
                       if preset else f"Downloads are kept in the module cache: <code>{hub_cache_dir()}</code> "
                       "(TFHUB_CACHE_DIR). Offline, unpack a downloaded module there or give its folder.", self)
        cache.setObjectName("hubCache")
        cache.setWordWrap(True)
        cache.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel("", self)
        self.error.setObjectName("hubError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add preset" if preset else "Add module")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)  # wrapped text decides the height
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(cache)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def handle(self) -> str:
        return self.edit.text().strip()

    def accept(self) -> None:
        try:
            (validate_preset if self.kind == PRESET else validate_handle)(self.edit.text())
        except StudioError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        super().accept()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose the preset folder (it holds config.json)" if self.kind == PRESET
            else "Choose the SavedModel folder (it holds saved_model.pb)")
        if folder:
            self.edit.setText(folder)


# --- trusting a project's modules ---------------------------------------------------------
def _trust_key(path: Path) -> str:
    return "hub/trusted/" + str(Path(path).resolve()).replace("/", "|").replace("\\", "|")


def is_trusted(path: Optional[Path], handles: list[str]) -> bool:
    """True when the user already trusted exactly these modules for this project file."""
    if not handles or path is None:
        return True
    value = settings.settings().value(_trust_key(path), "")
    return isinstance(value, str) and value == json.dumps(sorted(handles))


def remember_trust(path: Optional[Path], handles: list[str]) -> None:
    if path is None or not handles:
        return
    s = settings.settings()
    s.setValue(_trust_key(path), json.dumps(sorted(handles)))
    s.sync()


class TrustDialog(QDialog):
    """Lists the modules a project names; Load modules / Don't open."""

    def __init__(self, parent: Optional[QWidget], name: str, handles: list[str]) -> None:
        super().__init__(parent)
        self.setObjectName("hubTrustDialog")
        self.setWindowTitle("Load this project's modules?")
        text = QLabel(
            f"<b>{name}</b> uses these TensorFlow Hub / SavedModel modules or KerasHub presets. A module is a "
            "TensorFlow graph that runs on this computer and can read and write files; a preset is downloaded "
            "and its weights loaded: load them only if you trust where the project and they come from.", self)
        text.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("hubTrustList")
        self.list.addItems(handles)
        self.list.setMaximumHeight(24 * min(len(handles), 6) + 8)
        self.buttons = QDialogButtonBox(self)
        self.trust = self.buttons.addButton("Trust and load", QDialogButtonBox.ButtonRole.AcceptRole)
        self.trust.setObjectName("hubTrustYes")
        self.refuse = self.buttons.addButton("Don't open", QDialogButtonBox.ButtonRole.RejectRole)
        self.refuse.setObjectName("hubTrustNo")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.list)
        layout.addWidget(self.buttons)
        self.refuse.setDefault(True)


def ask_trust(parent: Optional[QWidget], name: str, handles: list[str]) -> bool:
    """Modal: True when the user trusts the listed modules."""
    return TrustDialog(parent, name, handles).exec() == QDialog.DialogCode.Accepted


# --- resolving and discovering in the background ------------------------------------------------
def _key(node: Any, report: Any = None) -> str:
    """What a node's check depends on: a module's handle, signature and output key; a backbone's
    network, weights file and input shape."""
    p = node.params
    if node.type == PRESET:
        shapes = (report.inputs.get(node.id) if report is not None else None) or [None]
        return json.dumps([p.get("preset") or "", shapes[0]], default=str)
    if node.type == BACKBONE:
        shapes = (report.inputs.get(node.id) if report is not None else None) or [None]
        return json.dumps([p.get("backbone"), p.get("weights_file") or "", p.get("pooling"), shapes[0]],
                          default=str)
    return json.dumps([p.get("handle") or "", p.get("signature") or "", p.get("output_key") or ""])


def _watched(node: Any) -> bool:
    """HubModule and KerasHubPreset nodes, and backbones loading a local weights file."""
    return node.type in (HUB_MODULE, PRESET) or (node.type == BACKBONE and node.params.get("weights") == "file")


def _ready(node: Any, report: Any) -> bool:
    if node.type == PRESET:
        shapes = report.inputs.get(node.id) or []
        return bool((node.params.get("preset") or "").strip()) and len(shapes) == 1 and shapes[0] is not None
    if node.type == BACKBONE:
        shapes = report.inputs.get(node.id) or []
        return bool((node.params.get("weights_file") or "").strip()) and len(shapes) == 1 and shapes[0] is not None
    return bool((node.params.get("handle") or "").strip())


def _check_backbone(node_id: str, key: str, params: dict, shape: Any) -> tuple:
    """Worker thread: build the backbone with its weights file; (node id, key, None, problem or None)."""
    from studio.hub.backbones import build_backbone

    try:
        build_backbone(params.get("backbone") or "", tuple(shape[1:]), weights="file",
                       weights_file=params.get("weights_file") or "", pooling=params.get("pooling") or "avg")
    except StudioError as exc:
        return node_id, key, None, str(exc)
    return node_id, key, None, None


def _load(node_id: str, key: str, params: dict, check_only: bool) -> tuple:
    """Worker thread: (node id, key, discovered params or None, problem or None)."""
    from studio.hub.module_layer import discover, node_params
    from studio.hub.resolve import resolve_handle

    handle = params.get("handle") or ""
    try:
        path = resolve_handle(handle)
        if check_only:
            return node_id, key, None, None
        found = node_params(discover(path, handle), params.get("signature") or "", params.get("output_key") or "")
    except StudioError as exc:
        return node_id, key, None, str(exc)
    return node_id, key, found, None


def _load_preset(node_id: str, key: str, params: dict, shape: Any, check_only: bool) -> tuple:
    """Worker thread: resolve the preset and read its facts for the wired input shape."""
    from studio.hub.presets import discover, resolve_preset

    preset = params.get("preset") or ""
    try:
        if check_only:
            resolve_preset(preset)
            return node_id, key, None, None
        found = discover(preset, tuple(shape), pooling=params.get("pooling") or "avg",
                         pixels=params.get("pixels") or "0-255")
    except StudioError as exc:
        return node_id, key, None, str(exc)
    return node_id, key, found, None


def wired_dtype_problem(graph: Any, node: Any) -> Optional[str]:
    """One line when the module's input dtype differs from the dtype of the Input wired into it."""
    want = node.params.get("input_dtype") or ""
    if node.type != HUB_MODULE:
        return None
    edges = [e for e in graph.edges if e.target == node.id]
    if not want or len(edges) != 1 or not graph.has_node(edges[0].source):
        return None
    source = graph.node(edges[0].source)
    if source.type != "Input":
        return None
    got = source.params.get("dtype") or "float32"
    if got == want or (got in _FLOATS and want in _FLOATS):
        return None
    handle = node.params.get("handle") or "the module"
    return (f"module '{handle}' takes {want} input but the wired Input '{graph.label(source.id)}' is {got}; "
            f"set that Input's dtype to {want}")


class HubJob(QObject):
    """Keeps HubModule nodes' discovered facts current; see the module docstring.

    Signals: `busyChanged(bool)`; `settled()` after each result reached the document.
    """

    busyChanged = Signal(bool)
    settled = Signal()

    def __init__(self, document: Any, shape_job: Any, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.document = document
        self.shape_job = shape_job  # its `problems` dict is the document's one channel of node errors
        self.runner = FunctionRunner(self)
        self.trusted = True
        self._asked: dict[str, str] = {}  # node id -> key already resolved (or being resolved)
        self._file_keys: dict[str, str] = {}  # node id -> key whose facts the project file holds
        self._load_problems: dict[str, str] = {}  # node id -> why its module cannot be loaded
        self._shown: dict[str, str] = {}  # node id -> the problem this job put into shape_job.problems
        self.wire_after: dict[str, str] = {}  # new node id -> the node it was added after (wired once loaded)
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.runner.busyChanged.connect(self._on_busy)
        document.reportChanged.connect(self._on_report)

    def is_running(self) -> bool:
        return self.runner.is_running()

    def reset(self, trusted: bool) -> None:
        """A new project: forget what was loaded; load nothing unless `trusted`. Facts stored in the
        file are trusted as they are: their modules are only checked to resolve."""
        self._asked.clear()
        self._load_problems.clear()
        self._shown.clear()
        self.trusted = trusted
        self._file_keys = {n.id: _key(n) for n in self.document.graph.nodes
                           if n.type == HUB_MODULE and all(n.params.get(k) not in (None, "") for k in
                                                           ("output_shape", "endpoint"))}
        report = self.document.report
        self._file_keys.update({n.id: _key(n, report) for n in self.document.graph.nodes
                                if n.type == PRESET and n.params.get("feature_shape")
                                and list((report.inputs.get(n.id) or [None])[0] or []) == list(
                                    n.params.get("discovered_for") or [None])})
        self._on_report()

    def trust_added(self) -> None:
        """The user typed a handle in the dialog: the project's modules count as trusted."""
        path = self.document.path
        if path is not None:
            remember_trust(path, module_handles(self.document.graph))

    # -- deciding ---------------------------------------------------------------------
    def _on_report(self, _report: Any = None) -> None:
        graph = self.document.graph
        report = self.document.report
        hubs = {n.id: n for n in graph.nodes if _watched(n)}
        for node_id in [k for k in self._asked if k not in hubs or self._asked[k] != _key(hubs[k], report)]:
            del self._asked[node_id]  # removed, or its handle changed: the old answer is stale
            self._load_problems.pop(node_id, None)
        wanted = {}
        for node_id, node in hubs.items():
            problem = self._load_problems.get(node_id) or wired_dtype_problem(graph, node)
            if problem:
                wanted[node_id] = problem
        problems = self.shape_job.problems
        if wanted != self._shown:
            for node_id in self._shown:
                if problems.get(node_id) == self._shown[node_id]:
                    del problems[node_id]
            problems.update(wanted)
            self._shown = wanted
            self.document.set_external_shapes(self.shape_job.shapes, problems)
        if not self.trusted or self.runner.is_running():
            return
        todo = next((n for k, n in hubs.items() if k not in self._asked and _ready(n, report)), None)
        if todo is None:
            return
        params, node_id, key = dict(todo.params), todo.id, _key(todo, report)
        self._asked[node_id] = key
        if todo.type == BACKBONE:
            shape = report.inputs[node_id][0]
            self.runner.start(lambda: _check_backbone(node_id, key, params, shape))
            return
        if todo.type == PRESET:
            shape = report.inputs[node_id][0]
            fresh = self._file_keys.get(node_id) == key
            if not fresh:
                self.document.message.emit(f"Loading preset {params.get('preset')}…")
            self.runner.start(lambda: _load_preset(node_id, key, params, shape, fresh))
            return
        check_only = self._file_keys.get(node_id) == key
        if not check_only:
            self.document.message.emit(f"Loading module {params.get('handle')}…")
        self.runner.start(lambda: _load(node_id, key, params, check_only))

    # -- results --------------------------------------------------------------------------
    def _on_done(self, value: Any) -> None:
        node_id, key, found, problem = value
        graph = self.document.graph
        if not graph.has_node(node_id) or _key(graph.node(node_id), self.document.report) != key:
            self._asked.pop(node_id, None)  # changed meanwhile: ask again
        elif problem is not None:
            self._load_problems[node_id] = problem
        elif found is not None:
            node = graph.node(node_id)
            preset = node.type == PRESET
            keys = PRESET_DISCOVERED if preset else DISCOVERED
            edits = [SetParam(node_id, k, found[k]) for k in keys if node.params.get(k) != found[k]]
            edits += self._wire(graph, node_id, edits)
            if edits:
                self.document.push(Batch(edits, f"Load {'preset' if preset else 'module'} {graph.label(node_id)}"))
            shape = found["feature_shape" if preset else "output_shape"]
            shown = ", ".join("None" if d is None else str(d) for d in shape)
            self.document.message.emit(f"Preset {node.params.get('preset')} loaded: features ({shown})" if preset
                                       else f"Module {node.params.get('handle')} loaded: output ({shown})")
        self._on_report()
        self.settled.emit()

    def _wire(self, graph: Any, node_id: str, edits: list) -> list:
        """A Connect from the node the module was added after, when its shapes now allow it."""
        source = self.wire_after.pop(node_id, None)
        if source is None or not graph.has_node(source) or any(e.target == node_id for e in graph.edges):
            return []
        trial = graph.copy()
        for edit in edits:
            edit.apply(trial)
        ok, _reason = trial.can_connect(Edge(source, node_id))
        return [Connect(Edge(source, node_id))] if ok else []

    def _on_failed(self, message: str) -> None:
        self.document.message.emit(f"The module could not be loaded: {message}")
        self.settled.emit()

    def _on_busy(self, busy: bool) -> None:
        self.busyChanged.emit(busy)
        if not busy:
            self._on_report()

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        self.runner.wait(timeout_ms)


# --- the window's side ----------------------------------------------------------------------
class HubController(QObject):
    """What the main window does for Hub modules: asks for a handle when one is added from the palette,
    asks once per opened project whether to trust its modules, and runs the `HubJob`."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.job = HubJob(window.document, window.shape_job, self)
        self.dialog: Optional[HubDialog] = None
        self.trust_dialog_open = False
        window.document.projectReplaced.connect(self._on_replaced)

    def wants_handle(self, spec: Any) -> bool:
        """Whether adding `spec` asks for a handle first (the next `ask_handle` asks for this kind)."""
        if spec.id in (HUB_MODULE, PRESET):
            self._kind = spec.id
            return True
        return False

    def ask_handle(self, then: Any, kind: Optional[str] = None) -> HubDialog:
        """Opens the Hub dialog (window-modal); `then({"handle": ...})` once the user adds the module, or
        `then({"preset": ...})` for a KerasHub preset (`kind`, else the kind `wants_handle` last saw)."""
        kind = kind or getattr(self, "_kind", HUB_MODULE)
        dialog = HubDialog(self.window, kind=kind)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        selection = self.window.document.selection
        source = selection[-1] if selection else None

        def accepted() -> None:
            node_id = then({"preset" if kind == PRESET else "handle": dialog.handle()})
            graph = self.window.document.graph
            if node_id and source and graph.has_node(node_id) and not any(e.target == node_id for e in graph.edges):
                self.job.wire_after[node_id] = source  # its shapes are unknown until loaded: wired then
            self.job.trust_added()

        dialog.accepted.connect(accepted)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _on_replaced(self, project: Any) -> None:
        handles = module_handles(project.graph)
        if is_trusted(project.path, handles):
            self.job.reset(True)
            return
        self.job.reset(False)  # nothing loads until the user answers
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: self._ask(project, handles))

    def _ask(self, project: Any, handles: list[str]) -> None:
        if self.window.document.project is not project:
            return
        self.trust_dialog_open = True
        try:
            trusted = ask_trust(self.window, project.name, handles)
        finally:
            self.trust_dialog_open = False
        if self.window.document.project is not project:
            return
        if trusted:
            remember_trust(project.path, handles)
            self.job.reset(True)
            return
        self.window.files.new("")  # an empty project instead
        self.window.show_message(f"{project.path.name if project.path else project.name} was not opened: "
                                 "its modules were not trusted")

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        self.job.shutdown(timeout_ms)
