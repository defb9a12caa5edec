"""The exported script fits Normalization layers drawn without a mean and variance (pure).

The app's training adapts each such layer on the training split before a new
run (`studio.training.adapt`): the data as it reaches the layer (the data's
scaling, then the layers in front of it), at most `MAX_SAMPLES` samples
(stopping after the batch that reaches the cap), one layer after another in
the model's order, so a later layer sees the earlier ones fitted. The script
does the same in plain Keras between `load_data()` and `fit_model()`;
projects without such layers get none of this code.

With a weights file (`studio export`), a layer whose loaded statistics are
no longer Keras' initial ones (mean 0, variance 1) was fitted by a trained
run and keeps them, as a continued run in the app keeps its run's weights.

Imports neither TensorFlow nor numpy; the text is never executed here.
"""

from __future__ import annotations

from studio.compiler.plan import BuildPlan
from studio.export.pyformat import INDENT

# The app's cap, `studio.training.adapt.MAX_SAMPLES` (that module imports Keras, which
# `studio.export.codegen` may not; tests/export/test_script_adapt.py keeps the two equal).
MAX_SAMPLES = 20_000

_COMMENT = """\
# Normalization layers drawn without a mean and variance are fitted to the data before
# training, as Network Studio does before a new run: each one on the training split as
# it arrives at that layer (the input scaling, then the layers in front of it), from at
# most ADAPT_SAMPLES samples. The statistics are then saved with the model."""


def adapted_layers(plan: BuildPlan) -> list[str]:
    """The names of the plan's Normalization layers that training adapts (no mean given)."""
    return [call.name for call in plan.calls
            if call.class_name == "Normalization" and call.module == "keras.layers"
            and call.config.get("mean") is None]


def adapt_constant() -> str:
    return f"ADAPT_SAMPLES = {MAX_SAMPLES:_}  # the most training samples a Normalization layer is fitted on"


def adapt_source(preprocessing: bool, weights: bool) -> str:
    """`needs_adapting`, `adapt_layer` and `adapt_normalization(model, train)`.

    `preprocessing`: the script has `add_preprocessing` (the data's scaling goes in
    front of the layers); `weights`: it loads a weights file, whose fitted
    statistics are kept.
    """
    i1, i2, i3 = INDENT, INDENT * 2, INDENT * 3
    check = ["def needs_adapting(layer: layers.Layer) -> bool:"]
    if weights:
        check += [
            f'{i1}"""A Normalization layer drawn without mean and variance and not fitted yet."""',
            f"{i1}if not isinstance(layer, layers.Normalization):",
            f"{i2}return False",
            f'{i1}if layer.get_config()["mean"] is not None:',
            f"{i2}return False  # given in the graph",
            f"{i1}mean, variance = layer.get_weights()[:2]",
            f"{i1}# Keras starts them at 0 and 1; other values came fitted with WEIGHTS_PATH.",
            f"{i1}return bool(not mean.any() and (variance == 1).all())",
        ]
    else:
        check += [
            f'{i1}"""A Normalization layer drawn without mean and variance."""',
            f"{i1}if not isinstance(layer, layers.Normalization):",
            f"{i2}return False",
            f'{i1}return layer.get_config()["mean"] is None',
        ]
    features = "keras.Model(model.inputs, layer.input)"
    if preprocessing:
        features = f"add_preprocessing({features})"
    fit = [
        "def adapt_layer(layer: layers.Normalization, features: keras.Model, train) -> int:",
        f'{i1}"""Fit `layer` to `features` of the training batches, up to the batch that',
        f'{i1}reaches ADAPT_SAMPLES samples; returns the number of samples it saw."""',
        f"{i1}seen = 0",
        "",
        f"{i1}def batches():",
        f"{i2}nonlocal seen",
        f"{i2}for x, _ in train:",
        f"{i3}out = features(x, training=False)",
        f"{i3}seen += out.shape[0]",
        f"{i3}yield out",
        f"{i3}if seen >= ADAPT_SAMPLES:",
        f"{i3}{i1}return",
        "",
        f"{i1}layer.adapt(batches())",
        f"{i1}return seen",
        "",
        "",
        "def adapt_normalization(model: keras.Model, train) -> None:",
        f'{i1}"""Fit the Normalization layers that need it, in order, on the training split."""',
        f"{i1}for layer in model.layers:",
        f"{i2}if not needs_adapting(layer):",
        f"{i3}continue",
        f"{i2}# The data as it reaches the layer: from the raw inputs to the layer's input.",
        f"{i2}features = {features}",
        f"{i2}seen = adapt_layer(layer, features, train)",
        f'{i2}print(f"Normalization {{layer.name!r}} was fitted on {{seen:,}} training samples")',
    ]
    return "\n".join([_COMMENT, *check, "", "", *fit])
