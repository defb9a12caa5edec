"""Issue 10, points 1 and 2, as a property: whatever a project holds (parameter values,
nested Keras objects, odd keys, layer titles, data paths, column and class names),
`generate_script` either refuses with an ExportError or writes a script whose syntax
tree calls and reads only names the generator writes itself (allowlisted Keras
classes, its own functions and builtins), and whose project text is only ever inside
string constants (never code, a docstring or a comment).

Pure and fast: plans are built from `LayerCall`s directly (so the generator's own
guard is tested, whatever `studio check` already refuses) or from a small Graph.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.compiler.plan import BuildPlan, LayerCall, make_plan
from studio.core.errors import ExportError, StudioError
from studio.export.codegen import ScriptSettings, generate_script
from studio.graph.catalog import default_catalog
from studio.graph.keras_names import CLASSES, SCRIPT_MODULES, script_reference
from studio.graph.model import Edge, Graph, Node

MARK = "QZXQ"  # in every fuzzed piece of text: it may only ever be inside a string constant

# What the generator may call or read under keras/layers, independently of its own checks.
KERAS_NAMES = {script_reference(m, c) for m in CLASSES for c in CLASSES[m]} | {
    "keras.Model", "keras.Input", "keras.callbacks.History", "keras.callbacks.LearningRateScheduler",
    "keras.callbacks.ReduceLROnPlateau", "keras.callbacks.EarlyStopping", "keras.callbacks.ModelCheckpoint",
    "keras.utils.set_random_seed", "keras.mixed_precision.set_global_policy", "layers.deserialize",
    "keras.callbacks.CallbackList",  # the --strategy loop
}
KERAS_PREFIXES = {".".join(n.split(".")[:i]) for n in KERAS_NAMES for i in range(1, n.count(".") + 2)}
# Builtins and fixed local names the generated code calls.
CALLABLE = {"Path", "ValueError", "bool", "dict", "enumerate", "float", "globals", "int", "isinstance", "len",
            "list", "max", "min", "print", "range", "repr", "set", "sorted", "str", "tuple", "zip", "model",
            "vectorize", "features", "SystemExit"}
IMPORTS = {"import argparse", "import math", "from pathlib import Path", "import keras", "from keras import layers",
           "import numpy as np", "import tensorflow as tf", "import json", "import os", "import tempfile"}

PUNCTUATION = list("'\"\\\n\t#{}()[];:=+-*/.,% ") + ['"""', "'''", "__import__", "\x00", "é", "ｋ", "\u2028"]
ALPHABET = st.sampled_from(PUNCTUATION + list("abcXYZ_019"))
texts = st.lists(ALPHABET, max_size=8).map(lambda parts: MARK + "".join(parts))
plain_keys = st.sampled_from(["units", "seed", "config", "module", "class_name", "name", "registered_name",
                              "layer", "l2", "mean", "activation"])
keys = st.one_of(plain_keys, texts, texts.map(lambda t: t.replace("\n", "").replace(" ", "_")))
modules = st.one_of(st.none(), st.sampled_from([*SCRIPT_MODULES, "keras", "keras.activations", "keras.src.ops"]),
                    texts, texts.map(lambda t: f"keras.initializers if {t} else keras"))
class_names = st.one_of(st.sampled_from(["GlorotUniform", "HeNormal", "Dense", "LSTM", "L2", "MaxNorm", "Adam",
                                         "Lambda", "DTypePolicy", "function", "Identity", "Discretization"]),
                        texts)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.floats(), texts)


def keras_objects(children):
    return st.fixed_dictionaries(
        {"module": modules, "class_name": class_names, "config": st.dictionaries(keys, children, max_size=3)},
        optional={"registered_name": st.one_of(st.none(), class_names)})


values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=3), keras_objects(children)),
    max_leaves=8)
configs = st.dictionaries(keys, values, max_size=4)


def dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else None


def plain_name(text: str) -> bool:
    return text.isascii() and text.isidentifier() and not keyword.iskeyword(text)


def assert_safe(text: str) -> None:
    """Every import, call and attribute comes from the generator's own names; project text
    (marked) is only in string constants, keyword names aside, and in no docstring or comment."""
    tree = ast.parse(text)
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            assert ast.unparse(node) in IMPORTS, ast.unparse(node)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                assert func.id in CALLABLE | defined, func.id
            else:
                assert isinstance(func, (ast.Attribute, ast.Call)), ast.unparse(func)
        elif isinstance(node, ast.Attribute):
            assert not node.attr.startswith("__"), node.attr
            chain = dotted(node)
            if chain and chain.split(".")[0] in ("keras", "layers"):
                assert chain in KERAS_PREFIXES, chain
        elif isinstance(node, ast.keyword):
            assert node.arg is None or plain_name(node.arg), node.arg
        elif isinstance(node, ast.Name):
            assert plain_name(node.id) or node.id in ("__file__", "__name__"), node.id
    docs = [ast.get_docstring(n) or "" for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    assert not any(MARK in d for d in docs)
    comments = [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT]
    assert not any(MARK in c for c in comments)
    assert MARK not in code_only(text)


def code_only(text: str) -> str:
    """The script without its string constants and keyword names (which may be plain
    names from a config)."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
        elif isinstance(node, ast.keyword) and node.arg is not None:
            node.arg = "kw"
    return ast.unparse(tree)


INPUT = LayerCall("in", "InputLayer", "x_in", {"batch_shape": [None, 4], "dtype": "float32", "name": "x_in"},
                  label="x_in", type_id="Input", defaults={})


def one_layer_plan(class_name: str, config: dict, module: str = "keras.layers", opaque: bool = True) -> BuildPlan:
    layer = LayerCall("d", class_name, "hidden", {"name": "hidden", **config}, (("in", 0),), module=module,
                      label="hidden", type_id=class_name, defaults=None if opaque else {})
    return BuildPlan((INPUT, layer), ("in",), (("d", 0),), "net")


def generated(plan: BuildPlan, settings: ScriptSettings | None = None) -> str | None:
    """The script, or None when the generator refuses (an ExportError naming the node)."""
    try:
        return generate_script(plan, settings or ScriptSettings(name="net"))
    except ExportError as exc:
        assert "\n" not in str(exc)
        return None


@given(config=configs, class_name=st.one_of(st.sampled_from(["Dense", "Masking", "Bidirectional", "Lambda",
                                                              "Discretization"]), texts),
       opaque=st.booleans())
def test_any_layer_config_is_refused_or_written_as_data(config, class_name, opaque):
    text = generated(one_layer_plan(class_name, config, opaque=opaque))
    if text is not None:
        assert_safe(text)


@given(obj=keras_objects(values), key=st.sampled_from(["kernel_initializer", "layer", "kernel_regularizer"]))
def test_nested_keras_objects_become_calls_only_when_allowlisted(obj, key):
    text = generated(one_layer_plan("Dense", {"units": 3, key: obj}, opaque=False))
    if text is None:
        return
    assert_safe(text)
    assert not (isinstance(obj["module"], str) and MARK in obj["module"]), "a module from the file was accepted"


@given(titles=st.lists(texts, min_size=2, max_size=2), name=texts)
def test_titles_and_project_names_only_become_safe_names(titles, name):
    graph = Graph(default_catalog())
    x = graph.add_node(Node(type="Input", title=titles[0], params={"batch_shape": [None, 4]})).id
    d = graph.add_node(Node(type="Dense", title=titles[1], params={"units": 2})).id
    graph.connect(Edge(x, d))
    try:
        plan = make_plan(graph, name)
    except StudioError:
        return
    text = generated(plan, ScriptSettings(name=name))
    assert text is not None
    # Layer names are made from titles but are plain identifiers: the marker may be in one,
    # a title that is not a plain name never is code.
    tree = ast.parse(text)
    assert all(plain_name(n.id) or n.id in ("__file__", "__name__") for n in ast.walk(tree)
               if isinstance(n, ast.Name))
    code = code_only(text)
    assert not [title for title in titles if not plain_name(title) and title in code]


@given(path=texts, column=texts, label=texts, category=texts, kind=st.sampled_from(["csv", "timeseries", "npz",
                                                                                      "text", "images"]))
def test_data_paths_columns_and_class_names_are_only_string_literals(path, column, label, category, kind):
    dataset = {"kind": kind, "path": path, "features": [column], "targets": [label],
               "preprocessing": {"class_names": [category, label],
                                 "columns": [{"name": column, "type": "categorical", "categories": [category]}]}}
    if kind == "timeseries":
        dataset["targets"] = [column]
    settings = ScriptSettings(name="net", dataset=dataset,
                              preprocessing={"normalize": {"mean": [0.0] * 4, "variance": [1.0] * 4}})
    plan = one_layer_plan("Dense", {"units": 2}, opaque=False)
    try:
        text = generate_script(plan, settings)
    except StudioError:  # the dataset spec refused (DataError): nothing written
        return
    assert_safe(text)
    strings = [n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant)
               and isinstance(n.value, str)]
    assert any(MARK in s for s in strings)  # the data's text is there, as strings


@pytest.mark.parametrize(("config", "where"), [
    ({"kernel_initializer": {"module": "keras.initializers if x else keras", "class_name": "GlorotUniform",
                             "config": {}}}, "kernel_initializer.module"),
    ({"kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform()or x",
                             "config": {}}}, "kernel_initializer.class_name"),
    ({"kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                             "config": {"seed=1)or(x": 1}}}, "kernel_initializer.config."),
    ({"kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {},
                             "registered_name": "pkg>Custom"}}, "kernel_initializer.registered_name"),
    ({"layer": {"module": "keras.layers", "class_name": "LSTM", "config": {"units": 2, "recurrent_initializer": {
        "module": "os", "class_name": "system", "config": {}}}}}, "layer.config.recurrent_initializer.module"),
    ({"x=1)or(y": 1}, "x=1)or(y"),
    ({"lambda": 1}, "lambda"),
])
def test_the_generator_itself_refuses_naming_node_and_parameter(config, where):
    with pytest.raises(ExportError) as info:
        generate_script(one_layer_plan("Dense", {"units": 3, **config}, opaque=False))
    message = str(info.value)
    assert "'hidden'" in message and where in message and "\n" not in message


@pytest.mark.parametrize("class_name", ["Dense(1)or x", "Lambda", "MyCustomLayer", "layers.Dense"])
def test_only_keras_layers_are_built(class_name):
    with pytest.raises(ExportError, match="'hidden': parameter class_name"):
        generate_script(one_layer_plan(class_name, {}))
