"""How a project looks when it opens: framed, with room for its wires, key values readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF

from studio.graph.model import Edge, Graph, Node
from studio.project.io import save_project
from studio.project.model import Project
from studio.ui.canvas.labels import key_labels
from studio.ui.canvas.layout import NODE_WIDTH, hides_wires, spread_positions
from studio.ui.canvas.node_item import PAD, _font
from studio.ui.canvas.view import READABLE_ZOOM
from tests.ui.waiting import settle

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "projects" / "shapes-cnn.studio.json"


def _visible(window) -> QRectF:
    view = window.view
    return view.mapToScene(view.viewport().rect()).boundingRect()


def _settle(qtbot) -> None:
    settle(qtbot)  # the view is framed on the next event-loop turn


def test_the_example_opens_at_its_start_with_room_for_its_wires(window, qtbot):
    before = EXAMPLE.read_bytes()
    assert window.files.open(EXAMPLE, ask=False)
    _settle(qtbot)
    graph = window.document.graph
    items = {n.id: window.scene.node_item(n.id) for n in graph.nodes}
    first = items[graph.input_nodes()[0].id]
    assert _visible(window).contains(first.sceneBoundingRect())  # not cut off at the left
    assert READABLE_ZOOM <= window.view.zoom() <= 1.0
    # Wired neighbours on a row are at least 60 px apart, and no wire hides behind a layer.
    for e in graph.edges:
        a, b = items[e.source].pos(), items[e.target].pos()
        if abs(a.y() - b.y()) < 1 and b.x() > a.x():
            assert b.x() - (a.x() + NODE_WIDTH) >= 60
    assert not hides_wires(graph)
    # Nothing to save: the file is untouched and the window is not marked modified.
    assert not window.document.is_dirty and EXAMPLE.read_bytes() == before


def test_a_small_project_opens_whole_at_most_100_percent(window, qtbot, tmp_path):
    graph = Graph()
    a = graph.add_node(Node("Input", {"batch_shape": [None, 4]}, position=(0, 0)))
    b = graph.add_node(Node("Dense", {"units": 8}, position=(300, 0)))
    graph.connect(Edge(a.id, b.id))
    path = tmp_path / "small.studio.json"
    save_project(Project(graph, name="small"), path)
    assert window.files.open(path, ask=False)
    _settle(qtbot)
    assert window.view.zoom() == pytest.approx(1.0)
    seen = _visible(window)
    for item in window.scene.node_items():
        assert seen.contains(item.sceneBoundingRect())
    assert json.loads(path.read_text())["graph"]["nodes"][1]["position"] == [300.0, 0.0]  # spaced: left alone


def test_framing_follows_window_resizes_until_the_user_zooms(window, qtbot):
    assert window.files.open(EXAMPLE, ask=False)
    _settle(qtbot)
    first = window.scene.node_item(window.document.graph.input_nodes()[0].id)
    window.resize(900, 600)
    _settle(qtbot)
    assert _visible(window).contains(first.sceneBoundingRect())
    window.view.zoom_in()
    zoom = window.view.zoom()
    window.resize(1300, 800)
    _settle(qtbot)
    assert window.view.zoom() == pytest.approx(zoom)


def test_cramped_rows_are_spread_and_stacked_nodes_left_alone():
    graph = Graph()
    ids = [graph.add_node(Node("Dense", position=(220.0 * i, 40.0))).id for i in range(4)]
    for s, t in zip(ids, ids[1:]):
        graph.connect(Edge(s, t), check_shapes=False)
    spread = spread_positions(graph)
    xs = [spread.get(i, graph.node(i).position)[0] for i in ids]
    assert all(b - a - NODE_WIDTH >= 60 for a, b in zip(xs, xs[1:]))
    assert all(spread.get(i, graph.node(i).position)[1] == 40.0 for i in ids)  # rows stay rows
    for nid, pos in spread.items():
        graph.node(nid).position = pos
    assert spread_positions(graph) == {}  # once is enough

    stacked = Graph()
    a = stacked.add_node(Node("Dense", position=(0, 0)))
    b = stacked.add_node(Node("Dense", position=(0, 150)))
    stacked.connect(Edge(a.id, b.id), check_shapes=False)
    assert spread_positions(stacked) == {}


def test_a_skip_connection_on_one_row_counts_as_hidden():
    graph = Graph()
    ids = [graph.add_node(Node("Dense", position=(280.0 * i, 0))).id for i in range(3)]
    graph.connect(Edge(ids[0], ids[1]), check_shapes=False)
    graph.connect(Edge(ids[1], ids[2]), check_shapes=False)
    assert not hides_wires(graph)
    add = graph.add_node(Node("Add", position=(280.0 * 3, 0)))
    graph.connect(Edge(ids[2], add.id, 0, 0), check_shapes=False)
    graph.connect(Edge(ids[0], add.id, 0, 1), check_shapes=False)  # runs behind ids[1] and ids[2]
    assert hides_wires(graph)


@pytest.mark.parametrize("type_id, params, facts", [
    ("Conv2D", {"filters": 128, "kernel_size": [3, 3], "activation": "relu"}, ["128 filters", "3×3", "relu"]),
    ("Dense", {"units": 128, "activation": "softmax"}, ["128 units", "softmax"]),
    ("MaxPooling2D", {"pool_size": [3, 3], "strides": [2, 2]}, ["3×3", "stride 2"]),
    ("LSTM", {"units": 64, "return_sequences": True}, ["64", "seq"]),
    ("MultiHeadAttention", {"num_heads": 8, "key_dim": 32}, ["8 heads"]),
    ("Embedding", {"input_dim": 10000, "output_dim": 128}, ["10000", "128"]),
])
def test_key_values_fit_on_the_node(qtbot, type_id, params, facts):
    from studio.graph.catalog import default_catalog

    spec = default_catalog().get(type_id)
    long, short = key_labels(spec, params)
    room = NODE_WIDTH - 2 * PAD - 6 - QFontMetricsF(_font(8.5, bold=True)).horizontalAdvance(spec.class_name)
    shown = next((t for t in (long, short) if QFontMetricsF(_font(8.5)).horizontalAdvance(" · " + t) <= room), None)
    assert shown is not None, (long, short)
    for fact in facts:
        assert fact in shown


def test_default_values_are_left_out_of_the_key_line():
    from studio.graph.catalog import default_catalog

    catalog = default_catalog()
    long, _ = key_labels(catalog.get("MaxPooling2D"), {"pool_size": [2, 2]})  # strides None = pool size
    assert "stride" not in long
    long, _ = key_labels(catalog.get("Dense"), {"units": 4})  # linear activation
    assert long == "4 units"
