"""Arithmetic, activations and optimizer slots counted from shapes (studio/graph/cost.py)."""

from __future__ import annotations

import pytest

from studio.graph.cost import TRAIN_FACTOR, network_cost, optimizer_slots
from studio.graph.inference import analyse
from studio.graph.model import Edge, Graph, Node


def chain(*nodes: Node) -> Graph:
    g = Graph()
    for node in nodes:
        g.add_node(node)
    for a, b in zip(nodes, nodes[1:]):
        g.connect(Edge(a.id, b.id))
    return g


def cost_of(g: Graph):
    report = analyse(g)
    assert report.ok, report.diagnostics
    return {layer.node_id: layer for layer in network_cost(g, report).layers}, network_cost(g, report)


def test_dense_flops_are_two_per_weight_without_bias():
    g = chain(Node("Input", {"batch_shape": [None, 20]}, id="in"), Node("Dense", {"units": 7}, id="d"))
    layers, total = cost_of(g)
    assert layers["d"].flops == 2 * 20 * 7
    assert total.train_flops == TRAIN_FACTOR * 2 * 20 * 7
    assert total.input_elements == 20


def test_dense_on_a_sequence_runs_once_per_step():
    g = chain(Node("Input", {"batch_shape": [None, 5, 6]}, id="in"), Node("Dense", {"units": 4}, id="d"))
    layers, _ = cost_of(g)
    assert layers["d"].flops == 2 * 6 * 4 * 5
    assert layers["d"].output_elements == 5 * 4


@pytest.mark.parametrize("padding,out_hw", [("same", 8), ("valid", 6)])
def test_conv2d_flops_are_k_k_cin_cout_h_w_2(padding, out_hw):
    g = chain(Node("Input", {"batch_shape": [None, 8, 8, 3]}, id="in"),
              Node("Conv2D", {"filters": 5, "kernel_size": [3, 3], "padding": padding}, id="c"))
    layers, _ = cost_of(g)
    assert layers["c"].flops == 3 * 3 * 3 * 5 * out_hw * out_hw * 2
    assert layers["c"].output_elements == out_hw * out_hw * 5


@pytest.mark.parametrize("optimizer,params,slots", [
    ("sgd", {}, 0), ("sgd", {"momentum": 0.9}, 1), ("adam", {}, 2), ("adam", {"amsgrad": True}, 3),
    ("adamw", {}, 2), ("nadam", {}, 2), ("rmsprop", {}, 1), ("rmsprop", {"centered": True}, 2),
    ("rmsprop", {"momentum": 0.9, "centered": True}, 3), ("adagrad", {}, 1),
])
def test_optimizer_slots_follow_the_chosen_optimizer(optimizer, params, slots):
    assert optimizer_slots(optimizer, params) == slots


def test_every_offered_optimizer_has_its_slot_count():
    from studio.graph import cost
    from studio.training.config import OPTIMIZERS

    assert set(OPTIMIZERS) <= set(cost._SLOTS)


def test_a_recurrent_layer_after_a_masking_embedding_is_marked_masked():
    g = chain(Node("Input", {"batch_shape": [None, 12], "dtype": "int32"}, id="in"),
              Node("Embedding", {"input_dim": 50, "output_dim": 8, "mask_zero": True}, id="emb"),
              Node("Dropout", {"rate": 0.1}, id="drop"), Node("GRU", {"units": 4}, id="gru"))
    layers, _ = cost_of(g)
    assert not layers["emb"].masked and layers["drop"].masked and layers["gru"].masked
    plain = chain(Node("Input", {"batch_shape": [None, 12], "dtype": "int32"}, id="in"),
                  Node("Embedding", {"input_dim": 50, "output_dim": 8}, id="emb"), Node("GRU", {"units": 4}, id="gru"))
    layers, _ = cost_of(plain)
    assert not layers["gru"].masked
