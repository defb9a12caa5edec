"""Files: save and reopen, broken and newer files, unknown layers, failed
saves, autosave recovery, files changed on disk, closing with changes."""

from __future__ import annotations

import json
import os

from PySide6.QtWidgets import QPlainTextEdit

from studio.graph.edits import AddNode, SetParam
from studio.graph.model import Node
from studio.project.io import load_project
from studio.ui import settings


def _edit(window, units=8):
    node = Node("Dense", {"units": units}, title="d", position=(0, 0))
    window.document.push(AddNode(node))
    return node


def test_save_close_reopen_compare(make_window, dialog_log, tmp_path, qtbot):
    window = make_window()
    window.files.new("cnn")
    window.document.push(SetParam(window.document.graph.nodes[1].id, "filters", 24))
    assert window.isWindowModified() and "[*]" in window.windowTitle()
    path = tmp_path / "net.studio.json"
    dialog_log.save_file = path
    window.activateWindow()
    window.actions_.save.trigger()
    assert path.exists() and not window.document.is_dirty and not window.isWindowModified()
    before = window.document.project.to_dict()
    assert window.close()
    assert dialog_log.named("ask_save_changes") == []
    again = make_window()
    assert again.files.open(path)
    after = again.document.project.to_dict()
    assert after["graph"] == before["graph"] and after["name"] == before["name"]
    assert len(again.scene.node_items()) == len(before["graph"]["nodes"])
    assert settings.recent_files()[0] == path.resolve()
    assert path.name in again.menus.recent.actions()[0].text()


def test_broken_file_lists_every_problem_and_opens_nothing(window, dialog_log, tmp_path):
    _edit(window)
    before = window.document.project
    path = tmp_path / "broken.studio.json"
    text = json.dumps({
        "format": "network-studio-project", "version": 1, "name": "b",
        "graph": {"nodes": [{"id": "a", "type": "Dense", "position": "left"}, {"id": "b"}],
                  "edges": [{"source": "a", "target": "ghost"}]},
    })
    path.write_text(text)
    assert not window.files.open(path)
    (call,) = dialog_log.named("show_problems")
    problems = call[1][2]
    assert len(problems) >= 3
    where = " ".join(p[0] for p in problems)
    assert "nodes[0].position" in where and "nodes[1]" in where and "edges[0]" in where
    assert window.document.project is before
    assert path.read_text() == text


def test_newer_version_is_refused(window, dialog_log, tmp_path):
    path = tmp_path / "future.studio.json"
    path.write_text(json.dumps({"format": "network-studio-project", "version": 99, "graph": {}}))
    assert not window.files.open(path)
    (call,) = dialog_log.named("show_problems")
    assert "newer" in call[1][1]


def test_unknown_layer_types_open_marked(window, dialog_log, tmp_path, qtbot):
    path = tmp_path / "custom.studio.json"
    path.write_text(json.dumps({
        "format": "network-studio-project", "version": 1, "name": "custom",
        "graph": {"nodes": [
            {"id": "x", "type": "Input", "params": {"batch_shape": [None, 4]}, "position": [0, 0]},
            {"id": "m", "type": "MyFancyLayer", "params": {"k": 3}, "position": [260, 0]}],
            "edges": [{"source": "x", "target": "m"}]},
    }))
    assert window.files.open(path)
    item = window.scene.node_item("m")
    qtbot.waitUntil(lambda: item.view.severity == "warning")
    assert item.view.opaque and item.view.class_name == "MyFancyLayer"
    window.document.set_selection(["m"])
    config = window.inspector.findChild(QPlainTextEdit, "opaqueConfig")
    assert '"k": 3' in config.toPlainText() and config.isReadOnly()


def test_failed_save_keeps_document_dirty_and_file_intact(window, dialog_log, tmp_path):
    path = tmp_path / "locked.studio.json"
    dialog_log.save_file = path
    _edit(window)
    assert window.files.save_as()
    original = path.read_text()
    os.chmod(path, 0o444)
    try:
        _edit(window, units=99)
        assert not window.files.save()
        assert window.document.is_dirty
        (call,) = dialog_log.named("show_error")
        assert "read-only" in call[1][1]
        assert path.read_text() == original
        # A folder that does not exist: the save fails, the document stays dirty.
        assert not window.files.save_to(tmp_path / "missing" / "x.studio.json")
        assert window.document.is_dirty and window.document.path == path
    finally:
        os.chmod(path, 0o644)


def test_recover_from_autosave_after_a_crash(make_window, dialog_log, tmp_path):
    crashed = make_window()
    path = tmp_path / "work.studio.json"
    dialog_log.save_file = path
    crashed.files.save_as()
    node = _edit(crashed, units=42)
    assert crashed.files.autosaver.autosave()
    expected = crashed.document.project.to_dict()["graph"]
    crashed.files.autosaver.abandon()  # the process dies: nothing is cleaned up

    fresh = make_window()
    assert fresh.files.offer_recovery()
    assert dialog_log.named("ask_restore")
    doc = fresh.document
    assert doc.project.to_dict()["graph"] == expected
    assert doc.graph.node(node.id).params["units"] == 42
    assert doc.is_dirty and doc.path == path
    assert "work" in fresh.windowTitle() and fresh.isWindowModified()
    assert load_project(path).graph.nodes == []  # the file itself was not touched


def test_recovery_brings_back_weights_changed_since_the_save(make_window, dialog_log, tmp_path):
    import numpy as np

    from studio.project.weights import SetWeights, WeightEntry

    crashed = make_window()
    path = tmp_path / "weighted.studio.json"
    dialog_log.save_file = path
    node = _edit(crashed, units=2)
    crashed.files.save_as()
    autosaver = crashed.files.autosaver
    # Unchanged weights need no copy: the project's own file holds them.
    crashed.document.push(SetParam(node.id, "units", 3))
    assert autosaver.autosave() and not autosaver.weights_file.exists()
    kernel = np.full((4, 3), 0.123, np.float32)
    store = crashed.document.project.weights
    crashed.document.push(SetWeights(store, {node.id: WeightEntry.of([kernel, np.zeros(3, np.float32)])}))
    assert autosaver.autosave() and autosaver.weights_file.exists()
    autosaver.abandon()  # the process dies before the user saves

    fresh = make_window()
    assert fresh.files.offer_recovery()
    entry = fresh.document.project.weights.get(node.id)
    assert entry is not None and entry.shapes == [(4, 3), (3,)]
    restored = np.frombuffer(entry.arrays[0].data, np.float32).reshape(4, 3)
    assert np.array_equal(restored, kernel)
    assert not load_project(path).weights.get(node.id)  # the saved project was not touched
    assert not autosaver.weights_file.exists()  # the recovery was taken


def test_clean_close_leaves_no_recovery(make_window, dialog_log):
    window = make_window()
    _edit(window)
    window.files.autosaver.autosave()
    assert window.files.autosaver.project_file.exists()
    assert window.close()  # dialog answers "discard"
    assert not window.files.autosaver.project_file.exists()
    assert not make_window().files.offer_recovery()


def test_file_changed_on_disk_offers_reload(window, dialog_log, tmp_path, qtbot):
    path = tmp_path / "shared.studio.json"
    dialog_log.save_file = path
    _edit(window)
    window.files.save_as()
    data = json.loads(path.read_text())
    data["graph"]["nodes"][0]["params"]["units"] = 77
    path.write_text(json.dumps(data))
    qtbot.waitUntil(lambda: bool(dialog_log.named("ask_reload")), timeout=60_000)
    assert window.document.graph.nodes[0].params["units"] == 77
    window.files.save()  # our own save does not count as a change
    qtbot.wait(300)
    assert len(dialog_log.named("ask_reload")) == 1


def test_closing_with_changes_asks(window, dialog_log):
    _edit(window)
    dialog_log.save_changes = "cancel"
    assert not window.close()
    assert window.isVisible()
    dialog_log.save_changes = "discard"
    assert window.close()
    assert len(dialog_log.named("ask_save_changes")) == 2
