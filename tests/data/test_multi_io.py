"""Data bound per Input and output node: the spec, what each node gets, problems on the node that
causes them, the per-output losses, and the batches in the model's order."""

from __future__ import annotations

import numpy as np
import pytest

from studio import data
from studio.compiler.compile_args import compile_args
from studio.core.errors import DataError
from studio.data import binding
from studio.data.spec import DatasetSpec
from studio.graph import Edge, Graph, Node
from studio.graph.inference import analyse

ROWS = 60


def write_table(tmp_path):
    rng = np.random.default_rng(1)
    lines = ["a1,a2,b1,colour,size"]
    for i in range(ROWS):
        a1, a2, b1 = rng.normal(size=3)
        colour = ("red", "green", "blue")[i % 3]
        lines.append(f"{a1:.3f},{a2:.3f},{b1:.3f},{colour},{10 + 2 * b1:.3f}")
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def two_by_two(a_width=2, b_width=1, kind_units=3):
    g = Graph()
    g.add_node(Node("Input", {"batch_shape": [None, a_width]}, id="in_a", title="features a"))
    g.add_node(Node("Input", {"batch_shape": [None, b_width]}, id="in_b", title="features b"))
    g.add_node(Node("Concatenate", {}, id="join"))
    g.add_node(Node("Dense", {"units": kind_units, "activation": "softmax"}, id="colour", title="colour head"))
    g.add_node(Node("Dense", {"units": 1}, id="size", title="size head"))
    for s, t, p in (("in_a", "join", 0), ("in_b", "join", 1), ("join", "colour", 0), ("join", "size", 0)):
        g.connect(Edge(s, t, 0, p))
    return g


def bound(path, **changes):
    spec = {"kind": "csv", "path": str(path),
            "inputs": [{"node": "in_a", "features": ["a1", "a2"]}, {"node": "in_b", "features": ["b1"]}],
            "outputs": [{"node": "colour", "targets": ["colour"]}, {"node": "size", "targets": ["size"]}],
            "split": {"validation": 0.2, "test": 0.2, "seed": 0, "stratify": True}}
    spec.update(changes)
    return spec


def test_bindings_round_trip_and_old_specs_stay_as_they_were():
    spec = {"kind": "csv", "path": "t.csv",
            "inputs": [{"node": "in_a", "features": ["a1"]}],
            "outputs": [{"node": "o", "targets": ["y"], "task": "regression", "loss": "huber", "weight": 0.5}]}
    checked = DatasetSpec.from_dict(spec)
    assert checked.bound and checked.to_dict()["outputs"] == spec["outputs"]
    old = {"kind": "csv", "path": "iris.csv", "targets": ["species"]}
    assert not DatasetSpec.from_dict(old).bound and "inputs" not in DatasetSpec.from_dict(old).to_dict()


@pytest.mark.parametrize("change, words", [
    ({"inputs": [{"node": "in_a"}]}, "dataset.inputs[0].features is missing"),
    ({"inputs": [{"features": ["a"]}]}, "must be an object naming its node"),
    ({"outputs": [{"node": "o", "targets": ["y"], "task": "forecast"}]}, "'classification' or 'regression'"),
    ({"outputs": [{"node": "o", "targets": ["y"], "weight": -1}]}, "weight must be a number >= 0"),
    ({"outputs": [{"node": "o", "targets": ["y"], "loss": "x; import os"}]}, "Keras loss name"),
    ({"inputs": [{"node": "a", "features": ["x"]}, {"node": "a", "features": ["z"]}]}, "bound twice"),
])
def test_bad_bindings_name_the_key_and_the_fix(change, words):
    with pytest.raises(DataError, match="dataset") as err:
        DatasetSpec.from_dict({"kind": "csv", "path": "t.csv", **change})
    assert words in str(err.value)


def test_each_node_gets_its_columns_and_each_output_its_task(tmp_path):
    info = data.describe(bound(write_table(tmp_path)))
    nodes = {item["node"]: item for item in info.bound}
    assert nodes["in_a"]["shape"] == [2] and nodes["in_b"]["shape"] == [1]
    assert nodes["colour"]["task"] == "classification" and nodes["colour"]["class_names"] == ["blue", "green", "red"]
    assert nodes["size"]["task"] == "regression" and nodes["size"]["shape"] == [1]
    graph = two_by_two()
    assert [d.message for d in binding.check(graph, info, analyse(graph)) if d.severity == "error"] == []


def test_problems_land_on_the_node_that_causes_them(tmp_path):
    path = write_table(tmp_path)
    graph = two_by_two(a_width=3, kind_units=2)
    spec = bound(path, inputs=[{"node": "in_a", "features": ["a1", "a2"]}, {"node": "in_b", "features": ["a2"]}])
    info = data.describe(spec)
    errors = {d.node: d.message for d in binding.check(graph, info, analyse(graph)) if d.severity == "error"}
    assert "column 'a2' is bound to 'features a' and to 'features b'" in errors["in_b"]
    assert "set batch_shape to [None, 2]" in errors["in_a"]
    assert "3 classes" in errors["colour"] and "set units to 3" in errors["colour"]
    # A target column fed to an Input too: named on the output node, and refused before training.
    spec = bound(path, outputs=[{"node": "colour", "targets": ["colour"]}, {"node": "size", "targets": ["b1"]}])
    errors = {d.node: d.message for d in binding.check(two_by_two(), data.describe(spec), analyse(two_by_two()))
              if d.severity == "error"}
    assert "column 'b1' is bound to 'features b' and to 'size head'" in errors["size"]
    with pytest.raises(DataError, match="'b1' is bound to node 'in_b' and to node 'size'"):
        data.prepare(spec)
    # An Input without data and an output without a target, found without reading the file.
    partial = DatasetSpec.from_dict(bound(path, inputs=[{"node": "in_a", "features": ["a1", "a2"]}],
                                          outputs=[{"node": "colour", "targets": ["colour"]}]))
    errors = {d.node: d.message for d in binding.bound_problems(two_by_two(), partial)}
    assert errors["in_b"].startswith("Input 'features b' has no data; bind columns to it")
    assert errors["size"].startswith("output 'size head' has no target; bind a column to it")


def test_each_output_gets_the_loss_and_metrics_of_its_data():
    outputs = [{"task": "classification", "num_classes": 3}, {"task": "classification", "num_classes": 2},
               {"task": "regression", "weight": 0.1}]
    args = compile_args({}, output_units=[3, 1, 1], outputs=outputs)
    assert args.loss == ["sparse_categorical_crossentropy", "binary_crossentropy", "mean_squared_error"]
    assert args.metrics == [["accuracy"], ["accuracy"], ["mae"]]
    assert args.loss_weights == [1.0, 1.0, 0.1]
    changed = compile_args({"loss_weights": [1, 2, 3]}, output_units=[3, 1, 1],
                           outputs=[*outputs[:2], {"task": "regression", "loss": "huber"}])
    assert changed.loss[2] == "huber" and changed.loss_weights == [1, 2, 3]


def test_batches_follow_the_models_order_and_inputs_are_scaled_on_training_rows(tmp_path):
    prepared = data.prepare(bound(write_table(tmp_path)), batch_size=8, input_order=["in_b", "in_a"],
                            output_order=["size", "colour"])
    (xb, xa), (size, colour) = next(iter(prepared.test))
    assert xb.shape[1:] == (1,) and xa.shape[1:] == (2,) and size.shape[1:] == (1,) and colour.shape[1:] == ()
    assert prepared.counts == {"train": 36, "validation": 12, "test": 12}
    pre = prepared.spec["preprocessing"]
    assert set(pre["inputs"]) == {"in_a", "in_b"} and pre["outputs"]["colour"]["class_names"] == ["blue", "green",
                                                                                                   "red"]
    assert prepared.test_samples["kind"] == "table" and len(prepared.test_samples["refs"]) == 12


def test_npz_arrays_bind_by_key(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(path, img=rng.normal(size=(40, 4)), side=rng.normal(size=(40, 2)),
             label=np.arange(40) % 2, value=rng.normal(size=40))
    spec = {"kind": "npz", "path": str(path),
            "inputs": [{"node": "in_a", "features": ["img"]}, {"node": "in_b", "features": ["side"]}],
            "outputs": [{"node": "colour", "targets": ["label"]}, {"node": "size", "targets": ["value"]}]}
    info = data.describe(spec)
    nodes = {item["node"]: item for item in info.bound}
    assert nodes["in_a"]["shape"] == [4] and nodes["colour"]["task"] == "classification"
    assert nodes["size"]["task"] == "regression"
    with pytest.raises(DataError, match="no array named 'nope'.*bound to node 'in_b'"):
        data.describe({**spec, "inputs": [spec["inputs"][0], {"node": "in_b", "features": ["nope"]}]})
    prepared = data.prepare(spec, batch_size=4)
    (xa, xb), (label, value) = next(iter(prepared.train))
    assert xa.shape == (4, 4) and xb.shape == (4, 2) and label.dtype.name == "int32"
