"""The model against the data: diagnostics keyed by node with the fix, and undoable fixes."""

from __future__ import annotations

from studio.data import binding
from studio.data.info import DatasetInfo
from studio.graph import Edge, Graph, Node
from studio.graph.edits import History

CLASSES10 = DatasetInfo(kind="csv", path="d.csv", num_samples=100, feature_shape=(8,), task="classification",
                        num_classes=10, class_names=[str(i) for i in range(10)])
REGRESSION = DatasetInfo(kind="csv", path="d.csv", num_samples=100, feature_shape=(8,), task="regression",
                         target_shape=(1,))
BINARY = DatasetInfo(kind="csv", path="d.csv", num_samples=100, feature_shape=(2,), task="classification",
                     num_classes=2, class_names=["a", "b"])


def mlp(input_shape, units, activation="softmax", hidden=True):
    g = Graph()
    nodes = [Node("Input", {"batch_shape": [None, *input_shape]}, id="in")]
    if hidden:
        nodes.append(Node("Dense", {"units": 16, "activation": "relu"}, id="hidden"))
    nodes.append(Node("Dense", {"units": units, "activation": activation}, title="out", id="out"))
    for n in nodes:
        g.add_node(n)
    for a, b in zip(nodes, nodes[1:]):
        g.connect(Edge(a.id, b.id))
    return g


def test_matching_model_has_no_diagnostics():
    assert binding.check(mlp((8,), 10), CLASSES10) == []
    assert binding.check(mlp((8,), 1, "linear"), REGRESSION) == []
    assert binding.check(mlp((2,), 1, "sigmoid"), BINARY) == []
    assert binding.check(mlp((2,), 2, "softmax"), BINARY) == []


def test_wrong_class_count_names_the_units_and_the_fix():
    [diag] = binding.check(mlp((8,), 5), CLASSES10)
    assert diag.node == "out" and diag.severity == "error" and diag.key == "units"
    assert "the data has 10 classes but the last Dense 'out' has 5 units; set units to 10" in diag.message
    assert "softmax" in diag.message and "sparse_categorical_crossentropy" in diag.message


def test_wrong_input_shape_is_keyed_on_the_input():
    diags = binding.check(mlp((4,), 10), CLASSES10)
    [diag] = [d for d in diags if d.node == "in"]
    assert diag.key == "batch_shape" and "(4,)" in diag.message and "(8,)" in diag.message
    assert "[None, 8]" in diag.message


def test_regression_with_softmax_and_sequence_outputs():
    [diag] = binding.check(mlp((8,), 1, "softmax"), REGRESSION)
    assert diag.severity == "warning" and "linear" in diag.message
    g = Graph()
    g.add_node(Node("Input", {"batch_shape": [None, 5, 8]}, id="in"))
    g.add_node(Node("Dense", {"units": 10, "activation": "softmax"}, id="out"))
    g.connect(Edge("in", "out"))
    seq = DatasetInfo(kind="npz", path="d", feature_shape=(5, 8), task="classification", num_classes=10)
    [diag] = binding.check(g, seq)
    assert diag.node == "out" and "(None, 5, 10)" in diag.message and "Flatten" in diag.message


def test_two_inputs_or_outputs_are_errors():
    g = mlp((8,), 10)
    g.add_node(Node("Input", {"batch_shape": [None, 3]}, id="in2"))
    g.add_node(Node("Dense", {"units": 2}, id="out2"))
    g.connect(Edge("in2", "out2"))
    messages = [d.message for d in binding.check(g, CLASSES10)]
    assert any("2 Input layers" in m for m in messages) and any("2 outputs" in m for m in messages)


def test_fix_edits_are_one_undoable_step():
    g = mlp((4,), 5, "relu")
    before = g.to_dict()
    batch = binding.fix_edits(g, CLASSES10)
    assert batch is not None and batch.text == "Fit model to data"
    history = History(g)
    history.push(batch)
    assert g.node("in").params["batch_shape"] == [None, 8]
    assert g.node("out").params["units"] == 10 and g.node("out").params["activation"] == "softmax"
    assert binding.check(g, CLASSES10) == []
    history.undo()
    assert g.to_dict() == before
    history.redo()
    assert binding.check(g, CLASSES10) == []
    assert binding.fix_edits(g, CLASSES10) is None  # nothing left to fix


def test_input_shape_edit_only_touches_the_input():
    g = mlp((4,), 5)
    batch = binding.input_shape_edit(g, CLASSES10)
    History(g).push(batch)
    assert g.node("in").params["batch_shape"] == [None, 8] and g.node("out").params["units"] == 5


def test_binary_fix_keeps_a_two_unit_softmax_and_fixes_a_relu_single_unit():
    assert binding.fix_edits(mlp((2,), 2, "softmax"), BINARY) is None
    g = mlp((2,), 1, "relu")
    History(g).push(binding.fix_edits(g, BINARY))
    assert g.node("out").params["activation"] == "sigmoid"


def test_text_ids_want_an_int_input_and_an_embedding():
    text = DatasetInfo(kind="text", path="t.csv", feature_shape=(20,), feature_dtype="int32",
                       task="classification", num_classes=3, spec={"text": {"max_tokens": 500}})
    g = mlp((20,), 3)
    messages = [d.message for d in binding.check(g, text)]
    assert any("Embedding" in m for m in messages)
    History(g).push(binding.fix_edits(g, text))
    assert g.node("in").params["dtype"] == "int32"


def test_embedding_must_cover_the_vocabulary():
    text = DatasetInfo(kind="text", path="t.csv", feature_shape=(20,), feature_dtype="int32",
                       task="classification", num_classes=3, vocabulary_size=700,
                       spec={"text": {"max_tokens": 500}})
    g = Graph()
    g.add_node(Node("Input", {"batch_shape": [None, 20], "dtype": "int32"}, id="in"))
    g.add_node(Node("Embedding", {"input_dim": 100, "output_dim": 8}, id="emb"))
    g.add_node(Node("GlobalAveragePooling1D", {}, id="pool"))
    g.add_node(Node("Dense", {"units": 3, "activation": "softmax"}, id="out"))
    for a, b in (("in", "emb"), ("emb", "pool"), ("pool", "out")):
        g.connect(Edge(a, b))
    [diag] = binding.check(g, text)
    assert diag.node == "emb" and diag.key == "input_dim" and "set input_dim to 500" in diag.message
    g.set_param("emb", "input_dim", 500)
    assert binding.check(g, text) == []
