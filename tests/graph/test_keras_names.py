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


# --- operations and the layers of keras.src.applications ---------------------------------------
def _symbolic_call(op):
    x = keras.Input((4, 6), dtype="bool" if op.function.startswith("logical_") else "float32")
    fn = getattr(keras.ops, op.function)
    kwargs = {"dtype": "float16"} if op.function == "cast" else {"newshape": (-1, 24)} if op.function == "reshape" \
        else {"axis": 1} if op.function == "expand_dims" else {}
    if op.tensors == "two":
        return fn(x, keras.ops.transpose(x, (0, 2, 1)) if op.function == "matmul" else x)
    if op.tensors == "list":
        return fn([x, x], axis=1)
    return fn(x, **kwargs)


@pytest.mark.parametrize("class_name", sorted(keras_names.OPS))
def test_each_operation_is_what_keras_records_for_its_function(class_name):
    """`keras.ops.<function>` on a symbolic tensor records an operation of this class and
    module; its config keys are the table's keys, each a keyword of the function."""
    op = keras_names.OPS[class_name]
    operation = _symbolic_call(op)._keras_history[0]
    assert (type(operation).__module__, type(operation).__name__) == (op.module, class_name)
    assert set(operation.get_config()) - {"name"} == set(op.keys)
    signature = inspect.signature(getattr(keras.ops, op.function)).parameters
    assert set(op.keys) <= set(signature)
    assert set(op.required) == {k for k in op.keys if signature[k].default is inspect.Parameter.empty}
    assert keras_names.operation(op.module, class_name) == op
    assert keras_names.operation("keras.layers", class_name) is None


@pytest.mark.parametrize("class_name", sorted(keras_names.OPS))
def test_each_operation_has_a_catalog_spec_with_keras_defaults(class_name):
    from studio.graph import default_catalog

    op = keras_names.OPS[class_name]
    spec = default_catalog().get(f"ops.{op.function}")
    assert spec.class_name == class_name and spec.category == "Operations"
    own = {p.key for p in spec.params} - {"constant", "constant_first"}
    assert own == set(op.keys)
    signature = inspect.signature(getattr(keras.ops, op.function)).parameters
    for p in spec.params:
        if p.key in op.keys and signature[p.key].default is not inspect.Parameter.empty:
            default = signature[p.key].default
            assert p.default == (list(default) if isinstance(default, tuple) else default), (class_name, p.key)


def test_tf_op_lambdas_name_known_operations_and_builtin_layers_exist():
    assert set(keras_names.TF_OP_LAMBDAS.values()) <= set(keras_names.OPS)
    for (cls, module), source in keras_names.BUILTIN_LAYERS.items():
        assert source == module and module.startswith("keras.src.applications.")
        assert keras_names.builtin_layer(module, cls) == source
        assert keras_names.builtin_layer("acme.layers", cls) is None
    from studio.compiler.keras_build import builtin_class

    assert builtin_class("keras.src.applications.convnext", "LayerScale").__name__ == "LayerScale"
    assert builtin_class("os", "system") is None and builtin_class("keras.src.applications.convnext", "Dense") is None
