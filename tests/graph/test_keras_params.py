"""The tables of studio.graph.keras_params against the installed Keras.

The check itself is pure; these tests make sure it accepts what Keras writes
(every catalog layer's own get_config, serialized initializers, activations,
dtype policies) and that the names and keys it accepts are ones Keras takes.
"""

from __future__ import annotations

import copy
import inspect

import keras
import pytest

from studio.compiler.keras_build import builtin_class
from studio.core.errors import ParamError
from studio.graph import default_catalog
from studio.graph.keras_names import CLASSES
from studio.graph.keras_params import (
    ABSTRACT,
    DTYPE_POLICIES,
    EXTRA_KEYS,
    IDENTIFIERS,
    KIND_MODULES,
    check_activation,
    check_layer,
    check_object,
)
from studio.graph.layers.builtins import PLACEHOLDER
from studio.graph.layers.operations import is_operation

CATALOG = default_catalog()
# Specs of Keras layers (operations and placeholders are not layers: see test_keras_names.py).
# (Transfer-learning nodes are built by studio.hub, not Keras: tests/hub.)
LAYER_IDS = [s.id for s in CATALOG if not is_operation(s) and s.id != PLACEHOLDER and s.module.startswith("keras")]
GETTERS = {"initializer": keras.initializers.get, "regularizer": keras.regularizers.get,
           "constraint": keras.constraints.get}
# Public names `get` cannot build from a string alone.
NEEDS_ARGUMENTS = {"Constant", "constant", "STFT", "STFTInitializer", "stft"}


@pytest.mark.parametrize("kind", sorted(IDENTIFIERS))
def test_every_accepted_name_is_one_keras_builds(kind):
    for name in IDENTIFIERS[kind]:
        obj = GETTERS[kind](name)
        assert type(obj).__name__ not in ABSTRACT, (kind, name)


@pytest.mark.parametrize("kind", sorted(IDENTIFIERS))
def test_every_public_name_keras_builds_is_accepted(kind):
    for name in CLASSES[KIND_MODULES[kind]] - ABSTRACT - NEEDS_ARGUMENTS:
        try:
            GETTERS[kind](name)
        except Exception:  # noqa: BLE001 - e.g. 'l1_l2', refused by Keras 3 itself
            assert name not in IDENTIFIERS[kind]
            continue
        assert name in IDENTIFIERS[kind], f"keras.{kind}s.get({name!r}) works: add it to IDENTIFIERS"


@pytest.mark.parametrize("kind", sorted(IDENTIFIERS))
def test_serialized_objects_of_every_class_pass(kind):
    for name in CLASSES[KIND_MODULES[kind]] - ABSTRACT - NEEDS_ARGUMENTS:
        if not name[:1].isupper():
            continue
        try:
            obj = getattr(keras, KIND_MODULES[kind].split(".")[1]).get(name)
        except Exception:  # noqa: BLE001
            continue
        check_object(keras.saving.serialize_keras_object(obj), kind, "x")
    check_object(keras.saving.serialize_keras_object(keras.initializers.Constant(0.5)), "initializer", "x")


def test_activations_as_keras_writes_them():
    for name in ("relu", "gelu", "softmax"):
        check_activation(keras.saving.serialize_keras_object(keras.activations.get(name)), "activation")
        check_activation(keras.activations.serialize(keras.activations.get(name)), "activation")
    layer = keras.layers.Dense(3, activation=keras.layers.LeakyReLU())
    check_activation(layer.get_config()["activation"], "activation")


def test_dtype_policies_are_keras_classes():
    public = {n for n in dir(keras.dtype_policies) if not n.startswith("_")}
    assert DTYPE_POLICIES <= public
    policy = keras.dtype_policies.serialize(keras.dtype_policies.get("mixed_float16"))
    spec = CATALOG.get("Dense")
    assert spec.validate({"units": 2, "dtype": policy})[1] == []


def test_nested_layer_configs_as_keras_writes_them():
    for layer in (keras.layers.LSTM(4), keras.layers.Dense(2, kernel_regularizer="l2"), keras.layers.GRU(3)):
        check_layer(keras.layers.serialize(layer), "layer")
    built = keras.layers.Bidirectional(keras.layers.LSTM(4))
    built(keras.Input((5, 3)))
    assert "build_config" in built.get_config()["layer"]
    assert CATALOG.get("Bidirectional").validate({"layer": built.get_config()["layer"]})[1] == []
    with pytest.raises(ParamError, match="Lambda"):
        check_layer({"class_name": "Lambda", "config": {"function": "x"}}, "layer")
    with pytest.raises(ParamError, match="TFSMLayer"):
        check_layer({"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "/x"}}, "layer")


def _defaults_config(spec) -> dict:
    return {p.key: (p.examples[0] if p.kind == "layer" and p.examples else p.default)
            for p in spec.params if p.default is not None or p.kind == "layer"}


def _layer(spec):
    if spec.class_name == "InputLayer":
        return keras.layers.InputLayer(batch_shape=(None, 3))
    cls = builtin_class(spec.module, spec.class_name)
    if cls is not None:
        return cls.from_config(copy.deepcopy(_defaults_config(spec)))
    return keras.layers.deserialize({"module": spec.module, "class_name": spec.class_name,
                                     "config": copy.deepcopy(_defaults_config(spec))})


@pytest.mark.parametrize("spec_id", LAYER_IDS)
def test_keras_own_config_of_every_catalog_layer_checks_clean(spec_id):
    """What an import brings (Keras' get_config, name aside) is never an error."""
    spec = CATALOG.get(spec_id)
    config = _layer(spec).get_config()
    config.pop("name", None)
    assert spec.validate(config)[1] == []


def _accepted_extra_keys(spec) -> set[str]:
    """Keys Keras' class takes besides the spec's params: get_config keys and
    constructor arguments (up to keras.layers.Layer), each tried on Keras."""
    cls = builtin_class(spec.module, spec.class_name) or getattr(keras.layers, spec.class_name)
    if spec.class_name == "InputLayer":
        return set(_layer(spec).get_config()) - {p.key for p in spec.params}
    layer = _layer(spec)
    base_config = layer.get_config()
    candidates, defaults = set(base_config), {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        for p in inspect.signature(vars(klass)["__init__"]).parameters.values():
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                candidates.add(p.name)
                if p.default is not p.empty:
                    defaults.setdefault(p.name, p.default)
        if klass is keras.layers.Layer:
            break
    accepted = set()
    for key in candidates - {p.key for p in spec.params}:
        config = copy.deepcopy({**_defaults_config(spec), key: base_config.get(key, defaults.get(key))})
        try:
            if builtin_class(spec.module, spec.class_name) is not None:
                cls.from_config(config)
            else:
                keras.layers.deserialize({"module": spec.module, "class_name": spec.class_name, "config": config})
        except Exception:  # noqa: BLE001 - Keras refuses the key: not accepted
            continue
        accepted.add(key)
    return accepted


@pytest.mark.parametrize("spec_id", LAYER_IDS)
def test_extra_keys_are_exactly_what_keras_takes(spec_id):
    spec = CATALOG.get(spec_id)
    assert spec.class_name in EXTRA_KEYS, f"add {spec.class_name} to keras_params.EXTRA_KEYS"
    assert EXTRA_KEYS[spec.class_name] == _accepted_extra_keys(spec)
