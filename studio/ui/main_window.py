"""The main window: canvas in the middle, palette left, inspector right,
diagnostics (and later training and data panels) at the bottom, all as dock
widgets whose layout persists.

Other panels are docked with `add_panel(widget, title, area)`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QCursor
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QScrollArea,
    QUndoView,
    QWidget,
)

from studio.graph.catalog import Catalog, default_catalog
from studio.graph.edits import Batch, MoveNodes, SetTrainable
from studio.graph.groups import closed_positions
from studio.graph.inference import ShapeReport, analyse
from studio.project.io import load_project
from studio.project.model import Project
from studio.project.weights import weights_file_for
from studio.ui import clipboard, dialogs, guide, icons, operations, settings
from studio.ui.actions import build_actions, build_menus, retint
from studio.ui.backbone_expand import BackboneExpander
from studio.ui.canvas.group_frames import GroupFrames
from studio.ui.canvas.layout import NODE_WIDTH, hides_wires, layered_positions, spread_positions
from studio.ui.canvas.scene import CanvasScene, collector_held
from studio.ui.canvas.view import CanvasView
from studio.ui.diagnostics import DiagnosticsPanel
from studio.ui.document import ProjectDocument, call_while_answering
from studio.ui.files import FileController
from studio.ui.hub_dialog import HubController
from studio.ui.inspector import Inspector
from studio.ui.model_io import ModelIO
from studio.ui.palette import Palette, entry_for, with_params
from studio.ui.quick_add import QuickAdd
from studio.ui.recovery import INTERVAL_MS
from studio.ui.shape_job import OpaqueShapeJob
from studio.ui.sharing_menu import add_group_menu, add_group_node_menu, add_share_menu
from studio.ui.summary import SummaryBar, SummaryDialog
from studio.ui.weights_ui import WeightsController

BIG_FILE = 128 * 1024  # bytes: File > Open reads bigger project files off the GUI thread
BIG_WEIGHTS = 4 * 1024 * 1024  # bytes: ... and a small project whose weights file is bigger

AREAS = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
    "top": Qt.DockWidgetArea.TopDockWidgetArea,
}
# Panels written by other parts of the app, docked when present:
# (module, class, title, area). Each class takes the document in __init__.
OPTIONAL_PANELS = (
    ("studio.ui.data.panel", "DataPanel", "Data", "bottom"),
    ("studio.ui.training.panel", "TrainingPanel", "Training", "bottom"),
)
STATE_VERSION = 2  # 2: the bottom panels span the width (older saved layouts are not restored)
BOTTOM_SHARE = 0.25  # of the window's height for the bottom panels at first start
PANEL_SHARE = 0.36  # ... for the Training and Data panels the first time they are shown


class MainWindow(QMainWindow):
    def __init__(self, document: ProjectDocument | None = None, catalog: Catalog | None = None,
                 autosave_interval_ms: int = INTERVAL_MS, optional_panels: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.catalog = catalog or default_catalog()
        self.document = document or ProjectDocument(parent=self)
        self.setWindowIcon(icons.action_icon("app", "#3D7FD9"))
        self.resize(1400, 860)
        self.setDockNestingEnabled(True)
        # The bottom panels (training, data) span the window's width: their settings,
        # tables and plots need it more than the layer list and inspector need height.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, QWidget] = {}  # optional panels by class name
        self.shape_job = OpaqueShapeJob(self.document, self)  # Keras shapes for layers outside the catalog
        self.hub = HubController(self)  # Hub modules: the handle dialog, trusting a project's modules, loading

        self.scene = CanvasScene(self.document, self)
        self.group_frames = GroupFrames(self.scene)  # nested models' layers framed, collapsible
        self.view = CanvasView(self.scene, self)
        self.setCentralWidget(self.view)
        self.palette = Palette(self.catalog, self)
        self.inspector = Inspector(self.document, self)
        self.diagnostics = DiagnosticsPanel(self.document, self)
        self.history = QUndoView(self.document.undo_stack, self)
        self.history.setEmptyLabel("<opened>")
        self.quick_add = QuickAdd(self.catalog, self)
        self._quick_add_pos = QPointF()
        self._quick_add_wire: tuple[str, int, bool] | None = None  # a dropped wire to attach
        self._summary: SummaryDialog | None = None
        self.themes: Any = None  # the app's ThemeManager (use_themes), made on demand without one
        self._aired: dict[str, tuple[tuple, tuple]] = {}  # node id -> (file's position, shown one)
        self._pre_aired: tuple[Any, dict] | None = None  # (graph, its `_aired`) from `read_project`
        self._reading = False
        self._roomy: set[QDockWidget] = set()  # bottom panels already given room (_give_room)

        self.files = FileController(self, autosave_interval_ms)
        self.actions_ = build_actions(self)
        self.menus = build_menus(self, self.actions_)
        self.add_panel(self.palette, "Layers", "left", "paletteDock")
        self.add_panel(self.inspector, "Inspector", "right", "inspectorDock")
        self.add_panel(self.diagnostics, "Diagnostics", "bottom", "diagnosticsDock")
        history = self.add_panel(self.history, "History", "bottom", "historyDock")
        history.hide()
        self.actions_.history.triggered.connect(lambda: (history.show(), history.raise_()))
        if optional_panels:
            self._dock_optional_panels()
        self._default_sizes()

        self.summary_bar = SummaryBar(self.document, self)
        self.zoom_label = QLabel("100%", self)
        self.zoom_label.setObjectName("zoomLabel")
        self.file_label = QLabel("", self)  # the file's name; its full path in the tooltip
        self.file_label.setObjectName("fileLabel")
        self.statusBar().addPermanentWidget(self.file_label)
        self.statusBar().addPermanentWidget(self.summary_bar)
        self.statusBar().addPermanentWidget(self.zoom_label)

        self.model_io = ModelIO(self)  # File > Import Model…, Export…; a run's Export…
        self.backbone_expander = BackboneExpander(self)  # a backbone node's Expand to layers
        self._connect()
        self._update_title()
        self._update_recent(settings.recent_files())
        self._update_actions()
        self.weights_ui = WeightsController(self)  # Reset Weights, Model > Reset All Weights, a run's weights
        self._restore_layout()

    # -- docking -------------------------------------------------------------------------
    def add_panel(self, widget: QWidget, title: str, area: str = "bottom", name: str | None = None) -> QDockWidget:
        """Dock `widget` as a panel titled `title` in "left", "right", "bottom"
        or "top"; panels sharing an area become tabs. Listed in View > Panels;
        position and size persist between sessions (by object name)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name or f"{type(widget).__name__}Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        where = AREAS[area]
        same = [d for d in self.docks.values() if self.dockWidgetArea(d) == where and not d.isFloating()]
        self.addDockWidget(where, dock)
        if same:
            self.tabifyDockWidget(same[0], dock)
            same[0].raise_()
        self.docks[dock.objectName()] = dock
        if hasattr(self, "menus"):
            self.menus.panels.addAction(dock.toggleViewAction())
        return dock

    def _dock_optional_panels(self) -> None:
        for module_name, class_name, title, area in OPTIONAL_PANELS:
            try:
                module = importlib.import_module(module_name)
                cls = getattr(module, class_name)
                panel = cls(self.document, self)
            except ModuleNotFoundError as exc:
                if exc.name and module_name.startswith(exc.name):
                    continue  # that panel is not part of this build
                raise
            except AttributeError:
                continue
            self.panels[class_name] = panel
            if class_name == "TrainingPanel":
                panel.trainingChanged.connect(self._show_training)
                panel.trainRequested.connect(self._show_training_dock)
                self.menus.model.addSeparator()
                self.menus.model.addAction(panel.train_action)
                self.menus.model.addAction(panel.stop_action)
                # training health on the canvas: View > Training Health on Nodes (off by default)
                panel.healthChanged.connect(self.scene.set_health)
                panel.health_overlay_action.toggled.connect(self.scene.set_health_visible)
                self.menus.view.addAction(panel.health_overlay_action)
            # In a scroll area, so a tall panel does not squeeze the canvas.
            holder = QScrollArea(self)
            holder.setWidgetResizable(True)
            holder.setFrameShape(QFrame.Shape.NoFrame)
            holder.setWidget(panel)
            dock = self.add_panel(holder, title, area, f"{class_name}Dock")
            dock.visibilityChanged.connect(lambda visible, d=dock: visible and self._give_room(d))

    def _give_room(self, dock: QDockWidget) -> None:
        """The first time the Training or Data panel is shown, give it room for its
        buttons, a few settings and its plots (the canvas keeps the rest)."""
        if dock in self._roomy or not self.isVisible() or dock.isFloating():
            return
        self._roomy.add(dock)
        wanted = int(self.height() * PANEL_SHARE)
        if dock.height() < wanted:
            self.resizeDocks([dock], [wanted], Qt.Orientation.Vertical)

    def _show_training_dock(self) -> None:
        dock = self.docks.get("TrainingPanelDock")
        if dock is not None:
            dock.show()
            dock.raise_()

    def _show_training(self, running: bool) -> None:
        """When a run starts, bring its curves into view with room to read them."""
        dock = self.docks.get("TrainingPanelDock")
        if not running or dock is None:
            return
        dock.show()
        dock.raise_()
        wanted = int(self.height() * 0.45)
        if dock.height() < wanted:
            self.resizeDocks([dock], [wanted], Qt.Orientation.Vertical)

    def _restore_layout(self) -> None:
        for dock in self.docks.values():
            if dock.toggleViewAction() not in self.menus.panels.actions():
                self.menus.panels.addAction(dock.toggleViewAction())
        s = settings.settings()
        geometry = s.value("window/geometry")
        state = s.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, STATE_VERSION)
        else:
            QTimer.singleShot(0, self, self._default_sizes)  # once the window has its real size
        minimap = s.value("view/minimap", "auto")
        self.view.minimap.set_mode(minimap if minimap in ("auto", "on", "off") else "auto")
        self.actions_.minimap.blockSignals(True)
        self.actions_.minimap.setChecked(self.view.minimap.isVisible())
        self.actions_.minimap.blockSignals(False)

    def _default_sizes(self) -> None:
        self.resizeDocks([self.docks["paletteDock"], self.docks["inspectorDock"]], [250, 330],
                         Qt.Orientation.Horizontal)
        # Room for the training panel's buttons, a few settings rows and its plots.
        self.resizeDocks([self.docks["diagnosticsDock"]], [max(150, int(self.height() * BOTTOM_SHARE))],
                         Qt.Orientation.Vertical)

    def save_layout(self) -> None:
        s = settings.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(STATE_VERSION))
        s.setValue("view/minimap", self.view.minimap.mode)
        s.sync()

    # -- wiring ----------------------------------------------------------------------------
    def _connect(self) -> None:
        doc = self.document
        doc.message.connect(self.show_message)
        doc.dirtyChanged.connect(lambda _d: self._update_title())
        doc.nameChanged.connect(lambda _n: self._update_title())
        doc.pathChanged.connect(lambda _p: self._update_title())
        doc.selectionChanged.connect(lambda _s: self._update_actions())
        doc.projectReplaced.connect(lambda _p: self._update_actions())
        doc.projectReplaced.connect(self._give_air)
        doc.projectReplaced.connect(lambda _p: self.statusBar().clearMessage())  # no message of the last project
        doc.undo_stack.indexChanged.connect(lambda _i: self.view.stop_framing())
        self.scene.messageRequested.connect(self.show_message)
        self.scene.selectionChanged.connect(self._update_actions)
        self.view.layerDropped.connect(self.add_layer_at)
        self.view.contextMenuRequested.connect(self.show_context_menu)
        self.view.quickAddRequested.connect(self.open_quick_add)
        self.view.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        self.palette.addRequested.connect(self.add_layer_after_selection)
        self.quick_add.chosen.connect(self._quick_add_chosen)
        self.quick_add.closed.connect(self._quick_add_closed)
        self.scene.wireDropped.connect(self.open_quick_add_for_wire)
        self.diagnostics.nodeActivated.connect(self.reveal_node)
        self.scene.refusalChanged.connect(self.diagnostics.show_refusal)  # a refused wire: why, and its fix
        self.diagnostics.fixRequested.connect(self.scene.apply_fix)
        self.files.recentChanged.connect(self._update_recent)

    def _update_title(self) -> None:
        doc = self.document
        where = f" — {doc.path.name}" if doc.path else ""
        self.setWindowTitle(f"{doc.name}[*]{where} — Network Studio")
        self.setWindowModified(doc.is_dirty)
        self.file_label.setText(doc.path.name if doc.path else "not saved yet")
        self.file_label.setToolTip(str(doc.path) if doc.path else "Save the project to keep its runs")

    def _update_actions(self) -> None:
        has_nodes = bool(self.document.selection)
        has_any = has_nodes or bool(self.scene.selected_edges())
        a = self.actions_
        for action in (a.cut, a.copy, a.duplicate):
            action.setEnabled(has_nodes)
        a.delete.setEnabled(has_any)

    def _update_recent(self, files: list) -> None:
        menu = self.menus.recent
        menu.clear()
        for i, path in enumerate(files):
            action = menu.addAction(f"&{i + 1}  {path.name}", lambda p=path: self.files.open(p))
            action.setStatusTip(str(path))
        if files:
            menu.addSeparator()
            menu.addAction("Clear Recent", lambda: (settings.clear_recent_files(), self._update_recent([])))
        menu.setEnabled(bool(files))

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # -- adding layers -----------------------------------------------------------------------
    def add_layer_at(self, spec_id: str, pos: QPointF, params: dict | None = None) -> str | None:
        """Add a layer (or palette entry) with its top-left near `pos`; on a wire, insert it.
        A Hub module asks for its handle first (added when the dialog is accepted)."""
        found = entry_for(self.catalog, spec_id)
        if found is None:
            return None
        spec, extra = found
        if params is None and self.hub.wants_handle(spec):
            self.hub.ask_handle(lambda chosen: self.add_layer_at(spec_id, pos, chosen))
            return None
        edge_item = self.scene.edge_at(pos)
        edit, node = operations.add_node(self.document.graph, spec, (pos.x() - 100, pos.y() - 20),
                                         edge_item.edge if edge_item else None)
        edit = with_params(edit, node.id, {**extra, **(params or {})})
        if self.document.push(edit):
            self.document.set_selection([node.id])
            return node.id
        return None

    def add_layer_after_selection(self, spec_id: str, params: dict | None = None) -> str | None:
        found = entry_for(self.catalog, spec_id)
        if found is None:
            return None
        spec, extra = found
        if params is None and self.hub.wants_handle(spec):
            self.hub.ask_handle(lambda chosen: self.add_layer_after_selection(spec_id, chosen))
            return None
        selection = self.document.selection
        after = selection[-1] if selection else None
        center = self.view.mapToScene(self.view.viewport().rect().center())
        edit, node = operations.add_after(self.document.graph, spec, after, (center.x() - 100, center.y() - 40),
                                          self.scene.node_height)
        edit = with_params(edit, node.id, {**extra, **(params or {})})
        if self.document.push(edit):
            self.document.set_selection([node.id])
            item = self.scene.node_item(node.id)
            if item is not None:
                self.view.reveal(item.sceneBoundingRect())  # in sight, not under the minimap
            return node.id
        return None

    def context_menu(self, scene_pos: QPointF) -> QMenu:
        """The right-click menu for the current selection (or empty canvas)."""
        a = self.actions_
        menu = QMenu(self)
        group_id = self.group_frames.group_at(scene_pos)
        if group_id is not None:  # a collapsed group's node: Expand, and its layers selected
            self.group_frames.select(group_id)
            add_group_node_menu(menu, self.document, group_id)
            menu.addSeparator()
            for action in (a.cut, a.copy, a.delete):
                menu.addAction(action)
            return menu
        selection = self.document.selected_nodes()
        if selection:
            for action in (a.cut, a.copy, a.duplicate, a.delete):
                menu.addAction(action)
            menu.addSeparator()
            frozen = all(not n.trainable for n in selection)
            toggle = menu.addAction("Unfreeze" if frozen else "Freeze weights")
            toggle.triggered.connect(lambda: self.set_trainable(frozen))
            ids = [n.id for n in selection]
            reset = menu.addAction("Reset weights")
            reset.setStatusTip("These layers start from random weights again (Undo keeps the old ones)")
            reset.setEnabled(self.weights_ui.has_weights(ids))
            reset.triggered.connect(lambda: self.weights_ui.reset(ids))
            if len(selection) == 1:  # "Share weights with" / "Stop sharing weights"
                add_share_menu(menu, self.document, selection[0].id)
                add_group_menu(menu, self.document, selection[0].id)
                self.backbone_expander.add_menu(menu, selection[0].id)
        else:
            add = menu.addAction("Add Layer…")
            add.triggered.connect(lambda: self.open_quick_add(scene_pos))
            menu.addAction(a.paste)
            menu.addSeparator()
            for action in (a.select_all, a.auto_layout, a.fit):
                menu.addAction(action)
            add_group_menu(menu, self.document, None)  # the layers of each nested model
        return menu

    def show_context_menu(self, scene_pos: QPointF, global_pos: QPoint) -> None:
        self.context_menu(scene_pos).popup(global_pos)

    def open_quick_add_for_wire(self, node_id: str, port: int, from_output: bool, scene_pos: QPointF) -> None:
        self.open_quick_add(scene_pos)
        self._quick_add_wire = (node_id, port, from_output)

    def _quick_add_chosen(self, spec_id: str) -> None:
        wire, self._quick_add_wire = self._quick_add_wire, None
        pos = self._quick_add_pos
        spec = self.catalog.find(spec_id)
        if wire is None and self.document.selection and self.scene.selected_node_ids():
            self.add_layer_after_selection(spec_id)  # Tab with a layer selected: the next layer, wired
            return
        if wire is None or spec is None or not self.document.graph.has_node(wire[0]):
            self.add_layer_at(spec_id, pos)
            return
        node_id, port, from_output = wire
        at = (pos.x(), pos.y() - 40) if from_output else (pos.x() - NODE_WIDTH, pos.y() - 40)
        edit, node = operations.add_wired(self.document.graph, spec, at, node_id, port, from_output)
        if self.document.push(edit):
            self.document.set_selection([node.id])

    def _quick_add_closed(self) -> None:
        self._quick_add_wire = None

    def open_quick_add(self, scene_pos: QPointF) -> None:
        self._quick_add_wire = None
        self._quick_add_pos = scene_pos
        global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos))
        self.quick_add.popup(global_pos)

    def quick_add_at_cursor(self) -> None:
        pos = self.view.mapFromGlobal(QCursor.pos())
        if not self.view.viewport().rect().contains(pos):
            pos = self.view.viewport().rect().center()
        self.open_quick_add(self.view.mapToScene(pos))

    # -- editing ---------------------------------------------------------------------------------
    def delete_selection(self) -> None:
        edit = operations.delete(self.document.graph, self.document.selection, self.scene.selected_edges())
        if edit is not None:
            self.document.push(edit)

    def select_all(self) -> None:
        self.document.set_selection([n.id for n in self.document.graph.nodes])

    def copy(self) -> bool:
        payload = clipboard.copy_payload(self.document.graph, self.document.selection, self.document.project.weights)
        if payload is None:
            return False
        clipboard.put(payload)
        n = len(payload["nodes"])
        self.show_message(f"Copied {n} layer{'s' if n > 1 else ''}")
        return True

    def cut(self) -> None:
        if self.copy():
            edit = operations.delete(self.document.graph, self.document.selection)
            if edit is not None:
                edit.text = edit.text.replace("Delete", "Cut")
                self.document.push(edit)

    def paste(self, payload: dict | None = None, at: tuple[float, float] | None = None) -> list[str]:
        payload = payload or clipboard.get()
        if payload is None:
            self.show_message("The clipboard holds no layers")
            return []
        made = clipboard.paste_edit(self.document.graph, payload, at, self.document.project.weights)
        if made is None:
            return []
        edit, ids = made
        if self.document.push(edit):
            self.document.set_selection(ids)
            return ids
        return []

    def duplicate(self) -> list[str]:
        payload = clipboard.copy_payload(self.document.graph, self.document.selection, self.document.project.weights)
        if payload is None:
            return []
        ids = self.paste(payload)
        if ids:
            self.document.undo_stack.command(self.document.undo_stack.index() - 1).setText(
                f"Duplicate {len(ids)} layer{'s' if len(ids) > 1 else ''}")
        return ids

    def auto_layout(self) -> None:
        positions = self._layered_positions()
        graph = self.document.graph
        changed = {k: v for k, v in positions.items() if tuple(graph.node(k).position) != v}
        if changed:
            self.document.push(MoveNodes(changed, "Auto-layout"))
            QTimer.singleShot(0, self, self.view.fit_to_view)

    def read_project(self, path: Path) -> Project:
        """File > Open's reading of `path` (raises ProjectError like `load_project`).
        A big file (thousands of layers) is read, checked, analysed and given room
        for its wires (`_give_air`) on a worker thread while the window answers."""
        try:
            big = path.stat().st_size > BIG_FILE
        except OSError:
            big = False
        if self._reading:
            return load_project(path)
        if not big:
            try:
                heavy = weights_file_for(path).stat().st_size > BIG_WEIGHTS
            except OSError:
                heavy = False
            if not heavy:
                return load_project(path)
            # A small graph with big weights (an imported ResNet50: 0.8 s to read them).
            self._reading = True
            try:
                return call_while_answering(lambda: load_project(path))
            finally:
                self._reading = False

        def read() -> tuple[Project, ShapeReport, dict]:
            project = load_project(path)
            graph, aired = project.graph, {}
            if not hides_wires(graph):  # a one-row layout needs the items' heights: on open
                for node_id, position in spread_positions(graph).items():
                    aired[node_id] = (tuple(graph.node(node_id).position), position)
                    graph.move(node_id, position)  # nothing listens to this graph yet
            return project, analyse(graph), aired

        self._reading = True
        try:
            with collector_held():  # the worker's collections would stop the window too
                project, report, aired = call_while_answering(read)
        finally:
            self._reading = False
        self.document.offer_report(project.graph, report)
        self._pre_aired = (project.graph, aired) if not hides_wires(project.graph) else None
        return project

    def _give_air(self, _project: object = None) -> None:
        """When a project opens, give a cramped layout room for its wires (e.g.
        files with nodes 220 px apart), and lay out a one-row layout whose skip
        connections run behind layers. Positions are presentation: not an undo
        step and not an unsaved change; saving writes the file's own positions
        for the nodes still where this put them (`file_positions`)."""
        graph = self.document.graph
        pre, self._pre_aired = self._pre_aired, None
        if pre is not None and pre[0] is graph:  # done while the file was read (`read_project`)
            self._aired = pre[1]
            return
        self._aired = {}
        if hides_wires(graph):  # e.g. generated files with every layer on one row
            positions = self._layered_positions()
        else:
            positions = spread_positions(graph)
        for node_id, position in positions.items():
            read = tuple(graph.node(node_id).position)
            if read != position:
                self._aired[node_id] = (read, position)
                graph.move(node_id, position)

    def file_positions(self) -> dict[str, tuple[float, float]]:
        """Node id -> the position the file gave it, for each node the window
        moved only to show it (and the user has not moved since)."""
        graph = self.document.graph
        return {node_id: read for node_id, (read, shown) in self._aired.items()
                if graph.has_node(node_id) and tuple(graph.node(node_id).position) == shown}

    def _layered_positions(self) -> dict[str, tuple[float, float]]:
        heights = {i.node_id: i.height for i in self.scene.node_items()}
        graph = self.document.graph  # a collapsed group stays one node wide
        return closed_positions(graph, layered_positions(graph, lambda n: heights.get(n, 80.0)))

    def set_trainable(self, on: bool) -> None:
        """Freeze or unfreeze the selected layers, as one step."""
        graph = self.document.graph
        edits = [SetTrainable(n.id, on) for n in self.document.selected_nodes() if n.trainable != on]
        if edits:
            self.document.push(Batch(edits, ("Unfreeze" if on else "Freeze") +
                                     (f" {len(edits)} layers" if len(edits) > 1 else f" {graph.label(edits[0].node_id)}")))

    def set_snap(self, on: bool) -> None:
        self.scene.snap_to_grid = on

    def set_minimap(self, on: bool) -> None:
        self.view.minimap.set_mode("on" if on else "off")

    def reveal_node(self, node_id: str) -> None:
        self.document.point_at(node_id)
        self.view.center_on_node(node_id)

    def show_summary(self) -> None:
        if self._summary is None:
            self._summary = SummaryDialog(self.document, self)
        self._summary.show()
        self._summary.raise_()

    def new_window(self) -> MainWindow:
        """Another window on an empty project in this process."""
        window = MainWindow(catalog=self.catalog)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if self.themes is not None:
            window.use_themes(self.themes)
        window.move(self.pos() + QPoint(40, 40))
        window.show()
        return window

    def show_getting_started(self) -> guide.GettingStarted:
        page = guide.GettingStarted(guide.examples(), self)
        page.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        page.exampleRequested.connect(self.files.open)
        page.show()
        return page

    def show_shortcuts(self) -> guide.ShortcutsDialog:
        actions = [a for a in vars(self.actions_).values()] + [self.model_io.export_action]
        training = self.panels.get("TrainingPanel")
        if training is not None:
            actions.append(training.train_action)
        dialog = guide.ShortcutsDialog(guide.shortcut_rows(actions, guide.CANVAS_KEYS), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def use_themes(self, themes: Any) -> None:
        """Repaint with `themes` (a theme.ThemeManager) and show its mode in View > Theme."""
        self.themes = themes
        themes.changed.connect(self.theme_changed)
        for action in (self.actions_.theme_system, self.actions_.theme_light, self.actions_.theme_dark):
            action.setChecked(action.property("themeMode") == themes.mode)

    def set_theme(self, mode: str) -> None:
        """View > Theme: "system", "light" or "dark", kept for the next start."""
        if self.themes is None:
            from PySide6.QtWidgets import QApplication

            from studio.ui.theme import ThemeManager

            self.use_themes(ThemeManager(QApplication.instance(), QApplication.instance()))
        s = settings.settings()
        s.setValue("view/theme", mode)
        s.sync()
        self.themes.set_mode(mode)
        for action in (self.actions_.theme_system, self.actions_.theme_light, self.actions_.theme_dark):
            action.setChecked(action.property("themeMode") == self.themes.mode)

    def about(self) -> None:
        """The version and the environment report (TensorFlow's build, devices), with Copy."""
        from studio.ui.about_dialog import AboutDialog

        self.about_dialog = AboutDialog(self)
        self.about_dialog.open()

    # -- view state ----------------------------------------------------------------------------------
    def view_state(self) -> dict[str, Any]:
        center = self.view.mapToScene(self.view.viewport().rect().center())
        return {"zoom": round(self.view.zoom(), 4), "center": [round(center.x(), 1), round(center.y(), 1)]}

    def restore_view(self, state: dict | None) -> None:
        def apply() -> None:
            try:
                zoom = float(state["zoom"])  # type: ignore[index]
                cx, cy = (float(v) for v in state["center"])  # type: ignore[index]
            except (TypeError, KeyError, ValueError):
                self.view.frame_graph()
                return
            self.view.stop_framing()
            self.view.resetTransform()
            self.view.set_zoom(zoom)
            self.view.centerOn(cx, cy)
            self.view.minimap.sync_visibility()

        QTimer.singleShot(0, self, apply)

    def theme_changed(self, _theme: object = None) -> None:
        """Repaint everything in the new light/dark colours."""
        icons.clear_cache()
        retint(self.actions_)
        self.view.resetCachedContent()
        for item in self.scene.items():
            item.update()
        self.view.minimap.invalidate()
        self.view.viewport().update()
        self.palette.populate()
        self.palette.filter(self.palette.search.text())
        self.diagnostics.show_report(self.document.report)

    # -- start and end ---------------------------------------------------------------------------------
    def start(self, path: str | None = None) -> None:
        """After `show()`: open `path` (or the example), then offer recovery."""
        if path:
            self.files.open(path, ask=False)  # on failure: the problems dialog, an empty canvas
        else:
            self.files.open_default()
        QTimer.singleShot(0, self, self.files.offer_recovery)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        training = self.panels.get("TrainingPanel")
        if training is not None and training.is_training():
            if not dialogs.ask_stop_training(self):
                event.ignore()
                return
            training.stop_and_wait()  # the run is saved as "stopped"
        if not self.files.confirm_discard():
            event.ignore()
            return
        for panel in self.panels.values():
            panel.shutdown()  # background readers and workers end with the window
        self.shape_job.shutdown()
        self.model_io.shutdown()  # a running import/export is cancelled
        self.backbone_expander.shutdown()  # a backbone being expanded
        self.hub.shutdown()
        self.save_layout()
        self.files.close()
        self.weights_ui.shutdown()  # a run's weights being read
        event.accept()
