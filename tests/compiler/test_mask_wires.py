"""Wires into a call's keyword arguments (`layer(x, mask=m)`): the graph keeps them apart from
the layer's inputs, the project file keeps them, the plan and the generated code pass them as
mask=... (the Keras round trip of such models: test_keras_doc_examples)."""

from __future__ import annotations

import json

import pytest

from studio.compiler.plan import make_plan
from studio.core.errors import PortError
from studio.export.codegen import build_model_source
from studio.graph.inference import analyse
from studio.graph.model import Edge, Graph, Node
from studio.project import load_project
from studio.project.io import dumps_project
from studio.project.model import Project


def masked_graph() -> Graph:
    graph = Graph()
    ids = graph.add_node(Node("Input", {"batch_shape": [None, 7], "dtype": "int32"}, title="ids"))
    emb = graph.add_node(Node("Embedding", {"input_dim": 20, "output_dim": 4}, title="emb"))
    mask = graph.add_node(Node("ops.not_equal", {"constant": 0}, title="valid"))
    lstm = graph.add_node(Node("LSTM", {"units": 3}, title="lstm"))
    graph.connect(Edge(ids.id, emb.id))
    graph.connect(Edge(ids.id, mask.id))
    graph.connect(Edge(emb.id, lstm.id))
    graph.connect(Edge(mask.id, lstm.id, 0, 1, argument="mask"))
    return graph


def _node(graph: Graph, title: str) -> Node:
    return next(n for n in graph.nodes if n.title == title)


def test_a_mask_wire_is_not_an_input_of_the_layer():
    graph = masked_graph()
    lstm = _node(graph, "lstm")
    report = analyse(graph)
    assert not report.errors, [d.message for d in report.errors]
    assert report.outputs[lstm.id] == [(None, 3)]  # one input: the mask is not a second sequence
    assert [e.argument for e in graph.inputs_of(lstm.id)] == ["", "mask"]
    assert len(graph.positional_inputs(lstm.id)) == 1 and len(graph.keyword_inputs(lstm.id)) == 1
    assert [n.title for n in graph.output_nodes()] == ["lstm"]  # the mask feeds something: not an output


def test_only_known_keyword_arguments_and_one_wire_each():
    graph = masked_graph()
    ids, lstm = _node(graph, "ids"), _node(graph, "lstm")
    with pytest.raises(PortError, match="already wired"):
        graph.connect(Edge(ids.id, lstm.id, 0, 2, argument="mask"))
    with pytest.raises(PortError, match="keyword arguments mask"):
        graph.connect(Edge(ids.id, lstm.id, 0, 2, argument="__import__"))
    with pytest.raises(PortError, match="at most 1"):
        graph.connect(Edge(ids.id, lstm.id, 0, 2))  # a plain second input is still refused


def test_the_plan_and_the_script_pass_the_mask_by_keyword():
    graph = masked_graph()
    plan = make_plan(graph, "m")
    lstm = plan.call(_node(graph, "lstm").id)
    assert lstm.inputs == ((_node(graph, "emb").id, 0),)
    assert lstm.keyword_inputs == (("mask", (_node(graph, "valid").id, 0)),)
    source = build_model_source(plan)
    assert "(emb, mask=valid)" in source


def test_the_project_file_keeps_the_mask_wire(tmp_path):
    path = tmp_path / "m.studio.json"
    graph = masked_graph()
    path.write_text(dumps_project(Project(graph=graph, name="m")))
    loaded = load_project(path)
    assert loaded.graph.edges == graph.edges
    [wire] = [e for e in loaded.graph.edges if e.argument]
    assert wire.argument == "mask" and loaded.graph.node(wire.target).title == "lstm"


def test_a_project_file_with_another_keyword_is_refused_naming_the_wire(tmp_path):
    data = json.loads(dumps_project(Project(graph=masked_graph(), name="m")))
    wire = next(e for e in data["graph"]["edges"] if e.get("argument"))
    wire["argument"] = "os.system"
    path = tmp_path / "bad.studio.json"
    path.write_text(json.dumps(data))
    with pytest.raises(Exception) as info:
        load_project(path)
    assert "argument" in str(info.value) and "mask" in str(info.value)
