"""Big projects on the canvas (issue 11, point 4): built in chunks, every node
and wire mirrored, far zoom drawn simply, an edit touching only its nodes.
Speeds live in bench/bench_canvas_open.py; these tests wait for conditions."""

from __future__ import annotations

import json

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from studio.graph.edits import Connect, RemoveNode, SetParam
from studio.graph.model import Edge
from studio.ui.canvas.edge_item import EdgeItem, clipped_wire, wire_path
from studio.ui.canvas.node_item import SIMPLE_BELOW, NodeItem
from studio.ui.canvas.scene import SYNC_ITEMS

WAIT_MS = 120_000  # bounds a hang only


def project_file(tmp_path, n: int, shape: str):
    """A chain Input -> Dense -> ... or a fan-in Input -> n-2 Dense -> Concatenate."""
    nodes = [{"id": "in", "type": "Input", "params": {"batch_shape": [None, 16]}, "position": [0, 0]}]
    edges = []
    if shape == "chain":
        for i in range(n - 1):
            nodes.append({"id": f"d{i}", "type": "Dense", "params": {"units": 16}, "position": [280 * (i + 1), 0]})
            edges.append({"source": "in" if i == 0 else f"d{i - 1}", "target": f"d{i}"})
    else:
        for i in range(n - 2):
            nodes.append({"id": f"d{i}", "type": "Dense", "params": {"units": 4}, "position": [280, 120 * i]})
            edges.append({"source": "in", "target": f"d{i}"})
            edges.append({"source": f"d{i}", "target": "cat", "target_port": i})
        nodes.append({"id": "cat", "type": "Concatenate", "params": {}, "position": [560, 0]})
    path = tmp_path / f"{shape}{n}.studio.json"
    path.write_text(json.dumps({"format": "network-studio-project", "version": 1, "name": f"{shape}{n}",
                                "graph": {"nodes": nodes, "edges": edges}}))
    return path


def open_big(window, qtbot, path) -> None:
    assert window.files.open(path, ask=False)
    assert window.scene.building  # too big to mirror at once: the event loop runs meanwhile
    qtbot.waitUntil(lambda: not window.scene.building, timeout=WAIT_MS)


def assert_mirrors(scene, graph) -> None:
    assert {i.node_id for i in scene.node_items()} == {n.id for n in graph.nodes}
    assert {i.edge for i in scene.edge_items()} == set(graph.edges)
    for item in scene.edge_items():
        start, end = item.endpoints()
        assert item.path().pointAtPercent(0) == start and item.path().pointAtPercent(1) == end


def test_a_2000_node_chain_opens_with_every_node_and_wire(window, qtbot, tmp_path):
    path = project_file(tmp_path, 2000, "chain")
    with qtbot.waitSignal(window.scene.built, timeout=WAIT_MS):
        assert window.files.open(path, ask=False)
        assert window.scene.building
    graph = window.document.graph
    assert len(graph.nodes) == 2000 > SYNC_ITEMS // 2
    assert_mirrors(window.scene, graph)
    # each node shows its shape from the report, each wired port is filled
    last = window.scene.node_item("d1998")
    assert last.view.shape == "(None, 16)" and last.inputs[0].connected
    # the chain is 560,000 px long: the canvas scrolls to its end
    assert window.scene.sceneRect().contains(last.sceneBoundingRect())
    assert not window.document.is_dirty


def test_a_2000_node_fan_in_wires_every_port_of_its_merge(window, qtbot, tmp_path):
    open_big(window, qtbot, project_file(tmp_path, 2000, "wide"))
    graph = window.document.graph
    assert_mirrors(window.scene, graph)
    cat = window.scene.node_item("cat")
    assert len(cat.inputs) == 1999  # 1998 wired and one free for the next input
    assert all(p.connected for p in cat.inputs[:-1]) and not cat.inputs[-1].connected
    wire = window.scene.edge_item(Edge("d1500", "cat", 0, 1500))
    assert wire.endpoints()[1] == cat.inputs[1500].scenePos()


def test_edits_while_the_graph_is_being_built_are_mirrored(window, qtbot, tmp_path):
    assert window.files.open(project_file(tmp_path, 2000, "wide"), ask=False)
    assert window.scene.building
    doc = window.document
    assert doc.push(RemoveNode("d7"))
    assert doc.push(Connect(Edge("d1990", "cat", 0, 1998)))  # cat's last, free port
    qtbot.waitUntil(lambda: not window.scene.building, timeout=WAIT_MS)
    assert_mirrors(window.scene, doc.graph)
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: window.scene.node_item("d7") is not None)
    assert_mirrors(window.scene, doc.graph)


def test_an_edit_after_opening_redraws_only_the_nodes_it_changes(window, qtbot, tmp_path):
    open_big(window, qtbot, project_file(tmp_path, 2000, "chain"))
    scene, doc = window.scene, window.document
    items = {i.node_id: i for i in scene.node_items()}
    views = {k: i.view for k, i in items.items()}
    wires = set(scene.edge_items())
    assert doc.push(SetParam("d1000", "units", 7))
    qtbot.waitUntil(lambda: items["d1000"].view.key_line.startswith("7 units"))
    changed = {k for k, i in items.items() if i.view is not views[k]}
    assert changed == {"d1000", "d1001"}  # its own shape, and the next layer's parameter count
    # the same items: no rebuild
    assert {i.node_id: i for i in scene.node_items()} == items and set(scene.edge_items()) == wires
    assert items["d1001"].view.params == "128 params"  # 7 inputs x 16 units + 16 biases


def paint_at(item, scale: float) -> QImage:
    image = QImage(400, 300, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.scale(scale, scale)
    option = QStyleOptionGraphicsItem()
    option.exposedRect = item.boundingRect()
    painter.translate(-item.boundingRect().topLeft())
    item.paint(painter, option, None)
    painter.end()
    return image


def test_far_zoom_draws_nodes_as_blocks_and_wires_as_lines(window, qtbot, tmp_path):
    open_big(window, qtbot, project_file(tmp_path, 2000, "chain"))
    node = window.scene.node_item("d3")
    wire = next(iter(node.edges))
    assert isinstance(node, NodeItem) and isinstance(wire, EdgeItem)
    for scale, simple in ((1.0, False), (SIMPLE_BELOW + 0.05, False), (SIMPLE_BELOW - 0.05, True), (0.1, True)):
        paint_at(node, scale)
        paint_at(wire, scale)
        assert node.painted_simple is simple and wire.painted_simple is simple, scale
    # the view zoomed far out paints through the same branch (Fit to view stops at a readable zoom)
    window.view.set_zoom(0.1 / window.view.zoom())
    window.view.viewport().repaint()
    seen = window.scene.nodes_in(window.scene.visible_rect())
    assert seen and all(i.painted_simple for i in seen)
    window.view.reset_zoom()
    window.view.center_on_node("d3")
    window.view.viewport().repaint()
    assert not node.painted_simple


def test_a_wire_far_bigger_than_the_view_draws_the_same_curve_cut_to_it():
    start, end = QPointF(200, 40), QPointF(220, 200_040)
    area = QRectF(-100, -100, 1400, 900)
    whole, cut = wire_path(start, end), clipped_wire(start, end, area)
    assert cut.boundingRect().height() < 1200 < whole.boundingRect().height()
    near = [whole.pointAtPercent(j / 50_000) for j in range(4_000)]  # the whole curve up to t = 0.08
    near = [q for q in near if area.adjusted(-20, -20, 20, 20).contains(q)]
    assert near and near[-1].y() > area.bottom()  # it does leave the area at the bottom
    for i in range(101):  # every point of the cut lies on the whole curve
        p = cut.pointAtPercent(i / 100)
        assert area.adjusted(-2, -2, 2, 2).contains(p)
        assert min(abs(p.x() - q.x()) + abs(p.y() - q.y()) for q in near) < 3
