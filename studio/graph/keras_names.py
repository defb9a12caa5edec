"""Public Keras names, by module: the only identifiers generated code may build
from a project value (pure data; DESIGN.md 3).

A project file names Keras classes as text ({"module": "keras.initializers",
"class_name": "GlorotUniform"}). The code generator and `studio check` accept
such a class only when its module is in `MODULES` and its name in that module's
table; anything else is refused, never written into a script.
`tests/graph/test_keras_names.py` checks these tables against the installed Keras,
so a Keras upgrade that adds or drops a class fails there first.
"""

from __future__ import annotations

from typing import NamedTuple

# Keras module path (as serialized in configs) -> the public classes in it.
CLASSES: dict[str, frozenset[str]] = {
    "keras.layers": frozenset({
        "Activation", "ActivityRegularization", "AdaptiveAveragePooling1D",
        "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D",
        "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "Add", "AdditiveAttention", "AlphaDropout",
        "Attention", "AugMix", "AutoContrast", "Average", "AveragePooling1D", "AveragePooling2D",
        "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "BatchNormalization",
        "Bidirectional", "CategoryEncoding", "CenterCrop", "Concatenate",
        "ContrastLimitedAdaptiveHistogramEqualization", "Conv1D", "Conv1DTranspose", "Conv2D",
        "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
        "Convolution1D", "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose",
        "Convolution3D", "Convolution3DTranspose", "Cropping1D", "Cropping2D", "Cropping3D",
        "CutMix", "Dense", "DepthwiseConv1D", "DepthwiseConv2D", "Discretization", "Dot", "Dropout",
        "ELU", "EinsumDense", "Embedding", "Equalization", "Flatten", "FlaxLayer", "GRU", "GRUCell",
        "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
        "GlobalAveragePooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
        "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalMaxPooling1D",
        "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GroupNormalization", "GroupQueryAttention",
        "HashedCrossing", "Hashing", "Identity", "InputLayer", "InputSpec", "IntegerLookup",
        "JaxLayer", "LSTM", "LSTMCell", "Layer", "LayerNormalization", "LeakyReLU",
        "Masking", "MaxNumBoundingBoxes", "MaxPool1D", "MaxPool2D", "MaxPool3D", "MaxPooling1D",
        "MaxPooling2D", "MaxPooling3D", "Maximum", "MelSpectrogram", "Minimum", "MixUp",
        "MultiHeadAttention", "Multiply", "Normalization", "PReLU", "Permute", "Pipeline",
        "RMSNormalization", "RNN", "RandAugment", "RandomBrightness", "RandomColorDegeneration",
        "RandomColorJitter", "RandomContrast", "RandomCrop", "RandomElasticTransform",
        "RandomErasing", "RandomFlip", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
        "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomRotation",
        "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation", "RandomZoom",
        "ReLU", "RepeatVector", "Rescaling", "Reshape", "Resizing", "ReversibleEmbedding",
        "STFTSpectrogram", "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
        "SeparableConvolution2D", "SimpleRNN", "SimpleRNNCell", "Softmax", "Solarization",
        "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "SpectralNormalization",
        "StackedRNNCells", "StringLookup", "Subtract", "TFSMLayer", "TextVectorization",
        "TimeDistributed", "TorchModuleWrapper", "UnitNormalization", "UpSampling1D",
        "UpSampling2D", "UpSampling3D", "Wrapper", "ZeroPadding1D", "ZeroPadding2D",
        "ZeroPadding3D",
    }),
    "keras.initializers": frozenset({
        "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
        "IdentityInitializer", "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
        "OrthogonalInitializer", "RandomNormal", "RandomUniform", "STFT", "STFTInitializer",
        "TruncatedNormal", "VarianceScaling", "Zeros", "constant", "glorot_normal",
        "glorot_uniform", "he_normal", "he_uniform", "identity", "lecun_normal", "lecun_uniform",
        "ones", "orthogonal", "random_normal", "random_uniform", "stft", "truncated_normal",
        "variance_scaling", "zeros",
    }),
    "keras.regularizers": frozenset({
        "L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "l1", "l1_l2", "l2",
        "orthogonal_regularizer",
    }),
    "keras.constraints": frozenset({
        "Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm", "min_max_norm",
        "non_neg", "unit_norm",
    }),
    "keras.optimizers": frozenset({
        "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lamb", "Lion",
        "LossScaleOptimizer", "MultiOptimizer", "Muon", "Nadam", "Optimizer", "OptimizerMap",
        "RMSprop", "SGD", "ScheduleFreeAdamW",
    }),
    "keras.losses": frozenset({
        "BinaryCrossentropy", "BinaryFocalCrossentropy", "CTC", "CategoricalCrossentropy",
        "CategoricalFocalCrossentropy", "CategoricalGeneralizedCrossEntropy", "CategoricalHinge",
        "Circle", "CosineSimilarity", "Dice", "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss",
        "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError",
        "MeanSquaredLogarithmicError", "Poisson", "SparseCategoricalCrossentropy", "SquaredHinge",
        "Tversky",
    }),
    "keras.metrics": frozenset({
        "AUC", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "BinaryIoU",
        "CategoricalAccuracy", "CategoricalCrossentropy", "CategoricalHinge",
        "ConcordanceCorrelation", "CosineSimilarity", "F1Score", "FBetaScore", "FalseNegatives",
        "FalsePositives", "Hinge", "IoU", "KLDivergence", "LogCoshError", "Mean",
        "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanIoU", "MeanMetricWrapper",
        "MeanSquaredError", "MeanSquaredLogarithmicError", "Metric", "OneHotIoU", "OneHotMeanIoU",
        "PearsonCorrelation", "Poisson", "Precision", "PrecisionAtRecall", "R2Score", "Recall",
        "RecallAtPrecision", "RootMeanSquaredError", "SensitivityAtSpecificity",
        "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
        "SparseTopKCategoricalAccuracy", "SpecificityAtSensitivity", "SquaredHinge", "Sum",
        "TopKCategoricalAccuracy", "TrueNegatives", "TruePositives",
    }),
}

# Activation function names (`keras.activations.get` accepts each).
ACTIVATIONS: frozenset[str] = frozenset({
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu",
    "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink",
    "threshold",
})


# Classes Keras has that run arbitrary Python code: never built from a file.
UNSAFE: frozenset[str] = frozenset({"Lambda"})

# How the generated script spells each module (it imports `keras` and `from keras import layers`).
SCRIPT_MODULES: dict[str, str] = {
    "keras.layers": "layers",
    **{module: module for module in CLASSES if module != "keras.layers"},
}


def is_keras_class(module: object, class_name: object) -> bool:
    """True when `module.class_name` is a public Keras class in these tables."""
    return isinstance(module, str) and isinstance(class_name, str) and class_name in CLASSES.get(module, ())


def script_reference(module: object, class_name: object) -> str | None:
    """`layers.Dense`, `keras.initializers.GlorotUniform`: the dotted name the script
    uses for a Keras class, or None when the pair is not in the tables."""
    if not is_keras_class(module, class_name):
        return None
    return f"{SCRIPT_MODULES[module]}.{class_name}"  # type: ignore[index]


def module_of(class_name: object, kind: str) -> str | None:
    """The Keras module that holds `class_name` for a parameter kind
    ("initializer", "regularizer", "constraint", "layer"), or None."""
    module = {"initializer": "keras.initializers", "regularizer": "keras.regularizers",
              "constraint": "keras.constraints", "layer": "keras.layers"}.get(kind)
    return module if module is not None and is_keras_class(module, class_name) else None


# --- operations (DESIGN.md 3) ------------------------------------------------------------------
class Op(NamedTuple):
    """One Keras operation as a functional model config records it.

    `module`: where Keras keeps its class (what a config writes, e.g. "keras.src.ops.numpy");
    `function`: the public `keras.ops` function that makes it; `keys`: the config keys,
    each also a keyword argument of that function; `tensors`: how the function takes its
    tensors: "one" (x), "two" (x1, x2; one may be a constant) or "list" (xs); `required`:
    the keys the function has no default for (always written)."""

    module: str
    function: str
    keys: tuple[str, ...] = ()
    tensors: str = "one"
    required: tuple[str, ...] = ()


_NP, _NN, _CORE = "keras.src.ops.numpy", "keras.src.ops.nn", "keras.src.ops.core"

# Operation class (as configs name it) -> Op. The only operations imported, built and written
# as `keras.ops.<function>(...)`; tests/graph/test_keras_names.py checks each against Keras.
OPS: dict[str, Op] = {
    **{cls: Op(_NP, fn, (), "two") for cls, fn in (
        ("Add", "add"), ("Subtract", "subtract"), ("Multiply", "multiply"), ("Divide", "divide"),
        ("TrueDivide", "true_divide"), ("FloorDivide", "floor_divide"), ("Mod", "mod"), ("Power", "power"),
        ("Maximum", "maximum"), ("Minimum", "minimum"), ("Equal", "equal"), ("NotEqual", "not_equal"),
        ("Greater", "greater"), ("GreaterEqual", "greater_equal"), ("Less", "less"),
        ("LessEqual", "less_equal"), ("LogicalAnd", "logical_and"), ("LogicalOr", "logical_or"),
        ("Matmul", "matmul"),
    )},
    **{cls: Op(_NP, fn) for cls, fn in (
        ("Negative", "negative"), ("Absolute", "absolute"), ("Sqrt", "sqrt"), ("Square", "square"),
        ("Exp", "exp"), ("Log", "log"), ("Tanh", "tanh"), ("Floor", "floor"), ("Sign", "sign"),
        ("LogicalNot", "logical_not"),
    )},
    **{cls: Op(_NN, fn) for cls, fn in (
        ("Relu", "relu"), ("Relu6", "relu6"), ("Sigmoid", "sigmoid"), ("HardSigmoid", "hard_sigmoid"),
        ("HardSilu", "hard_silu"), ("Silu", "silu"), ("Softplus", "softplus"),
    )},
    "Gelu": Op(_NN, "gelu", ("approximate",)),
    "Softmax": Op(_NN, "softmax", ("axis",)),
    "LogSoftmax": Op(_NN, "log_softmax", ("axis",)),
    "Cast": Op(_CORE, "cast", ("dtype",), required=("dtype",)),
    "Reshape": Op(_NP, "reshape", ("newshape",), required=("newshape",)),
    "Transpose": Op(_NP, "transpose", ("axes",)),
    "ExpandDims": Op(_NP, "expand_dims", ("axis",), required=("axis",)),
    "Squeeze": Op(_NP, "squeeze", ("axis",)),
    "Concatenate": Op(_NP, "concatenate", ("axis",), "list"),
    "Mean": Op(_NP, "mean", ("axis", "keepdims")),
    "Sum": Op(_NP, "sum", ("axis", "keepdims")),
    "Max": Op(_NP, "max", ("axis", "keepdims", "initial")),
    "Min": Op(_NP, "min", ("axis", "keepdims", "initial")),
}

# The `keras.ops` functions the generated script may call.
OP_FUNCTIONS: frozenset[str] = frozenset(op.function for op in OPS.values())


def operation(module: object, class_name: object) -> Op | None:
    """The Op for a config's (module, class_name) when it is one of `OPS`, else None."""
    op = OPS.get(class_name) if isinstance(class_name, str) else None
    return op if op is not None and module == op.module else None


# --- layers that ship inside Keras' applications -------------------------------------------------
# (class name, the module Keras writes in configs) -> the module our code imports it from (a fixed
# string, never the file's). The generated script imports them with `from <module> import <class>`.
BUILTIN_LAYERS: dict[tuple[str, str], str] = {
    ("LayerScale", "keras.src.applications.convnext"): "keras.src.applications.convnext",
    ("CustomScaleLayer", "keras.src.applications.inception_resnet_v2"): "keras.src.applications.inception_resnet_v2",
}


def builtin_layer(module: object, class_name: object) -> str | None:
    """The module to import a Keras application layer from, or None when (module, class_name)
    is not one of `BUILTIN_LAYERS`."""
    if not isinstance(module, str) or not isinstance(class_name, str):
        return None
    return BUILTIN_LAYERS.get((class_name, module))


# Keras 2 `TFOpLambda` functions of plain arithmetic -> the operation class of `OPS` they are.
# (`tf.math.add(x, y)` was saved as {"class_name": "TFOpLambda", "config": {"function": "math.add"}}.)
TF_OP_LAMBDAS: dict[str, str] = {
    "math.add": "Add", "__operators__.add": "Add", "math.subtract": "Subtract",
    "math.multiply": "Multiply", "math.truediv": "TrueDivide", "math.divide": "TrueDivide",
    "__operators__.truediv": "TrueDivide", "math.maximum": "Maximum", "math.minimum": "Minimum",
    "math.pow": "Power", "math.negative": "Negative", "math.sqrt": "Sqrt", "math.square": "Square",
    "math.exp": "Exp", "math.log": "Log", "math.tanh": "Tanh", "math.sigmoid": "Sigmoid",
    "nn.relu": "Relu", "nn.relu6": "Relu6", "math.abs": "Absolute",
}

# Keras Applications the exported script may name (`keras.applications.MobileNetV2`): the backbones of
# `studio.graph.layers.transfer.BACKBONES`, written out so the allowlist is explicit (a test keeps
# the two equal).
APPLICATIONS: frozenset[str] = frozenset({
    "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large", "EfficientNetB0", "EfficientNetB1",
    "EfficientNetB2", "EfficientNetB3", "EfficientNetV2B0", "ResNet50", "ResNet50V2", "DenseNet121",
    "InceptionV3", "Xception", "ConvNeXtTiny",
})
