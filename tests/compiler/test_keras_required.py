"""The table of Keras-required arguments matches every catalog layer's signature."""

from __future__ import annotations

import inspect

from studio.compiler.keras_required import REQUIRED
from studio.graph.catalog import default_catalog


def test_required_arguments_cover_the_catalog():
    import keras

    wrong = {}
    for spec in default_catalog():
        if spec.class_name == "InputLayer":
            continue
        cls = getattr(keras.layers, spec.class_name)
        required = tuple(
            name for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.default is inspect.Parameter.empty
            and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )
        if REQUIRED.get(spec.class_name, ()) != required:
            wrong[spec.class_name] = required
    assert not wrong, f"update studio.compiler.keras_required.py: {wrong}"
