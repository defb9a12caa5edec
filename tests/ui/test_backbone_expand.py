"""A backbone node's "Expand to layers" in the window (issue 13, point 2): the node's menu offers it;
the layers replace the node as one collapsed group named after it, one undo step; a backbone that
cannot be expanded says why in one message naming it."""

from __future__ import annotations

import pytest

from studio.ui.document import ProjectDocument
from tests.workflows.test_expand_backbone import _backbone


def _expand_action(window, node_id):
    window.document.set_selection([node_id])
    menu = window.context_menu(window.scene.node_item(node_id).scenePos())
    return next((a for a in menu.actions() if a.text() == "Expand to layers"), None)


def test_only_a_backbones_menu_offers_it_and_a_backbone_without_input_says_why(qtbot, make_window, dialog_log):
    project = _backbone()
    project.graph.disconnect(project.graph.inputs_of("bb")[0])
    window = make_window(ProjectDocument(project))
    assert _expand_action(window, "head") is None
    action = _expand_action(window, "bb")
    assert action is not None and action.isEnabled()
    with qtbot.waitSignal(window.backbone_expander.failed, timeout=60_000) as blocker:
        action.trigger()
    assert "'features': wire an image input" in blocker.args[0]
    assert dialog_log.named("show_error") and window.document.graph.has_node("bb")
    assert window.document.undo_stack.count() == 0


@pytest.mark.slow
def test_expand_to_layers_replaces_the_backbone_by_one_collapsed_group(qtbot, make_window, tmp_path):
    window = make_window(ProjectDocument(_backbone()), size=(1400, 700))
    document = window.document
    before = document.report.total_params
    with qtbot.waitSignal(window.backbone_expander.expanded, timeout=240_000):
        _expand_action(window, "bb").trigger()
    graph = document.graph
    (group,) = graph.groups
    assert not graph.has_node("bb") and group.name == "features" and group.collapsed
    qtbot.waitUntil(lambda: group.id in window.group_frames.nodes)
    node = window.group_frames.nodes[group.id]
    assert node.input_text() == "in (None, 32, 32, 3)" and node.output_text() == "→ (None, 576)"
    assert sum(node.params) == before - sum(document.report.params["head"]) and document.report.total_params == before
    assert document.undo_stack.count() == 1 and document.undo_stack.undoText() == "Expand features to layers"
    qtbot.waitUntil(lambda: window.scene.nodes_bounding_rect().width() < 1000)  # x, the group, head: not its layers
    window.actions_.fit.trigger()
    window.grab().save(str(tmp_path / "expanded-backbone.png"))
    window.actions_.undo.trigger()
    qtbot.waitUntil(lambda: graph.has_node("bb") and not graph.groups)
