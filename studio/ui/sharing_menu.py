"""The canvas menu's "Share weights with" submenu (issue 12, point 4).

A layer node can become another call of an existing layer of the same type: the two nodes
share one set of weights (a shared embedding, siamese towers). The submenu lists the nodes
it can share with (`studio.graph.edits.share_candidates`); "Stop sharing weights" gives the
node its own layer again. Each choice is one undoable `ShareWeights` edit on the document.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMenu

from studio.graph.edits import Batch, SetGroupCollapsed, ShareWeights, share_candidates
from studio.project.weights import SetWeights, WeightEntry

MAX_LISTED = 40  # nodes named in the submenu; a graph with more lists the nearest in graph order


def add_share_menu(menu: QMenu, document: Any, node_id: str) -> QMenu | None:
    """Add "Share weights with" (and "Stop sharing weights" for a node that shares) to `menu`
    for the one selected node; returns the submenu (None when the node holds no layer)."""
    graph = document.graph
    node = graph.node(node_id)
    report = document.report
    candidates = share_candidates(graph, node_id, report)
    if node.shares:
        stop = menu.addAction("Stop sharing weights")
        stop.setStatusTip("This layer gets weights of its own again (Undo shares them again)")
        stop.triggered.connect(lambda: stop_sharing(document, node_id))
    if not candidates and not node.shares:
        spec = graph.spec(node)
        if (spec is not None and (spec.max_inputs == 0 or spec.call_style == "op")) or (
                report is not None and report.params.get(node_id) == (0, 0)):
            return None  # an Input, an operation or a layer without weights: nothing to share
    sub = menu.addMenu("Share weights with")
    sub.setStatusTip("Make this node another call of that layer: one set of weights for both")
    order = {n.id: i for i, n in enumerate(graph.nodes)}
    here = order[node_id]
    shown = sorted(candidates, key=lambda n: abs(order[n] - here))[:MAX_LISTED]
    for other in sorted(shown, key=order.__getitem__):
        action = sub.addAction(graph.label(other))
        action.triggered.connect(lambda _=False, o=other: document.push(ShareWeights(node_id, o)))
    if not candidates:
        none = sub.addAction(f"(no other {node.type} layer)")
        none.setEnabled(False)
    return sub


def stop_sharing(document: Any, node_id: str) -> bool:
    """"Stop sharing weights", one undo step: the node gets a layer of its own, starting from a
    copy of the shared layer's stored weights when there are any (an imported model's)."""
    owner = document.graph.node(node_id).shares
    edits: list = [ShareWeights(node_id, "")]
    store = getattr(document.project, "weights", None)
    entry = store.get(owner) if store is not None and owner else None
    if entry is not None:
        edits.append(SetWeights(store, {node_id: WeightEntry(entry.arrays, entry.origin)}))
    return document.push(Batch(edits, "Stop sharing weights"))


def add_group_menu(menu: QMenu, document: Any, node_id: str | None) -> None:
    """Groups (the layers of a model used as a layer): for a node in groups, "Select group
    'NAME'" selects all its members; on the empty canvas, "Select group" lists every group."""
    graph = document.graph
    groups = graph.groups_of(node_id) if node_id is not None else graph.groups
    groups = [g for g in groups if graph.group_members(g.id)]
    if not groups:
        return
    target = menu if node_id is not None else menu.addMenu("Select group")
    for group in groups[:MAX_LISTED]:
        members = graph.group_members(group.id)
        text = f"{group.name or 'group'} ({len(members)} layer{'s' if len(members) != 1 else ''})"
        action = target.addAction(f"Select group {text}" if node_id is not None else text)
        action.setStatusTip("Select every layer of this nested model")
        action.triggered.connect(lambda _=False, g=group.id: document.set_selection(graph.group_members(g)))
        if node_id is not None:
            fold = target.addAction(f"Collapse group {group.name or 'group'}")
            fold.setStatusTip("Draw this nested model as one node (double-click it to show its layers again)")
            fold.triggered.connect(lambda _=False, g=group.id, n=group.name: document.push(SetGroupCollapsed(g, True, n)))


def add_group_node_menu(menu: QMenu, document: Any, group_id: str) -> None:
    """The menu of a collapsed group's node: "Expand group NAME" (one undo step) and "Select its
    layers" (Cut, Copy and Delete then act on all of them)."""
    graph = document.graph
    group = graph.group(group_id)
    name = group.name or "group"
    expand = menu.addAction(f"Expand group {name}")
    expand.setStatusTip("Show this nested model's layers again (Undo collapses it back)")
    expand.triggered.connect(lambda: document.push(SetGroupCollapsed(group_id, False, name)))
    select = menu.addAction("Select its layers")
    select.setStatusTip("Select every layer of this nested model")
    select.triggered.connect(lambda: document.set_selection(graph.group_members(group_id)))
