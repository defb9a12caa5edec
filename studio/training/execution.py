"""How many batches one call into TensorFlow runs: `steps_per_execution`.

Between two calls into the compiled train step Keras runs Python: the epoch
iterator, the callbacks (ours stores the batch, checks the loss, honours
stop and pause), the logs. On a small model that is most of a step: a
7k-weight MLP at batch 32 takes about 1 ms a step on this 2-core machine,
of which the arithmetic is about 0.1 ms. Running N batches per call pays
the Python part once per N batches.

The price is that Stop and Pause act between calls, and the per-batch curve
gets one point per call. The setting "auto" therefore groups batches only
while a group stays short: it estimates the arithmetic of one training step
from the model (each layer's multiply-adds over the positions it is applied
to, three times over for the backward pass) and picks N so that a group is
at most `GROUP_SECONDS` of it at a modest CPU speed; never more than
`MAX_STEPS` batches, nor more than an eighth of an epoch (the curve keeps
several points per epoch). A model whose steps are not tiny gets N = 1: the
Python part is then a small share of the step anyway.

The estimate is deliberately pessimistic about speed (a GPU or a fast CPU
makes the group shorter, so Stop stays prompt); where it cannot read a
layer's shapes it counts the layer's weights once per sample.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Optional, Union

GROUP_SECONDS = 0.050  # estimated arithmetic per call into TensorFlow, at most
# Floating-point operations per second assumed for the estimate: about half of what this
# 2-core CPU reaches on a small CNN (a 64-sample Conv2D step: 8 ms, estimated 18 ms).
ASSUMED_FLOPS = 20e9
MAX_STEPS = 32
MIN_CALLS_PER_EPOCH = 8
UNKNOWN_LENGTH = 100  # positions assumed for an axis of unknown length


def resolve(setting: Union[int, str], model: Any, batch_size: Optional[int], steps_per_epoch: Optional[int]) -> int:
    """The number of batches per call for `setting` ("auto" or an int)."""
    if setting != "auto":
        return int(setting)
    if not batch_size or not steps_per_epoch:
        return 1
    step_flops = 3.0 * forward_flops(model) * batch_size
    by_time = int(GROUP_SECONDS * ASSUMED_FLOPS / max(step_flops, 1.0))
    by_epoch = steps_per_epoch // MIN_CALLS_PER_EPOCH
    return max(1, min(MAX_STEPS, by_time, by_epoch))


def apply(setting: Union[int, str], model: Any, batch_size: Optional[int], steps_per_epoch: Optional[int]) -> int:
    """Set the model's steps per execution for "auto"; return the value it trains with.

    Only a model whose train function is not made yet and that was compiled
    with the default (1) is changed: a model compiled with its own value keeps it.
    """
    current = getattr(model, "steps_per_execution", 1)
    current = current if isinstance(current, int) and current > 0 else 1
    if setting != "auto" or current != 1 or getattr(model, "train_function", None) is not None:
        return current
    steps = resolve(setting, model, batch_size, steps_per_epoch)
    if steps > 1:
        model.steps_per_execution = steps
    return steps


def forward_flops(model: Any) -> float:
    """Estimated floating-point operations of one sample's forward pass."""
    total = 0.0
    for layer in _leaf_layers(model):
        weights = _count(layer)
        positions, elements = _positions(layer)
        # a multiply and an add per weight and position, plus a few per output element
        total += 2.0 * weights * positions + 4.0 * elements
    return total


def _leaf_layers(model: Any) -> Iterable[Any]:
    for layer in getattr(model, "layers", []) or []:
        if getattr(layer, "layers", None) and hasattr(layer, "inputs"):  # a nested model
            yield from _leaf_layers(layer)
        else:
            yield layer


def _count(layer: Any) -> int:
    try:
        return int(layer.count_params())
    except (ValueError, AttributeError, TypeError):  # not built
        return 0


def _positions(layer: Any) -> tuple[float, float]:
    """(positions the weights are applied to, output elements) per sample.

    A position is an input element vector: the time steps of a sequence for a
    Dense, LSTM or attention layer, the pixels of a feature map for a
    convolution (its input's, an upper bound of its output's).
    """
    positions = 1.0
    elements = 0.0
    try:
        inputs = _shapes(layer.input)
        outputs = _shapes(layer.output)
    except (AttributeError, ValueError, TypeError):
        return positions, elements
    for shape in inputs:
        positions = max(positions, _product(shape[1:-1]))
    for shape in outputs:
        elements += _product(shape[1:])
    return positions, elements


def _shapes(tensors: Any) -> list[tuple]:
    items = tensors if isinstance(tensors, (list, tuple)) else (
        list(tensors.values()) if isinstance(tensors, dict) else [tensors]
    )
    return [tuple(t.shape) for t in items if getattr(t, "shape", None) is not None]


def _product(dims: Iterable[Optional[int]]) -> float:
    # An unknown length (None, a sequence of any length) counts as UNKNOWN_LENGTH.
    return float(math.prod(int(d) if d else UNKNOWN_LENGTH for d in dims))
