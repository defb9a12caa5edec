"""What a network costs to train, from its shapes alone: arithmetic per sample, activations, optimizer state.

PURE: reads a `Graph` and its `ShapeReport` (no TensorFlow), so `studio check --estimate` and the
training panel answer instantly. `studio.workflows.estimate` turns these counts into seconds and
bytes with a calibration of this machine's device.

Counting rules (one sample, forward pass; training costs about 3x: the backward pass computes a
gradient for the inputs and one for the weights, each as costly as the forward pass):
- Dense: 2 * inputs * units per position (a multiply and an add per weight; a Dense applied to a
  sequence runs once per step);
- Conv1D/2D/3D: 2 * k1*...*kn * (c_in / groups) * c_out per output position (H_out * W_out for 2D);
  DepthwiseConv / SeparableConv the same rule over their own kernels;
- LSTM/GRU/SimpleRNN: 2 * weights per time step;
- Embedding: a lookup, no multiply (its output elements only);
- any other layer: a few operations per output element (`ELEMENTWISE_FLOPS`), pooling one per
  window element.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from studio.graph.inference import ShapeReport
from studio.graph.model import Graph

# Operations per output element of a layer without weights (activation, add, normalise...).
ELEMENTWISE_FLOPS = 4.0
# Backward + forward = this many forward passes (gradients w.r.t. inputs and weights).
TRAIN_FACTOR = 3.0
# Length assumed for an axis of unknown length (None in a shape beyond the batch axis).
UNKNOWN_LENGTH = 100

# optimizer -> (slots per weight, the parameter that adds one more when true/non-zero)
_SLOTS: dict[str, tuple[int, dict[str, int]]] = {
    "sgd": (0, {"momentum": 1}),
    "adam": (2, {"amsgrad": 1}),
    "adamw": (2, {"amsgrad": 1}),
    "nadam": (2, {}),
    "rmsprop": (1, {"momentum": 1, "centered": 1}),
    "adagrad": (1, {}),
}

_CONV = {"Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"}
_RECURRENT = {"LSTM", "GRU", "SimpleRNN", "Bidirectional"}
_POOL = {"MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
         "AveragePooling3D"}


def optimizer_slots(optimizer: str, params: Optional[dict[str, Any]] = None) -> int:
    """Extra float tensors per trainable weight the optimizer keeps (Adam: m and v: 2)."""
    base, extras = _SLOTS.get(optimizer.lower(), (2, {}))
    params = params or {}
    return base + sum(n for key, n in extras.items() if params.get(key))


def elements(shape: Any) -> int:
    """Elements of one sample of `shape` (batch axis dropped; unknown axes UNKNOWN_LENGTH)."""
    if shape is None:
        return 0
    dims = list(shape)[1:]
    return math.prod(UNKNOWN_LENGTH if d is None else int(d) for d in dims) if dims else 1


@dataclass
class LayerCost:
    node_id: str
    class_name: str
    flops: float  # forward, one sample
    output_elements: int  # one sample, all outputs
    masked: bool = False  # fed (through any path) by a layer that makes a mask: Embedding(mask_zero), Masking


@dataclass
class NetworkCost:
    layers: list[LayerCost] = field(default_factory=list)
    input_elements: int = 0  # one sample, all Input nodes
    trainable_params: int = 0
    non_trainable_params: int = 0

    @property
    def forward_flops(self) -> float:
        return sum(layer.flops for layer in self.layers)

    @property
    def train_flops(self) -> float:
        return TRAIN_FACTOR * self.forward_flops

    @property
    def activation_elements(self) -> int:
        """Elements of every layer's output for one sample (those the backward pass reads)."""
        return sum(layer.output_elements for layer in self.layers)


def layer_flops(class_name: str, config: dict[str, Any], inputs: list, outputs: list, weights: int) -> float:
    """Forward floating-point operations of one layer for one sample."""
    out = outputs[0] if outputs else None
    inp = inputs[0] if inputs else None
    out_elems = sum(elements(s) for s in outputs or [])
    if class_name == "Dense" and inp is not None and out is not None and inp[-1] is not None:
        units = int(out[-1])
        positions = elements(out) // max(units, 1)
        return 2.0 * int(inp[-1]) * units * positions
    if class_name in _CONV and inp is not None and out is not None:
        kernel = config.get("kernel_size", 1)
        kernel = [kernel] if isinstance(kernel, int) else list(kernel)
        first = config.get("data_format") == "channels_first"
        c_in = inp[1] if first else inp[-1]
        c_out = out[1] if first else out[-1]
        spatial = elements(out) // max(int(c_out), 1)
        groups = int(config.get("groups", 1) or 1)
        return 2.0 * math.prod(kernel) * (int(c_in) // groups) * int(c_out) * spatial
    if class_name in _RECURRENT and inp is not None:
        steps = UNKNOWN_LENGTH if inp[1] is None else int(inp[1]) if len(inp) > 2 else 1
        return 2.0 * weights * steps
    if class_name == "Embedding":
        return float(out_elems)
    if class_name in _POOL:
        pool = config.get("pool_size", 2)
        pool = [pool] if isinstance(pool, int) else list(pool)
        return float(math.prod(pool) * out_elems)
    if weights and out is not None:  # another layer with weights (depthwise, attention...): once per position
        last = out[-1] or 1
        return 2.0 * weights * max(elements(out) // int(last), 1) + ELEMENTWISE_FLOPS * out_elems
    # weightless: a few operations per element it reads or writes
    in_elems = sum(elements(s) for s in inputs or [] if s is not None)
    return ELEMENTWISE_FLOPS * max(out_elems, in_elems if class_name.startswith("Global") else 0)


def _makes_mask(class_name: str, config: dict[str, Any]) -> bool:
    return class_name == "Masking" or (class_name == "Embedding" and bool(config.get("mask_zero")))


def network_cost(graph: Graph, report: ShapeReport) -> NetworkCost:
    """Per-layer arithmetic and outputs of the graph, from the report's shapes and parameter counts."""
    cost = NetworkCost(trainable_params=report.trainable_params, non_trainable_params=report.non_trainable_params)
    sources: dict[str, list[str]] = {}
    for edge in graph.edges:
        sources.setdefault(edge.target, []).append(edge.source)
    masked: set[str] = set()  # nodes downstream of a mask maker (a masked recurrent layer runs slower paths)
    for nid in report.order or [n.id for n in graph.nodes]:
        node = graph.node(nid)
        spec = graph.spec(node)
        class_name = spec.class_name if spec is not None else node.type
        outputs = [s for s in (report.outputs.get(nid) or []) if s is not None]
        if class_name == "InputLayer":
            cost.input_elements += sum(elements(s) for s in outputs)
            continue
        inputs = list(report.inputs.get(nid) or [])
        params = report.params.get(nid) or (0, 0)
        weights = params[0] + params[1]
        flops = layer_flops(class_name, dict(node.params), inputs, outputs, weights)
        fed_masked = any(src in masked for src in sources.get(nid, ()))
        if fed_masked or _makes_mask(class_name, node.params):
            masked.add(nid)
        cost.layers.append(LayerCost(nid, class_name, flops, sum(elements(s) for s in outputs), fed_masked))
    return cost
