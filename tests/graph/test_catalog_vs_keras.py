"""Every catalog spec against Keras itself (STYLE.md 11).

For each LayerSpec, hypothesis draws parameters (from the ParamSpecs, narrowed
by the family's `Case`) and input shapes (the case's examples, sometimes
resized or re-ranked), and the same layer is built in Keras and called on
symbolic inputs. Both sides must agree: the same output shapes and the same
(trainable, non-trainable) weight counts, or both refusing the combination.
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil

import keras  # a real dependency: this harness must never be skipped
import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.compiler.keras_build import apply_operation, builtin_class
from studio.graph import default_catalog
from studio.graph.layers.builtins import PLACEHOLDER
from studio.graph.layers.operations import is_operation
from studio.graph.spec import ShapeError
from tests.graph import cases as cases_pkg
from tests.graph.cases.base import Case

CATALOG = default_catalog()


def _load_cases() -> dict[str, Case]:
    found: dict[str, Case] = {}
    for info in pkgutil.iter_modules(cases_pkg.__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"tests.graph.cases.{info.name}")
        for key, case in getattr(module, "CASES", {}).items():
            assert key not in found, f"case {key!r} defined twice"
            found[key] = case
    return found


CASES = _load_cases()
# Hub modules and backbones are built through studio.hub, not keras.layers: tests/hub checks them
# against Keras (shapes, counts and freezing on real modules and applications).
TRANSFER = {s.id for s in CATALOG if s.category == "Transfer learning"}
SPEC_IDS = [spec.id for spec in CATALOG]
_names = itertools.count()


def test_catalog_is_complete():
    """The issue asks for at least 60 layer types, each with a harness case (a placeholder
    stands for a layer that was not loaded: there is nothing in Keras to compare it with)."""
    assert len(CATALOG) >= 60, f"only {len(CATALOG)} layer specs"
    missing = [s for s in SPEC_IDS if s not in CASES and s != PLACEHOLDER and s not in TRANSFER]
    assert not missing, f"specs without a harness case: {missing}"


@pytest.mark.parametrize("spec_id", SPEC_IDS)
def test_spec_is_described_for_users(spec_id):
    spec = CATALOG.get(spec_id)
    assert len(spec.description) >= 60, "the palette shows this explanation; say what the layer does"
    defaults = spec.defaults()
    for param in spec.params:
        if param.default is not None or not param.optional:
            param.validate(defaults[param.key])  # defaults must pass their own validation


# Input is keras.Input(), a function with no constructor defaults to compare; operations are
# compared with their keras.ops function (tests/graph/test_keras_names.py).
@pytest.mark.parametrize("spec_id", [s.id for s in CATALOG if s.max_inputs != 0 and not is_operation(s)
                                     and s.id != PLACEHOLDER and s.id not in TRANSFER])
def test_defaults_equal_keras_defaults(spec_id):
    spec = CATALOG.get(spec_id)
    case = CASES.get(spec_id)
    required = dict(case.fixed) if case else {}
    for p in spec.params:
        if p.key not in required and p.kind == "layer":
            required[p.key] = p.examples[0] if p.examples else p.default
    try:
        layer = _deserialize(spec, {**_required(spec), **required})
    except Exception as exc:  # pragma: no cover - reported as a failure
        pytest.fail(f"Keras cannot build {spec.class_name} from required params: {exc}")
    config = layer.get_config()
    for p in spec.params:
        if p.key in required or p.key not in config:
            continue
        ours, theirs = _plain(p.default), _plain(config[p.key])
        if ours is None and p.optional and DERIVED_DEFAULTS.get(p.key) in config:
            # None stands for another argument's value (pooling strides = pool_size).
            ours = _plain(config[DERIVED_DEFAULTS[p.key]])
        if isinstance(theirs, dict) and isinstance(ours, str):
            # A name like "uniform" stands for a Keras object: compare classes.
            getter = {"initializer": keras.initializers.get, "regularizer": keras.regularizers.get,
                      "constraint": keras.constraints.get}.get(p.kind)
            ours = type(getter(ours)).__name__ if getter else ours
            theirs = theirs.get("class_name")
        assert ours == theirs, f"{spec_id}.{p.key}: our default {p.default!r} != Keras' {config[p.key]!r}"


def _deserialize(spec, config: dict):
    """The Keras layer of a spec: keras.layers, or a layer Keras ships in its applications."""
    cls = builtin_class(spec.module, spec.class_name)
    if cls is not None:
        return cls.from_config(config)
    return keras.layers.deserialize({"module": spec.module, "class_name": spec.class_name, "config": config})


# Optional params whose None default Keras resolves to another argument's value.
DERIVED_DEFAULTS = {"strides": "pool_size"}


def _required(spec) -> dict:
    """Constructor args Keras requires: our defaults for non-optional params."""
    out = {}
    for p in spec.params:
        if p.default is not None and p.kind != "layer":
            out[p.key] = p.default
    return out


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- drawing params and shapes ---------------------------------------------
def _param_strategy(p, case: Case):
    if p.key in case.fixed:
        return st.just(case.fixed[p.key])
    if p.key in case.params:
        return st.sampled_from(list(case.params[p.key]))
    if p.key in case.keep_default or p.kind in ("initializer", "regularizer", "constraint", "dtype", "json", "str"):
        return st.just(p.default)
    if p.examples:
        return st.sampled_from(list(p.examples))
    if p.kind == "bool":
        return st.booleans()
    if p.kind in ("choice", "activation") and p.choices:
        return st.sampled_from(list(p.choices))
    if p.kind == "int":
        lo = int(p.minimum) if p.minimum is not None else 0
        hi = int(p.maximum) if p.maximum is not None else lo + 4
        return st.integers(lo, min(hi, lo + 4))
    if p.kind == "float":
        lo = p.minimum if p.minimum is not None else 0.0
        hi = p.maximum if p.maximum is not None else lo + 1.0
        return st.sampled_from(sorted({lo, (lo + hi) / 2, p.default if p.default is not None else lo}))
    if p.kind == "ints":
        n = p.length or 1
        lo = int(p.minimum) if p.minimum is not None else 1
        return st.lists(st.integers(lo, lo + 3), min_size=n, max_size=n)
    return st.just(p.default)


@st.composite
def _draw_case(draw, spec, case: Case):
    params = {p.key: draw(_param_strategy(p, case)) for p in spec.params}
    shapes = [tuple(s) for s in draw(st.sampled_from(case.inputs))]
    if case.mutate and shapes:
        mode = draw(st.sampled_from(["base", "base", "resize", "resize_each", "rank"]))
        dim = st.one_of(st.integers(1, case.max_dim), st.just(None)) if mode != "base" else None
        if mode == "resize":
            rank = len(shapes[0])
            new = [draw(dim) if draw(st.booleans()) else None for _ in range(rank)]
            shapes = [
                tuple(s[0:1]) + tuple(new[i] if new[i] is not None else s[i] for i in range(1, len(s)))
                if len(s) == rank
                else s
                for s in shapes
            ]
        elif mode == "resize_each":
            shapes = [(s[0],) + tuple(draw(dim) if draw(st.booleans()) else d for d in s[1:]) for s in shapes]
        elif mode == "rank":
            i = draw(st.integers(0, len(shapes) - 1))
            s = shapes[i]
            if draw(st.booleans()) or len(s) <= 2:
                s = s + (draw(st.integers(1, case.max_dim)),)
            else:
                s = s[:-1]
            shapes[i] = s
    return params, shapes


# --- the two sides ------------------------------------------------------------
def _ours(spec, params, shapes):
    resolved, problems = spec.validate(params)
    if problems:
        return "invalid", problems
    try:
        out = spec.infer_shape(resolved, shapes)
        counts = spec.count_params(resolved, shapes)
    except ShapeError as exc:
        return "refused", str(exc)
    return "ok", ([tuple(s) for s in out], tuple(counts))


def _keras(spec, params, shapes, case: Case):
    resolved = spec.resolve(params)
    if spec.max_inputs == 0:
        try:
            tensor = keras.Input(batch_shape=tuple(resolved["batch_shape"]), dtype=resolved.get("dtype"))
        except Exception as exc:
            return "refused", f"{type(exc).__name__}: {exc}"
        return "ok", ([tuple(tensor.shape)], (0, 0))
    config = dict(resolved)
    config["name"] = f"h{next(_names)}"
    if is_operation(spec):
        try:
            tensors = [keras.Input(batch_shape=s, dtype=case.dtype) for s in shapes]
            out = apply_operation(spec.class_name, config, tensors)
        except Exception as exc:
            return "refused", f"{type(exc).__name__}: {str(exc)[:300]}"
        return "ok", ([tuple(out.shape)], (0, 0))
    try:
        layer = _deserialize(spec, config)
        tensors = [keras.Input(batch_shape=s, dtype=case.dtype) for s in shapes]
        if spec.call_style == "positional":
            out = layer(*tensors)
        elif spec.max_inputs == 1:
            if len(tensors) != 1:
                return "refused", "arity"
            out = layer(tensors[0])
        else:
            out = layer(tensors)
        outs = out if isinstance(out, (list, tuple)) else [out]
        trainable = sum(int(_size(w.shape)) for w in layer.trainable_weights)
        non_trainable = sum(int(_size(w.shape)) for w in layer.non_trainable_weights)
    except Exception as exc:
        return "refused", f"{type(exc).__name__}: {str(exc)[:300]}"
    return "ok", ([tuple(o.shape) for o in outs], (trainable, non_trainable))


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


@pytest.mark.parametrize("spec_id", [s for s in SPEC_IDS if s in CASES])
@given(data=st.data())
def test_shapes_and_params_match_keras(spec_id, data):
    spec = CATALOG.get(spec_id)
    case = CASES[spec_id]
    params, shapes = data.draw(_draw_case(spec, case))
    ours = _ours(spec, params, shapes)
    if ours[0] == "invalid":
        return  # our ParamSpec refuses the value before shapes are considered
    theirs = _keras(spec, params, shapes, case)
    where = f"{spec_id} params={params} inputs={shapes}"
    if ours[0] == "refused" or theirs[0] == "refused":
        assert ours[0] == theirs[0], f"{where}: ours {ours}, Keras {theirs}"
        return
    (our_shapes, our_counts), (k_shapes, k_counts) = ours[1], theirs[1]
    assert our_shapes == k_shapes, f"{where}: shapes ours {our_shapes} vs Keras {k_shapes}"
    assert our_counts == k_counts, f"{where}: params ours {our_counts} vs Keras {k_counts}"
