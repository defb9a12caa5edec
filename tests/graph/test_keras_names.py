"""The Keras name tables (studio/graph/keras_names.py) match the installed Keras.
"""

from __future__ import annotations

import inspect

import pytest

from studio.graph import keras_names

keras = pytest.importorskip("keras")


def _public_classes(module_path: str) -> set[str]:
    module = getattr(keras, module_path.split(".", 1)[1])
    return {n for n in dir(module) if not n.startswith("_") and inspect.isclass(getattr(module, n))}


@pytest.mark.parametrize("module_path", sorted(keras_names.CLASSES))
def test_each_table_is_the_installed_keras_module_less_unsafe_classes(module_path):
    expected = _public_classes(module_path) - keras_names.UNSAFE
    assert set(keras_names.CLASSES[module_path]) == expected


def test_activation_names_are_the_installed_keras_activations():
    for name in keras_names.ACTIVATIONS:
        assert callable(keras.activations.get(name)), name


def test_lambda_is_never_an_allowed_class():
    assert keras_names.script_reference("keras.layers", "Lambda") is None
    assert not keras_names.is_keras_class("keras.layers", "Lambda")


@pytest.mark.parametrize("module, name", [
    ("keras.initializers if __import__('os').system('touch x') else keras", "GlorotUniform"),
    ("keras.initializers", "GlorotUniform(); import os"),
    ("os", "system"),
    ("keras.initializers", "__class__"),
    (None, "Dense"),
    ("keras.layers", 3),
])
def test_text_outside_the_tables_gets_no_script_reference(module, name):
    assert keras_names.script_reference(module, name) is None


def test_known_classes_get_their_script_spelling():
    assert keras_names.script_reference("keras.layers", "Dense") == "layers.Dense"
    assert keras_names.script_reference("keras.initializers", "GlorotUniform") == "keras.initializers.GlorotUniform"
    assert keras_names.module_of("L2", "regularizer") == "keras.regularizers"
    assert keras_names.module_of("Dense", "initializer") is None
