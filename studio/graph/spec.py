"""Type descriptions of layers: `ParamSpec` and `LayerSpec` (STYLE.md 6).

A `LayerSpec` describes one Keras layer type: its Keras `class_name`, its
ports, its parameters (Keras config keys, with Keras' own defaults), a pure
`infer_shape` and `count_params`, a palette category and an explanation for
users. Nodes (instances) live in `studio.graph.model`.

Shapes are tuples that include the batch dimension; `None` is an unknown
dimension: `(None, 28, 28, 1)`. A layer with several outputs returns a list
of shapes, one per output port.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Optional, Sequence

from studio.core.errors import ParamError
from studio.core.text import show
from studio.graph import keras_params

Dim = Optional[int]
Shape = tuple  # tuple[Dim, ...]; kept loose so it reads as JSON-friendly data


class ShapeError(ValueError):
    """Raised by `infer_shape` when the input shapes or params cannot work.

    The message is shown to the user on the node: say what is wrong and how
    to fix it ("Conv2D needs a 4-D input (batch, height, width, channels) but
    got (None, 10); insert a Reshape").
    """


class ShapePending(ShapeError):
    """Raised by `infer_shape` when the output shape is not known until something is loaded in the
    background (a KerasHub preset is read for the input wired into it): the node shows the message,
    and wiring into it stays allowed, since the load needs that wire."""


# Parameter kinds understood by the inspector, validation and the harness.
PARAM_KINDS = frozenset(
    {
        "int",  # an integer within [minimum, maximum]
        "float",  # a float within [minimum, maximum]
        "bool",
        "choice",  # one of `choices`
        "str",
        "ints",  # an int or a list of `length` ints (kernel_size, strides...)
        "shape",  # a list of int-or-None (Input batch_shape)
        "axis",  # an int or a list of ints
        "activation",  # an activation name, see ACTIVATIONS
        "initializer",  # a name or a Keras serialized dict
        "regularizer",  # None, a name or a Keras serialized dict
        "constraint",  # None, a name or a Keras serialized dict
        "layer",  # a nested layer config {"class_name", "config"} (wrappers)
        "dtype",  # a dtype name
        "json",  # anything JSON (opaque, shown as text)
    }
)

ACTIVATIONS = (
    "linear",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    "elu",
    "selu",
    "gelu",
    "silu",
    "swish",
    "softplus",
    "softsign",
    "leaky_relu",
    "relu6",
    "hard_sigmoid",
    "hard_silu",
    "mish",
    "exponential",
    "log_softmax",
)

INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "zeros",
    "ones",
    "random_normal",
    "random_uniform",
    "truncated_normal",
)

REGULARIZERS = ("l1", "l2", "l1l2", "orthogonal_regularizer")  # Keras 3 refuses the name 'l1_l2'
# Largest size or axis a shape parameter may hold; integers elsewhere fit 64 bits.
MAX_DIM = 2**31 - 1
MAX_INT = keras_params.MAX_INT
CONSTRAINTS = ("max_norm", "non_neg", "unit_norm", "min_max_norm")
DTYPES = ("float32", "float16", "bfloat16", "float64", "int32", "int64", "string", "bool")

_MISSING = object()
_DTYPE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


@dataclass(frozen=True)
class ParamSpec:
    """One layer argument, keyed by its Keras config key."""

    key: str
    kind: str
    default: Any = None
    help: str = ""
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    length: int | None = None  # for "ints": how many values
    optional: bool = False  # None is allowed
    advanced: bool = False  # shown folded in the inspector
    # Values the test harness samples from when bounds are wide; empty means
    # "derive from bounds/choices".
    examples: tuple = ()

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"unknown ParamSpec kind {self.kind!r} for {self.key!r}")

    @property
    def title(self) -> str:
        return self.label or self.key.replace("_", " ")

    # -- validation ------------------------------------------------------
    def validate(self, value: Any) -> Any:
        """Return the value normalised (tuples as lists) or raise ParamError.

        Names of Keras things (activations, initializers, nested layers...) are
        checked against the allowlists of `studio.graph.keras_params`; numbers
        must be finite and integers bounded, so no value from a file can make
        shape inference, counting or printing fail."""
        if value is None:
            if self.optional or self.kind in ("regularizer", "constraint", "json", "activation"):
                return None
            raise ParamError(f"'{self.key}' needs a value", key=self.key)
        kind = self.kind
        if kind == "int":
            if isinstance(value, bool) or not _is_integral(value):
                raise ParamError(f"'{self.key}' must be a whole number, got {show(value)}", key=self.key)
            self._check_bounds(int(value), -MAX_INT - 1, MAX_INT, shown=value)
            return int(value)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParamError(f"'{self.key}' must be a number, got {show(value)}", key=self.key)
            if isinstance(value, int) and abs(value) > MAX_INT:
                raise ParamError(f"'{self.key}' is too large ({show(value)}); use a smaller number", key=self.key)
            value = float(value)
            if not math.isfinite(value):
                shown = "NaN" if math.isnan(value) else "an infinite number (too large for a float)"
                raise ParamError(f"'{self.key}' must be a finite number, got {shown}", key=self.key)
            self._check_bounds(value)
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"'{self.key}' must be true or false, got {show(value)}", key=self.key)
            return value
        if kind == "choice":
            if value not in self.choices:
                options = ", ".join(repr(c) for c in self.choices)
                raise ParamError(f"'{self.key}' must be one of {options}; got {show(value)}", key=self.key)
            return value
        if kind == "str":
            if not isinstance(value, str):
                raise ParamError(f"'{self.key}' must be text, got {show(value)}", key=self.key)
            return value
        if kind == "dtype":
            if not isinstance(value, str) or not _DTYPE_NAME.match(value):
                raise ParamError(f"'{self.key}' must be a dtype name such as 'float32', got {show(value)}",
                                 key=self.key)
            return value
        if kind == "ints":
            return self._validate_ints(value)
        if kind == "shape":
            if not isinstance(value, (list, tuple)):
                raise ParamError(f"'{self.key}' must be a list of sizes, got {show(value)}", key=self.key)
            out = []
            for v in value:
                if v is None:
                    out.append(None)
                elif isinstance(v, bool) or not _is_integral(v) or not 1 <= v <= MAX_DIM:
                    raise ParamError(
                        f"'{self.key}' sizes must be whole numbers from 1 to {MAX_DIM:,} or None, got {show(v)}",
                        key=self.key,
                    )
                else:
                    out.append(int(v))
            return out
        if kind == "axis":
            if _is_integral(value) and not isinstance(value, bool) and abs(value) <= MAX_DIM:
                return int(value)
            if isinstance(value, (list, tuple)) and all(
                _is_integral(v) and not isinstance(v, bool) and abs(v) <= MAX_DIM for v in value
            ):
                return [int(v) for v in value]
            raise ParamError(f"'{self.key}' must be an axis number or a list of them, got {show(value)}",
                             key=self.key)
        if kind == "activation":
            return keras_params.check_activation(value, self.key)
        if kind in ("initializer", "regularizer", "constraint"):
            return keras_params.check_object(value, kind, self.key)
        if kind == "layer":
            return keras_params.check_layer(value, self.key)
        return keras_params.check_json(value, self.key)  # json

    def _check_bounds(self, value: float, low: float | None = None, high: float | None = None,
                      shown: Any = _MISSING) -> None:
        """Raise unless low <= value <= high (the spec's bounds first); `shown`: the
        value as written (1e+308 rather than its 309 digits)."""
        low = self.minimum if self.minimum is not None else low
        high = self.maximum if self.maximum is not None else high
        if (low is None or value >= low) and (high is None or value <= high):
            return
        got = show(value if shown is _MISSING else shown)
        if low is not None and value < low:
            raise ParamError(f"'{self.key}' must be at least {show(low)}, got {got}", key=self.key)
        raise ParamError(f"'{self.key}' must be at most {show(high)}, got {got}", key=self.key)

    def _validate_ints(self, value: Any) -> Any:
        if _is_integral(value) and not isinstance(value, bool):
            value = [value] * (self.length or 1)
        if not isinstance(value, (list, tuple)) or not all(
            _is_integral(v) and not isinstance(v, bool) for v in value
        ):
            raise ParamError(f"'{self.key}' must be a whole number or a list of them, got {show(value)}",
                             key=self.key)
        if self.length is not None and len(value) != self.length:
            raise ParamError(f"'{self.key}' needs {self.length} values, got {len(value)}", key=self.key)
        for v in value:
            self._check_bounds(int(v), -MAX_DIM, MAX_DIM, shown=v)
        return [int(v) for v in value]


def _is_integral(value: Any) -> bool:
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


InferShape = Callable[[dict, Sequence[Shape]], "list[Shape]"]
CountParams = Callable[[dict, Sequence[Shape]], "tuple[int, int]"]
Advise = Callable[[dict, Sequence[Shape]], "list[tuple[str, str]]"]


def _no_params(params: dict, input_shapes: Sequence[Shape]) -> tuple[int, int]:
    return (0, 0)


def _one_output(params: dict) -> int:
    return 1


def _no_advice(params: dict, input_shapes: Sequence[Shape]) -> list[tuple[str, str]]:
    return []


@dataclass(frozen=True)
class LayerSpec:
    """The description of one layer type in the catalog.

    * `infer_shape(params, input_shapes)` gets the *resolved* params (defaults
      filled in, validated) and one shape per connected input, in port order;
      it returns one shape per output port, or raises `ShapeError`.
    * `count_params(params, input_shapes)` returns `(trainable,
      non_trainable)` exactly as Keras counts them after building.
    * `advise(params, input_shapes)` returns extra `(severity, message)`
      diagnostics (warnings/info) for shapes Keras accepts but users rarely
      mean, e.g. a Dense on a 4-D input.
    """

    id: str
    class_name: str
    category: str
    description: str
    infer_shape: InferShape
    params: tuple[ParamSpec, ...] = ()
    count_params: CountParams = _no_params
    min_inputs: int = 1
    max_inputs: int | None = 1  # None: any number (merges)
    input_names: tuple[str, ...] = ()  # labels for the input ports, if they differ
    num_outputs: Callable[[dict], int] = _one_output
    output_names: Callable[[dict], tuple] | None = None
    key_params: tuple[str, ...] = ()  # shown on the node, e.g. ("units", "activation")
    advise: Advise = _no_advice
    legacy_ids: tuple[str, ...] = ()
    is_merge: bool = False
    # How Keras is called with the inputs: "auto" = one tensor when the layer
    # takes one input, else a list; "positional" = layer(a, b, c) (e.g.
    # MultiHeadAttention(query, value, key)).
    call_style: str = "auto"
    # Python module path of the Keras class, used by codegen ("keras.layers").
    module: str = "keras.layers"
    # Arguments Keras needs that are not user-facing config keys.
    extra: dict = field(default_factory=dict)

    # -- params ----------------------------------------------------------
    # param_map and the defaults are computed once per spec: analyse() validates
    # every node after every edit (bench/bench_inference.py). Do not mutate them.
    @cached_property
    def param_map(self) -> dict[str, ParamSpec]:
        return {p.key: p for p in self.params}

    @cached_property
    def _default_parts(self) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...]]:
        """(every default, in order, with mutable ones as placeholders; the mutable ones)."""
        plain = {p.key: p.default for p in self.params}
        mutable = tuple((p.key, p.default) for p in self.params if isinstance(p.default, (list, dict)))
        return plain, mutable

    def defaults(self) -> dict[str, Any]:
        plain, mutable = self._default_parts
        out = dict(plain)
        for key, value in mutable:
            out[key] = _copy_default(value)
        return out

    def resolve(self, params: dict) -> dict:
        """The params with every default filled in (not validated)."""
        resolved = self.defaults()
        resolved.update(params)
        return resolved

    def validate(self, params: dict) -> tuple[dict, list[tuple[str, str]]]:
        """Resolve and validate; return (resolved params, [(key, message)])."""
        plain, mutable = self._default_parts
        resolved = dict(plain)
        for key, value in mutable:
            if key not in params:  # a given value replaces it: no need to copy the default
                resolved[key] = _copy_default(value)
        problems: list[tuple[str, str]] = []
        pmap = self.param_map
        for key, value in params.items():
            spec = pmap.get(key)
            if spec is None:
                # A Keras argument the spec does not model (an imported dtype
                # policy, lora_rank...): kept when Keras' class takes it.
                try:
                    resolved[key] = keras_params.check_extra(self.class_name, key, value, pmap)
                except ParamError as exc:
                    resolved.pop(key, None)
                    problems.append((key, str(exc)))
                continue
            try:
                resolved[key] = spec.validate(value)
            except ParamError as exc:
                resolved[key] = _copy_default(spec.default)
                problems.append((key, str(exc)))
        return resolved, problems

    def describe_params(self, params: dict) -> str:
        """The short line shown on a node: '64 units · relu'."""
        resolved = self.resolve(params)
        parts = []
        for key in self.key_params:
            value = resolved.get(key)
            if value is None or value == "linear":
                continue
            text = _format_key_param(key, value)
            if text:
                parts.append(text)
        return " · ".join(parts)


def _copy_default(value: Any) -> Any:
    if isinstance(value, list) and all(v is None or isinstance(v, (int, float, str)) for v in value):
        return list(value)  # a flat list (kernel_size, strides...): much cheaper than deepcopy
    if isinstance(value, (list, dict)):
        import copy

        return copy.deepcopy(value)
    return value


def _format_key_param(key: str, value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("class_name", "…")
    if isinstance(value, list):
        value = "×".join("?" if v is None else str(v) for v in value)
    if isinstance(value, bool):
        return key.replace("_", " ") if value else ""
    if key in ("activation", "padding", "merge_mode", "mode", "interpolation"):
        return str(value)
    if key == "units":
        return f"{value} units"
    if key == "filters":
        return f"{value} filters"
    if key == "rate":
        return f"rate {value:g}" if isinstance(value, float) else f"rate {value}"
    return f"{key.replace('_', ' ')} {value}"


def param_count(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n
