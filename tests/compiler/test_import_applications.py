"""Every model of `keras.applications` imports (issue 12, "Models in, models out").

For each model (weights=None, a small input where the model allows one): its
config becomes a graph, the graph checks with Keras' exact parameter totals,
it builds, the original weights are copied by layer name (the import's own
copy, which also requires every rebuilt layer's config to equal the
original's), the outputs are identical on random input, and the Python
script exported from the same plan builds a model with identical outputs too.

One model per family runs by default; the full sweep is `-m slow`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.compiler.from_config import graph_from_config
from studio.compiler.keras_build import build_model
from studio.compiler.keras_import import _copy_weights, keras_config
from studio.compiler.plan import make_plan
from studio.export.codegen import ScriptSettings, generate_script
from studio.graph.inference import analyse
from tests.export.helpers import import_script

keras = pytest.importorskip("keras")

# name -> input shape (the smallest the model takes; None: its fixed default)
SIZES = {
    "ConvNeXtTiny": (32, 32, 3), "ConvNeXtSmall": (32, 32, 3), "ConvNeXtBase": (32, 32, 3),
    "ConvNeXtLarge": (32, 32, 3), "ConvNeXtXLarge": (32, 32, 3),
    "DenseNet121": (32, 32, 3), "DenseNet169": (32, 32, 3), "DenseNet201": (32, 32, 3),
    **{f"EfficientNetB{i}": (32, 32, 3) for i in range(8)},
    **{f"EfficientNetV2{v}": (32, 32, 3) for v in ("B0", "B1", "B2", "B3", "S", "M", "L")},
    "InceptionResNetV2": (75, 75, 3), "InceptionV3": (75, 75, 3), "Xception": (71, 71, 3),
    "MobileNet": (32, 32, 3), "MobileNetV2": (32, 32, 3), "MobileNetV3Small": (32, 32, 3),
    "MobileNetV3Large": (32, 32, 3),
    "NASNetMobile": None, "NASNetLarge": None,
    **{f"ResNet{n}{v}": (32, 32, 3) for n in (50, 101, 152) for v in ("", "V2")},
    "VGG16": (32, 32, 3), "VGG19": (32, 32, 3),
}
# One per family in the default run (ResNet50 and MobileNetV2 also in test_import.py).
DEFAULT = ("MobileNetV3Small", "EfficientNetB0", "ConvNeXtTiny")


def _params():
    for name in sorted(SIZES):
        marks = () if name in DEFAULT else (pytest.mark.slow,)
        yield pytest.param(name, marks=marks, id=name)


def test_the_list_is_every_application():
    import inspect

    public = {n for n in dir(keras.applications) if inspect.isfunction(getattr(keras.applications, n))
              and n[:1].isupper()}
    assert public == set(SIZES)


def _max_diff(a, b) -> float:
    a = a if isinstance(a, (list, tuple)) else [a]
    b = b if isinstance(b, (list, tuple)) else [b]
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b))


def _copy_by_name(source, target) -> None:
    for layer in source.layers:
        if layer.weights:
            target.get_layer(layer.name).set_weights(layer.get_weights())


@pytest.mark.parametrize("name", list(_params()))
def test_application_imports_checks_builds_and_exports(name, tmp_path):
    shape = SIZES[name]
    build = getattr(keras.applications, name)
    model = build(weights=None, input_shape=shape) if shape else build(weights=None)
    imported = graph_from_config(model.get_config(), keras_config=keras_config)
    assert not imported.placeholders
    report = analyse(imported.graph)
    assert report.ok, [d.message for d in report.errors][:3]
    assert report.total_params == model.count_params()
    assert report.trainable_params == sum(int(np.prod(w.shape)) for w in model.trainable_weights)

    plan = make_plan(imported.graph, name.lower())
    rebuilt = build_model(plan)
    _copy_weights(model, rebuilt, plan, imported.origin, Path(f"{name}.keras"))
    x = np.random.default_rng(0).standard_normal((2, *model.input_shape[1:])).astype("float32")
    expected = model(x, training=False)
    assert _max_diff(expected, rebuilt(x, training=False)) <= 1e-5

    script = tmp_path / f"{name.lower()}.py"
    script.write_text(generate_script(plan, ScriptSettings(name=name.lower())))
    from_script = import_script(script).build_model()
    assert from_script.count_params() == model.count_params()
    _copy_by_name(rebuilt, from_script)
    assert _max_diff(expected, from_script(x, training=False)) <= 1e-5
