"""The palette's Transfer learning category, the Hub module dialog, background loading, trust."""

from __future__ import annotations

import json
import urllib.error

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from studio.graph.layers.transfer import BACKBONES, CATEGORY
from studio.graph.model import Edge
from studio.hub.resolve import expected_cache_folder
from studio.project.io import load_project, save_project
from studio.project.model import Project
from studio.ui.hub_dialog import HubDialog, TrustDialog
from studio.ui.palette import HUB_LABEL, PRESET_LABEL
from tests.compiler.graphs import Builder
from tests.hub.modules import FEATURES, IMAGE_SIZE, image_feature_vector, module_fixture, text_embedding

image_module = module_fixture(image_feature_vector, "image_feature_vector")
text_module = module_fixture(text_embedding, "text_embedding")


@pytest.fixture(autouse=True)
def _offline_cache(tmp_path, monkeypatch):
    """An empty module cache per test, and no network: a download fails like it does offline."""
    import tensorflow_hub.resolver as hub_resolver

    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub-cache"))

    def offline(self, request):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(hub_resolver.HttpResolverBase, "_call_urlopen", offline)


def _group(window):
    tree = window.palette.tree
    return next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).text(0) == CATEGORY)


def _double_click(window, item) -> None:
    tree = window.palette.tree
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    # A real double-click: a click, then the second press arriving as a double-click.
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())


def _hub_dialog(qtbot) -> HubDialog:
    found = []
    qtbot.waitUntil(lambda: found.extend(w for w in QApplication.topLevelWidgets()
                                         if isinstance(w, HubDialog) and w.isVisible()) or bool(found))
    return found[0]


def _add_module(window, qtbot, handle: str) -> str:
    """Double-click "Hub module…", type the handle, press Add module; the new node's id."""
    _double_click(window, window.palette.item("HubModule"))
    dialog = _hub_dialog(qtbot)
    QTest.keyClicks(dialog.edit, handle)
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(n.type == "HubModule" for n in window.document.graph.nodes))
    return next(n.id for n in window.document.graph.nodes if n.type == "HubModule")


def _errors(window, node_id):
    return [d.message for d in window.document.report.diagnostics if d.node == node_id and d.severity == "error"]


def test_transfer_category_lists_every_backbone_and_hub_module_with_explanations(window):
    group = _group(window)
    labels = [group.child(i).text(0) for i in range(group.childCount())]
    assert labels == [HUB_LABEL, PRESET_LABEL, *BACKBONES]
    for name, spec in BACKBONES.items():
        tip = window.palette.item(f"Backbone:{name}").toolTip(0)
        assert "ImageNet" in tip and f"{spec.default_size}x{spec.default_size}" in tip
        assert "M parameters" in tip and "When to pick it" in tip
    hub_tip = window.palette.item("HubModule").toolTip(0)
    assert "text embedding" in hub_tip and "module cache" in hub_tip
    window.palette.search.setText("efficientnet")
    shown = [group.child(i).text(0) for i in range(group.childCount()) if not group.child(i).isHidden()]
    assert shown == [PRESET_LABEL,  # KerasHub has EfficientNet presets too
                     "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetV2B0"]


def test_double_clicking_a_backbone_adds_that_network(window, qtbot):
    window.add_layer_after_selection("Input")
    window.document.graph.set_param(window.document.graph.nodes[0].id, "batch_shape", [None, 32, 32, 3])
    _double_click(window, window.palette.item("Backbone:EfficientNetB0"))
    qtbot.waitUntil(lambda: any(n.type == "Backbone" for n in window.document.graph.nodes))
    node = next(n for n in window.document.graph.nodes if n.type == "Backbone")
    assert node.params["backbone"] == "EfficientNetB0"
    assert len(window.document.graph.edges) == 1  # wired after the selected Input


def test_hub_module_from_the_palette_is_loaded_in_the_background(window, qtbot, image_module):
    window.add_layer_after_selection("Input")
    graph = window.document.graph
    graph.set_param(graph.nodes[0].id, "batch_shape", [None, IMAGE_SIZE, IMAGE_SIZE, 3])
    node_id = _add_module(window, qtbot, str(image_module))
    assert graph.node(node_id).params["handle"] == str(image_module)
    qtbot.waitUntil(lambda: graph.node(node_id).params.get("output_shape") is not None, timeout=60_000)
    assert [e.target for e in graph.edges] == [node_id]  # wired after the selected Input once its shapes are known
    report = window.document.report
    assert tuple(report.outputs[node_id][0]) == (None, FEATURES)
    assert not _errors(window, node_id)
    assert report.params[node_id] == (3 * 3 * 3 * FEATURES + 3 * FEATURES, 2 * FEATURES)
    # One undo step takes the discovered facts (and the wire) back; one more removes the node.
    window.document.undo_stack.undo()
    assert graph.node(node_id).params.get("output_shape") is None and not graph.edges
    window.document.undo_stack.undo()
    assert not graph.has_node(node_id)


def test_cancelled_dialog_adds_nothing_and_a_bad_handle_is_refused_in_the_dialog(window, qtbot):
    _double_click(window, window.palette.item("HubModule"))
    dialog = _hub_dialog(qtbot)
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "handle is empty" in dialog.error.text()
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert not window.document.graph.nodes


def test_unresolvable_handle_offline_is_one_clear_message_on_the_node(window, qtbot):
    handle = "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5"
    node_id = _add_module(window, qtbot, handle)
    qtbot.waitUntil(lambda: any("cannot be downloaded" in m for m in _errors(window, node_id)), timeout=60_000)
    (message,) = _errors(window, node_id)
    assert str(expected_cache_folder(handle)) in message and "tf-hub-format=compressed" in message
    assert window.hub.job.is_running() is False


def test_folder_that_is_not_a_saved_model_is_one_message_on_the_node(window, qtbot, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    node_id = _add_module(window, qtbot, str(tmp_path))
    qtbot.waitUntil(lambda: any("not a SavedModel folder" in m for m in _errors(window, node_id)), timeout=60_000)
    assert len(_errors(window, node_id)) == 1


def test_module_taking_strings_wired_to_a_float_input_is_one_message(window, qtbot, text_module):
    window.add_layer_after_selection("Input")
    graph = window.document.graph
    graph.set_param(graph.nodes[0].id, "batch_shape", [None])  # one value per sample, but float32
    node_id = _add_module(window, qtbot, str(text_module))
    qtbot.waitUntil(lambda: graph.node(node_id).params.get("input_dtype") == "string", timeout=60_000)
    assert [e.target for e in graph.edges] == [node_id]
    window.document.refresh_report()
    errors = _errors(window, node_id)
    assert len(errors) == 1 and "takes string input" in errors[0] and "is float32" in errors[0]
    source = graph.nodes[0].id
    graph.set_param(source, "dtype", "string")
    window.document.refresh_report()
    qtbot.waitUntil(lambda: not _errors(window, node_id))


def _project_with_module(tmp_path, module) -> object:
    b = Builder()
    x = b.input(IMAGE_SIZE, IMAGE_SIZE, 3)
    hub = b.add("HubModule", handle=str(module))
    b.graph.connect(Edge(x, hub), check_shapes=False)  # not loaded yet: its shapes are unknown
    path = tmp_path / "modules.studio.json"
    save_project(Project(graph=b.graph, name="modules"), path)
    return path


def _answer_trust(qtbot, answer: str, seen: list) -> None:
    def click() -> None:
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, TrustDialog) and w.isVisible()]
        if not dialogs:
            QTimer.singleShot(20, click)
            return
        dialog = dialogs[0]
        seen.append([dialog.list.item(i).text() for i in range(dialog.list.count())])
        QTest.mouseClick(dialog.trust if answer == "yes" else dialog.refuse, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


def test_opening_a_project_that_names_modules_asks_once_before_loading(window, qtbot, tmp_path, image_module):
    path = _project_with_module(tmp_path, image_module)
    seen: list = []
    _answer_trust(qtbot, "no", seen)
    window.files.open(path)
    qtbot.waitUntil(lambda: bool(seen) and window.document.path is None)
    assert seen == [[str(image_module)]]
    assert not window.document.graph.nodes  # not opened: nothing loaded
    assert not window.hub.job.is_running()

    _answer_trust(qtbot, "yes", seen)
    window.files.open(path)
    graph = window.document.graph
    qtbot.waitUntil(lambda: len(seen) == 2 and any(n.type == "HubModule" for n in window.document.graph.nodes))
    hub = next(n for n in window.document.graph.nodes if n.type == "HubModule")
    qtbot.waitUntil(lambda: window.document.graph.node(hub.id).params.get("output_shape") is not None,
                    timeout=60_000)
    # Trusted once: opening it again asks nothing.
    window.files.open(path, ask=False)
    QApplication.processEvents()
    assert len(seen) == 2 and window.document.path == path
    # The file changed on disk to name another module: asked again.
    data = json.loads(path.read_text())
    assert graph is not None and load_project(path).graph.nodes
    for node in data["graph"]["nodes"]:
        if node["type"] == "HubModule":
            node["params"]["handle"] = str(tmp_path)
    path.write_text(json.dumps(data))
    _answer_trust(qtbot, "no", seen)
    window.files.open(path, ask=False)
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert seen[2] == [str(tmp_path)]


def _backbone_with_weights_file(window, qtbot, file) -> str:
    window.add_layer_after_selection("Input")
    graph = window.document.graph
    graph.set_param(graph.nodes[0].id, "batch_shape", [None, 32, 32, 3])
    _double_click(window, window.palette.item("Backbone:MobileNetV2"))
    qtbot.waitUntil(lambda: any(n.type == "Backbone" for n in graph.nodes))
    node = next(n for n in graph.nodes if n.type == "Backbone")
    # the user picks the file in the inspector: the same edits
    graph.set_param(node.id, "weights", "file")
    graph.set_param(node.id, "weights_file", str(file))
    window.document.refresh_report()
    return node.id


def test_corrupt_backbone_weights_file_is_one_message_on_the_node(window, qtbot, tmp_path):
    file = tmp_path / "broken.weights.h5"
    file.write_bytes(b"not an hdf5 file at all")
    node_id = _backbone_with_weights_file(window, qtbot, file)
    qtbot.waitUntil(lambda: bool(_errors(window, node_id)), timeout=120_000)
    (message,) = _errors(window, node_id)
    assert "cannot be loaded into MobileNetV2" in message and str(file) in message and "\n" not in message


def test_mismatched_backbone_weights_file_is_one_message_on_the_node(window, qtbot, tmp_path):
    import keras

    other = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(32, 32, 3))
    file = tmp_path / "other.weights.h5"
    other.save_weights(file)
    node_id = _backbone_with_weights_file(window, qtbot, file)
    qtbot.waitUntil(lambda: bool(_errors(window, node_id)), timeout=120_000)
    (message,) = _errors(window, node_id)
    assert "cannot be loaded into MobileNetV2" in message and "saved from another network" in message
    # Choosing weights 'none' takes the message away.
    window.document.graph.set_param(node_id, "weights", "none")
    window.document.refresh_report()
    qtbot.waitUntil(lambda: not _errors(window, node_id))
