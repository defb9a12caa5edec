"""Constructor arguments Keras layers require (no default), by class (pure).

Code generation and model import leave out arguments equal to the catalog's
defaults, but an argument Keras requires (Dense `units`, Conv2D `filters`...)
is always written. tests/compiler/test_keras_required.py checks this table
against the signatures of every catalog layer, so a new spec cannot slip
through.
"""

from __future__ import annotations

REQUIRED: dict[str, tuple[str, ...]] = {
    "Activation": ("activation",),
    "AlphaDropout": ("rate",),
    "AveragePooling1D": ("pool_size",),
    "AveragePooling2D": ("pool_size",),
    "AveragePooling3D": ("pool_size",),
    "Bidirectional": ("layer",),
    "CenterCrop": ("height", "width"),
    "Conv1D": ("filters", "kernel_size"),
    "Conv1DTranspose": ("filters", "kernel_size"),
    "Conv2D": ("filters", "kernel_size"),
    "Conv2DTranspose": ("filters", "kernel_size"),
    "Conv3D": ("filters", "kernel_size"),
    "Conv3DTranspose": ("filters", "kernel_size"),
    "ConvLSTM1D": ("filters", "kernel_size"),
    "ConvLSTM2D": ("filters", "kernel_size"),
    "ConvLSTM3D": ("filters", "kernel_size"),
    "CustomScaleLayer": ("scale",),
    "Dense": ("units",),
    "DepthwiseConv1D": ("kernel_size",),
    "DepthwiseConv2D": ("kernel_size",),
    "Dot": ("axes",),
    "Dropout": ("rate",),
    "Embedding": ("input_dim", "output_dim"),
    "GRU": ("units",),
    "GaussianDropout": ("rate",),
    "GaussianNoise": ("stddev",),
    "LSTM": ("units",),
    "LayerScale": ("init_values", "projection_dim"),
    "MultiHeadAttention": ("num_heads", "key_dim"),
    "Permute": ("dims",),
    "RandomBrightness": ("factor",),
    "RandomContrast": ("factor",),
    "RandomCrop": ("height", "width"),
    "RandomRotation": ("factor",),
    "RandomTranslation": ("height_factor", "width_factor"),
    "RandomZoom": ("height_factor",),
    "RepeatVector": ("n",),
    "Rescaling": ("scale",),
    "Reshape": ("target_shape",),
    "Resizing": ("height", "width"),
    "SeparableConv1D": ("filters", "kernel_size"),
    "SeparableConv2D": ("filters", "kernel_size"),
    "SimpleRNN": ("units",),
    "SpatialDropout1D": ("rate",),
    "SpatialDropout2D": ("rate",),
    "SpatialDropout3D": ("rate",),
    "TimeDistributed": ("layer",),
}
