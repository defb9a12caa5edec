"""Small projects and raw project dicts shared by the project and CLI tests.

Only Input, Dense, Activation and Embedding are used (the first layer specs),
plus opaque types the catalog does not know, so these tests do not depend on
the rest of the catalog."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from studio.graph import Edge, Graph, Node
from studio.project import FORMAT, VERSION, Project


def sample_graph() -> Graph:
    """Input(20) -> Dense(16, relu) -> Dense(3, softmax), plus a frozen Activation branch."""
    g = Graph()
    x = g.add_node(Node("Input", {"batch_shape": [None, 20]}, title="features", id="in", position=(0, 0)))
    h = g.add_node(Node("Dense", {"units": 16, "activation": "relu"}, title="hidden", id="h", position=(220, 0)))
    o = g.add_node(Node("Dense", {"units": 3, "activation": "softmax"}, title="classes", id="out",
                        position=(440, 0), trainable=False))
    g.connect(Edge(x.id, h.id))
    g.connect(Edge(h.id, o.id))
    return g


def sample_project() -> Project:
    return Project(
        graph=sample_graph(),
        name="sample",
        description="a small classifier",
        dataset={"kind": "csv", "path": "iris.csv", "target": "species"},
        training={"epochs": 3, "batch_size": 16},
        ui={"zoom": 1.25},
        assets={"weights": "sample.weights.h5"},
    )


def raw_project(**overrides) -> dict:
    """A valid project dict (as read from a file), with top-level overrides."""
    data = {
        "format": FORMAT,
        "version": VERSION,
        "name": "raw",
        "graph": copy.deepcopy(RAW_GRAPH),
    }
    data.update(overrides)
    return data


RAW_GRAPH = {
    "nodes": [
        {"id": "in", "type": "Input", "title": "features", "params": {"batch_shape": [None, 8]},
         "position": [0, 0], "trainable": True},
        {"id": "d1", "type": "Dense", "title": "hidden", "params": {"units": 4}, "position": [200, 0],
         "trainable": True},
        {"id": "d2", "type": "Dense", "title": "out", "params": {"units": 2, "activation": "softmax"},
         "position": [400, 0], "trainable": True},
    ],
    "edges": [
        {"source": "in", "source_port": 0, "target": "d1", "target_port": 0},
        {"source": "d1", "source_port": 0, "target": "d2", "target_port": 0},
    ],
}


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
