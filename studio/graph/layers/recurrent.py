"""Recurrent layers: SimpleRNN, LSTM, GRU, ConvLSTM1D/2D/3D, Bidirectional, TimeDistributed.

Shapes and weight counts mirror Keras 3 (`RNN.compute_output_shape`, the
cells' `build`). A recurrent layer reads a sequence (batch, steps, features)
and returns its last output (batch, units), or every step's output
(batch, steps, units) with return_sequences=True; return_state=True adds the
final states as extra output ports.
"""

from __future__ import annotations

from studio.graph.layers._shapes import conv_length, fmt, only_input
from studio.graph.spec import ACTIVATIONS, INITIALIZERS, LayerSpec, ParamSpec, ShapeError

# -- shared parameters ---------------------------------------------------------


def _initializer(key: str, default: str, what: str = "weights") -> ParamSpec:
    return ParamSpec(key, "initializer", default, f"How the {what} start before training.",
                     choices=INITIALIZERS, advanced=True)


def _regularizer(key: str, what: str = "weights") -> ParamSpec:
    return ParamSpec(key, "regularizer", None, f"Penalty added to the loss to keep the {what} small.",
                     optional=True, advanced=True)


def _constraint(key: str, what: str = "weights") -> ParamSpec:
    return ParamSpec(key, "constraint", None, f"Limit applied to the {what} after each update.",
                     optional=True, advanced=True)


def _flags() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("return_sequences", "bool", False, "Output every step (batch, steps, units) instead of only "
                  "the last one (batch, units). Needed when another recurrent layer or attention follows."),
        ParamSpec("return_state", "bool", False, "Also output the final state(s) on extra ports, e.g. to start "
                  "a decoder where the encoder stopped."),
        ParamSpec("go_backwards", "bool", False, "Read the sequence from the last step to the first.",
                  advanced=True),
        ParamSpec("stateful", "bool", False, "Keep the final state of each batch as the start of the next "
                  "(needs a fixed batch size on the Input and unshuffled data).", advanced=True),
    )


def _gate_params(recurrent: bool = True) -> tuple[ParamSpec, ...]:
    out = (ParamSpec("activation", "activation", "tanh", "Function applied to the candidate state and output.",
                     choices=ACTIVATIONS),)
    if recurrent:
        out += (ParamSpec("recurrent_activation", "activation", "sigmoid",
                          "Function of the gates (how much to keep, forget, let through).",
                          choices=ACTIVATIONS, advanced=True),)
    return out


def _weights_params(unit_forget_bias: bool) -> tuple[ParamSpec, ...]:
    out = (
        ParamSpec("use_bias", "bool", True, "Add a learned bias to each gate."),
        _initializer("kernel_initializer", "glorot_uniform", "input weights"),
        _initializer("recurrent_initializer", "orthogonal", "recurrent (state-to-state) weights"),
        _initializer("bias_initializer", "zeros", "biases"),
    )
    if unit_forget_bias:
        out += (ParamSpec("unit_forget_bias", "bool", True, "Start the forget gate's bias at 1 so the layer "
                          "remembers by default early in training.", advanced=True),)
    return out + (
        _regularizer("kernel_regularizer", "input weights"),
        _regularizer("recurrent_regularizer", "recurrent weights"),
        _regularizer("bias_regularizer", "biases"),
        _regularizer("activity_regularizer", "outputs"),
        _constraint("kernel_constraint", "input weights"),
        _constraint("recurrent_constraint", "recurrent weights"),
        _constraint("bias_constraint", "biases"),
        ParamSpec("dropout", "float", 0.0, "Fraction of the inputs dropped at each step while training.",
                  minimum=0.0, maximum=1.0),
        ParamSpec("recurrent_dropout", "float", 0.0, "Fraction of the recurrent state dropped at each step while "
                  "training (slower: no cuDNN kernel on GPU).", minimum=0.0, maximum=1.0, advanced=True),
        ParamSpec("seed", "int", None, "Random seed of the dropout masks.", optional=True, minimum=0,
                  advanced=True),
    )


UNITS = ParamSpec("units", "int", 32, "Size of the state and of each output step.", minimum=1,
                  maximum=100_000, examples=(1, 2, 4, 7))

SEQUENCE_FIX = ("if it follows another recurrent layer set return_sequences=True there; otherwise insert a "
                "Reshape to (steps, features) or a RepeatVector, or put an Embedding before it")


# -- SimpleRNN / LSTM / GRU ------------------------------------------------------

# name -> (gates, state names)
_RNN_KINDS = {
    "SimpleRNN": (1, ("state",)),
    "LSTM": (4, ("state_h", "state_c")),
    "GRU": (3, ("state",)),
}


def _sequence_input(name: str, input_shapes) -> tuple:
    shape = only_input(name, input_shapes)
    if len(shape) != 3:
        if len(shape) == 2:
            fix = SEQUENCE_FIX
        elif len(shape) > 3:
            fix = ("flatten each step first, e.g. TimeDistributed(Flatten()) or a Reshape to (steps, features), "
                   "or use ConvLSTM2D for sequences of images")
        else:
            fix = "insert a Reshape to (steps, features)"
        raise ShapeError(f"{name} needs a 3-D input (batch, steps, features) but got {fmt(shape)}; {fix}")
    if shape[2] is None:
        raise ShapeError(f"{name} needs to know the number of features (last axis) of its input but got "
                         f"{fmt(shape)}; set it on the Input layer")
    return shape


def _check_stateful(name: str, params: dict, shape: tuple) -> None:
    if params.get("stateful") and shape[0] is None:
        raise ShapeError(f"{name} with stateful=True needs a fixed batch size but got {fmt(shape)}; set the "
                         "batch size on the Input layer (first entry of batch_shape) or turn stateful off")


def _rnn_shape(name: str):
    n_states = len(_RNN_KINDS[name][1])

    def infer(params, input_shapes):
        batch, steps, _ = _sequence_input(name, input_shapes)
        _check_stateful(name, params, (batch, steps, _))
        units = params["units"]
        out = (batch, steps, units) if params["return_sequences"] else (batch, units)
        if params["return_state"]:
            return [out] + [(batch, units)] * n_states
        return [out]

    return infer


def _rnn_params(name: str):
    gates = _RNN_KINDS[name][0]

    def count(params, input_shapes):
        features = input_shapes[0][-1]
        units = params["units"]
        n = gates * units * (features + units)
        if params["use_bias"]:
            n += gates * units * (2 if name == "GRU" and params["reset_after"] else 1)
        return (n, 0)

    return count


def _rnn_outputs(name: str):
    n_states = len(_RNN_KINDS[name][1])

    def num(params: dict) -> int:
        return 1 + (n_states if params.get("return_state") else 0)

    return num


def _rnn_output_names(name: str):
    states = _RNN_KINDS[name][1]

    def names(params: dict) -> tuple:
        return ("output",) + (states if params.get("return_state") else ())

    return names


def _rnn_advice(name: str):
    def advise(params, input_shapes):
        out: list[tuple[str, str]] = []
        steps = input_shapes[0][1] if input_shapes and len(input_shapes[0]) == 3 else None
        if params.get("unroll"):
            if steps is None:
                out.append(("error", f"{name} with unroll=True needs a known number of steps; Keras fails when "
                                     "the model runs. Set the steps on the Input layer or turn unroll off"))
            elif steps > 100:
                out.append(("warning", f"unroll=True copies the cell {steps} times: fast for short sequences but "
                                       "memory-hungry for long ones; turn unroll off"))
        if name in ("LSTM", "GRU"):
            slow = []
            if params.get("activation") != "tanh":
                slow.append("activation is not tanh")
            if params.get("recurrent_activation") != "sigmoid":
                slow.append("recurrent_activation is not sigmoid")
            if params.get("recurrent_dropout"):
                slow.append("recurrent_dropout > 0")
            if params.get("unroll"):
                slow.append("unroll=True")
            if not params.get("use_bias", True):
                slow.append("use_bias is off")
            if name == "GRU" and not params.get("reset_after", True):
                slow.append("reset_after is off")
            if slow:
                out.append(("info", f"{', '.join(slow)}: the fast cuDNN kernel cannot be used, so training on a "
                                    "GPU is several times slower"))
        if params.get("stateful"):
            out.append(("info", "stateful=True carries the state from one batch to the next: train with "
                                "shuffle off and reset the states between epochs"))
        return out

    return advise


_RNN_DESCRIPTIONS = {
    "SimpleRNN": (
        "The simplest recurrent layer: it reads a sequence step by step and keeps a state that mixes the "
        "current step with the previous state, h_t = activation(x_t·W + h_(t-1)·U + b). Fine for short "
        "sequences; it forgets long-range context quickly (vanishing gradients), where LSTM or GRU do better."
    ),
    "LSTM": (
        "Long Short-Term Memory: a recurrent layer with a memory cell and three gates (input, forget, output) "
        "that learn what to store, keep and reveal, so it can carry information across long sequences. The "
        "standard choice for text, time series and audio. Input (batch, steps, features); output the last "
        "step (batch, units), or every step with return_sequences=True (needed to stack another LSTM)."
    ),
    "GRU": (
        "Gated Recurrent Unit: like an LSTM but with two gates (update, reset) and no separate memory cell, so "
        "it has about 25% fewer weights and trains a little faster, with similar accuracy on many tasks. Input "
        "(batch, steps, features); output the last step, or every step with return_sequences=True."
    ),
}


def _rnn_spec(name: str) -> LayerSpec:
    params: tuple[ParamSpec, ...] = (UNITS,) + _gate_params(recurrent=name != "SimpleRNN") + _flags()
    params += (ParamSpec("unroll", "bool", False, "Unroll the loop: faster for short sequences, more memory; "
                         "needs a known number of steps.", advanced=True),)
    if name == "GRU":
        params += (ParamSpec("reset_after", "bool", True, "Apply the reset gate after the matrix multiplication "
                             "(the cuDNN-compatible convention; two bias vectors).", advanced=True),)
    params += _weights_params(unit_forget_bias=name == "LSTM")
    params += (ParamSpec("zero_output_for_mask", "bool", False, "With a mask, output zeros at masked steps "
                         "instead of repeating the last output.", advanced=True),)
    return LayerSpec(
        id=name,
        class_name=name,
        category="Recurrent",
        description=_RNN_DESCRIPTIONS[name],
        params=params,
        infer_shape=_rnn_shape(name),
        count_params=_rnn_params(name),
        num_outputs=_rnn_outputs(name),
        output_names=_rnn_output_names(name),
        key_params=("units", "return_sequences", "return_state"),
        advise=_rnn_advice(name),
    )


SIMPLE_RNN = _rnn_spec("SimpleRNN")
LSTM = _rnn_spec("LSTM")
GRU = _rnn_spec("GRU")


# -- ConvLSTM1D / 2D / 3D ----------------------------------------------------------

_SPATIAL = {1: "length", 2: "height, width", 3: "depth, height, width"}


def _convlstm_shape(rank: int):
    name = f"ConvLSTM{rank}D"

    def infer(params, input_shapes):
        shape = only_input(name, input_shapes)
        if max(params["strides"]) > 1 and max(params["dilation_rate"]) > 1:
            raise ShapeError(f"{name} cannot combine strides > 1 with dilation_rate > 1; set one of them to 1")
        if len(shape) != rank + 3:
            raise ShapeError(f"{name} needs a {rank + 3}-D input (batch, steps, {_SPATIAL[rank]}, channels) but "
                             f"got {fmt(shape)}; it reads a sequence of {rank}-D frames. Reshape the input, or use "
                             f"Conv{rank}D for a single frame")
        first = params["data_format"] == "channels_first"
        spatial = shape[3:] if first else shape[2:-1]
        channels = shape[2] if first else shape[-1]
        if None in spatial:
            raise ShapeError(f"{name} needs the frame size ({_SPATIAL[rank]}) of its input to be known but got "
                             f"{fmt(shape)}; set it on the Input layer")
        if channels is None:
            raise ShapeError(f"{name} needs the number of channels of its input to be known but got {fmt(shape)}; "
                             "set it on the Input layer")
        _check_stateful(name, params, shape)
        out_spatial = []
        for length, k, s, d in zip(spatial, params["kernel_size"], params["strides"], params["dilation_rate"]):
            n = conv_length(length, k, s, params["padding"], d)
            if n is not None and n <= 0:
                raise ShapeError(f"{name}: a kernel of {list(params['kernel_size'])} (dilation "
                                 f"{list(params['dilation_rate'])}) does not fit in frames of {list(spatial)}; "
                                 "use padding='same' or a smaller kernel_size")
            out_spatial.append(n)
        batch, steps = shape[0], shape[1]
        filters = params["filters"]
        state = (batch, filters, *out_spatial) if first else (batch, *out_spatial, filters)
        out = (batch, steps) + state[1:] if params["return_sequences"] else state
        if params["return_state"]:
            return [out, state, state]
        return [out]

    return infer


def _convlstm_params(params, input_shapes):
    shape = input_shapes[0]
    channels = shape[2] if params["data_format"] == "channels_first" else shape[-1]
    window = 1
    for k in params["kernel_size"]:
        window *= k
    filters = params["filters"]
    n = window * (channels + filters) * 4 * filters + (4 * filters if params["use_bias"] else 0)
    return (n, 0)


def _convlstm_spec(rank: int) -> LayerSpec:
    name = f"ConvLSTM{rank}D"
    example = {1: "a sequence of 1-D signals", 2: "a video or a sequence of radar/weather maps",
               3: "a sequence of 3-D volumes"}[rank]
    params = (
        ParamSpec("filters", "int", 32, "Number of feature maps in the state and output.", minimum=1,
                  maximum=100_000, examples=(1, 2, 3)),
        ParamSpec("kernel_size", "ints", [3] * rank, "Size of the convolution window.", minimum=1, length=rank),
        ParamSpec("strides", "ints", [1] * rank, "Step of the window over the input.", minimum=1, length=rank,
                  advanced=True),
        ParamSpec("padding", "choice", "valid", "'valid' shrinks the frame by the kernel; 'same' keeps its size "
                  "(at stride 1).", choices=("valid", "same")),
        ParamSpec("data_format", "choice", "channels_last", "Where the channels axis is.",
                  choices=("channels_last", "channels_first"), advanced=True),
        ParamSpec("dilation_rate", "ints", [1] * rank, "Spacing between kernel taps (cannot be combined with "
                  "strides > 1).", minimum=1, length=rank, advanced=True),
    ) + _gate_params() + _flags() + _weights_params(unit_forget_bias=True)
    return LayerSpec(
        id=name,
        class_name=name,
        category="Recurrent",
        description=(
            f"An LSTM whose input and recurrent transformations are {rank}-D convolutions instead of matrix "
            f"products, so it keeps the spatial layout of each frame: for {example}. Input (batch, steps, "
            f"{_SPATIAL[rank]}, channels); output the last frame's feature maps, or every step with "
            "return_sequences=True."
        ),
        params=params,
        infer_shape=_convlstm_shape(rank),
        count_params=_convlstm_params,
        num_outputs=_rnn_outputs("LSTM"),
        output_names=_rnn_output_names("LSTM"),
        key_params=("filters", "kernel_size", "return_sequences"),
        advise=_rnn_advice(name),
    )


CONV_LSTM_1D = _convlstm_spec(1)
CONV_LSTM_2D = _convlstm_spec(2)
CONV_LSTM_3D = _convlstm_spec(3)


# -- Bidirectional -----------------------------------------------------------------

_WRAPPABLE = {s.class_name: s for s in (SIMPLE_RNN, LSTM, GRU, CONV_LSTM_1D, CONV_LSTM_2D, CONV_LSTM_3D)}
_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _nested(value: dict | None, default_class: str) -> tuple[str, dict]:
    value = value or {"class_name": default_class, "config": {}}
    return value.get("class_name", default_class), dict(value.get("config") or {})


def _recurrent_inner(value: dict, role: str) -> tuple[LayerSpec, dict]:
    class_name, config = _nested(value, "LSTM")
    spec = _WRAPPABLE.get(class_name)
    if spec is None:
        raise ShapeError(f"Bidirectional wraps a recurrent layer (LSTM, GRU, SimpleRNN or ConvLSTM) but its "
                         f"{role} is a {class_name}; pick one of those")
    resolved, problems = spec.validate(config)
    if problems:
        raise ShapeError(f"Bidirectional's {role} {class_name}: {problems[0][1]}")
    return spec, resolved


def _bidirectional_layers(params) -> tuple[LayerSpec, dict, LayerSpec, dict]:
    fspec, forward = _recurrent_inner(params["layer"], "layer")
    if not params.get("backward_layer"):
        if forward["go_backwards"]:
            raise ShapeError("Bidirectional runs a reversed copy of its layer itself; set go_backwards=False on "
                             "the wrapped layer")
        return fspec, forward, fspec, dict(forward, go_backwards=True)
    bspec, backward = _recurrent_inner(params["backward_layer"], "backward_layer")
    if forward["go_backwards"] == backward["go_backwards"]:
        raise ShapeError("Bidirectional needs one direction per layer: set go_backwards=True on backward_layer "
                         "and False on layer")
    for key in ("stateful", "return_sequences", "return_state"):
        if forward[key] != backward[key]:
            raise ShapeError(f"Bidirectional needs the same {key} on layer and backward_layer but got "
                             f"{forward[key]} and {backward[key]}; make them equal")
    return fspec, forward, bspec, backward


def _bidirectional_shape(params, input_shapes):
    fspec, forward, bspec, backward = _bidirectional_layers(params)
    outs = fspec.infer_shape(forward, input_shapes)
    bspec.infer_shape(backward, input_shapes)  # Keras builds both copies
    out, states = tuple(outs[0]), [tuple(s) for s in outs[1:]]
    mode = params.get("merge_mode", "concat")
    if mode == "concat":
        merged = [out[:-1] + (out[-1] * 2,)]
    elif mode is None:
        merged = [out, out]
    else:
        merged = [out]
    return merged + states + states


def _bidirectional_params(params, input_shapes):
    fspec, forward, bspec, backward = _bidirectional_layers(params)
    f = fspec.count_params(forward, input_shapes)
    b = bspec.count_params(backward, input_shapes)
    return (f[0] + b[0], f[1] + b[1])


def _bidirectional_states(params: dict) -> tuple:
    class_name, config = _nested(params.get("layer"), "LSTM")
    if not config.get("return_state"):
        return ()
    if class_name in ("LSTM", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"):
        return ("forward_h", "forward_c", "backward_h", "backward_c")
    return ("forward_state", "backward_state")


def _bidirectional_names(params: dict) -> tuple:
    base = ("forward", "backward") if params.get("merge_mode", "concat") is None else ("output",)
    return base + _bidirectional_states(params)


def _bidirectional_advice(params, input_shapes):
    out: list[tuple[str, str]] = []
    try:
        fspec, forward, bspec, backward = _bidirectional_layers(params)
    except ShapeError:
        return out
    size = "filters" if "filters" in forward else "units"
    if backward.get(size) != forward.get(size) and params.get("merge_mode", "concat") is not None:
        out.append(("error", f"the backward_layer has {size}={backward.get(size)} but the layer has "
                             f"{forward.get(size)}: Keras sizes the merged output from the forward layer only, "
                             "so the model fails when it runs; give both the same size"))
    out.extend((sev, f"wrapped {fspec.id}: {msg}") for sev, msg in fspec.advise(forward, input_shapes))
    return out


_DEFAULT_RNN = {"module": "keras.layers", "class_name": "LSTM", "config": {"units": 32}}

BIDIRECTIONAL = LayerSpec(
    id="Bidirectional",
    class_name="Bidirectional",
    category="Recurrent",
    description=(
        "Runs a recurrent layer twice, once forwards and once backwards over the sequence, and merges the two "
        "results (concatenated by default, so an LSTM of 32 units gives 64 features), so every step sees both "
        "its past and its future. Twice the weights of the wrapped layer. Great for tagging and classifying "
        "whole sequences; not for predicting the next step (it would see the future)."
    ),
    params=(
        ParamSpec("layer", "layer", _DEFAULT_RNN, "The recurrent layer to run in both directions (LSTM, GRU, "
                  "SimpleRNN or ConvLSTM) with its own settings.",
                  examples=(_DEFAULT_RNN,
                            {"module": "keras.layers", "class_name": "GRU",
                             "config": {"units": 3, "return_sequences": True}},
                            {"module": "keras.layers", "class_name": "SimpleRNN",
                             "config": {"units": 2, "return_state": True}})),
        ParamSpec("merge_mode", "choice", "concat", "How the forward and backward outputs are combined: concat "
                  "(side by side), sum, mul, ave, or None (two separate outputs).",
                  choices=_MERGE_MODES, optional=True),
        ParamSpec("backward_layer", "layer", None, "Optional separate layer for the backward pass (must have "
                  "go_backwards=True); by default a copy of 'layer'.", optional=True, advanced=True),
    ),
    infer_shape=_bidirectional_shape,
    count_params=_bidirectional_params,
    num_outputs=lambda params: len(_bidirectional_names(params)),
    output_names=_bidirectional_names,
    key_params=("layer", "merge_mode"),
    advise=_bidirectional_advice,
)


# -- TimeDistributed -----------------------------------------------------------------


def _distributed_inner(params) -> tuple[LayerSpec, dict]:
    from studio.graph.catalog import default_catalog  # the catalog holds this module: look up lazily

    class_name, config = _nested(params["layer"], "Dense")
    spec = default_catalog().for_class(class_name)
    if spec is None or class_name in ("TimeDistributed", "Bidirectional") or spec.max_inputs != 1 \
            or spec.min_inputs != 1:
        raise ShapeError(f"TimeDistributed cannot wrap {class_name}; wrap a one-input layer such as Dense, "
                         "Conv2D, Flatten or Dropout")
    resolved, problems = spec.validate(config)
    if problems:
        raise ShapeError(f"TimeDistributed's {class_name}: {problems[0][1]}")
    if spec.num_outputs(resolved) != 1:
        raise ShapeError(f"TimeDistributed needs a wrapped layer with one output; turn return_state off on the "
                         f"{class_name}")
    return spec, resolved


def _distributed_input(input_shapes) -> tuple:
    shape = only_input("TimeDistributed", input_shapes)
    if len(shape) < 3:
        raise ShapeError(f"TimeDistributed needs an input of at least 3 dimensions (batch, steps, ...) but got "
                         f"{fmt(shape)}; it applies its layer to every step, so the input needs a steps axis")
    return shape


def _distributed_shape(params, input_shapes):
    shape = _distributed_input(input_shapes)
    spec, inner = _distributed_inner(params)
    try:
        out = tuple(spec.infer_shape(inner, [(shape[0],) + shape[2:]])[0])
    except ShapeError as exc:
        raise ShapeError(f"each step {fmt((shape[0],) + shape[2:])} of the input: {exc}") from None
    return [(out[0], shape[1]) + out[1:]]


def _distributed_params(params, input_shapes):
    shape = _distributed_input(input_shapes)
    spec, inner = _distributed_inner(params)
    try:
        return spec.count_params(inner, [(shape[0],) + shape[2:]])
    except ShapeError as exc:
        raise ShapeError(f"each step {fmt((shape[0],) + shape[2:])} of the input: {exc}") from None


def _distributed_advice(params, input_shapes):
    try:
        shape = _distributed_input(input_shapes)
        spec, inner = _distributed_inner(params)
    except ShapeError:
        return []
    out = [(sev, f"wrapped {spec.id}: {msg}") for sev, msg in spec.advise(inner, [(shape[0],) + shape[2:]])]
    if spec.class_name == "Dense":
        out.append(("info", "a Dense already acts on the last axis of any input, so TimeDistributed(Dense) is the "
                            "same as a plain Dense here"))
    return out


TIME_DISTRIBUTED = LayerSpec(
    id="TimeDistributed",
    class_name="TimeDistributed",
    category="Recurrent",
    description=(
        "Applies the same layer, with the same weights, to every step of a sequence: (batch, steps, ...) -> "
        "(batch, steps, ...). Wrap a Conv2D or Flatten to process each frame of a video before an LSTM, or a "
        "Dense to classify every step of a sequence (tagging). The weights are those of one copy of the layer."
    ),
    params=(
        ParamSpec("layer", "layer", {"module": "keras.layers", "class_name": "Dense", "config": {"units": 32}},
                  "The layer applied to each step, with its own settings.",
                  examples=({"module": "keras.layers", "class_name": "Dense", "config": {"units": 3}},
                            {"module": "keras.layers", "class_name": "Dense",
                             "config": {"units": 1, "use_bias": False}})),
    ),
    infer_shape=_distributed_shape,
    count_params=_distributed_params,
    key_params=("layer",),
    advise=_distributed_advice,
)


SPECS = [SIMPLE_RNN, LSTM, GRU, BIDIRECTIONAL, TIME_DISTRIBUTED, CONV_LSTM_1D, CONV_LSTM_2D, CONV_LSTM_3D]
