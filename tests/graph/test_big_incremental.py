"""reanalyse(): after edits on a big graph, the report equals a full analyse, though
only the nodes an edit affects are inferred again."""

from __future__ import annotations

from studio.graph import Edge, Graph, Node, analyse
from studio.graph.edits import AddNode, Connect, Disconnect, RemoveNode, SetParam, SetTitle, SetTrainable
from studio.graph.inference import reanalyse
from studio.graph.model import EdgeAdded, EdgeRemoved, NodeAdded, NodeChanged, NodeRemoved


class Changes:
    """What the edits since the last report touched, as the window's document records it."""

    def __init__(self, graph: Graph) -> None:
        self.nodes: set[str] = set()
        self.structure = False
        graph.events.subscribe(self.on_event)

    def on_event(self, event) -> None:
        if isinstance(event, NodeAdded):
            self.nodes.add(event.node.id)
            self.structure = True
        elif isinstance(event, NodeRemoved):
            self.structure = True
        elif isinstance(event, (EdgeAdded, EdgeRemoved)):
            self.nodes.update((event.edge.source, event.edge.target))
            self.structure = True
        elif isinstance(event, NodeChanged) and event.what != "position":
            self.nodes.add(event.node_id)

    def take(self) -> tuple[set[str], bool]:
        taken = self.nodes, self.structure
        self.nodes, self.structure = set(), False
        return taken


def big_graph(n: int) -> tuple[Graph, list[str]]:
    """An Input, a chain of Dense layers, every 50th one also feeding a Concatenate
    at the end with the chain's last layer."""
    g = Graph()
    ids = [g.add_node(Node("Input", {"batch_shape": [None, 8]}, id="in")).id]
    for i in range(n):
        ids.append(g.add_node(Node("Dense", {"units": 8}, id=f"d{i}", title=f"dense {i}")).id)
        g.connect(Edge(ids[-2], ids[-1]), check_shapes=False)
    cat = g.add_node(Node("Concatenate", {}, id="cat")).id
    taps = ids[1::50] + [ids[-1]]
    for port, source in enumerate(taps):
        g.connect(Edge(source, cat, 0, port), check_shapes=False)
    return g, ids


def same(a, b) -> None:
    assert a.order == b.order
    assert a.outputs == b.outputs and list(a.outputs) == list(b.outputs)
    assert a.inputs == b.inputs
    assert a.params == b.params
    assert a.diagnostics == b.diagnostics
    assert a.total_params == b.total_params


def test_each_edit_on_a_big_graph_gives_the_report_of_a_full_analysis():
    g, ids = big_graph(1500)
    changes = Changes(g)
    report = analyse(g)
    assert report.ok

    def check(edit) -> None:
        nonlocal report
        edit.apply(g)
        changed, structure = changes.take()
        report = reanalyse(g, report, changed, structure)
        same(report, analyse(g))

    mid = ids[700]
    check(SetParam(mid, "units", 5))  # every later shape stays, the next layer's weights change
    assert report.params[ids[701]] == (5 * 8 + 8, 0) and report.outputs[ids[701]] == [(None, 8)]
    check(SetParam(ids[-1], "units", 3))  # the Concatenate's width changes
    assert report.outputs["cat"] == [(None, 8 * 30 + 3)]
    check(SetTitle(ids[300], "renamed"))
    check(SetTrainable(ids[200], False))
    assert report.params[ids[200]] == (0, 72)
    wire = g.inputs_of(ids[900])[0]
    check(Disconnect(wire))  # everything after it loses its shape; errors on the layer
    assert report.outputs[ids[1200]] is None and not report.ok
    assert any(d.node == ids[900] and "has no input" in d.message for d in report.diagnostics)
    check(Connect(wire))
    assert report.ok and report.outputs["cat"] == [(None, 8 * 30 + 3)]
    check(RemoveNode(ids[1000]))
    extra = Node("Dense", {"units": 4}, id="extra")
    check(AddNode(extra))
    check(Connect(Edge(ids[999], "extra")))
    check(Connect(Edge("extra", ids[1001])))
    assert report.ok and report.params[ids[1001]] == (4 * 8 + 8, 0)


def test_a_bad_value_and_its_fix_upstream_reach_every_layer_downstream():
    g, ids = big_graph(600)
    changes = Changes(g)
    report = analyse(g)
    g.set_param(ids[10], "units", -4, validate=False)  # as a file could hold it
    changed, structure = changes.take()
    report = reanalyse(g, report, changed, structure)
    same(report, analyse(g))
    assert report.outputs[ids[10]] is None and report.outputs["cat"] is None
    g.set_param(ids[10], "units", 6)
    changed, structure = changes.take()
    report = reanalyse(g, report, changed, structure)
    same(report, analyse(g))
    assert report.ok and report.params[ids[11]] == (6 * 8 + 8, 0)


def test_several_edits_between_two_reports_give_the_full_report_too():
    g, ids = big_graph(300)
    changes = Changes(g)
    report = analyse(g)
    g.set_param(ids[5], "units", 9)
    g.set_title(ids[250], "late")
    g.disconnect(g.inputs_of(ids[100])[0])
    changed, structure = changes.take()
    report = reanalyse(g, report, changed, structure)
    same(report, analyse(g))
    assert report.params[ids[6]] == (9 * 8 + 8, 0) and report.outputs[ids[150]] is None
