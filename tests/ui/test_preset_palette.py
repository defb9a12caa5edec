"""'KerasHub preset…' in the palette: the dialog, loading in the background, one message on the node."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox

from studio.compiler.keras_build import build_model
from studio.compiler.plan import make_plan
from tests.hub.presets import CHANNELS, SIZE, preset_fixture
from tests.ui.test_transfer_palette import _double_click, _errors, _hub_dialog

pytest.importorskip("keras_hub")

preset = preset_fixture(converter=True)


def _add_preset(window, qtbot, text: str) -> str:
    """Double-click 'KerasHub preset…', type the folder, press Add preset; the new node's id."""
    _double_click(window, window.palette.item("KerasHubPreset"))
    dialog = _hub_dialog(qtbot)
    assert dialog.windowTitle() == "Add a KerasHub preset"
    QTest.keyClicks(dialog.edit, text)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.text() == "Add preset"
    QTest.mouseClick(ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(n.type == "KerasHubPreset" for n in window.document.graph.nodes))
    return next(n.id for n in window.document.graph.nodes if n.type == "KerasHubPreset")


def _input(window):
    window.add_layer_after_selection("Input")
    graph = window.document.graph
    graph.set_param(graph.nodes[0].id, "batch_shape", [None, SIZE, SIZE, 3])
    window.document.refresh_report()
    return graph


def test_preset_from_the_palette_is_loaded_in_the_background(window, qtbot, preset):
    graph = _input(window)
    node_id = _add_preset(window, qtbot, str(preset))
    assert graph.node(node_id).params["preset"] == str(preset)
    assert [e.target for e in graph.edges] == [node_id]  # wired at once: it is loaded for that input
    qtbot.waitUntil(lambda: graph.node(node_id).params.get("feature_shape") is not None, timeout=90_000)
    report = window.document.report
    assert tuple(report.outputs[node_id][0]) == (None, CHANNELS) and not _errors(window, node_id)
    model = build_model(make_plan(graph))
    layer = model.get_layer(index=1)
    trainable = int(sum(np.prod(w.shape) for w in layer.trainable_weights))
    assert report.params[node_id] == (trainable, int(sum(np.prod(w.shape) for w in layer.non_trainable_weights)))
    assert graph.node(node_id).params["rescale"] is not None  # the preset's image scaling, found
    # Freezing its first layers moves their parameters to non-trainable on the node, as Keras counts them.
    graph.set_param(node_id, "freeze_up_to", 5)
    window.document.refresh_report()
    frozen = window.document.report.params[node_id]
    assert frozen[0] < trainable and sum(frozen) == sum(report.params[node_id])
    # One undo step takes the loaded facts back.
    graph.set_param(node_id, "freeze_up_to", 0)
    window.document.undo_stack.undo()
    assert graph.node(node_id).params.get("feature_shape") is None


def test_folder_that_is_not_a_preset_is_one_message_on_the_node(window, qtbot, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    _input(window)
    node_id = _add_preset(window, qtbot, str(tmp_path))
    qtbot.waitUntil(lambda: any("not a KerasHub preset folder" in m for m in _errors(window, node_id)),
                    timeout=90_000)
    assert len(_errors(window, node_id)) == 1


def test_empty_preset_is_refused_in_the_dialog(window, qtbot):
    _double_click(window, window.palette.item("KerasHubPreset"))
    dialog = _hub_dialog(qtbot)
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "preset is empty" in dialog.error.text()
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert not window.document.graph.nodes


def test_opening_a_project_that_names_a_preset_asks_before_loading_it(window, qtbot, tmp_path, preset):
    from studio.graph.model import Node
    from studio.project.io import save_project
    from studio.project.model import Project
    from tests.compiler.graphs import Builder
    from tests.ui.test_transfer_palette import _answer_trust

    b = Builder()
    x = b.input(SIZE, SIZE, 3, title="images")
    base = b.graph.add_node(Node(type="KerasHubPreset", params={"preset": str(preset)}, title="base")).id
    b.chain(x, base)
    path = tmp_path / "preset.studio.json"
    save_project(Project(graph=b.graph, name="preset"), path)
    seen: list = []
    _answer_trust(qtbot, "no", seen)
    window.files.open(path)
    qtbot.waitUntil(lambda: bool(seen) and window.document.path is None)
    assert seen == [[str(preset)]] and not window.document.graph.nodes  # refused: nothing loaded
    _answer_trust(qtbot, "yes", seen)
    window.files.open(path)
    qtbot.waitUntil(lambda: len(seen) == 2 and window.document.graph.has_node(base))
    graph = window.document.graph
    qtbot.waitUntil(lambda: graph.node(base).params.get("feature_shape") is not None, timeout=90_000)
    assert tuple(window.document.report.outputs[base][0]) == (None, CHANNELS)


def test_the_dialog_completes_well_known_preset_names_and_the_palette_explains_them(window, qtbot):
    tip = window.palette.item("KerasHubPreset").toolTip(0)
    assert "resnet_50_imagenet" in tip and "ImageNet-1k" in tip and "token ids" in tip
    _double_click(window, window.palette.item("KerasHubPreset"))
    dialog = _hub_dialog(qtbot)
    QTest.keyClicks(dialog.edit, "resnet_5")
    completer = dialog.edit.completer()
    qtbot.waitUntil(lambda: completer.completionCount() >= 1)
    assert completer.currentCompletion() == "resnet_50_imagenet"
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
