"""`HubModule`: a TensorFlow Hub / SavedModel module as a Keras 3 layer of our own.

`tensorflow_hub.KerasLayer` is built on legacy Keras 2 and cannot sit in a Keras 3 model
(DESIGN.md section 7). `HubModule` subclasses `keras.layers.TFSMLayer`, which tracks the module's
own variables as the layer's weights (so `fit` updates them with any optimizer), and adds:

* `training` is passed on: a module whose endpoint takes a `training` argument (a TF2 Hub
  "reusable SavedModel", whose `__call__(inputs, training=False)` was saved for both values) is
  called with it, so its batch normalization and dropout behave as in fit. A frozen module
  (`trainable=False`) always runs in inference mode, as Keras runs a frozen BatchNormalization:
  its variables stay bit-identical through fit.
* signatures (`serving_default`) are called with their input's keyword, and a dict of outputs is
  reduced to `output_key` (or its only entry).
* the config holds the `handle` (URL, Kaggle path or local folder), never the resolved cache path,
  and `from_config` resolves it again (through the cache: no download when the module is there).
  A `.keras` file holding a `HubModule` reloads with `safe_mode=True` once this module is imported
  (`custom_objects()`); the module's graph is TensorFlow ops, not Python, loaded from the handle
  the project names.
* input dtype and shape are checked against the endpoint's signature first: one clear line.

`discover(path)` lists a module's endpoints with their input/output specs and its variable counts,
as plain data, for the node's pure shape inference (stored in the node's params).

TensorFlow and Keras are imported inside functions only.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from studio.hub.resolve import HubError, resolve_handle

#: Keras registration package of our layer ("network_studio>HubModule" in a .keras config).
PACKAGE = "network_studio"
# Endpoints tried in this order when the node names none.
DEFAULT_ENDPOINTS = ("__call__", "serve", "serving_default")


# --- loading and discovery ----------------------------------------------------------
def load_saved_model(path: str | Path, handle: str | None = None) -> Any:
    """`tf.saved_model.load(path)`, with a failure as one HubError line."""
    import tensorflow as tf

    shown = handle or str(path)
    try:
        return tf.saved_model.load(str(path))
    except Exception as exc:  # a damaged or TF1-only SavedModel
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise HubError(f"module '{shown}': TensorFlow cannot load the SavedModel in {path}: {reason}") from None


def _concrete_functions(fn: Any) -> list:
    if hasattr(fn, "concrete_functions"):
        return list(fn.concrete_functions)
    return [fn]


def _spec(value: Any) -> dict:
    shape = None if value.shape.rank is None else [d for d in value.shape.as_list()]
    return {"shape": shape, "dtype": value.dtype.name}


def _endpoint_names(obj: Any) -> list[str]:
    names = []
    call = obj.__call__ if callable(obj) else None  # a restored tf.function, for TF2 Hub modules
    if _concrete_functions_or_none(call):
        names.append("__call__")
    if _concrete_functions_or_none(getattr(obj, "serve", None)):  # model.export()'s endpoint
        names.append("serve")
    names.extend(k for k in obj.signatures.keys() if k not in names)
    return names


def _concrete_functions_or_none(fn: Any) -> list:
    return list(fn.concrete_functions) if fn is not None and hasattr(fn, "concrete_functions") else []


def endpoint_function(obj: Any, endpoint: str, handle: str) -> tuple[Any, bool]:
    """(the endpoint's callable, whether it is a signature called by keyword)."""
    if endpoint != "__call__" or callable(obj):
        fn = getattr(obj, endpoint, None)
        if fn is not None and hasattr(fn, "concrete_functions"):
            return fn, False
    if endpoint in obj.signatures:
        return obj.signatures[endpoint], True
    found = ", ".join(_endpoint_names(obj)) or "none"
    raise HubError(f"module '{handle}' has no endpoint '{endpoint}'; its endpoints are: {found}")


def default_endpoint(obj: Any, handle: str) -> str:
    names = _endpoint_names(obj)
    for name in DEFAULT_ENDPOINTS:
        if name in names:
            return name
    if names:
        return names[0]
    raise HubError(f"module '{handle}' has no callable endpoint (no __call__ and no signatures); "
                   "it cannot be used as a layer")


def _describe_endpoint(obj: Any, endpoint: str, handle: str) -> dict:
    fn, keyword = endpoint_function(obj, endpoint, handle)
    concretes = _concrete_functions(fn)
    first = concretes[0]
    args, kwargs = first.structured_input_signature
    if keyword:
        tensor_args = [(name, spec) for name, spec in sorted(kwargs.items())]
    else:
        tensor_args = [(getattr(spec, "name", None) or f"input_{i}", spec) for i, spec in enumerate(args)
                       if hasattr(spec, "dtype")]
    takes_training = False
    spec_fn = getattr(fn, "function_spec", None)
    if spec_fn is not None and "training" in (spec_fn.fullargspec.args or []):
        takes_training = True
    outputs = first.structured_outputs
    if isinstance(outputs, dict):
        out = {str(k): _spec(v) for k, v in outputs.items() if hasattr(v, "dtype")}
    elif hasattr(outputs, "dtype"):
        out = {"": _spec(outputs)}
    elif isinstance(outputs, (list, tuple)):
        out = {str(i): _spec(v) for i, v in enumerate(outputs) if hasattr(v, "dtype")}
    else:
        out = {}
    return {
        "name": endpoint,
        "signature": keyword,
        "training": takes_training,
        "inputs": [{"name": name, **_spec(spec)} for name, spec in tensor_args],
        "outputs": out,
    }


def discover(path: str | Path, handle: str | None = None) -> dict:
    """A module's endpoints, their input/output specs and its variables, as plain data.

    {"endpoints": [{"name", "signature", "training", "inputs": [{"name", "shape", "dtype"}],
    "outputs": {key: {"shape", "dtype"}}}], "default": name, "trainable_params": n,
    "non_trainable_params": n}. Shapes include the batch dimension (None when unknown).
    """
    from keras.src.export.saved_model import _list_variables_used_by_fns  # Keras' own TFSMLayer helper

    shown = handle or str(path)
    obj = load_saved_model(path, shown)
    names = _endpoint_names(obj)
    if not names:
        raise HubError(f"module '{shown}' has no callable endpoint (no __call__ and no signatures); "
                       "it cannot be used as a layer")
    endpoints = [_describe_endpoint(obj, name, shown) for name in names]
    default = default_endpoint(obj, shown)
    fn, _ = endpoint_function(obj, default, shown)
    trainable, non_trainable = _list_variables_used_by_fns([fn])
    return {
        "endpoints": endpoints,
        "default": default,
        "trainable_params": int(sum(v.shape.num_elements() for v in trainable)),
        "non_trainable_params": int(sum(v.shape.num_elements() for v in non_trainable)),
    }


def node_params(info: dict, endpoint: str = "", output_key: str = "") -> dict:
    """The discovered facts a HubModule node keeps in its params (for pure shape inference)."""
    chosen = endpoint or info["default"]
    ep = next((e for e in info["endpoints"] if e["name"] == chosen), None)
    if ep is None:
        names = ", ".join(e["name"] for e in info["endpoints"])
        raise HubError(f"the module has no endpoint '{chosen}'; its endpoints are: {names}")
    key = pick_output_key(ep["outputs"], output_key)
    if len(ep["inputs"]) != 1:
        raise HubError(f"endpoint '{chosen}' takes {len(ep['inputs'])} inputs; a module node takes modules "
                       "with one input tensor")
    inp = ep["inputs"][0]
    out = ep["outputs"][key]
    return {
        "signature": chosen if endpoint else "",
        "output_key": key if len(ep["outputs"]) > 1 else "",
        # How the layer calls it (the exported script calls it the same way).
        "endpoint": chosen,
        "input_keyword": inp["name"] if ep["signature"] else "",
        "takes_training": bool(ep["training"]),
        "input_shape": inp["shape"],
        "input_dtype": inp["dtype"],
        "output_shape": out["shape"],
        "output_dtype": out["dtype"],
        "param_counts": [info["trainable_params"], info["non_trainable_params"]],
    }


def pick_output_key(outputs: dict, output_key: str) -> str:
    if output_key:
        if output_key not in outputs:
            raise HubError(f"the module has no output '{output_key}'; its outputs are: {', '.join(outputs)}")
        return output_key
    if len(outputs) == 1:
        return next(iter(outputs))
    raise HubError(f"the module has {len(outputs)} outputs ({', '.join(outputs)}); choose one as the output key")


# --- the layer ------------------------------------------------------------------------
@functools.cache
def hub_module_class() -> type:
    """The `HubModule` Keras layer class (made once, registered with Keras)."""
    import keras
    import tensorflow as tf
    from keras.src.export.saved_model import _list_variables_used_by_fns

    @keras.saving.register_keras_serializable(package=PACKAGE, name="HubModule")
    class HubModule(keras.layers.TFSMLayer):
        """A SavedModel module as a layer: see `studio.hub.module_layer`."""

        def __init__(self, handle: str, signature: str = "", output_key: str = "", trainable: bool = True,
                     name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
            path = resolve_handle(handle)
            obj = load_saved_model(path, handle)
            endpoint = signature or default_endpoint(obj, handle)
            fn, keyword = endpoint_function(obj, endpoint, handle)
            described = _describe_endpoint(obj, endpoint, handle)
            if len(described["inputs"]) != 1:
                raise HubError(f"module '{handle}': endpoint '{endpoint}' takes {len(described['inputs'])} input "
                               "tensors; a module node takes one")
            key = pick_output_key(described["outputs"], output_key) if described["outputs"] else ""
            # TFSMLayer's own set-up, without loading the SavedModel a second time.
            keras.layers.Layer.__init__(self, trainable=trainable, name=name, dtype=dtype, **kwargs)
            self._reloaded_obj = obj
            self.filepath = str(path)
            self.call_endpoint = endpoint
            self.call_training_endpoint = None
            self.call_endpoint_fn = fn
            tvs, ntvs = _list_variables_used_by_fns([fn])
            for v in list(tvs) + list(ntvs):
                self._add_existing_weight(v)
            self._build_at_init()
            self.handle = handle
            self.signature = signature
            self.output_key = output_key
            self._hub_keyword = described["inputs"][0]["name"] if keyword else None
            self._hub_training = described["training"]
            self._hub_input = described["inputs"][0]
            self._hub_key = key
            self._hub_single = set(described["outputs"]) == {""}

        def _add_existing_weight(self, weight: Any) -> None:
            # TFSMLayer's own, with a name Keras accepts as an optimizer scope ("kernel:0" is not).
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", weight.name.removesuffix(":0"))
            variable = keras.Variable(initializer=weight, trainable=weight.trainable, dtype=weight.dtype,
                                      shape=weight.shape, name=name)
            self._track_variable(variable)

        def check_input(self, inputs: Any) -> None:
            """HubError unless `inputs` (a tensor or KerasTensor) fits the endpoint's dtype and shape."""
            want = self._hub_input
            got_dtype = tf.as_dtype(inputs.dtype).name
            floats = {"float16", "bfloat16", "float32", "float64"}
            if got_dtype != want["dtype"] and not (got_dtype in floats and want["dtype"] in floats):
                raise HubError(f"module '{self.handle}' takes {want['dtype']} input but the wired input is "
                               f"{got_dtype}; wire an Input of dtype {want['dtype']}")
            shape = want["shape"]
            got = list(inputs.shape)
            if shape is not None and (len(got) != len(shape) or any(
                    w is not None and g is not None and w != g for w, g in zip(shape[1:], got[1:]))):
                shown = ", ".join("None" if d is None else str(d) for d in shape)
                got_shown = ", ".join("None" if d is None else str(d) for d in got)
                raise HubError(f"module '{self.handle}' takes input of shape ({shown}) but the wired input is "
                               f"({got_shown}); change the Input's shape or resize before the module")

        def call(self, inputs: Any, training: Any = False) -> Any:
            self.check_input(inputs)
            if inputs.dtype != tf.as_dtype(self._hub_input["dtype"]):
                inputs = tf.cast(inputs, self._hub_input["dtype"])
            if self._hub_keyword is not None:
                out = self.call_endpoint_fn(**{self._hub_keyword: inputs})
            elif self._hub_training:
                out = self.call_endpoint_fn(inputs, training=bool(training) and self.trainable)
            else:
                out = self.call_endpoint_fn(inputs)
            if isinstance(out, dict):
                return out[self._hub_key]
            if isinstance(out, (list, tuple)) and not self._hub_single:
                return out[int(self._hub_key)]
            return out

        def get_config(self) -> dict:
            config = keras.layers.Layer.get_config(self)
            config.update({"handle": self.handle, "signature": self.signature, "output_key": self.output_key})
            return config

        @classmethod
        def from_config(cls, config: dict, custom_objects: Any = None, safe_mode: Any = None) -> Any:
            # Only the handle is stored: no absolute path, no Python; the module is resolved again.
            return cls(**config)

    return HubModule


def custom_objects() -> dict:
    """Keras custom objects for loading a `.keras` file that holds Hub modules (safe_mode=True)."""
    cls = hub_module_class()
    return {f"{PACKAGE}>HubModule": cls}


def make_hub_module(config: dict) -> Any:
    """The `HubModule` layer of a node's config (handle, signature, output_key, trainable, name)."""
    cls = hub_module_class()
    return cls(handle=config.get("handle", ""), signature=config.get("signature") or "",
               output_key=config.get("output_key") or "", trainable=config.get("trainable", True),
               name=config.get("name"))
