"""Input and the core layers: Dense, Activation, Embedding."""

from __future__ import annotations

from studio.graph.layers._shapes import fmt, only_input, require_min_rank
from studio.graph.spec import ACTIVATIONS, INITIALIZERS, LayerSpec, ParamSpec, ShapeError

ACT = ParamSpec("activation", "activation", "linear", "Function applied to the output; linear means none.",
                choices=ACTIVATIONS, optional=True)


def _initializer(key: str, default: str) -> ParamSpec:
    return ParamSpec(key, "initializer", default, "How the weights start before training.",
                     choices=INITIALIZERS, advanced=True)


def _regularizer(key: str) -> ParamSpec:
    return ParamSpec(key, "regularizer", None, "Penalty added to the loss to keep weights small.",
                     optional=True, advanced=True)


def _constraint(key: str) -> ParamSpec:
    return ParamSpec(key, "constraint", None, "Limit applied to the weights after each update.",
                     optional=True, advanced=True)


def _input_shape(params, input_shapes):
    if input_shapes:
        raise ShapeError("Input takes no wires; it is where data enters the model")
    return [tuple(params["batch_shape"])]


INPUT = LayerSpec(
    id="Input",
    class_name="InputLayer",
    category="Input",
    description=(
        "Where data enters the model. Its batch shape is the batch size (None: any) "
        "followed by the shape of one sample: 4 features is (None, 4), a 28x28 grayscale "
        "image is (None, 28, 28, 1), a sequence of 100 word ids is (None, 100). "
        "A model can have several inputs."
    ),
    params=(
        ParamSpec("batch_shape", "shape", [None, 1], "The shape of a batch: the first entry "
                  "is the batch size (None means any), the rest is one sample's shape."),
        ParamSpec("dtype", "dtype", "float32", "Type of the values fed in.",
                  choices=("float32", "float16", "float64", "int32", "int64", "string", "bool")),
    ),
    infer_shape=_input_shape,
    min_inputs=0,
    max_inputs=0,
    key_params=(),
)


def _dense_shape(params, input_shapes):
    shape = only_input("Dense", input_shapes)
    require_min_rank("Dense", shape, 2, "connect it after an Input or a layer with features")
    return [shape[:-1] + (params["units"],)]


def _dense_params(params, input_shapes):
    shape = input_shapes[0]
    if shape[-1] is None:
        raise ShapeError(
            f"Dense needs to know the size of the last axis of its input but got {fmt(shape)}; "
            "set it on the Input layer"
        )
    n = shape[-1] * params["units"] + (params["units"] if params["use_bias"] else 0)
    return (n, 0)


def _dense_advice(params, input_shapes):
    shape = input_shapes[0]
    if len(shape) == 4:
        return [("warning", f"Dense after a convolution gets a 4-D input {fmt(shape)} and acts on the "
                            "last axis only; insert Flatten or GlobalAveragePooling2D before it to "
                            "use the whole image")]
    return []


DENSE = LayerSpec(
    id="Dense",
    class_name="Dense",
    category="Core",
    description=(
        "A fully connected layer: every output is a weighted sum of all inputs plus a bias, "
        "passed through an activation: y = activation(x·W + b). The workhorse of MLPs and the "
        "usual last layer of a classifier (units = number of classes, softmax)."
    ),
    params=(
        ParamSpec("units", "int", 32, "Number of outputs (neurons).", minimum=1, maximum=1_000_000,
                  examples=(1, 3, 8, 32)),
        ACT,
        ParamSpec("use_bias", "bool", True, "Add a learned bias b to each output."),
        _initializer("kernel_initializer", "glorot_uniform"),
        _initializer("bias_initializer", "zeros"),
        _regularizer("kernel_regularizer"),
        _regularizer("bias_regularizer"),
        _regularizer("activity_regularizer"),
        _constraint("kernel_constraint"),
        _constraint("bias_constraint"),
    ),
    infer_shape=_dense_shape,
    count_params=_dense_params,
    key_params=("units", "activation"),
    advise=_dense_advice,
)


def _activation_shape(params, input_shapes):
    return [only_input("Activation", input_shapes)]


ACTIVATION = LayerSpec(
    id="Activation",
    class_name="Activation",
    category="Activation",
    description=(
        "Applies a function to every value independently, e.g. relu(x) = max(0, x). "
        "Use it to add non-linearity after a layer that has none (e.g. after BatchNormalization)."
    ),
    params=(ParamSpec("activation", "activation", "linear", "The function to apply.", choices=ACTIVATIONS),),
    infer_shape=_activation_shape,
    key_params=("activation",),
)


def _embedding_shape(params, input_shapes):
    shape = only_input("Embedding", input_shapes)
    return [shape + (params["output_dim"],)]


def _embedding_params(params, input_shapes):
    return (params["input_dim"] * params["output_dim"], 0)


EMBEDDING = LayerSpec(
    id="Embedding",
    class_name="Embedding",
    category="Core",
    description=(
        "Turns integer ids (words, categories) into dense vectors that are learned: a lookup "
        "table of input_dim rows of output_dim numbers. Put it right after an integer Input "
        "of token ids; input_dim is the vocabulary size."
    ),
    params=(
        ParamSpec("input_dim", "int", 1000, "Vocabulary size: the largest id + 1.", minimum=1,
                  maximum=10_000_000, examples=(10, 100, 1000)),
        ParamSpec("output_dim", "int", 64, "Length of each learned vector.", minimum=1, maximum=100_000,
                  examples=(2, 8, 64)),
        _initializer("embeddings_initializer", "uniform"),
        _regularizer("embeddings_regularizer"),
        _regularizer("activity_regularizer"),
        _constraint("embeddings_constraint"),
        ParamSpec("mask_zero", "bool", False, "Treat id 0 as padding and mask it for later layers."),
    ),
    infer_shape=_embedding_shape,
    count_params=_embedding_params,
    key_params=("input_dim", "output_dim"),
)

SPECS = [INPUT, DENSE, ACTIVATION, EMBEDDING]
