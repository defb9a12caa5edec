"""Property: for random valid graphs of catalog layers (branches, merges,
several inputs and outputs, multi-output layers, wrappers), the functional
Keras model built from them survives the whole round trip of the issue:
saved as .keras -> `studio import` -> the check totals equal
`model.count_params()` -> exported Python -> `build_model()` gives the same
layer classes in the same order, the same configs and parameters, and the
same outputs (within 1e-5) once the weights are copied."""

from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from studio.commands.check_cmd import check_result
from studio.compiler.keras_build import build_model
from studio.compiler.keras_import import import_model
from studio.compiler.plan import make_plan
from studio.core.errors import BuildError
from studio.export.codegen import ScriptSettings, generate_script
from studio.graph.catalog import default_catalog
from studio.graph.inference import analyse
from studio.graph.model import Edge, Graph, Node
from tests.export.helpers import assert_same_model, import_script

SINGLE = ["Dense", "Activation", "Dropout", "BatchNormalization", "LayerNormalization", "Conv1D", "Conv2D",
          "MaxPooling2D", "GlobalAveragePooling2D", "Flatten", "LSTM", "GRU", "SimpleRNN", "Bidirectional",
          "TimeDistributed"]
MERGE = ["Add", "Multiply", "Average", "Maximum", "Concatenate"]
SAMPLED = {"units", "filters", "kernel_size", "strides", "padding", "pool_size", "activation", "use_bias",
           "return_sequences", "return_state", "num_heads", "key_dim", "layer", "merge_mode", "rate"}
FAMILIES = {"vector": st.tuples(st.integers(2, 5)),
            "sequence": st.tuples(st.integers(3, 5), st.integers(2, 4)),
            "image": st.tuples(st.integers(4, 7), st.integers(4, 7), st.integers(1, 3))}
_counter = itertools.count()


def _param(draw, p):
    if p.examples:
        return draw(st.sampled_from(p.examples))
    if p.kind == "choice":
        return draw(st.sampled_from(p.choices))
    if p.kind == "bool":
        return draw(st.booleans())
    if p.kind == "activation":
        return draw(st.sampled_from(["relu", "tanh", "linear", "sigmoid"]))
    if p.kind == "ints":
        size = draw(st.integers(1, 2 if p.key == "strides" else 3))
        return [size] * (p.length or 1)
    return p.default


@st.composite
def graphs(draw):
    catalog = default_catalog()
    graph = Graph(catalog)
    family = draw(st.sampled_from(sorted(FAMILIES)))
    for i in range(draw(st.integers(1, 2))):
        shape = draw(FAMILIES[family])
        graph.add_node(Node(type="Input", title=f"in_{i}", params={"batch_shape": [None, *shape]}))

    def pool():
        report = analyse(graph)
        return [((n.id, port), tuple(shape)) for n in graph.nodes
                for port, shape in enumerate(report.outputs.get(n.id) or [])]

    for _ in range(draw(st.integers(2, 6))):
        tensors = pool()
        kind = draw(st.sampled_from(["single", "single", "single", "merge", "attention"]))
        if kind == "merge":
            groups = {}
            for ref, shape in tensors:
                groups.setdefault(shape, []).append(ref)
            pairs = [refs for refs in groups.values() if len(refs) >= 2]
            if not pairs:
                kind = "single"
            else:
                refs = draw(st.sampled_from(pairs))[:2]
                spec = catalog.get(draw(st.sampled_from(MERGE)))
        elif kind == "attention":
            seqs = [ref for ref, shape in tensors if len(shape) == 3]
            if not seqs:
                kind = "single"
            else:
                refs = [draw(st.sampled_from(seqs)), draw(st.sampled_from(seqs))]
                spec = catalog.get("MultiHeadAttention")
        if kind == "single":
            refs = [draw(st.sampled_from([ref for ref, _ in tensors]))]
            spec = catalog.get(draw(st.sampled_from(SINGLE)))
        params = {p.key: _param(draw, p) for p in spec.params if p.key in SAMPLED}
        node = graph.add_node(Node(type=spec.id, params=params))
        for port, (source, source_port) in enumerate(refs):
            graph.connect(Edge(source, node.id, source_port, port), check_shapes=False)
        if analyse(graph).for_node(node.id) and not analyse(graph).ok:
            graph.remove_node(node.id)  # this layer does not fit here: try another step
    for node in list(graph.input_nodes()):
        if not graph.outputs_of(node.id) and len(graph.input_nodes()) > 1:
            graph.remove_node(node.id)
    assume(graph.output_nodes() and analyse(graph).ok)
    return graph


@settings(max_examples=15)
@given(graph=graphs())
def test_keras_model_round_trips_through_import_and_exported_code(tmp_path, graph):
    plan = make_plan(graph, "prop")
    try:
        expected = build_model(plan)
    except BuildError:  # a combination the catalog allows but Keras refuses: not this property
        assume(False)
    n = next(_counter)
    expected.save(tmp_path / f"prop_{n}.keras")
    imported = import_model(tmp_path / f"prop_{n}.keras", tmp_path / f"prop_{n}").project.graph
    totals = check_result(imported, analyse(imported))  # what `studio check --json` prints
    assert totals["ok"] and totals["total_params"] == expected.count_params()
    path = tmp_path / f"prop_{n}.py"
    path.write_text(generate_script(make_plan(imported, "prop"), ScriptSettings(name="prop")))
    assert_same_model(expected, import_script(path).build_model())
