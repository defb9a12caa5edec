"""`PreparedData` and the tf.data plumbing the sources share.

TensorFlow and Keras are imported inside functions only. The datasets yield
``(features, target)`` batches where the features are *raw* (numbers as in
the file, pixels 0-255, token ids); the fitted scaling travels with
`PreparedData.preprocessing` and becomes the first layers of the model
(`preprocessing_layers()` / `wrap_model()`), so a trained or exported model
takes raw inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from studio.data.info import DatasetInfo
from studio.data.splits import TEST, TRAIN, VALIDATION

SHUFFLE_BUFFER = 10_000
# Arrays larger than this are streamed in chunks instead of copied into tensors.
IN_MEMORY_BYTES = 256 * 1024 * 1024


@dataclass
class PreparedData:
    """Batched train/validation/test datasets plus what was fitted on the train split.

    * ``train`` is shuffled (reshuffled every epoch, seeded); all three are
      batched, cached where they fit in memory, and prefetched.
    * ``validation`` / ``test`` are None when their fraction is 0.
    * ``preprocessing`` is the fitted state as JSON (also in
      ``spec["preprocessing"]``): ``normalize`` ({"mean", "variance"} per
      feature on the last axis), ``rescale`` (images), ``class_names``,
      ``vocabulary_file`` / ``sequence_length`` (text), ``fill`` (values put
      in for missing cells).
    """

    train: Any
    validation: Any
    test: Any
    info: DatasetInfo
    spec: dict
    batch_size: int
    counts: dict[str, int] = field(default_factory=dict)
    vocabulary: list[str] | None = None  # text: the tokens after "" and "[UNK]"
    warnings: list[str] = field(default_factory=list)  # for training to show: e.g. image files skipped
    # Where each test sample comes from, in the test split's order (the Evaluation tab shows the samples
    # behind its numbers): {"kind": "images" | "table" | "text", "path": the folder or file, "refs": per
    # sample a file path relative to the folder or a data row (0-based)}; None where unknown (arrays).
    test_samples: dict | None = None

    @property
    def preprocessing(self) -> dict:
        return self.spec.get("preprocessing", {})

    @property
    def class_names(self) -> list[str]:
        return list(self.preprocessing.get("class_names", self.info.class_names))

    def steps_per_epoch(self) -> int:
        return max(1, -(-self.counts.get("train", 0) // self.batch_size))

    def preprocessing_layers(self, raw_text: bool = False) -> list:
        """Keras layers turning raw inputs into what the model should see."""
        return preprocessing_layers(self.preprocessing, self.vocabulary, raw_text)

    def wrap_model(self, model: Any, raw_text: bool = False) -> Any:
        """A keras.Model taking raw inputs: the preprocessing layers, then `model`.

        With ``raw_text=True`` a text model takes strings (the saved
        TextVectorization vocabulary in front); otherwise token ids.
        """
        return wrap_model(model, self.preprocessing, self.vocabulary, raw_text=raw_text)


def preprocessing_layers(pre: dict, vocabulary: list[str] | None = None, raw_text: bool = False) -> list:
    """The layers for fitted preprocessing `pre`; with `raw_text`, a TextVectorization
    over `vocabulary` (tokens without "" and "[UNK]") comes first."""
    import keras

    layers: list = []
    if raw_text and vocabulary is not None:
        layers.append(keras.layers.TextVectorization(
            output_sequence_length=pre["sequence_length"], vocabulary=list(vocabulary),
            name="text_vectorization"))
    rescale = pre.get("rescale")
    if rescale:
        layers.append(keras.layers.Rescaling(float(rescale), name="rescale"))
    norm = pre.get("normalize")
    if norm:
        layers.append(keras.layers.Normalization(
            axis=-1, mean=np.asarray(norm["mean"], dtype="float32"),
            variance=np.asarray(norm["variance"], dtype="float32"), name="normalize"))
    return layers


def wrap_model(model: Any, pre: dict, vocabulary: list[str] | None = None, raw_text: bool = False) -> Any:
    import keras

    layers = preprocessing_layers(pre, vocabulary, raw_text=raw_text)
    if not layers:
        return model
    if raw_text and vocabulary is not None:
        inputs = keras.Input(shape=(), dtype="string", name="text")
    else:
        shape = tuple(model.inputs[0].shape[1:])
        inputs = keras.Input(shape=shape, dtype=model.inputs[0].dtype, name="raw_input")
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, model(x), name=f"{model.name}_raw_inputs")


# --- statistics ----------------------------------------------------------------
class RunningMoments:
    """Mean and variance per feature on the last axis, fed chunk by chunk (NaN ignored)."""

    def __init__(self) -> None:
        self.n: np.ndarray | None = None
        self.total: np.ndarray | None = None
        self.total_sq: np.ndarray | None = None

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64).reshape(-1, x.shape[-1])
        finite = np.isfinite(x)
        x0 = np.where(finite, x, 0.0)
        if self.n is None:
            width = x.shape[-1]
            self.n, self.total, self.total_sq = np.zeros(width), np.zeros(width), np.zeros(width)
        self.n += finite.sum(axis=0)
        self.total += x0.sum(axis=0)
        self.total_sq += (x0 * x0).sum(axis=0)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        assert self.n is not None
        n = np.maximum(self.n, 1)
        mean = self.total / n
        var = np.maximum(self.total_sq / n - mean * mean, 0.0)
        var[var < 1e-12] = 1.0  # constant features: leave them centred, unscaled
        return mean, var


def moments(x: np.ndarray, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean/variance over every axis but the last, in chunks (memmaps stay on disk)."""
    acc = RunningMoments()
    for start in range(0, len(x), chunk):
        acc.update(np.asarray(x[start:start + chunk]))
    return acc.result()


class Rows:
    """Rows `idx` (sorted) of an array or memmap, read lazily in slices."""

    def __init__(self, a: Any, idx: np.ndarray) -> None:
        self.a, self.idx = a, idx
        self.shape = (len(idx),) + tuple(a.shape[1:])

    def __len__(self) -> int:
        return len(self.idx)

    def __getitem__(self, key: slice) -> np.ndarray:
        return np.asarray(self.a[self.idx[key]])


def scratch_array(shape: tuple, in_memory_bytes: int = IN_MEMORY_BYTES, dtype: str = "float32") -> np.ndarray:
    """A zeroed array in memory, or, when larger than `in_memory_bytes`, a memmap on an unnamed
    temporary file in the cache folder (the system deletes it when the last reference goes)."""
    import tempfile

    from studio.data.registry import cache_dir

    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if nbytes <= in_memory_bytes:
        return np.zeros(shape, dtype=dtype)
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = tempfile.TemporaryFile(dir=folder)
    except OSError:
        handle = tempfile.TemporaryFile()
    return np.memmap(handle, dtype=dtype, mode="w+", shape=shape)


def normalize_entry(mean: np.ndarray, var: np.ndarray) -> dict:
    return {"mean": [float(v) for v in mean], "variance": [float(v) for v in var]}


# --- datasets ------------------------------------------------------------------
def finish(ds: Any, batch_size: int, training: bool, seed: int, cache: bool = True,
           shuffle_buffer: int = SHUFFLE_BUFFER) -> Any:
    """cache() (if it fits), shuffle (train only, reshuffled per epoch), batch, prefetch."""
    import tensorflow as tf

    if cache:
        ds = ds.cache()
    if training:
        size = int(ds.cardinality())
        buffer = shuffle_buffer if size < 0 else max(1, min(shuffle_buffer, size))
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def array_splits(x: Any, y: Any, assignment: np.ndarray, batch_size: int, seed: int,
                 x_dtype: str = "float32", y_dtype: str | None = None,
                 in_memory_bytes: int = IN_MEMORY_BYTES) -> tuple[Any, Any, Any, dict]:
    """Datasets for each split from (possibly memory-mapped) arrays; a split larger than
    `in_memory_bytes` is read in chunks of rows each epoch instead of copied into a tensor."""
    out = []
    sizes = {}
    for part, name in ((TRAIN, "train"), (VALIDATION, "validation"), (TEST, "test")):
        idx = np.flatnonzero(assignment == part)
        sizes[name] = int(len(idx))
        if len(idx) == 0 and part != TRAIN:
            out.append(None)
            continue
        out.append(_array_dataset(x, y, idx, batch_size, part == TRAIN, seed, x_dtype, y_dtype,
                                  in_memory_bytes))
    return out[0], out[1], out[2], sizes


def _array_dataset(x: Any, y: Any, idx: np.ndarray, batch_size: int, training: bool, seed: int,
                   x_dtype: str, y_dtype: str | None, in_memory_bytes: int = IN_MEMORY_BYTES) -> Any:
    import tensorflow as tf

    row_bytes = int(np.prod(x.shape[1:], dtype=np.int64)) * 4 if len(x.shape) > 1 else 4
    if len(idx) * row_bytes <= in_memory_bytes:
        if training:  # a seeded full permutation first, so a file sorted by class is mixed well
            idx = idx[np.random.default_rng(seed).permutation(len(idx))]
        xs = np.asarray(x[idx], dtype=x_dtype)
        ys = np.asarray(y[idx]) if y_dtype is None else np.asarray(y[idx], dtype=y_dtype)
        ds = tf.data.Dataset.from_tensor_slices((xs, ys))
        return finish(ds, batch_size, training, seed, cache=False)  # already in memory
    # Large arrays (memory-mapped files): read blocks of rows. For training the blocks come in
    # a new random order every epoch and the rows of each group of blocks are shuffled, so even
    # a file sorted by class is well mixed, with a bounded amount in memory.
    block = max(1, min(4096, (1024 * 1024) // max(row_bytes, 1)))
    group = 32
    x_spec = tf.TensorSpec((None,) + tuple(x.shape[1:]), x_dtype)
    y_arr_dtype = y_dtype or str(np.asarray(y[:1]).dtype)
    y_spec = tf.TensorSpec((None,) + tuple(y.shape[1:]), y_arr_dtype)
    starts = np.arange(0, len(idx), block)
    epoch = [0]

    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = starts
        rng = None
        if training:
            rng = np.random.default_rng([seed, epoch[0]])
            epoch[0] += 1
            order = rng.permutation(starts)
        for g in range(0, len(order), group):
            rows = np.concatenate([idx[b:b + block] for b in order[g:g + group]])
            if rng is not None:
                rows = rng.permutation(rows)
            yield np.asarray(x[rows], dtype=x_dtype), np.asarray(y[rows], dtype=y_arr_dtype)

    ds = tf.data.Dataset.from_generator(chunks, output_signature=(x_spec, y_spec)).unbatch()
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(idx)))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
