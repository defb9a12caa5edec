"""Fast heads on frozen bases: compute a frozen base's features once per sample, train the head on them.

While every transfer-learning base of the network (training/phases.py `find_bases`) is frozen and the
layers from the inputs to the bases are fixed (nothing trainable, no random augmentation or dropout),
each sample's features are the same in every epoch. `split(model)` cuts the model there into a
`features` model (inputs -> the bases' outputs) and a `head` model (the bases' outputs -> the outputs)
that shares the head's layers and weights with the model; `cache(...)` runs the features model once
over the data. Training the head on the cached features is then the same computation as training the
whole model (Teachable Machine does this), minus the base's forward pass in every epoch.

Keras is imported inside the functions only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from studio.training.data_utils import dataset_steps, is_dataset, num_samples
from studio.training.phases import find_bases, leaves

# Layers whose training-mode output is random: with one of them before the base, features differ per epoch.
STOCHASTIC = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
              "GaussianDropout", "AlphaDropout", "ActivityRegularization")
MAX_CACHE_BYTES = 2 << 30  # features are kept in memory: above this, train the whole model as usual


@dataclass
class Split:
    features: Any  # keras.Model: the model's inputs -> the bases' outputs (frozen, deterministic)
    head: Any  # keras.Model: the bases' outputs -> the model's outputs (the model's own head layers)


@dataclass
class Cached:
    x: Any  # features of the training samples (an array, or a list for several bases)
    y: Any
    validation: Any  # (features, targets) of the validation samples, or None
    samples: int
    megabytes: float


def split(model: Any) -> tuple[Optional[Split], str]:
    """(Split, "") where the model's features can be cached, else (None, why not)."""
    import keras

    bases = find_bases(model)
    if not bases:
        return None, "the network has no pretrained base"
    if any(base.trainable_weights for base in bases):
        return None, "the base is not frozen"
    network, prefix = _network_with(model, bases)
    if network is None:
        return None, "the bases sit inside a model this version cannot split"
    try:
        # where the network calls each base (a sub-model's own `.output` is the one inside it)
        outputs = [keras.Operation.output.fget(base) for base in bases]
        features = keras.Model(network.inputs, outputs[0] if len(outputs) == 1 else outputs)
        head = keras.Model(outputs[0] if len(outputs) == 1 else outputs, network.outputs
                           if len(network.outputs) > 1 else network.outputs[0], name=f"{network.name}_head")
    except Exception as exc:  # noqa: BLE001 - e.g. an input that reaches the head around the base
        return None, f"the head cannot be cut from the base ({_first_line(exc)})"
    if prefix:
        inputs = keras.Input(batch_shape=tuple(model.inputs[0].shape), dtype=model.inputs[0].dtype)
        x = inputs
        for layer in prefix:
            x = layer(x)
        features = keras.Model(inputs, features(x))
    if features.trainable_weights:
        return None, "layers before the base are trainable"
    random = [layer.name for layer in leaves(features) if _stochastic(layer)]
    if random:
        return None, f"{random[0]} changes the inputs at random in every epoch (augmentation)"
    return Split(features, head), ""


def cache(split_: Split, x: Any, y: Any, validation: Any, batch_size: int) -> tuple[Optional[Cached], str]:
    """The features of the training (and validation) data, computed once in inference mode;
    (None, why) when they would not fit in memory or the data cannot be read once."""
    import numpy as np

    per_sample = sum(int(np.prod([d for d in shape[1:]])) * 4 for shape in _shapes(split_.features.outputs))
    if is_dataset(x):
        steps = dataset_steps(x)
        if steps is None:
            return None, "the training data has no known length"
        estimate = steps * batch_size * per_sample
    else:
        estimate = num_samples(x) * per_sample
    if estimate > MAX_CACHE_BYTES:
        return None, f"the features would take {estimate / 1e9:.1f} GB of memory"
    train_x, train_y = _features(split_.features, x, y, batch_size)
    val = None
    if validation is not None:
        if is_dataset(validation):
            val = _features(split_.features, validation, None, batch_size)
        else:
            val = _features(split_.features, validation[0], validation[1], batch_size)
    rows = num_samples(train_x)
    return Cached(train_x, train_y, val, rows, rows * per_sample / 1e6), ""


# --- helpers ----------------------------------------------------------------------------------
def _features(model: Any, x: Any, y: Any, batch_size: int) -> tuple[Any, Any]:
    """(features, targets) of arrays or of a batched (inputs, targets) dataset, read once."""
    import numpy as np

    if not is_dataset(x):
        return _predict(model, x, batch_size), y
    import tensorflow as tf

    call = tf.function(lambda inputs: model(inputs, training=False))
    parts, targets = [], []
    for batch in x:  # once: a dataset that reshuffles would pair other targets on a second pass
        inputs, labels = batch[0], batch[1]
        parts.append(_as_numpy(call(inputs)))
        targets.append(tf.nest.map_structure(lambda t: np.asarray(t), labels))
    feats = _concat(parts)
    return feats, tf.nest.map_structure(lambda *ts: np.concatenate(ts), *targets)


def _predict(model: Any, x: Any, batch_size: int) -> Any:
    return _as_numpy(model.predict(x, batch_size=batch_size, verbose=0))


def _as_numpy(value: Any) -> Any:
    import numpy as np

    if isinstance(value, (list, tuple)):
        return [np.asarray(v) for v in value]
    return np.asarray(value)


def _concat(parts: list) -> Any:
    import numpy as np

    if isinstance(parts[0], list):
        return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
    return np.concatenate(parts)


def _shapes(tensors: Any) -> list[tuple]:
    return [tuple(t.shape) for t in (tensors if isinstance(tensors, (list, tuple)) else [tensors])]


def _network_with(model: Any, bases: list) -> tuple[Any, list]:
    """(the functional model that calls the bases itself, the layers before it) or (None, [])."""
    if any(base in model.layers for base in bases):
        return model, []
    # studio.data's wrap_model: Input -> fixed preprocessing layers -> the network
    nested = [layer for layer in model.layers if getattr(layer, "layers", None)]
    if len(nested) != 1 or len(model.inputs) != 1 or model.layers[-1] is not nested[0]:
        return None, []
    network = nested[0]
    if not all(base in network.layers for base in bases):
        return None, []
    prefix = [layer for layer in model.layers[:-1] if type(layer).__name__ != "InputLayer"]
    return network, prefix


def _stochastic(layer: Any) -> bool:
    name = type(layer).__name__
    return name.startswith("Random") or name in STOCHASTIC


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
