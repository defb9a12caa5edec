"""File > Open of a small project with a big weights file reads the weights off the GUI thread."""
from __future__ import annotations

import threading

import numpy as np

from studio.graph.model import Edge, Graph, Node
from studio.project.io import save_project
from studio.project.model import Project
from studio.project.weights import WeightEntry, weights_file_for
from studio.ui import main_window


def _saved_project(tmp_path, units: int) -> tuple:
    graph = Graph()
    graph.add_node(Node("Input", {"batch_shape": [None, 1100]}, id="in"))
    graph.add_node(Node("Dense", {"units": units}, id="wide"))
    graph.connect(Edge("in", "wide"))
    project = Project(graph, name="weighted")
    kernel = np.random.default_rng(0).standard_normal((1100, units)).astype(np.float32)
    project.weights.set("wide", WeightEntry.of([kernel, np.zeros(units, np.float32)]))
    path = tmp_path / "weighted.studio.json"
    save_project(project, path)
    return path, kernel


def _threads_reading(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = main_window.load_project

    def load(path, *args, **kwargs):
        seen.append(threading.current_thread().name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(main_window, "load_project", load)
    return seen


def test_big_weights_are_read_while_the_window_answers(window, tmp_path, monkeypatch):
    path, kernel = _saved_project(tmp_path, units=1024)  # 4.5 MB of weights, a 1 KB project
    assert weights_file_for(path).stat().st_size > main_window.BIG_WEIGHTS
    seen = _threads_reading(monkeypatch)
    assert window.files.open(path, ask=False)
    assert seen == ["studio-read"]
    entry = window.document.project.weights.get("wide")
    assert np.array_equal(np.frombuffer(entry.arrays[0].data, np.float32).reshape(kernel.shape), kernel)


def test_small_weights_are_read_at_once(window, tmp_path, monkeypatch):
    path, _ = _saved_project(tmp_path, units=4)
    seen = _threads_reading(monkeypatch)
    assert window.files.open(path, ask=False)
    assert seen == [threading.main_thread().name]
    assert window.document.project.weights.get("wide") is not None
