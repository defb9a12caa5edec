"""`CanvasScene`: mirrors the graph as items (STYLE.md 1).

The scene subscribes to the graph's events and adds, removes and moves items
in response; after each (coalesced) report it refreshes what the nodes show,
recomputing a node's view only when the node, its wires or its part of the
report changed. It never changes the graph: gestures end in `document.push(edit)`.

A big project is mirrored in chunks: `_rebuild` queues every node and wire
and a zero-timer turns them into items a few milliseconds at a time, so the
window keeps answering while a graph of thousands of layers appears
(`building` is true meanwhile, `built` is emitted at the end). Graphs of up to
`SYNC_ITEMS` nodes and wires are mirrored at once. A merge of thousands of
layers makes its ports over several turns too; a node side with many wires
paints them as one `WireBundle`; Python's garbage collector is held during
the build (`collector_held`).
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from functools import partial
from typing import Iterable, Iterator

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QTransform
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent

from studio.graph.inference import ShapeReport, format_shape
from studio.graph.model import (
    Edge,
    EdgeAdded,
    EdgeRemoved,
    Graph,
    GraphEvent,
    Node,
    NodeAdded,
    NodeChanged,
    NodeRemoved,
)
from studio.ui.canvas import refusal
from studio.ui.canvas.callout import RefusalCallout
from studio.ui.canvas.callout import place as callout_place
from studio.ui.canvas.edge_item import BUNDLE_MIN, EdgeItem, WireBundle
from studio.ui.canvas.interactions import Gesture, MoveGesture, NewWireGesture
from studio.ui.canvas.labels import key_labels
from studio.ui.canvas.layout import NODE_WIDTH
from studio.ui.canvas.node_item import NodeItem, NodeView, PortItem
from studio.ui.document import ProjectDocument

SCENE_EXTENT = 100_000.0  # room around the graph to scroll into
SYNC_ITEMS = 1500  # nodes + wires mirrored at once; more are added in chunks
CHUNK_SECONDS = 0.025  # time one chunk may take before the event loop runs again
PORT_STEP = 100  # while building in chunks: port items a node makes before the clock is read


@contextmanager
def collector_held() -> Iterator[None]:
    """No cyclic garbage collection meanwhile, then what was made is frozen (`gc.freeze`:
    later passes skip it). For reading and mirroring a big graph: Python's full pass over
    the heap of a 5,000-layer project stops the window for 0.1 to 1.5 s, several times per
    open; what an open makes lives as long as the project. The items of the previous
    project are freed without the collector (`CanvasScene._release_items`)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()


def _let_go(held: list) -> None:
    """End the collector_held() in `held` (a one-item list), if any."""
    if held[0] is not None:
        hold, held[0] = held[0], None
        hold.__exit__(None, None, None)


def format_count(n: int) -> str:
    if n >= 10_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 1_000_000:
        return f"{n / 1e6:.2f}M"
    return f"{n:,}"


def short_count(n: int) -> str:
    """'9.2k', '151k', '2.3M': a parameter count in five characters or fewer."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            v = n / div
            return f"{v:.1f}{unit}" if v < 10 else f"{v:.0f}{unit}"
    return str(n)


def node_view(graph: Graph, node: Node, report: ShapeReport | None, wired_inputs: list[Edge],
              diagnostics: list | None = None) -> NodeView:
    """What a node shows, from the model and the latest report."""
    spec = graph.spec(node)
    if spec is None:
        n_in = max([e.target_port + 1 for e in wired_inputs] + [1])
        inputs = tuple("" for _ in range(n_in))
        n_out = graph.num_outputs(node)
        outputs = tuple("" for _ in range(n_out))
        # Outside the catalog: its whole Keras config is kept; Keras gives its shape.
        key_line, key_short = "config kept as imported", "kept as is"
        class_name = node.type
    else:
        if spec.max_inputs == 0:
            inputs = ()
        elif spec.max_inputs is None:
            n = max([spec.min_inputs] + [e.target_port + 2 for e in wired_inputs] + [1])
            inputs = tuple("" for _ in range(n))
        else:
            names = spec.input_names or ()
            inputs = tuple(names[i] if i < len(names) else "" for i in range(spec.max_inputs))
        try:
            resolved = spec.resolve(node.params)
            n_out = spec.num_outputs(resolved)
            out_names = tuple(spec.output_names(resolved)) if spec.output_names else ()
        except Exception:  # a bad value: keep one output until it is fixed
            n_out, out_names = 1, ()
        outputs = tuple(out_names[i] if i < len(out_names) else "" for i in range(max(1, n_out)))
        try:
            key_line, key_short = key_labels(spec, node.params)
        except Exception:  # a bad value: the inspector and diagnostics say what is wrong
            key_line = key_short = ""
        class_name = spec.class_name
    keywords = {e.target_port: e.argument for e in wired_inputs if e.argument}
    if keywords:  # wires into keyword arguments (an imported mask=): ports after the inputs, named so
        n_in = max(len(inputs), max(keywords) + 1)
        inputs = tuple(keywords.get(i, inputs[i] if i < len(inputs) else "") for i in range(n_in))
    shape, params, severity, tooltip, short = "…", "", None, "", ""
    if report is not None:
        outs = report.outputs.get(node.id)
        if outs is None:
            shape = "?"
        else:
            shape = ", ".join(format_shape(s) for s in outs)
        counts = report.params.get(node.id)
        if counts is not None:
            total = counts[0] + counts[1]
            short = short_count(total) if total else ""
            params = f"{format_count(total)} param{'s' if total != 1 else ''}" if total else "no weights"
        diags = diagnostics or []
        rank = {"info": 0, "warning": 1, "error": 2}
        for d in diags:
            if severity is None or rank[d.severity] > rank[severity]:
                severity = d.severity
        lines = [f"<b>{node.title or node.type}</b> ({class_name})"]
        if outs is not None:
            lines.append(f"output {shape}")
        if node.shares and graph.has_node(node.shares):
            lines.append(f"shares the weights of '{_escape(graph.label(node.shares))}' (one layer, called here too)")
        for d in diags:
            lines.append(f"<span>{'✖' if d.severity == 'error' else '⚠' if d.severity == 'warning' else 'ℹ'} "
                         f"{_escape(d.message)}</span>")
        tooltip = "<br>".join(lines)
    return NodeView(
        title=node.title or (spec.id if spec else node.type),
        class_name=class_name,
        category=spec.category if spec else None,
        key_line=key_line,
        key_short=key_short,
        shape=shape,
        params=params,
        params_short=short,
        severity=severity,
        tooltip=tooltip,
        opaque=spec is None,
        inputs=inputs,
        outputs=outputs,
        trainable=node.trainable,
        shares=graph.label(node.shares) if node.shares and graph.has_node(node.shares) else "",
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _diagnostics_by_node(report: ShapeReport) -> dict[str, list]:
    diags: dict[str, list] = {}
    for d in report.diagnostics:
        if d.node is not None:
            diags.setdefault(d.node, []).append(d)
    return diags


def _report_part(report: ShapeReport, node_id: str, diagnostics: list | None) -> tuple:
    """What a node's view takes from the report: compared to skip unchanged nodes."""
    return report.outputs.get(node_id), report.params.get(node_id), diagnostics


def _count_wire(item: NodeItem, is_output: bool, index: int, delta: int) -> None:
    """Keep count of the wires on each port; a port with any is drawn filled."""
    key = (is_output, index)
    n = item.wire_counts.get(key, 0) + delta
    if n > 0:
        item.wire_counts[key] = n
    else:
        item.wire_counts.pop(key, None)
    port = item.port(is_output, index)
    if port is not None and port.connected != (n > 0):
        port.connected = n > 0
        port.update()


def _sync_ports(item: NodeItem) -> None:
    """After a node's ports changed: which of them have wires."""
    for port in item.inputs + item.outputs:
        connected = (port.is_output, port.index) in item.wire_counts
        if port.connected != connected:
            port.connected = connected
            port.update()


class CanvasScene(QGraphicsScene):
    """The graph as items; routes mouse gestures; never edits the graph."""

    messageRequested = Signal(str)
    quickAddRequested = Signal(QPointF)
    # A wire dropped on empty canvas: node id, port, from an output?, scene position.
    wireDropped = Signal(str, int, bool, QPointF)
    # Nodes were added, removed, moved or recoloured (the minimap redraws); once per turn.
    contentsChanged = Signal()
    refusalChanged = Signal(str, list)  # why the last wire was refused ("" once it is gone), its fixes' labels
    buildStarted = Signal()  # a big graph is being mirrored in chunks
    built = Signal()  # every node and wire of the graph has its item

    def __init__(self, document: ProjectDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.snap_to_grid = True
        self.show_health = False  # View > Training Health on Nodes
        self.health: dict[str, tuple] = {}  # node id -> (status, heat, tooltip) of training health
        self.gesture: Gesture | None = None
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[Edge, EdgeItem] = {}
        self._pending_nodes: dict[str, None] = {}  # still to mirror, in the graph's order
        self._pending_edges: dict[Edge, None] = {}
        self._growing: NodeItem | None = None  # a node still making its ports (a merge of thousands)
        self._side_wires: dict[tuple[str, bool], int] = {}  # (node id, outputs?) -> its wires there
        self._bundles: dict[tuple[str, bool], WireBundle] = {}  # sides with more than BUNDLE_MIN
        self._shown: dict[str, tuple] = {}  # node id -> its part of the report its view shows
        self._dirty: set[str] = set()  # nodes changed since their view was computed
        self._bounds: QRectF | None = None
        # group id -> the node drawn for a collapsed group in place of its (hidden) layers,
        # kept by canvas/group_frames.py; counted in the graph's bounds instead of them
        self.shown_instead: dict = {}
        self._syncing = False
        self._unsubscribe = lambda: None
        self._held: list = [None]  # the collector_held() of a big graph being built
        self.destroyed.connect(partial(_let_go, self._held))  # a window closed mid-build
        self._graveyard: list[dict] = []
        self._bury_timer = QTimer(self)
        self._bury_timer.setInterval(0)
        self._bury_timer.timeout.connect(self._bury)
        self._build_timer = QTimer(self)
        self._build_timer.setInterval(0)
        self._build_timer.timeout.connect(self._build_chunk)
        self.callout: RefusalCallout | None = None  # why the last wire was refused
        self._fixes: list = []
        document.undo_stack.indexChanged.connect(self.dismiss_refusal)
        document.projectReplaced.connect(self.dismiss_refusal)
        self._contents_timer = QTimer(self)
        self._contents_timer.setSingleShot(True)
        self._contents_timer.setInterval(0)
        self._contents_timer.timeout.connect(self._announce_contents)
        self.setSceneRect(QRectF(-SCENE_EXTENT / 2, -SCENE_EXTENT / 2, SCENE_EXTENT, SCENE_EXTENT))
        # Items rarely move: a BSP tree answers "what is in this rect" for painting
        # and hit tests without looking at every item.
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.selectionChanged.connect(self._on_scene_selection)
        document.projectReplaced.connect(self._rebuild)
        document.reportChanged.connect(self.refresh)
        document.selectionChanged.connect(self._on_document_selection)
        self._rebuild()

    # -- lookups ----------------------------------------------------------------
    def set_health(self, overlay: dict) -> None:
        """Training health per node id: (status, heat, tooltip), drawn while `show_health` is on."""
        self.health = dict(overlay or {})
        self._apply_health()

    def set_health_visible(self, on: bool) -> None:
        self.show_health = bool(on)
        self._apply_health()

    def _apply_health(self) -> None:
        shown = self.health if self.show_health else {}
        for node_id, item in self._nodes.items():
            item.set_health(shown.get(node_id))

    def node_item(self, node_id: str) -> NodeItem | None:
        return self._nodes.get(node_id)

    def edge_item(self, edge: Edge) -> EdgeItem | None:
        return self._edges.get(edge)

    def node_height(self, node_id: str) -> float:
        """How tall a node is drawn (80 for one without an item yet)."""
        item = self._nodes.get(node_id)
        return item.body_rect().height() if item is not None else 80.0

    def node_items(self) -> list[NodeItem]:
        return list(self._nodes.values())

    def edge_items(self) -> list[EdgeItem]:
        return list(self._edges.values())

    def nodes_in(self, rect: QRectF) -> list[NodeItem]:
        return [i for i in self.items(rect) if isinstance(i, NodeItem)]

    def edge_at(self, pos: QPointF, exclude: NodeItem | None = None) -> EdgeItem | None:
        for item in self.items(QRectF(pos.x() - 6, pos.y() - 6, 12, 12)):
            if isinstance(item, EdgeItem) and item.isVisible() and exclude not in (item.source, item.target):
                return item
        return None

    def visible_rect(self) -> QRectF:
        views = self.views()
        if not views:
            return self.itemsBoundingRect()
        view = views[0]
        return view.mapToScene(view.viewport().rect()).boundingRect()

    def nodes_bounding_rect(self) -> QRectF:
        """Where the nodes are; while a big graph is still being mirrored, its
        nodes without items count at their model positions."""
        if self._bounds is None:
            rect = QRectF()
            for item in self._nodes.values():
                if item.isVisible():  # (a collapsed group's layers are not)
                    rect = rect.united(item.sceneBoundingRect())
            for item in self.shown_instead.values():
                rect = rect.united(item.sceneBoundingRect())
            if self._pending_nodes:
                graph = self.document.graph
                xs, ys = [], []
                for node_id in self._pending_nodes:
                    x, y = graph.node(node_id).position[:2]
                    xs.append(x)
                    ys.append(y)
                rect = rect.united(QRectF(min(xs), min(ys), max(xs) - min(xs) + NODE_WIDTH,
                                          max(ys) - min(ys) + 80.0))
            self._bounds = rect
        return QRectF(self._bounds)

    @property
    def building(self) -> bool:
        """True while items of the graph are still being added."""
        return bool(self._pending_nodes or self._pending_edges or self._growing is not None)

    def edge_tooltip(self, edge: Edge) -> str:
        graph, report = self.document.graph, self.document.report
        if not (graph.has_node(edge.source) and graph.has_node(edge.target)):
            return ""
        outs = report.outputs.get(edge.source)
        shape = format_shape(outs[edge.source_port]) if outs and edge.source_port < len(outs) else "?"
        return f"{graph.label(edge.source)} → {graph.label(edge.target)}<br>{shape}"

    def contents_changed(self) -> None:
        """Nodes moved, appeared, went or changed colour: announce it once this turn."""
        self._bounds = None
        if not self._contents_timer.isActive():
            self._contents_timer.start()

    def _announce_contents(self) -> None:
        self._grow_scene_rect()
        self.contentsChanged.emit()

    def _grow_scene_rect(self) -> None:
        """Keep room to scroll around a graph of any size (a 5,000-layer chain is 1.4 M px long)."""
        bounds = self.nodes_bounding_rect()
        if not bounds.isNull():
            wanted = bounds.adjusted(-SCENE_EXTENT / 2, -SCENE_EXTENT / 2, SCENE_EXTENT / 2, SCENE_EXTENT / 2)
            if not self.sceneRect().contains(wanted):
                self.setSceneRect(self.sceneRect().united(wanted))

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def show_message(self, text: str) -> None:
        self.messageRequested.emit(text)

    # -- a refused wire -----------------------------------------------------------
    def show_refusal(self, edge: Edge, reason: str, pos: QPointF) -> None:
        """Say why `edge` was refused in a callout near `pos` (until the next click, key or edit),
        with the fixes the wire rules suggest as buttons."""
        self.dismiss_refusal()
        self._fixes = refusal.fixes(self.document.graph, edge, reason, self.node_height)
        labels = [f.label for f in self._fixes]
        self.callout = RefusalCallout(reason, labels)
        self.callout.setPos(self._callout_spot(pos, self.callout.boundingRect(), (edge.source, edge.target)))
        self.addItem(self.callout)
        self.refusalChanged.emit(reason, labels)
        # the status bar is too narrow for the reason: it points to the callout
        self.show_message(f"Cannot connect: {self.document.graph.label(edge.target)} cannot take that input "
                          "(see the note)")

    def _callout_spot(self, pos: QPointF, rect: QRectF, ends: tuple[str, ...]) -> QPointF:
        """Where an item of device-sized `rect` goes near `pos`: inside the view, clear of the
        layers `ends` and, where there is room, of the other layers in sight."""
        views = self.views()
        if not views:
            return pos
        view = views[0]
        port = QRectF(view.viewport().rect())
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        end_rects, other_rects = [], []
        for item in self.nodes_in(seen):
            shown = QRectF(view.mapFromScene(item.sceneBoundingRect()).boundingRect())
            (end_rects if item.node_id in ends else other_rects).append(shown)
        spot = callout_place(QPointF(view.mapFromScene(pos)), rect.size(), port, end_rects, other_rects)
        return view.mapToScene(round(spot.x()), round(spot.y()))

    def apply_fix(self, index: int) -> bool:
        """Apply the refused wire's fix number `index` (one undo step)."""
        if not 0 <= index < len(self._fixes):
            return False
        fix = self._fixes[index]
        self.dismiss_refusal()
        if not self.document.push(fix.edit):
            return False
        # the source, the new layer and the target (which may have moved right to make room) come
        # into sight; where they do not fit side by side, centred, each end cut by as little
        views = self.views()
        items = [self._nodes.get(n) for n in fix.nodes]
        if views and all(items):
            view = views[0]
            rect = QRectF()
            for item in items:
                rect = rect.united(item.sceneBoundingRect())
            spare = view.viewport().width() - view.mapFromScene(rect).boundingRect().width()
            if spare >= 0:
                view.reveal(rect, int(max(0, min(40, spare / 2 - 1))), 40)
            else:
                view.centerOn(rect.center())
        return True

    def dismiss_refusal(self, *_args) -> None:
        callout, self.callout = self.callout, None
        self._fixes = []
        if callout is not None:
            if callout.scene() is self:
                self.removeItem(callout)
            self.refusalChanged.emit("", [])
            self.show_message("")  # no stale "Cannot connect" once the note is gone

    # -- mirroring the model ----------------------------------------------------
    def _rebuild(self, *_args) -> None:
        self.cancel_gesture()
        self._unsubscribe()
        self._build_timer.stop()
        self._release_items()
        self._syncing = True
        self.clear()
        self._syncing = False
        # The Python side of the items that went with clear() is let go a slice per turn
        # (for 15,000 items that takes ~50 ms).
        self._graveyard.extend(d for d in (self._nodes, self._edges, self._bundles) if d)
        if self._graveyard:
            self._bury_timer.start()
        self._nodes, self._edges, self._bundles = {}, {}, {}
        self._growing = None
        self._side_wires.clear()
        self._shown.clear()
        self._dirty.clear()
        graph = self.document.graph
        self._pending_nodes = dict.fromkeys(n.id for n in graph.nodes)
        self._pending_edges = dict.fromkeys(graph.edges)
        self._unsubscribe = graph.events.subscribe(self._on_graph_event)
        self.setSceneRect(QRectF(-SCENE_EXTENT / 2, -SCENE_EXTENT / 2, SCENE_EXTENT, SCENE_EXTENT))
        self._bounds = None
        self._grow_scene_rect()  # now, from the model: the view may be framed before the items exist
        if len(self._pending_nodes) + len(self._pending_edges) <= SYNC_ITEMS:
            self._build_chunk(budget=None)
        else:
            if self._held[0] is None:
                self._held[0] = collector_held()
                self._held[0].__enter__()
            self.buildStarted.emit()
            self._build_chunk()
            if self.building:
                self._build_timer.start()

    def _bury(self, count: int = 1000) -> None:
        while self._graveyard and count > 0:
            dead = self._graveyard[-1]
            while dead and count > 0:
                dead.popitem()
                count -= 1
            if not dead:
                self._graveyard.pop()
        if not self._graveyard:
            self._bury_timer.stop()

    def _release_items(self) -> None:
        """Drop the references between the items of the graph going away (node <-> ports,
        node <-> wires, bundle <-> wires), so they are freed as soon as the scene lets them
        go, without a pass of the garbage collector over the whole heap."""
        for item in self._nodes.values():
            item.inputs, item.outputs, item.edges = [], [], {}
        for wire in self._edges.values():
            wire.bundle = None
        for bundle in self._bundles.values():
            bundle.members = {}

    def _build_chunk(self, budget: float | None = CHUNK_SECONDS) -> None:
        """Mirror pending nodes, then pending wires, for up to `budget` seconds."""
        end = None if budget is None else time.perf_counter() + budget
        graph = self.document.graph
        report = self.document.report
        diags = _diagnostics_by_node(report)
        selected = set(self.document.selection)
        count = 0
        while self._pending_nodes or self._growing is not None:
            if self._growing is not None:  # its ports, PORT_STEP at a time
                if self._growing.grow_ports(PORT_STEP):
                    _sync_ports(self._growing)
                    self._growing = None
                if end is not None and time.perf_counter() > end:
                    break
                continue
            node_id = next(iter(self._pending_nodes))
            del self._pending_nodes[node_id]
            item = self._add_node(graph.node(node_id), report, diags, node_id in selected,
                                  None if end is None else PORT_STEP)
            if not item.ports_complete():
                self._growing = item
            count += 1
            if end is not None and (count % 20 == 0 or self._growing is not None) and time.perf_counter() > end:
                break
        if not self._pending_nodes and self._growing is None:
            while self._pending_edges:
                if end is not None and count % 20 == 0 and time.perf_counter() > end:
                    break
                edge = next(iter(self._pending_edges))
                del self._pending_edges[edge]
                self._add_edge(edge)
                count += 1
        if not self.building:  # the minimap and scene rect follow once, at the end
            self._build_timer.stop()
            _let_go(self._held)
            self.contents_changed()
            self.built.emit()

    def _on_graph_event(self, event: GraphEvent) -> None:
        if isinstance(event, NodeAdded):
            # Shapes come with the next report (a paste of many nodes analyses once).
            self._add_node(event.node, None, None, event.node.id in self.document.selection)
            self.contents_changed()
        elif isinstance(event, NodeRemoved):
            self._pending_nodes.pop(event.node.id, None)
            self._shown.pop(event.node.id, None)
            self._dirty.discard(event.node.id)
            item = self._nodes.pop(event.node.id, None)
            if item is not None and item is self._growing:
                self._growing = None
            if item is not None:
                if self.gesture is not None:
                    self.cancel_gesture()
                self.removeItem(item)
            self.contents_changed()
        elif isinstance(event, EdgeAdded):
            growing = self._growing.node_id if self._growing is not None else None
            if event.edge.source in self._nodes and event.edge.target in self._nodes and \
                    growing not in (event.edge.source, event.edge.target):
                self._add_edge(event.edge)
            else:
                self._pending_edges[event.edge] = None
            self._dirty.update((event.edge.source, event.edge.target))
        elif isinstance(event, EdgeRemoved):
            self._pending_edges.pop(event.edge, None)
            self._dirty.update((event.edge.source, event.edge.target))
            item = self._edges.pop(event.edge, None)
            if item is not None:
                item.source.edges.pop(item, None)
                item.target.edges.pop(item, None)
                self._unbundle(item)
                _count_wire(item.source, True, event.edge.source_port, -1)
                _count_wire(item.target, False, event.edge.target_port, -1)
                self.removeItem(item)
        elif isinstance(event, NodeChanged) and event.what == "position":
            item = self._nodes.get(event.node_id)
            if item is not None and (item.pos().x(), item.pos().y()) != tuple(event.new):
                item.snap = False
                item.setPos(QPointF(*event.new))
                item.snap = True
            elif item is None and self._pending_nodes:
                self._bounds = None
        elif isinstance(event, NodeChanged):
            self._dirty.add(event.node_id)

    def _add_node(self, node: Node, report: ShapeReport | None, diags: dict | None,
                  selected: bool = False, port_budget: int | None = None) -> NodeItem:
        """An item showing `node` as `report` says; without one, the next refresh fills it in.
        `port_budget`: how many of its port items to make now (the build makes the rest)."""
        graph = self.document.graph
        mine = (diags or {}).get(node.id)
        item = NodeItem(node.id, node_view(graph, node, report, graph.inputs_of(node.id), mine), port_budget)
        if report is None:
            self._dirty.add(node.id)
        else:
            self._shown[node.id] = _report_part(report, node.id, mine)
        item.snap = False
        item.setPos(QPointF(*node.position))
        item.snap = True
        self._nodes[node.id] = item
        if self.show_health:
            item.set_health(self.health.get(node.id))
        self.addItem(item)
        if selected:
            self._syncing = True
            item.setSelected(True)
            self._syncing = False
        return item

    def _add_edge(self, edge: Edge) -> None:
        source, target = self._nodes.get(edge.source), self._nodes.get(edge.target)
        if source is None or target is None or edge in self._edges:
            return
        item = EdgeItem(edge, source, target)
        source.edges[item] = None
        target.edges[item] = None
        _count_wire(source, True, edge.source_port, +1)
        _count_wire(target, False, edge.target_port, +1)
        self._edges[edge] = item
        self._bundle(item)  # before it joins the scene: a flag set there costs Qt more
        self.addItem(item)

    def _bundle(self, wire: EdgeItem) -> None:
        """A wire on a node side with more than BUNDLE_MIN wires paints with its bundle."""
        for node, is_output in ((wire.source, True), (wire.target, False)):
            key = (node.node_id, is_output)
            self._side_wires[key] = self._side_wires.get(key, 0) + 1
        for node, is_output in ((wire.source, True), (wire.target, False)):
            key = (node.node_id, is_output)
            if self._side_wires[key] <= BUNDLE_MIN:
                continue
            bundle = self._bundles.get(key)
            if bundle is None:
                bundle = self._bundles[key] = WireBundle(node, is_output)
                self.addItem(bundle)
                for other in node.edges:
                    if other.bundle is None and other is not wire and (other.source is node) == is_output:
                        bundle.add(other)
            bundle.add(wire)
            return

    def _unbundle(self, wire: EdgeItem) -> None:
        for node, is_output in ((wire.source, True), (wire.target, False)):
            key = (node.node_id, is_output)
            self._side_wires[key] = self._side_wires.get(key, 1) - 1
        bundle = wire.bundle
        if bundle is not None:
            bundle.remove(wire)
            if not bundle.members:
                self._bundles.pop((bundle.node.node_id, bundle.is_output), None)
                self.removeItem(bundle)

    def refresh(self, report: ShapeReport | None = None) -> None:
        """Update what the nodes show from the model and the report: only nodes
        that changed, whose wires changed or whose shapes, counts or
        diagnostics in the report differ from what they show."""
        report = report if report is not None else self.document.report
        graph = self.document.graph
        diags = _diagnostics_by_node(report)
        dirty, self._dirty = self._dirty, set()
        recoloured = False
        outputs, params, shown = report.outputs, report.params, self._shown
        for node_id, item in self._nodes.items():  # (inlined: thousands of nodes after each edit)
            mine = diags.get(node_id)
            old = shown.get(node_id)
            if node_id not in dirty and old is not None and old[0] == outputs.get(node_id) and \
                    old[1] == params.get(node_id) and old[2] == mine:
                continue
            shown[node_id] = _report_part(report, node_id, mine)
            node = graph.node(node_id)
            before = item.view
            item.set_view(node_view(graph, node, report, graph.inputs_of(node_id), mine))
            if (item.view.inputs, item.view.outputs) != (before.inputs, before.outputs):
                _sync_ports(item)
                for edge in item.edges:
                    edge.update_path()
            recoloured = recoloured or (item.view.severity, item.view.category) != (before.severity, before.category)
        if recoloured:
            self.contents_changed()

    # -- selection both ways ------------------------------------------------------
    def _on_scene_selection(self) -> None:
        self.contents_changed()  # the minimap shows the selection
        for bundle in self._bundles.values():  # a wire there changes colour with its bundle's paint
            bundle.update()
        if self._syncing:
            return
        self._syncing = True
        try:
            self.document.set_selection(self.selected_node_ids())
        finally:
            self._syncing = False

    def _on_document_selection(self, ids: list[str]) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            wanted = set(ids)
            for item in self.selectedItems():
                if not (isinstance(item, NodeItem) and item.node_id in wanted):
                    item.setSelected(False)
            for node_id in ids:
                item = self._nodes.get(node_id)
                if item is not None:
                    item.setSelected(True)
        finally:
            self._syncing = False

    def select_nodes(self, ids: Iterable[str]) -> None:
        self.document.set_selection(list(ids))

    # -- gestures -------------------------------------------------------------------
    def cancel_gesture(self) -> None:
        gesture, self.gesture = self.gesture, None
        if gesture is not None:
            gesture.cancel()
            grabber = self.mouseGrabberItem()
            if grabber is not None:
                grabber.ungrabMouse()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton and self.gesture is None:
            item = self.itemAt(event.scenePos(), QTransform())
            if isinstance(item, PortItem):
                self.gesture = NewWireGesture(self, item)
                self.gesture.start(event)
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self.gesture is None:
            item = self.itemAt(event.scenePos(), QTransform())
            if isinstance(item, NodeItem) and item.isSelected():
                moving = [i for i in self.selectedItems() if isinstance(i, NodeItem)]
                self.gesture = MoveGesture(self, moving)
                self.gesture.start(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 - Qt API
        if isinstance(self.gesture, NewWireGesture):
            self.gesture.update(event)
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self.gesture is not None:
            self.gesture.update(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 - Qt API
        gesture = self.gesture
        if isinstance(gesture, NewWireGesture) and event.button() == Qt.MouseButton.LeftButton:
            self.gesture = None
            gesture.end(event)
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if gesture is not None and event.button() == Qt.MouseButton.LeftButton:
            self.gesture = None
            gesture.end(event)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802 - Qt API
        if self.itemAt(event.scenePos(), QTransform()) is None and event.button() == Qt.MouseButton.LeftButton:
            self.quickAddRequested.emit(event.scenePos())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Escape and self.gesture is not None:
            self.cancel_gesture()
            event.accept()
            return
        super().keyPressEvent(event)
