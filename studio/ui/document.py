"""`ProjectDocument`: the open project as the GUI sees it.

One object holds the `Project`, its `QUndoStack`, the latest `ShapeReport`,
the selection, the file path and the dirty state. Widgets take the document in
their `__init__` (STYLE.md 13) and listen to its signals; they change the model
only through `push(edit)` (STYLE.md 2), which applies a `studio.graph.edits`
edit and records it as one undo step.

Views that mirror the graph itself (the canvas) subscribe to
`document.graph.events` and re-subscribe on `projectReplaced`.

The report is recomputed lazily and announced once per event-loop turn: a
paste of 100 nodes emits `reportChanged` once. Reading `document.report`
always returns an up-to-date report (it recomputes on demand if stale).
After edits only the nodes they touched and those downstream are inferred
again (`studio.graph.inference.reanalyse`): an edit in a 5,000-layer graph
costs what it changes.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, TypeVar

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.errors import StudioError
from studio.graph.edits import Batch, Edit
from studio.graph.inference import ERROR, WARNING, Diagnostic, ShapeReport, analyse, reanalyse
from studio.graph.model import (
    EdgeAdded,
    EdgeRemoved,
    Graph,
    GraphEvent,
    Node,
    NodeAdded,
    NodeChanged,
    NodeRemoved,
)
from studio.project.model import Project
from studio.project.weights import ResetAllWeights, SetWeights, stale_nodes

# (graph, report) -> diagnostics about the model against the project's data
DataCheck = Callable[[Graph, ShapeReport], Iterable[Diagnostic]]
T = TypeVar("T")


def call_while_answering(fn: Callable[[], T]) -> T:
    """`fn()` on a worker thread while the GUI thread's event loop keeps running
    (the window repaints and answers clicks and keys): what it returns, or what it
    raised, raised here. For pure-Python work such as reading a project of thousands
    of layers; `fn` must not touch widgets."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, on its thread
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="studio-read", daemon=True)
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(5)
    poll.timeout.connect(lambda: None if thread.is_alive() else loop.quit())
    thread.start()
    poll.start()
    if thread.is_alive():
        loop.exec()
    poll.stop()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class EditCommand(QUndoCommand):
    """A `QUndoCommand` around one `Edit`: touches only the model (STYLE.md 2).

    The document applies the edit before pushing, so a refused edit never
    reaches the stack; the first `redo()` that `QUndoStack.push` calls is
    therefore skipped.
    """

    def __init__(self, document: ProjectDocument, edit: Edit, applied: bool = True) -> None:
        super().__init__(edit.text)
        self.document = document
        self.edit = edit
        self._skip_redo = applied

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self.edit.apply(self.document.graph)

    def undo(self) -> None:
        self.edit.revert(self.document.graph)


class SectionCommand(QUndoCommand):
    """Replace one JSON section of the project (`dataset`, `training`, `ui`...)."""

    def __init__(self, document: ProjectDocument, key: str, value: Any, text: str) -> None:
        super().__init__(text)
        self.document = document
        self.key = key
        self.new = copy.deepcopy(value)
        self.old = copy.deepcopy(getattr(document.project, key))

    def redo(self) -> None:
        self.document._set_section(self.key, copy.deepcopy(self.new))

    def undo(self) -> None:
        self.document._set_section(self.key, copy.deepcopy(self.old))


def new_project(name: str = "untitled") -> Project:
    """An empty project (no file yet)."""
    return Project(graph=Graph(), name=name)


class ProjectDocument(QObject):
    """The open project, its undo stack, live shape report and selection.

    Signals
    -------
    reportChanged(ShapeReport)   shapes/params/diagnostics were recomputed
    graphChanged()               the graph changed (coalesced, once per turn)
    selectionChanged(list)       selected node ids (list[str])
    projectReplaced(Project)     a different project was loaded (new graph!)
    dirtyChanged(bool)           unsaved changes appeared / disappeared
    pathChanged(object)          the file path changed (Path or None)
    nameChanged(str)             the project's name changed
    sectionChanged(str)          `dataset`, `training`, `ui`... was replaced
    message(str)                 a one-line notice for the status bar
    """

    reportChanged = Signal(object)
    graphChanged = Signal()
    selectionChanged = Signal(list)
    projectReplaced = Signal(object)
    dirtyChanged = Signal(bool)
    pathChanged = Signal(object)
    nameChanged = Signal(str)
    sectionChanged = Signal(str)
    message = Signal(str)

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._project: Project = project if project is not None else new_project()
        self._unsubscribe = self._project.graph.events.subscribe(self._on_graph_event)
        self._report: ShapeReport = analyse(self._project.graph)
        self._stale = False
        # The graph's own analysis (before Keras' problems and the data check join it) and
        # the nodes edits touched since; None: analyse the whole graph again.
        self._shapes: ShapeReport = self._report
        self._changed: set[str] | None = set()
        self._structure = False  # nodes or wires came or went since `_shapes`
        self._offered: tuple[Graph, ShapeReport] | None = None
        self._external: dict[str, tuple[list, tuple[int, int]]] = {}
        self._external_problems: dict[str, str] = {}
        self._data_check: Optional[DataCheck] = None
        self._data_diagnostics: tuple[Diagnostic, ...] = ()
        self._selection: list[str] = []
        self._extra_dirty = False
        self._was_dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._announce)

    # -- the project ---------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._project

    @property
    def graph(self) -> Graph:
        return self._project.graph

    @property
    def path(self) -> Optional[Path]:
        return self._project.path

    @property
    def name(self) -> str:
        return self._project.name

    def offer_report(self, graph: Graph, report: ShapeReport) -> None:
        """`analyse(graph)` computed elsewhere (off the GUI thread while a big file
        was read): `set_project` uses it when the project of that graph opens next."""
        self._offered = (graph, report)

    def set_project(self, project: Project, report: ShapeReport | None = None) -> None:
        """Replace the open project (new file, open, restore): clears undo.
        `report`: `analyse(project.graph)` if already computed (see `offer_report`)."""
        offered, self._offered = self._offered, None
        if report is None and offered is not None and offered[0] is project.graph:
            report = offered[1]
        self._unsubscribe()
        self._project = project
        self._unsubscribe = project.graph.events.subscribe(self._on_graph_event)
        self._selection = []
        self._external = {}
        self._external_problems = {}
        self._data_check, self._data_diagnostics = None, ()  # the old project's data
        self._extra_dirty = False
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._report = report if report is not None else analyse(project.graph)
        self._stale = False
        self._shapes, self._changed, self._structure = self._report, set(), False
        self.projectReplaced.emit(project)
        self.selectionChanged.emit([])
        self.pathChanged.emit(project.path)
        self.nameChanged.emit(project.name)
        self.reportChanged.emit(self._report)
        self._update_dirty()

    def set_path(self, path: Path | None) -> None:
        """Record where the project now lives (after Save As)."""
        self._project.path = Path(path) if path is not None else None
        self.pathChanged.emit(self._project.path)

    def set_name(self, name: str) -> None:
        if name != self._project.name:
            self._project.name = name
            self.nameChanged.emit(name)
            self.mark_dirty()

    # -- changing the model ------------------------------------------------------
    def push(self, edit: Edit) -> bool:
        """Apply `edit` and record it as one undo step.

        A refused edit (a `StudioError`, e.g. a forbidden wire) changes nothing,
        is not recorded, announces its reason on `message` and returns False.
        """
        try:
            edit.apply(self.graph)
        except StudioError as exc:
            self.message.emit(str(exc))
            return False
        edit = self._drop_stale_weights(edit)
        self.undo_stack.push(EditCommand(self, edit, applied=True))
        return True

    def _drop_stale_weights(self, edit: Edit) -> Edit:
        """An edit that changed a node's weight shapes (units, kernel_size, an input's width...)
        leaves that node's stored weights unfit: they are dropped in the same undo step (undo
        brings them back) and the status bar says so (studio.project.weights.stale_nodes)."""
        store = self._project.weights
        if not store.entries or isinstance(edit, (SetWeights, ResetAllWeights)):
            return edit
        stale = stale_nodes(store, self.report)
        if not stale:
            return edit
        drop = SetWeights(store, {n: None for n in stale}, edit.text)
        drop.apply(self.graph)
        names = ", ".join(f"'{self.graph.label(n)}'" for n in stale[:3])
        more = f" and {len(stale) - 3} more" if len(stale) > 3 else ""
        self.message.emit(f"Dropped the stored weights of {names}{more}: their shapes changed, so "
                          f"{'they start' if len(stale) > 1 else 'it starts'} from random weights (Undo keeps them)")
        return Batch([edit, drop], edit.text)

    def set_section(self, key: str, value: Any, text: str | None = None) -> None:
        """Undoably replace a JSON section of the project: "dataset", "training",
        "ui", "description" or "assets". Panels own the meaning of the dict."""
        if key not in ("dataset", "training", "ui", "description", "assets"):
            raise ValueError(f"not a project section: {key!r}")
        if getattr(self._project, key) == value:
            return
        self.undo_stack.push(SectionCommand(self, key, value, text or f"Change {key}"))

    def _set_section(self, key: str, value: Any) -> None:
        setattr(self._project, key, value)
        self.sectionChanged.emit(key)

    def mark_dirty(self) -> None:
        """Flag a change that is not on the undo stack (e.g. view state)."""
        self._extra_dirty = True
        self._update_dirty()

    def mark_saved(self, path: Path | None = None) -> None:
        """Call after a successful save: the document is clean."""
        if path is not None and path != self._project.path:
            self.set_path(path)
        self._extra_dirty = False
        self.undo_stack.setClean()
        self._update_dirty()

    @property
    def is_dirty(self) -> bool:
        return self._extra_dirty or not self.undo_stack.isClean()

    def _on_clean_changed(self, _clean: bool) -> None:
        self._update_dirty()

    def _update_dirty(self) -> None:
        dirty = self.is_dirty
        if dirty != self._was_dirty:
            self._was_dirty = dirty
            self.dirtyChanged.emit(dirty)

    # -- the live report -----------------------------------------------------------
    @property
    def report(self) -> ShapeReport:
        """The shape report of the current graph (recomputed now if stale)."""
        if self._stale:
            self._report = self._analyse()
            self._stale = False
        return self._report

    def _analyse(self) -> ShapeReport:
        if self._changed is None:
            shapes = analyse(self.graph, self._external)
        else:
            shapes = reanalyse(self.graph, self._shapes, self._changed, self._structure, self._external)
        self._shapes, self._changed, self._structure = shapes, set(), False
        report = dataclasses.replace(shapes, diagnostics=list(shapes.diagnostics))
        if self._external_problems:
            # Why Keras could not give a layer outside the catalog its shape replaces the
            # generic "its shape comes from Keras" note on that node; why a Hub module cannot be
            # loaded (studio.ui.hub_dialog) replaces its "not loaded yet" error.
            problems = {k: v for k, v in self._external_problems.items()
                        if self.graph.has_node(k) and k not in self._external}
            report.diagnostics = [d for d in report.diagnostics
                                  if not (d.node in problems and d.severity in (WARNING, ERROR) and d.key is None)]
            report.diagnostics.extend(Diagnostic(k, ERROR, v) for k, v in problems.items())
        self._data_diagnostics = self._check_data(report)
        report.diagnostics.extend(self._data_diagnostics)
        return report

    def refresh_report(self) -> ShapeReport:
        """Recompute and announce at once (tests, or after external shapes)."""
        self._stale = True
        self._changed = None
        self._timer.stop()
        self._announce()
        return self._report

    def set_external_shapes(self, shapes: dict[str, tuple[list, tuple[int, int]]],
                            problems: dict[str, str] | None = None) -> None:
        """Shapes of opaque nodes computed by Keras in a background job
        (`studio.ui.shape_job`); `problems`: one line per node Keras could not
        build, shown as that node's error. Announced on the next event-loop turn
        (safe to call from a `reportChanged` slot); `report` is current at once."""
        self._external = dict(shapes)
        self._external_problems = dict(problems or {})
        self._stale = True
        self._changed = None  # other shapes for some layers: the plain way
        if not self._timer.isActive():
            self._timer.start()

    # -- the model against the project's data -----------------------------------------------
    def set_data_check(self, check: Optional[DataCheck]) -> None:
        """How the model is checked against the project's data: `check(graph, report)`
        returns diagnostics keyed by node id (the Data panel passes
        `studio.data.binding.check` bound to the described dataset; None when there is
        no readable data). They join every report from now on, with their severity, so
        the canvas, the inspector and the diagnostics list show them on their nodes, and
        an edit or undo recomputes them with the shapes. Announced on the next
        event-loop turn only if the diagnostics change, so a `reportChanged` slot may
        call it without a loop. `set_project` clears it."""
        current = self.report
        self._data_check = check
        if self._check_data(current) == self._data_diagnostics:
            return
        self._stale = True
        if not self._timer.isActive():
            self._timer.start()

    @property
    def data_diagnostics(self) -> list[Diagnostic]:
        """The data check's part of the current report."""
        _ = self.report  # recompute if stale
        return list(self._data_diagnostics)

    def _check_data(self, report: ShapeReport) -> tuple[Diagnostic, ...]:
        if self._data_check is None:
            return ()
        graph = self.graph
        try:
            found = self._data_check(graph, report)
            return tuple(d for d in found if d.node is None or graph.has_node(d.node))
        except Exception as exc:  # noqa: BLE001 - a failing check must not take the report down with it
            return (Diagnostic(None, WARNING, f"the model could not be checked against the data: {exc}"),)

    def _on_graph_event(self, event: GraphEvent) -> None:
        if not (isinstance(event, NodeChanged) and event.what == "position"):
            self._stale = True  # where a node sits changes no shape: moves are not re-analysed
            if self._changed is not None:  # what the next analysis infers again
                if isinstance(event, NodeChanged):
                    self._changed.add(event.node_id)
                elif isinstance(event, (EdgeAdded, EdgeRemoved)):
                    self._changed.update((event.edge.source, event.edge.target))
                    self._structure = True
                elif isinstance(event, NodeAdded):
                    self._changed.add(event.node.id)
                    self._structure = True
                elif isinstance(event, NodeRemoved):
                    self._structure = True
        if not self._timer.isActive():
            self._timer.start()
        if isinstance(event, NodeRemoved) and event.node.id in self._selection:
            self._selection = [n for n in self._selection if n != event.node.id]
            self.selectionChanged.emit(list(self._selection))

    def _announce(self) -> None:
        report = self.report
        self.graphChanged.emit()
        self.reportChanged.emit(report)

    # -- selection -------------------------------------------------------------------
    @property
    def selection(self) -> list[str]:
        return list(self._selection)

    def selected_nodes(self) -> list[Node]:
        return [self.graph.node(n) for n in self._selection if self.graph.has_node(n)]

    def set_selection(self, node_ids: Iterable[str]) -> None:
        ids = [n for n in dict.fromkeys(node_ids) if self.graph.has_node(n)]
        if ids != self._selection:
            self._selection = ids
            self.selectionChanged.emit(list(ids))

    def point_at(self, node_id: str) -> None:
        """Select the one layer a message is about (a refused Train, a diagnostic, a health flag),
        first expanding any collapsed group that hides it (one undo step each), so it is seen."""
        from studio.graph.edits import SetGroupCollapsed

        if not self.graph.has_node(node_id):
            return
        for group in self.graph.groups_of(node_id):
            if group.collapsed:
                self.push(SetGroupCollapsed(group.id, False, group.name))
        self.set_selection([node_id])
