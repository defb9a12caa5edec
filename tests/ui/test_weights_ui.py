"""Weights in the window (issue 12): Reset Weights on selected layers and on the whole model,
undoable; a shape-changing edit drops the node's weights in the same undo step; copy and
paste carry the weights; a run's "Use these weights" stores its trained weights."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from studio.graph.edits import SetParam
from studio.graph.model import Edge, Graph, Node
from studio.project.model import Project
from studio.project.weights import PASTED, WeightEntry
from studio.ui.document import ProjectDocument
from tests.ui.conftest import click, node_pos

ARRAYS = {
    "hidden": [np.arange(20, dtype="float32").reshape(4, 5) / 7, np.full(5, 0.123, "float32")],
    "out": [np.linspace(-1, 1, 5, dtype="float32").reshape(5, 1), np.array([0.5], "float32")],
}


def _project(tmp_path) -> Project:
    graph = Graph()
    graph.add_node(Node("Input", {"batch_shape": [None, 4]}, title="features", position=(0, 0), id="features"))
    graph.add_node(Node("Dense", {"units": 5, "activation": "tanh"}, title="hidden", position=(260, 0), id="hidden"))
    graph.add_node(Node("Dense", {"units": 1}, title="out", position=(520, 0), id="out"))
    graph.connect(Edge("features", "hidden"))
    graph.connect(Edge("hidden", "out"))
    project = Project(graph=graph, name="small", path=tmp_path / "small.studio.json")
    for node_id, arrays in ARRAYS.items():
        project.weights.set(node_id, WeightEntry.of(arrays, "imported"))
    return project


@pytest.fixture
def loaded(make_window, tmp_path):
    project = _project(tmp_path)
    window = make_window(ProjectDocument(project))
    return window, project.weights


def _action(menu, text):
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_reset_weights_of_the_selected_layer_from_its_menu_and_undo(qtbot, loaded):
    window, store = loaded
    before = store.get("hidden")
    click(window.view, node_pos(window, "hidden"))
    assert window.document.selection == ["hidden"]
    menu = window.context_menu(window.scene.node_item("hidden").scenePos())
    reset = _action(menu, "Reset weights")
    assert reset.isEnabled()
    reset.trigger()
    assert store.get("hidden") is None and store.get("out") is not None
    assert "Reset the weights of 1 layer" in window.statusBar().currentMessage()
    label = window.findChild(QLabel, "weightsLabel")
    assert label.text() == "stored weights: 1 of 2 layers (imported)"
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert store.get("hidden") is before  # the same arrays back
    assert label.text() == "stored weights: 2 of 2 layers (imported)" and label.isVisible()
    # A layer without stored weights offers no reset.
    store.set("hidden", None)
    assert not _action(window.context_menu(window.scene.node_item("hidden").scenePos()), "Reset weights").isEnabled()


def test_reset_all_weights_from_the_model_menu_and_undo(qtbot, loaded):
    window, store = loaded
    action = next(a for a in window.menus.model.actions() if a.objectName() == "resetAllWeights")
    action.trigger()
    assert store.empty
    assert not window.findChild(QLabel, "weightsLabel").isVisible()
    assert window.document.undo_stack.undoText() == "Reset all weights"
    window.document.undo_stack.undo()
    assert set(store.entries) == {"hidden", "out"}
    assert store.get("hidden").arrays[1].data == ARRAYS["hidden"][1].tobytes()


def test_a_shape_changing_edit_drops_the_weights_in_the_same_undo_step(qtbot, loaded):
    window, store = loaded
    document = window.document
    assert document.push(SetParam("hidden", "activation", "relu"))  # shapes unchanged: weights kept
    assert set(store.entries) == {"hidden", "out"}
    depth = document.undo_stack.count()
    assert document.push(SetParam("hidden", "units", 6))  # hidden 4x5 -> 4x6, out 5x1 -> 6x1
    assert document.undo_stack.count() == depth + 1
    assert store.entries == {}
    message = window.statusBar().currentMessage()
    assert "Dropped the stored weights of 'hidden', 'out'" in message
    document.undo_stack.undo()
    assert document.graph.node("hidden").params["units"] == 5
    assert set(store.entries) == {"hidden", "out"}
    document.undo_stack.redo()
    assert store.entries == {} and document.graph.node("hidden").params["units"] == 6


def test_copy_and_paste_carry_the_weights(qtbot, loaded):
    window, store = loaded
    click(window.view, node_pos(window, "hidden"))
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(window.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    (pasted,) = [n.id for n in window.document.graph.nodes if n.id not in ("features", "hidden", "out")]
    entry = store.get(pasted)
    assert entry is not None and entry.origin == PASTED
    assert [a.data for a in entry.arrays] == [a.tobytes() for a in ARRAYS["hidden"]]
    window.document.undo_stack.undo()  # the paste, weights included, is one step
    assert not window.document.graph.has_node(pasted) and store.get(pasted) is None


def test_use_these_weights_stores_a_runs_trained_weights(qtbot, make_window, tmp_path):
    keras = pytest.importorskip("keras")
    from studio.project.io import save_project
    from studio.workflows.train import make_session, training_config

    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.normal(size=(32, 4)).astype("float32"))
    np.save(tmp_path / "y.npy", rng.normal(size=(32, 1)).astype("float32"))
    project = _project(tmp_path)
    project.weights.clear()
    project.dataset = {"kind": "npy", "path": "x.npy", "targets_path": "y.npy", "task": "regression"}
    project.training = {"epochs": 1, "batch_size": 16, "loss": "mean_squared_error", "seed": 0}
    save_project(project)
    result = make_session(project, config=training_config(project)).run()
    assert result.status == "completed", result.message
    trained = keras.saving.load_model(result.run_dir / "best.keras", safe_mode=True, compile=False)
    network = [layer for layer in trained.layers if isinstance(layer, keras.Model)][0]

    window = make_window(ProjectDocument(project), optional_panels=True)
    runs_view = window.panels["TrainingPanel"].runs_view
    runs_view.refresh()
    runs_view.select(result.run_id)
    assert runs_view.weights_button.isEnabled()
    qtbot.mouseClick(runs_view.weights_button, Qt.MouseButton.LeftButton)
    store = project.weights
    qtbot.waitUntil(lambda: len(store.entries) == 2, timeout=60_000)
    assert {e.origin for e in store.entries.values()} == {f"run {result.run_id}"}
    for node_id in ("hidden", "out"):
        expected = network.get_layer(node_id).get_weights()
        assert [a.data for a in store.get(node_id).arrays] == [w.tobytes() for w in expected]
    assert "now hold the weights of run" in window.statusBar().currentMessage()
    window.document.undo_stack.undo()
    assert store.entries == {}


def test_train_in_the_window_says_it_starts_from_the_imported_weights(qtbot, tmp_path):
    pytest.importorskip("keras")
    from studio.project.io import load_project, save_project
    from studio.ui.training.panel import TrainingPanel

    project = _project(tmp_path)
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.normal(size=(32, 4)).astype("float32"))
    np.save(tmp_path / "y.npy", rng.normal(size=(32, 1)).astype("float32"))
    project.dataset = {"kind": "npy", "path": "x.npy", "targets_path": "y.npy", "task": "regression"}
    project.training = {"epochs": 1, "batch_size": 16, "loss": "mean_squared_error", "seed": 0}
    save_project(project)
    panel = TrainingPanel(ProjectDocument(load_project(project.path)))
    qtbot.addWidget(panel)
    said: list[tuple[str, str]] = []
    panel.runner.message.connect(lambda level, text: said.append((level, text)))
    with qtbot.waitSignal(panel.runner.finished, timeout=90_000) as blocker:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].status == "completed", blocker.args[0].message
    assert ("info", "initial weights: imported (2 of 2 layers)") in said
    panel.shutdown()
