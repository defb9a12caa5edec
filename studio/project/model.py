"""The `Project`: graph + dataset spec + training config + UI state.

The dataset and training sections are plain JSON dicts here: their meaning
belongs to `studio.data` and `studio.training`, which parse them. Keeping them
as dicts keeps this package pure and lets a file written by a newer version
keep sections this version does not understand.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from studio.graph.model import Graph
from studio.project.weights import WeightStore

FORMAT = "network-studio-project"
VERSION = 1
SUFFIX = ".studio.json"


@dataclass
class Project:
    graph: Graph
    name: str = "untitled"
    description: str = ""
    dataset: Optional[dict] = None  # studio.data's DatasetSpec as a dict
    training: dict = field(default_factory=dict)  # studio.training's TrainingConfig as a dict
    ui: dict = field(default_factory=dict)  # view, zoom, dock layout...
    # Files kept beside the project, relative to its folder, e.g.
    # {"weights": "resnet.weights.npz"} for a model imported with its weights
    # (older versions wrote a Keras "resnet.weights.h5", still read).
    assets: dict = field(default_factory=dict)
    # Top-level keys of the file this version does not know; written back unchanged.
    unknown: dict = field(default_factory=dict)
    # Keys this version does not know inside "graph", inside a node (by node
    # id) and inside an edge (by `edge_key`): written back unchanged, so a
    # file from a newer version survives a load/save here. Extras of nodes
    # and edges that no longer exist are dropped on save.
    graph_extras: dict = field(default_factory=dict)
    node_extras: dict = field(default_factory=dict)
    edge_extras: dict = field(default_factory=dict)
    path: Optional[Path] = None
    # Per-node weights (imported, from a run, pasted), saved as `assets["weights"]`
    # (`NAME.weights.npz`) beside the project; see studio.project.weights.
    weights: WeightStore = field(default_factory=WeightStore)

    @property
    def folder(self) -> Optional[Path]:
        return self.path.parent if self.path else None

    @property
    def runs_dir(self) -> Optional[Path]:
        """`NAME.runs/` beside `NAME.studio.json`."""
        if self.path is None:
            return None
        return self.path.parent / (project_stem(self.path) + ".runs")

    def asset_path(self, key: str) -> Optional[Path]:
        rel = self.assets.get(key)
        if not rel or self.folder is None:
            return None
        return self.folder / rel

    def graph_dict(self) -> dict[str, Any]:
        """The "graph" section: `Graph.to_dict()` plus the extras kept from the file."""
        graph = self.graph.to_dict()
        for node in graph["nodes"]:
            for key, value in self.node_extras.get(node["id"], {}).items():
                node.setdefault(key, copy.deepcopy(value))
        if self.edge_extras:
            for edge in graph["edges"]:
                for key, value in self.edge_extras.get(edge_key(edge), {}).items():
                    edge.setdefault(key, copy.deepcopy(value))
        for key, value in self.graph_extras.items():
            graph.setdefault(key, copy.deepcopy(value))
        return graph

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "description": self.description,
            "graph": self.graph_dict(),
            "dataset": self.dataset,
            "training": self.training,
            "ui": self.ui,
            "assets": self.assets,
        }
        for key, value in self.unknown.items():
            data.setdefault(key, value)
        return data


def edge_key(edge: dict) -> tuple:
    """How `Project.edge_extras` names an edge record."""
    return (edge["source"], edge.get("source_port", 0), edge["target"], edge.get("target_port", 0))


def project_stem(path: Path) -> str:
    name = Path(path).name
    if name.endswith(SUFFIX):
        return name[: -len(SUFFIX)]
    return Path(name).stem
