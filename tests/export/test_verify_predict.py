"""`verify.predict`, which every export and import check runs on both sides: eagerly in chunks for
models with small layer outputs, traced for models whose layer outputs for one sample would fill
the memory (EfficientNetB7's eager check once took gigabytes per process); the answers are the same
either way."""

from __future__ import annotations

import numpy as np

from studio.export.verify import EAGER_BYTES, chunk_size, predict, sample_inputs


def _two_outputs():
    import keras

    inputs = keras.Input((6,), name="x")
    hidden = keras.layers.Dense(5, activation="tanh")(inputs)
    return keras.Model(inputs, [keras.layers.Dense(3)(hidden), keras.layers.Dense(1)(hidden)])


def test_chunked_and_traced_predictions_agree_with_keras():
    model = _two_outputs()
    x = sample_inputs(model, batch=5, seed=3)
    reference = [np.asarray(o) for o in model(x[0], training=False)]
    for chunk in (0, 1, 2, 5, None):
        got = predict(model, x, chunk=chunk)
        assert [o.shape for o in got] == [(5, 3), (5, 1)]
        for a, b in zip(got, reference):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=f"chunk {chunk}")


def test_small_models_run_eagerly_and_huge_layer_outputs_are_traced():
    import keras

    assert chunk_size(_two_outputs(), 4) == 4  # tiny outputs: all samples in one eager call
    big = keras.Input((3000, 3000, 3))  # 27 M values a layer: an eager call would keep each
    y = big
    for _ in range(3):
        y = keras.layers.Rescaling(0.5)(y)
    model = keras.Model(big, y)
    assert 27_000_000 * 4 * 4 > EAGER_BYTES
    assert chunk_size(model, 4) == 0
    medium = keras.Input((1000, 1000, 3))  # 3 M values, 2 layers: 24 MB a sample
    assert 1 <= chunk_size(keras.Model(medium, keras.layers.Rescaling(2.0)(medium)), 64) < 64
