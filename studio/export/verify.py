"""Sample inputs and output comparison, shared by the exporters and tests.

TensorFlow/numpy are imported inside functions only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence


def sample_inputs(model: Any, batch: int = 2, seed: int = 0, unknown_dim: int = 4) -> list:
    """One random array per model input, matching its shape and dtype.

    Unknown dimensions other than the batch become `unknown_dim`; integer
    inputs get small ids (0 or 1) so any Embedding accepts them.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = [batch] + [unknown_dim if d is None else int(d) for d in tuple(tensor.shape)[1:]]
        dtype = str(getattr(tensor, "dtype", "float32"))
        if "int" in dtype:
            arrays.append(rng.integers(0, 2, size=shape).astype(dtype))
        elif dtype == "bool":
            arrays.append(rng.integers(0, 2, size=shape).astype(bool))
        elif dtype == "string":  # short sentences (text inputs of Hub modules)
            words = np.array(["the", "cat", "sat", "on", "a", "mat", "hello", "world"], dtype=object)
            arrays.append(np.array([" ".join(rng.choice(words, size=4)) for _ in range(int(np.prod(shape)))],
                                   dtype=str).reshape(shape))  # unicode, not object: np.load needs no pickle
        else:
            arrays.append(rng.standard_normal(shape).astype(dtype))
    return arrays


def as_list(outputs: Any) -> list:
    """Model outputs as a list of numpy arrays (dicts in key order)."""
    import numpy as np

    if isinstance(outputs, dict):
        outputs = [outputs[k] for k in outputs]
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [np.asarray(o) for o in outputs]


def max_abs_diff(expected: Sequence, got: Sequence) -> float:
    """The largest absolute difference over matching outputs (inf when their
    count or shapes differ)."""
    import numpy as np

    if len(expected) != len(got):
        return float("inf")
    worst = 0.0
    for a, b in zip(expected, got):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            if a.size == b.size:
                b = b.reshape(a.shape)
            else:
                return float("inf")
        if a.size:
            worst = max(worst, float(np.max(np.abs(a.astype("float64") - b.astype("float64")))))
    return worst


# The most bytes of layer outputs (estimated by `chunk_size`) one eager call of `predict` may hold.
EAGER_BYTES = 256 * 2**20


def chunk_size(model: Any, samples: int) -> int:
    """How many samples `predict` gives `model` per eager call; 0: trace it instead.

    Called eagerly, a functional model keeps every layer's output until the
    call ends (EfficientNetB7 on one 600x600 image: 4 GB); a traced graph frees
    each tensor once used, but tracing costs seconds (ResNet50: 6 s), and each
    eager call costs a pass of Python over the layers. The outputs of one
    sample are estimated as the input's size times the number of layers (nested
    models' layers counted), 4 bytes each: as many samples per call as fit in
    `EAGER_BYTES`, traced when not even one does.
    """
    import math

    def count(layer: Any) -> int:
        inner = getattr(layer, "layers", None)
        return sum(count(x) for x in inner) if isinstance(inner, list) and inner else 1

    size = 0
    for tensor in getattr(model, "inputs", None) or []:
        size += math.prod(1 if d is None else int(d) for d in tuple(tensor.shape)[1:])
    one = size * count(model) * 4
    return max(1, min(samples, EAGER_BYTES // one)) if one <= EAGER_BYTES else 0


def predict(model: Any, inputs: list, chunk: int | None = None) -> list:
    """The model's outputs on `inputs` (one array per model input), as numpy arrays.

    Eagerly `chunk` samples at a time, or as one traced function when `chunk` is
    0 (default: `chunk_size`, so a model whose layer outputs would fill the
    memory is traced). Both sides of a comparison run the same way, so they
    compute alike. A model that cannot be traced runs eagerly.
    """
    import warnings

    import numpy as np

    def outputs(part: list) -> Any:
        x = part[0] if len(part) == 1 else part
        with warnings.catch_warnings():
            # A model loaded from an old file lists its single input; a bare array is fine.
            warnings.filterwarnings("ignore", message="The structure of `inputs`")
            return model(x, training=False)

    def call(part: list) -> list:
        return as_list(outputs(part))

    n = len(inputs[0]) if inputs and hasattr(inputs[0], "__len__") else 0
    if chunk is None:
        chunk = chunk_size(model, n)
    if chunk == 0:
        import tensorflow as tf

        try:
            function = tf.function(outputs, autograph=False, jit_compile=False)
            return as_list(function([tf.convert_to_tensor(a) for a in inputs]))
        except Exception:  # e.g. a layer that only runs eagerly
            chunk = 1
    if n <= chunk:
        return call(inputs)
    parts = [call([a[i:i + chunk] for a in inputs]) for i in range(0, n, chunk)]
    if any(o.ndim == 0 for p in parts for o in p):
        return call(inputs)  # outputs without a batch axis: one call on the whole batch
    return [np.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))]


def on_cpu() -> Any:
    """A context that runs TensorFlow ops on the CPU.

    Verification compares runtimes: on a GPU, TensorFlow's default TF32
    matmuls differ from CPU runtimes (TFLite, onnxruntime) by ~1e-3, so both
    sides run on the CPU.
    """
    import tensorflow as tf

    return tf.device("/CPU:0")


def write_report(path: Path, report: dict) -> None:
    Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
