"""Attention layers: MultiHeadAttention, Attention (dot-product), AdditiveAttention.

Each takes a query, a value and optionally a key (the key defaults to the
value). Shapes and weight counts mirror Keras 3. Keras accepts some
combinations symbolically that fail when the model runs (e.g. an Attention
whose query and key sizes differ); `advise` reports those as errors.
"""

from __future__ import annotations

from studio.graph.layers._shapes import fmt
from studio.graph.layers.core import _constraint, _initializer, _regularizer
from studio.graph.spec import LayerSpec, ParamSpec, Shape, ShapeError

INPUT_NAMES = ("query", "value", "key")




SEED = ParamSpec("seed", "int", None, "Random seed of the dropout.", optional=True, minimum=0, advanced=True)


def _query_value_key(name: str, input_shapes) -> tuple[Shape, Shape, Shape, bool]:
    if not 2 <= len(input_shapes) <= 3:
        raise ShapeError(f"{name} takes a query, a value and optionally a key (2 or 3 inputs) but got "
                         f"{len(input_shapes)}; wire the sequence to attend over into the 'value' port")
    query, value = tuple(input_shapes[0]), tuple(input_shapes[1])
    has_key = len(input_shapes) == 3
    key = tuple(input_shapes[2]) if has_key else value
    return query, value, key, has_key


# -- MultiHeadAttention -----------------------------------------------------------


def _mha_axes(params, value: Shape) -> tuple[int, ...]:
    """The attention axes as Keras normalizes them (for the projected rank len(value) + 1)."""
    axes = params.get("attention_axes")
    rank = len(value) + 1
    if axes is None:
        return tuple(range(1, rank - 2))
    if isinstance(axes, int):
        axes = [axes]
    normal = tuple(a if a >= 0 else rank - 1 + a for a in axes)
    for n in normal:
        if not -rank <= n < rank:
            raise ShapeError(f"MultiHeadAttention attention_axes {list(axes)} do not fit a {len(value)}-D value "
                             f"{fmt(value)}; use axes between 1 and {len(value) - 2} (the steps axes), or None "
                             "for all of them")
    return normal


def _mha_shape(params, input_shapes):
    query, value, key, has_key = _query_value_key("MultiHeadAttention", input_shapes)
    if value[1:-1] != key[1:-1]:
        raise ShapeError(f"MultiHeadAttention needs value and key of the same shape except the last axis but got "
                         f"value {fmt(value)} and key {fmt(key)}; feed both from sequences of the same length")
    for role, shape in (("query", query), ("value", value), ("key", key)):
        if shape[-1] is None:
            raise ShapeError(f"MultiHeadAttention needs the feature size (last axis) of its {role} to be known "
                             f"but got {fmt(shape)}; set it on the Input layer")
    _mha_axes(params, value)
    output_shape = params.get("output_shape")
    if output_shape:
        if isinstance(output_shape, int):
            output_shape = [output_shape]
        return [query[:-1] + tuple(output_shape)]
    return [query]


def _mha_params(params, input_shapes):
    query, value, key, _ = _query_value_key("MultiHeadAttention", input_shapes)
    heads, key_dim = params["num_heads"], params["key_dim"]
    value_dim = params.get("value_dim") or key_dim
    bias = params["use_bias"]
    n = (query[-1] + key[-1]) * heads * key_dim + value[-1] * heads * value_dim
    if bias:
        n += 2 * heads * key_dim + heads * value_dim
    if params.get("use_gate"):
        n += query[-1] * heads * value_dim + (heads * value_dim if bias else 0)
    output_shape = params.get("output_shape")
    if isinstance(output_shape, int):
        output_shape = [output_shape]
    size = 1
    for d in output_shape or [query[-1]]:
        size *= d
    n += heads * value_dim * size + (size if bias else 0)
    return (n, 0)


def _mha_advice(params, input_shapes):
    out: list[tuple[str, str]] = []
    try:
        query, value, key, _ = _query_value_key("MultiHeadAttention", input_shapes)
        axes = _mha_axes(params, value)
    except ShapeError:
        return out
    if len(query) < 3 or len(value) < 3:
        out.append(("error", f"MultiHeadAttention needs sequences (batch, steps, features) but got query "
                             f"{fmt(query)} and value {fmt(value)}; Keras fails when the model runs. Reshape a "
                             "vector to (1, features) or use a RepeatVector"))
    elif len(query) != len(value):
        out.append(("error", f"query {fmt(query)} and value {fmt(value)} have different ranks; Keras fails when "
                             "the model runs. Reshape one of them"))
    else:
        for i in range(1, len(value) - 1):
            if i not in axes and None not in (query[i], value[i]) and query[i] != value[i]:
                out.append(("error", f"axis {i} is not an attention axis, so query {fmt(query)} and value "
                                     f"{fmt(value)} must match on it; Keras fails when the model runs. Add {i} to "
                                     "attention_axes or reshape the inputs"))
                break
    return out


MULTI_HEAD_ATTENTION = LayerSpec(
    id="MultiHeadAttention",
    class_name="MultiHeadAttention",
    category="Attention",
    description=(
        "The attention of Transformers: each step of the query looks at every step of the value and takes a "
        "weighted mix of it, softmax(Q·Kᵀ / √key_dim)·V, in num_heads parallel heads that each learn their own "
        "projections, followed by an output projection back to the query's size. Wire the same sequence to "
        "query and value for self-attention, or a decoder's sequence to query and an encoder's to value for "
        "cross-attention. A common choice: key_dim = features / num_heads."
    ),
    params=(
        ParamSpec("num_heads", "int", 4, "Number of attention heads, each with its own projections.", minimum=1,
                  maximum=1024, examples=(1, 2, 3)),
        ParamSpec("key_dim", "int", 64, "Size of each head's query and key projections.", minimum=1,
                  maximum=100_000, examples=(1, 2, 4)),
        ParamSpec("value_dim", "int", None, "Size of each head's value projection; None means key_dim.",
                  optional=True, minimum=1, maximum=100_000, examples=(None, 2, 3)),
        ParamSpec("dropout", "float", 0.0, "Fraction of the attention weights dropped while training.",
                  minimum=0.0, maximum=1.0),
        ParamSpec("use_bias", "bool", True, "Add learned biases to the projections."),
        ParamSpec("output_shape", "ints", None, "Size of the output's last axis (or axes); None keeps the "
                  "query's feature size.", optional=True, minimum=1, advanced=True,
                  examples=(None, None, 5, [3], [2, 3])),
        ParamSpec("attention_axes", "axis", None, "Axes attention runs over; None means every axis between the "
                  "batch and the features (the steps).", optional=True, advanced=True,
                  examples=(None, None, 1, [1], 2, [1, 2], -2, 3, -5)),
        ParamSpec("use_gate", "bool", False, "Gate each head's output with a learned sigmoid of the query.",
                  advanced=True),
        ParamSpec("sliding_window", "int", None, "Let each step attend only to steps fewer than this many "
                  "positions away; None attends to all.", optional=True, minimum=1, advanced=True,
                  examples=(None, 2)),
        _initializer("kernel_initializer", "glorot_uniform"),
        _initializer("bias_initializer", "zeros"),
        _regularizer("kernel_regularizer"),
        _regularizer("bias_regularizer"),
        _regularizer("activity_regularizer"),
        _constraint("kernel_constraint"),
        _constraint("bias_constraint"),
        SEED,
    ),
    infer_shape=_mha_shape,
    count_params=_mha_params,
    min_inputs=2,
    max_inputs=3,
    input_names=INPUT_NAMES,
    key_params=("num_heads", "key_dim"),
    advise=_mha_advice,
    call_style="positional",
)


# -- Attention / AdditiveAttention ---------------------------------------------------


def _attention_shape(name: str):
    def infer(params, input_shapes):
        query, value, _, _ = _query_value_key(name, input_shapes)
        if name == "AdditiveAttention" and params["use_scale"] and query[-1] is None:
            raise ShapeError(f"AdditiveAttention with use_scale=True needs the feature size (last axis) of its "
                             f"query to be known but got {fmt(query)}; set it on the Input layer")
        return [query[:-1] + value[-1:]]

    return infer


def _attention_params(params, input_shapes):
    n = (1 if params["use_scale"] else 0) + (1 if params.get("score_mode") == "concat" else 0)
    return (n, 0)


def _additive_params(params, input_shapes):
    return (input_shapes[0][-1] if params["use_scale"] else 0, 0)


def _attention_advice(name: str):
    def advise(params, input_shapes):
        out: list[tuple[str, str]] = []
        try:
            query, value, key, has_key = _query_value_key(name, input_shapes)
        except ShapeError:
            return out
        if None not in (query[-1], key[-1]) and query[-1] != key[-1]:
            role = "key" if has_key else "value"
            out.append(("error", f"{name} compares query and {role} feature by feature, so their last axes must "
                                 f"match but got {fmt(query)} and {fmt(key)}; Keras fails when the model runs. "
                                 f"Insert a Dense({key[-1]}) on the query branch, or use MultiHeadAttention, "
                                 "which projects them"))
        if has_key and len(key) >= 2 and len(value) >= 2 and None not in (key[-2], value[-2]) \
                and key[-2] != value[-2]:
            out.append(("error", f"{name} needs key and value with the same number of steps but got key "
                                 f"{fmt(key)} and value {fmt(value)}; Keras fails when the model runs"))
        if len(query) != 3 or len(value) != 3:
            out.append(("warning", f"{name} expects sequences (batch, steps, features) but got query {fmt(query)} "
                                   f"and value {fmt(value)}"))
        return out

    return advise


ATTENTION = LayerSpec(
    id="Attention",
    class_name="Attention",
    category="Attention",
    description=(
        "Dot-product (Luong) attention without learned projections: each query step scores every value step, "
        "scores = query·keyᵀ, turns the scores into weights with a softmax and returns the weighted sum of the "
        "values. Query (batch, Tq, dim) and value (batch, Tv, dim) give (batch, Tq, dim). Query and key need the "
        "same feature size; use MultiHeadAttention when they differ or for Transformers."
    ),
    params=(
        ParamSpec("use_scale", "bool", False, "Learn a scalar that scales the scores (sharper or softer "
                  "attention)."),
        ParamSpec("score_mode", "choice", "dot", "'dot': score = q·k; 'concat': score = sum(tanh(q + k)).",
                  choices=("dot", "concat")),
        ParamSpec("dropout", "float", 0.0, "Fraction of the attention weights dropped while training.",
                  minimum=0.0, maximum=1.0),
        SEED,
    ),
    infer_shape=_attention_shape("Attention"),
    count_params=_attention_params,
    min_inputs=2,
    max_inputs=3,
    input_names=INPUT_NAMES,
    key_params=("score_mode",),
    advise=_attention_advice("Attention"),
)


ADDITIVE_ATTENTION = LayerSpec(
    id="AdditiveAttention",
    class_name="AdditiveAttention",
    category="Attention",
    description=(
        "Additive (Bahdanau) attention: each query step scores every key step with "
        "score = sum(scale · tanh(query + key)), softmax turns the scores into weights, and the output is the "
        "weighted sum of the values: (batch, Tq, dim). The classic attention of sequence-to-sequence models; "
        "query and key need the same feature size."
    ),
    params=(
        ParamSpec("use_scale", "bool", True, "Learn one scale per feature for the scores (dim weights)."),
        ParamSpec("dropout", "float", 0.0, "Fraction of the attention weights dropped while training.",
                  minimum=0.0, maximum=1.0),
        SEED,
    ),
    infer_shape=_attention_shape("AdditiveAttention"),
    count_params=_additive_params,
    min_inputs=2,
    max_inputs=3,
    input_names=INPUT_NAMES,
    key_params=("use_scale",),
    advise=_attention_advice("AdditiveAttention"),
)


SPECS = [MULTI_HEAD_ATTENTION, ATTENTION, ADDITIVE_ATTENTION]
