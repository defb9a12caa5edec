"""The table of Keras-required arguments matches every catalog layer's signature."""

from __future__ import annotations

import inspect

from studio.compiler.keras_build import builtin_class
from studio.compiler.keras_required import REQUIRED
from studio.graph.catalog import default_catalog
from studio.graph.layers.builtins import PLACEHOLDER
from studio.graph.layers.operations import is_operation


def _layer_specs():
    """Catalog specs of Keras layers (operations and placeholders are not layers)."""
    return [s for s in default_catalog() if s.class_name != "InputLayer" and not is_operation(s)
            and s.id != PLACEHOLDER and s.module.startswith("keras")]  # studio.hub nodes: tests/hub


def _class(spec):
    import keras

    return builtin_class(spec.module, spec.class_name) or getattr(keras.layers, spec.class_name)


def test_required_arguments_cover_the_catalog():

    wrong = {}
    for spec in _layer_specs():
        cls = _class(spec)
        required = tuple(
            name for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.default is inspect.Parameter.empty
            and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )
        if REQUIRED.get(spec.class_name, ()) != required:
            wrong[spec.class_name] = required
    assert not wrong, f"update studio.compiler.keras_required.py: {wrong}"


def _plain(value):
    """Config values without the parts Keras makes up per instance (names, random seeds)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in ("name", "seed")}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def test_catalog_defaults_are_keras_defaults():
    """The generated code and the import leave out arguments equal to the catalog's defaults:
    that is only right because each is also Keras' own default. Built from the required
    arguments alone, every catalog layer has the config of the one built from all defaults."""
    import keras

    from studio.compiler.keras_build import with_modules

    def construct(cls, config):
        kwargs = {k: keras.layers.deserialize(with_modules(v)) if isinstance(v, dict) and "class_name" in v else v
                  for k, v in config.items()}
        return cls(**kwargs).get_config()

    differ = {}
    for spec in _layer_specs():
        cls = _class(spec)
        full = spec.resolve(spec.defaults())
        required = {k: full[k] for k in REQUIRED.get(spec.class_name, ()) if k in full}
        a, b = _plain(construct(cls, full)), _plain(construct(cls, required))
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if keys:
            differ[spec.id] = keys
    assert not differ, f"catalog defaults that are not Keras' defaults: {differ}"
