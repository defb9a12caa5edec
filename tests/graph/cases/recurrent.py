"""Harness cases for studio/graph/layers/recurrent.py (kept small: recurrent layers are slow to build)."""

from itertools import product

from tests.graph.cases.base import Case

_SEQ = [[(None, 5, 3)], [(None, None, 4)], [(2, 6, 3)], [(3, 1, 2)], [(None, 5)]]
_RARELY = [False, False, False, True]  # stateful needs a fixed batch size: sample it less often
_RNN = Case(inputs=_SEQ, params={"stateful": _RARELY}, keep_default=("seed",), max_dim=6)


def _rnn(class_name: str, **config) -> dict:
    return {"module": "keras.layers", "class_name": class_name, "config": config}


# Wrapped layers for Bidirectional: every class, with and without sequences/states, plus a few
# combinations Keras refuses (go_backwards on the wrapped layer, stateful with an unknown batch).
_WRAPPED = [
    _rnn(cls, units=u, return_sequences=rs, return_state=st)
    for cls, u, rs, st in product(("LSTM", "GRU", "SimpleRNN"), (2,), (False, True), (False, True))
] + [
    _rnn("GRU", units=3, reset_after=False, use_bias=True),
    _rnn("LSTM", units=1, use_bias=False),
    _rnn("LSTM", units=2, go_backwards=True),
    _rnn("SimpleRNN", units=2, stateful=True),
]
_BACKWARD = [
    None, None, None, None, None,
    _rnn("LSTM", units=2, go_backwards=True),
    _rnn("GRU", units=2, go_backwards=True, return_sequences=True),
    _rnn("LSTM", units=2),  # not backwards: refused
]
_CONV_WRAPPED = [
    {"module": "keras.layers", "class_name": "ConvLSTM2D",
     "config": {"filters": 2, "kernel_size": [2, 2], "return_state": st, "return_sequences": rs}}
    for st, rs in product((False, True), (False, True))
]

# Keras' TimeDistributed skips the wrapped layer's input checks, so it "accepts" e.g. an LSTM on 2-D
# steps (with nonsense weights) or a MaxPooling2D on 2-D steps where our spec refuses: such wrapped
# layers are left out here (their own cases cover them).
_DISTRIBUTED = [
    _rnn("Dense", units=3),
    _rnn("Dense", units=1, use_bias=False, activation="relu"),
    _rnn("Conv2D", filters=2, kernel_size=[3, 3]),
    _rnn("Flatten"),
]

CASES = {
    "SimpleRNN": _RNN,
    "LSTM": _RNN,
    "GRU": _RNN,
    "Bidirectional": Case(inputs=_SEQ, params={"layer": _WRAPPED, "backward_layer": _BACKWARD}, max_dim=6),
    "TimeDistributed": Case(inputs=[[(None, 5, 3)], [(None, None, 4)], [(None, 4, 3, 2)], [(2, 4, 3, 2)],
                                    [(None, 6)], [(None, 3, None)], [(None, 3, 6, 6, 2)], [(None, 2, 5, 4, 1)]],
                            params={"layer": _DISTRIBUTED}, max_dim=6),
    "ConvLSTM1D": Case(inputs=[[(None, 3, 8, 2)], [(None, None, 6, 1)], [(2, 2, 5, 3)], [(None, 3, None, 2)]],
                       params={"strides": [[1], [1], [2]], "dilation_rate": [[1], [1], [1], [2]],
                               "kernel_size": [[1], [3], [5]], "stateful": _RARELY},
                       keep_default=("seed",), max_dim=8),
    "ConvLSTM2D": Case(inputs=[[(None, 3, 6, 6, 2)], [(None, None, 5, 7, 1)], [(2, 2, 4, 4, 3)]],
                       params={"strides": [[1, 1], [1, 1], [2, 1], [2, 2]],
                               "dilation_rate": [[1, 1], [1, 1], [1, 1], [2, 1]],
                               "kernel_size": [[1, 1], [3, 3], [2, 4]], "stateful": _RARELY},
                       keep_default=("seed",), max_dim=7),
    "ConvLSTM3D": Case(inputs=[[(None, 2, 4, 4, 4, 1)], [(None, None, 3, 5, 4, 2)]],
                       params={"strides": [[1, 1, 1], [1, 1, 1], [2, 2, 1]],
                               "dilation_rate": [[1, 1, 1], [1, 1, 1], [1, 2, 1]],
                               "kernel_size": [[1, 1, 1], [3, 3, 3], [2, 1, 2]], "filters": [1, 2],
                               "stateful": _RARELY},
                       keep_default=("seed",), max_dim=5),
}

# Bidirectional around a ConvLSTM2D: a second case keyed by the same spec would clash, so the
# wrapped ConvLSTM configs join the pool only for 5-D inputs below.
CASES["Bidirectional"] = Case(
    inputs=_SEQ + [[(None, 3, 5, 5, 2)]],
    params={"layer": _WRAPPED + _CONV_WRAPPED, "backward_layer": _BACKWARD},
    max_dim=6,
)
