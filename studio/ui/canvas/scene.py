"""`CanvasScene`: mirrors the graph as items (STYLE.md 1).

The scene subscribes to the graph's events and adds, removes and moves items
in response; after each (coalesced) report it refreshes what every node shows.
It never changes the graph: gestures end in `document.push(edit)`.
"""

from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
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
from studio.ui.canvas.edge_item import EdgeItem
from studio.ui.canvas.interactions import Gesture, MoveGesture, NewWireGesture
from studio.ui.canvas.labels import key_labels
from studio.ui.canvas.node_item import NodeItem, NodeView, PortItem
from studio.ui.document import ProjectDocument

SCENE_EXTENT = 100_000.0


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
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class CanvasScene(QGraphicsScene):
    """The graph as items; routes mouse gestures; never edits the graph."""

    messageRequested = Signal(str)
    quickAddRequested = Signal(QPointF)
    # A wire dropped on empty canvas: node id, port, from an output?, scene position.
    wireDropped = Signal(str, int, bool, QPointF)

    def __init__(self, document: ProjectDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.snap_to_grid = True
        self.gesture: Gesture | None = None
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[Edge, EdgeItem] = {}
        self._syncing = False
        self._unsubscribe = lambda: None
        self.setSceneRect(QRectF(-SCENE_EXTENT / 2, -SCENE_EXTENT / 2, SCENE_EXTENT, SCENE_EXTENT))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.selectionChanged.connect(self._on_scene_selection)
        document.projectReplaced.connect(self._rebuild)
        document.reportChanged.connect(self.refresh)
        document.selectionChanged.connect(self._on_document_selection)
        self._rebuild()

    # -- lookups ----------------------------------------------------------------
    def node_item(self, node_id: str) -> NodeItem | None:
        return self._nodes.get(node_id)

    def edge_item(self, edge: Edge) -> EdgeItem | None:
        return self._edges.get(edge)

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
        rect = QRectF()
        for item in self._nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def show_message(self, text: str) -> None:
        self.messageRequested.emit(text)

    # -- mirroring the model ----------------------------------------------------
    def _rebuild(self, *_args) -> None:
        self.cancel_gesture()
        self._unsubscribe()
        self._syncing = True
        self.clear()
        self._nodes.clear()
        self._edges.clear()
        graph = self.document.graph
        for node in graph.nodes:
            self._add_node(node)
        for edge in graph.edges:
            self._add_edge(edge)
        self._syncing = False
        self._unsubscribe = graph.events.subscribe(self._on_graph_event)
        self.refresh(self.document.report)

    def _on_graph_event(self, event: GraphEvent) -> None:
        if isinstance(event, NodeAdded):
            self._add_node(event.node)
        elif isinstance(event, NodeRemoved):
            item = self._nodes.pop(event.node.id, None)
            if item is not None:
                if self.gesture is not None:
                    self.cancel_gesture()
                self.removeItem(item)
        elif isinstance(event, EdgeAdded):
            self._add_edge(event.edge)
        elif isinstance(event, EdgeRemoved):
            item = self._edges.pop(event.edge, None)
            if item is not None:
                for end in (item.source, item.target):
                    if item in end.edges:
                        end.edges.remove(item)
                self.removeItem(item)
        elif isinstance(event, NodeChanged) and event.what == "position":
            item = self._nodes.get(event.node_id)
            if item is not None and (item.pos().x(), item.pos().y()) != tuple(event.new):
                item.snap = False
                item.setPos(QPointF(*event.new))
                item.snap = True

    def _add_node(self, node: Node) -> None:
        view = node_view(self.document.graph, node, None, [])
        item = NodeItem(node.id, view)
        item.snap = False
        item.setPos(QPointF(*node.position))
        item.snap = True
        self._nodes[node.id] = item
        self.addItem(item)

    def _add_edge(self, edge: Edge) -> None:
        source, target = self._nodes.get(edge.source), self._nodes.get(edge.target)
        if source is None or target is None:
            return
        item = EdgeItem(edge, source, target)
        source.edges.append(item)
        target.edges.append(item)
        self._edges[edge] = item
        self.addItem(item)

    def refresh(self, report: ShapeReport | None = None) -> None:
        """Update what every node shows from the model and the report."""
        report = report if report is not None else self.document.report
        graph = self.document.graph
        incoming: dict[str, list[Edge]] = {}
        for e in graph.edges:
            incoming.setdefault(e.target, []).append(e)
        diags: dict[str, list] = {}
        for d in report.diagnostics:
            if d.node is not None:
                diags.setdefault(d.node, []).append(d)
        for node in graph.nodes:
            item = self._nodes.get(node.id)
            if item is None:
                continue
            before = (item.view.inputs, item.view.outputs)
            item.set_view(node_view(graph, node, report, incoming.get(node.id, []), diags.get(node.id)))
            if (item.view.inputs, item.view.outputs) != before:
                for edge in item.edges:
                    edge.update_path()
        wired: set[tuple[str, bool, int]] = set()
        for edge in self._edges:
            wired.add((edge.source, True, edge.source_port))
            wired.add((edge.target, False, edge.target_port))
        for node_id, item in self._nodes.items():
            for port in item.inputs + item.outputs:
                connected = (node_id, port.is_output, port.index) in wired
                if connected != port.connected:
                    port.connected = connected
                    port.update()
        for edge, item in self._edges.items():
            outs = report.outputs.get(edge.source)
            shape = format_shape(outs[edge.source_port]) if outs and edge.source_port < len(outs) else "?"
            item.setToolTip(f"{graph.label(edge.source)} → {graph.label(edge.target)}<br>{shape}")

    # -- selection both ways ------------------------------------------------------
    def _on_scene_selection(self) -> None:
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
