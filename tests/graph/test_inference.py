"""analyse(): shapes, parameter counts and the diagnostics a user sees on the nodes."""

from __future__ import annotations

from studio.graph import Edge, Graph, Node, analyse, format_shape


def chain(graph: Graph, *nodes: Node) -> list[Node]:
    added = [graph.add_node(n) for n in nodes]
    for a, b in zip(added, added[1:]):
        graph.connect(Edge(a.id, b.id), check_shapes=False)
    return added


def test_shapes_and_parameters_of_a_chain():
    g = Graph()
    x, h, o = chain(g, Node("Input", {"batch_shape": [None, 10]}), Node("Dense", {"units": 7}),
                    Node("Dense", {"units": 2, "use_bias": False}))
    report = analyse(g)
    assert report.ok and report.diagnostics == []
    assert report.outputs == {x.id: [(None, 10)], h.id: [(None, 7)], o.id: [(None, 2)]}
    assert report.inputs[o.id] == [(None, 7)]
    assert report.params == {x.id: (0, 0), h.id: (77, 0), o.id: (14, 0)}
    assert report.total_params == 91 and report.trainable_params == 91
    assert report.order == [x.id, h.id, o.id]


def test_a_dangling_input_is_an_error_on_the_node_and_hides_nothing_else():
    g = Graph()
    x, h = chain(g, Node("Input", {"batch_shape": [None, 4]}), Node("Dense", {"units": 3}))
    lonely = g.add_node(Node("Dense", {"units": 2}, title="lonely"))
    report = analyse(g)
    [error] = report.errors
    assert error.node == lonely.id and "'lonely' has no input" in error.message
    assert report.outputs[lonely.id] is None and report.params[lonely.id] is None
    assert report.outputs[h.id] == [(None, 3)]  # the rest is still inferred
    assert report.severity_of(lonely.id) == "error" and report.severity_of(h.id) is None


def test_a_merge_with_too_few_inputs_says_how_many_it_needs():
    g = Graph()
    x, add = chain(g, Node("Input", {"batch_shape": [None, 4]}), Node("Add", title="sum"))
    [error] = analyse(g).for_node(add.id)
    assert error.severity == "error" and "at least 2 inputs" in error.message and "has 1" in error.message


def test_no_input_layer_is_a_model_error():
    g = Graph()
    chain(g, Node("Dense", {"units": 3}), Node("Dense", {"units": 2}))
    report = analyse(g)
    model_errors = [d for d in report.errors if d.node is None]
    assert any("no Input" in d.message for d in model_errors)


def test_an_empty_graph_has_nothing_to_report():
    report = analyse(Graph())
    assert report.ok and report.diagnostics == [] and report.total_params == 0


def test_a_cycle_is_reported_not_raised():
    g = Graph()
    x, a, b = chain(g, Node("Input", {"batch_shape": [None, 4]}), Node("Mystery", title="a"),
                    Node("Mystery", title="b"))
    g._set_edges([*g.edges, Edge(b.id, a.id, 0, 1)])  # only possible behind the rules' back
    report = analyse(g)
    [error] = report.errors
    assert error.node in {a.id, b.id} and "cycle" in error.message and "remove one of the wires" in error.message
    assert report.outputs[a.id] is None and report.params[b.id] is None
    assert not report.ok


def test_a_bad_parameter_is_reported_with_its_key_and_blocks_only_downstream():
    g = Graph()
    x, h, o = chain(g, Node("Input", {"batch_shape": [None, 4]}), Node("Dense", {"units": -5}, title="hidden"),
                    Node("Dense", {"units": 2}, title="out"))
    h2 = g.add_node(Node("Dense", {"units": "x", "activation": 3}, title="both bad"))
    g.connect(Edge(x.id, h2.id))
    report = analyse(g)
    by_node = {}
    for d in report.errors:
        by_node.setdefault(d.node, []).append(d)
    [bad] = by_node[h.id]
    assert bad.key == "units" and "hidden" in bad.message and "at least 1" in bad.message
    assert {d.key for d in by_node[h2.id]} == {"units", "activation"}
    assert o.id not in by_node  # no cascade of errors downstream...
    assert report.outputs[o.id] is None  # ... but its shape is unknown
    assert report.outputs[x.id] == [(None, 4)]


def test_a_shape_error_is_reported_on_the_node():
    g = Graph()
    x, conv = chain(g, Node("Input", {"batch_shape": [None, 10]}),
                    Node("Conv2D", {"filters": 4, "kernel_size": [3, 3]}, title="conv"))
    [error] = analyse(g).errors
    assert error.node == conv.id and error.message.startswith("conv: ") and "4-D" in error.message


def test_dense_after_a_convolution_is_a_warning_suggesting_flatten():
    g = Graph()
    x, conv, d = chain(
        g,
        Node("Input", {"batch_shape": [None, 28, 28, 1]}),
        Node("Conv2D", {"filters": 8, "kernel_size": [3, 3]}),
        Node("Dense", {"units": 10}, title="classifier"),
    )
    report = analyse(g)
    assert report.ok
    [warning] = report.for_node(d.id)
    assert warning.severity == "warning" and "Flatten" in warning.message and "classifier" in warning.message
    assert report.outputs[d.id] == [(None, 26, 26, 10)]
    assert report.params[conv.id] == (3 * 3 * 1 * 8 + 8, 0)

    g2 = Graph()
    chain(g2, Node("Input", {"batch_shape": [None, 28, 28, 1]}), Node("Conv2D", {"filters": 8, "kernel_size": [3, 3]}),
          Node("Flatten"), Node("Dense", {"units": 10}))
    assert analyse(g2).diagnostics == []


def test_a_frozen_node_counts_as_non_trainable():
    g = Graph()
    x, h, o = chain(g, Node("Input", {"batch_shape": [None, 4]}), Node("Dense", {"units": 3}),
                    Node("Dense", {"units": 2}))
    g.set_trainable(h.id, False)
    report = analyse(g)
    assert report.params[h.id] == (0, 15)
    assert report.params[o.id] == (8, 0)
    assert (report.trainable_params, report.non_trainable_params, report.total_params) == (8, 15, 23)


def test_batch_normalization_splits_trainable_and_non_trainable():
    g = Graph()
    x, bn = chain(g, Node("Input", {"batch_shape": [None, 6]}), Node("BatchNormalization"))
    assert analyse(g).params[bn.id] == (12, 12)
    g.set_trainable(bn.id, False)
    assert analyse(g).params[bn.id] == (0, 24)


def test_unknown_layer_types_warn_and_can_get_shapes_from_outside():
    g = Graph()
    x, q, d = chain(g, Node("Input", {"batch_shape": [None, 4]}), Node("QuantumDense", title="q"),
                    Node("Dense", {"units": 2}))
    report = analyse(g)
    [warning] = report.for_node(q.id)
    assert warning.severity == "warning" and "QuantumDense" in warning.message
    assert report.ok and report.outputs[d.id] is None
    report = analyse(g, external={q.id: ([(None, 9)], (40, 0))})
    [info] = report.for_node(q.id)  # only a note that Keras gave the shape
    assert info.severity == "info" and "Keras" in info.message
    assert report.outputs[d.id] == [(None, 2)] and report.params[d.id] == (20, 0)
    assert report.total_params == 60


def test_several_inputs_merge_with_shapes_checked():
    g = Graph()
    a = g.add_node(Node("Input", {"batch_shape": [None, 3]}))
    b = g.add_node(Node("Input", {"batch_shape": [None, 5]}))
    cat = g.add_node(Node("Concatenate"))
    add = g.add_node(Node("Add", title="sum"))
    for port, src in enumerate((a, b)):
        g.connect(Edge(src.id, cat.id, 0, port))
        g.connect(Edge(src.id, add.id, 0, port), check_shapes=False)
    report = analyse(g)
    assert report.outputs[cat.id] == [(None, 8)]
    [error] = report.for_node(add.id)
    assert error.severity == "error" and error.message.startswith("sum: ")


def test_format_shape():
    assert format_shape((None, 28, 28, 1)) == "(None, 28, 28, 1)"
    assert format_shape((None,)) == "(None,)"
    assert format_shape(None) == "?"


def test_a_wire_from_an_output_that_went_away_is_an_error_naming_the_fix():
    from studio.graph import Edge, Graph, Node, analyse

    g = Graph()
    x = g.add_node(Node("Input", {"batch_shape": [None, 5, 3]}))
    lstm = g.add_node(Node("LSTM", {"units": 4, "return_state": True}, title="encoder"))
    state = g.add_node(Node("Dense", {"units": 2}, title="from state"))
    g.connect(Edge(x.id, lstm.id))
    g.connect(Edge(lstm.id, state.id, source_port=1))
    assert analyse(g).ok
    g.set_param(lstm.id, "return_state", False)
    report = analyse(g)
    [error] = report.errors
    assert error.node == state.id and "output 1 of 'encoder'" in error.message and "return_state" in error.message
