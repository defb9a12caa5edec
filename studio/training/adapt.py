"""Fit the Normalization layers the user placed without a mean and variance.

A `Normalization` node left with empty mean/variance means "normalise what
arrives here", as in Keras where such a layer must be `adapt()`-ed before
training; unadapted, Keras would pass the data through unchanged (mean 0,
variance 1) without a word. Before each new run the statistics are computed
on the training split only - through the layers in front of the
Normalization, so it may sit anywhere in the network - and saved with the
model's weights (best/final .keras), like every other weight.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

# Enough samples for stable means and variances, bounded so large datasets start quickly.
MAX_SAMPLES = 20_000


def unadapted(model: Any) -> list[Any]:
    """The model's Normalization layers with neither a given mean/variance nor adapted ones yet."""
    import keras

    return [
        layer for layer in model.layers
        if isinstance(layer, keras.layers.Normalization) and getattr(layer, "input_mean", None) is None
    ]


def adapt_normalization(model: Any, train: Any, wrap: Callable[[Any], Any] = lambda m: m,
                        max_samples: int = MAX_SAMPLES) -> list[str]:
    """Adapt each unadapted Normalization layer of `model` on batches of `train`.

    `train` yields `(x, y)` batches (a tf.data.Dataset or an iterable) in the form the
    *wrapped* model takes; `wrap` puts the data's own preprocessing in front of a model
    (`Prepared.wrap_model`). Returns one line per adapted layer, for the user.
    """
    import keras
    import numpy as np

    layers = unadapted(model)
    if not layers:
        return []
    lines = []
    for layer in layers:
        features = wrap(keras.Model(model.inputs, layer.input, name=f"{layer.name}_inputs"))
        seen = [0]

        def batches(features: Any = features, seen: list = seen) -> Iterator[np.ndarray]:
            for element in train:
                x = element[0] if isinstance(element, (tuple, list)) else element
                out = np.asarray(features(x, training=False))
                seen[0] += len(out)
                yield out
                if seen[0] >= max_samples:
                    return

        layer.adapt(batches())
        lines.append(f"Normalization '{layer.name}' was fitted on {seen[0]:,} training samples "
                     "(it had no mean and variance)")
    return lines
