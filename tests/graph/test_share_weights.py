"""Sharing weights when designing (issue 12, point 4): "Share weights with..." makes a node
another call of an existing layer. The rule lives in the model (analyse reports a sharing
that cannot be one layer, on the node, naming what differs); edits keep the shared nodes one
layer (a parameter or freeze change applies to all, deleting the owner hands the layer on),
each undoable; totals count the shared weights once; the file keeps `shares` and `groups`."""

from __future__ import annotations

import json

import pytest

from studio.core.errors import GraphError, ProjectError
from studio.graph import Edge, Graph, Node
from studio.graph.edits import History, RemoveNode, SetParam, SetTrainable, ShareWeights, share_candidates
from studio.graph.inference import analyse
from studio.graph.model import Group
from studio.project import Project, load_project, project_from_dict, save_project
from studio.project.schema import schema_problems


def siamese() -> tuple[Graph, dict[str, str]]:
    """Two inputs, a Dense tower on each, their difference, a Dense head."""
    g = Graph()
    ids = {}
    for key, node in (("a", Node("Input", {"batch_shape": [None, 5]}, "a")),
                      ("b", Node("Input", {"batch_shape": [None, 5]}, "b")),
                      ("ta", Node("Dense", {"units": 4, "activation": "relu"}, "tower_a")),
                      ("tb", Node("Dense", {"units": 4}, "tower_b")),
                      ("diff", Node("Subtract", {}, "diff")),
                      ("head", Node("Dense", {"units": 1}, "head"))):
        g.add_node(node)
        ids[key] = node.id
    for src, dst, port in (("a", "ta", 0), ("b", "tb", 0), ("ta", "diff", 0), ("tb", "diff", 1),
                           ("diff", "head", 0)):
        g.connect(Edge(ids[src], ids[dst], 0, port))
    return g, ids


def test_share_weights_makes_one_layer_and_the_totals_count_it_once():
    g, ids = siamese()
    before = analyse(g).total_params
    assert before == 2 * (5 * 4 + 4) + (4 + 1)
    history = History(g)
    assert ids["ta"] in share_candidates(g, ids["tb"]) and ids["head"] in share_candidates(g, ids["tb"])
    assert share_candidates(g, ids["a"]) == [] and ids["diff"] not in share_candidates(g, ids["tb"])
    history.push(ShareWeights(ids["tb"], ids["ta"]))
    tb = g.node(ids["tb"])
    assert tb.shares == ids["ta"] and tb.params == {"units": 4, "activation": "relu"}  # the owner's layer
    report = analyse(g)
    assert report.ok and report.total_params == before - (5 * 4 + 4)
    assert report.params[ids["tb"]] == report.params[ids["ta"]]  # the node still shows its layer's size
    assert share_candidates(g, ids["tb"]) == [ids["head"]]
    history.undo()
    assert tb.shares == "" and tb.params == {"units": 4} and analyse(g).total_params == before
    history.redo()
    assert g.node(ids["tb"]).shares == ids["ta"]


def test_a_change_to_one_call_of_a_shared_layer_changes_every_call_and_undoes():
    g, ids = siamese()
    history = History(g)
    history.push(ShareWeights(ids["tb"], ids["ta"]))
    history.push(SetParam(ids["tb"], "units", 7))
    assert g.node(ids["ta"]).params["units"] == g.node(ids["tb"]).params["units"] == 7
    assert analyse(g).ok
    history.push(SetTrainable(ids["ta"], False))
    assert not g.node(ids["tb"]).trainable
    report = analyse(g)
    assert report.ok and report.non_trainable_params == 5 * 7 + 7
    history.undo()
    history.undo()
    assert g.node(ids["ta"]).params["units"] == g.node(ids["tb"]).params["units"] == 4
    assert g.node(ids["ta"]).trainable and g.node(ids["tb"]).trainable


def test_deleting_the_owner_hands_the_layer_to_the_next_call():
    g, ids = siamese()
    extra = g.add_node(Node("Dense", {"units": 4}, "tower_c"))
    g.connect(Edge(ids["b"], extra.id))
    history = History(g)
    history.push(ShareWeights(ids["tb"], ids["ta"]))
    history.push(ShareWeights(extra.id, ids["tb"]))  # the owner of tb's layer, not tb itself
    assert g.node(extra.id).shares == ids["ta"]
    history.push(RemoveNode(ids["ta"]))
    assert g.node(ids["tb"]).shares == "" and g.node(extra.id).shares == ids["tb"]
    history.undo()
    assert g.node(ids["tb"]).shares == ids["ta"] and g.node(extra.id).shares == ids["ta"]


@pytest.mark.parametrize("change, words", [
    (lambda g, ids: g.set_param(ids["tb"], "units", 9), "its parameters differ (units)"),
    (lambda g, ids: g.set_trainable(ids["tb"], False), "only one of them is frozen"),
    (lambda g, ids: g.set_param(ids["b"], "batch_shape", [None, 6]), "parameters instead of"),
    (lambda g, ids: g.set_shares(ids["head"], ids["tb"]), "which itself shares"),
    (lambda g, ids: g.set_shares(ids["diff"], ids["ta"]), "only layers of the same type can share"),
])
def test_a_sharing_that_cannot_be_one_layer_is_an_error_on_the_node(change, words):
    g, ids = siamese()
    History(g).push(ShareWeights(ids["tb"], ids["ta"]))
    change(g, ids)
    errors = analyse(g).errors
    assert errors and any(words in d.message for d in errors), [d.message for d in errors]
    assert all(d.node in (ids["tb"], ids["head"], ids["diff"]) for d in errors)


def test_sharing_with_another_type_or_itself_is_refused():
    g, ids = siamese()
    with pytest.raises(GraphError, match="only layers of the same type"):
        ShareWeights(ids["diff"], ids["ta"]).apply(g)
    with pytest.raises(GraphError, match="itself"):
        g.set_shares(ids["ta"], ids["ta"])
    assert g.node(ids["diff"]).shares == ""


def test_a_missing_owner_is_an_error_not_a_crash():
    g, ids = siamese()
    g.set_shares(ids["tb"], ids["ta"])
    g.set_param(ids["tb"], "activation", "relu")
    g.remove_node(ids["ta"])  # not through the edit: the node is left pointing at nothing
    assert any("no longer in the graph" in d.message for d in analyse(g).errors)


def test_shares_and_groups_are_saved_and_loaded(tmp_path):
    g, ids = siamese()
    History(g).push(ShareWeights(ids["tb"], ids["ta"]))
    g.add_group(Group("grp1", "tower", [ids["ta"], ids["tb"], "gone"], collapsed=True))
    path = save_project(Project(graph=g, name="s"), tmp_path / "s.studio.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert schema_problems(data) == []
    assert data["graph"]["groups"] == [{"id": "grp1", "name": "tower", "members": [ids["ta"], ids["tb"]],
                                        "collapsed": True}]
    loaded = load_project(path).graph
    assert loaded.node(ids["tb"]).shares == ids["ta"]
    assert [(gr.name, gr.members, gr.collapsed) for gr in loaded.groups] == [("tower", [ids["ta"], ids["tb"]], True)]
    assert analyse(loaded).total_params == analyse(g).total_params


def test_files_without_sharing_load_as_before_and_bad_records_are_named(tmp_path):
    g, _ = siamese()
    data = Project(graph=g, name="s").to_dict()
    assert "groups" not in data["graph"] and all("shares" not in n for n in data["graph"]["nodes"])
    assert project_from_dict(json.loads(json.dumps(data))).graph == g
    data["graph"]["nodes"][3]["shares"] = 5
    data["graph"]["groups"] = [{"id": "x", "members": "all"}]
    with pytest.raises(ProjectError) as info:
        project_from_dict(data)
    paths = [p for p, _ in info.value.problems]
    assert "$.graph.nodes[3].shares" in paths and "$.graph.groups[0].members" in paths


def test_any_sequence_of_sharing_edits_undoes_to_the_identical_graph():
    """Random ShareWeights / Stop sharing / parameter / freeze / delete edits on three Dense
    calls: undoing them all gives back the identical graph, redoing them the identical result."""
    import random

    for seed in range(25):
        rng = random.Random(seed)
        g, ids = siamese()
        extra = g.add_node(Node("Dense", {"units": 4, "use_bias": False}, "tower_c"))
        g.connect(Edge(ids["b"], extra.id))
        start = g.to_dict()
        history = History(g)
        dense = [ids["ta"], ids["tb"], extra.id]
        for _ in range(8):
            alive = [n for n in dense if g.has_node(n)]
            if not alive:
                break
            node = rng.choice(alive)
            kind = rng.randrange(5)
            if kind == 0 and len(alive) > 1:
                edit = ShareWeights(node, rng.choice([n for n in alive if n != node]))
            elif kind == 1:
                edit = ShareWeights(node, "")
            elif kind == 2:
                edit = SetParam(node, "units", rng.choice([3, 4, 5]))
            elif kind == 3:
                edit = SetTrainable(node, rng.random() < 0.5)
            else:
                edit = RemoveNode(node)
            history.push(edit)
            for n in g.nodes:  # sharing never points at a deleted node or chains
                if n.shares:
                    assert g.has_node(n.shares) and not g.node(n.shares).shares
            errors = [d.message for d in analyse(g).errors if d.node in dense]
            assert not errors, errors
        end = g.to_dict()
        while history.undo():
            pass
        assert g.to_dict() == start
        while history.redo():
            pass
        assert g.to_dict() == end
