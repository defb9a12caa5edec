"""Transfer-learning nodes in the exported script (pure): Hub modules and Keras Applications backbones.

A HubModule node becomes `hub_module(handle=..., endpoint=..., ...)(x)`: the script carries our own
layer code (`HubModule`, a `keras.layers.TFSMLayer` subclass that passes `training`, calls
signatures by keyword and returns one output) and `resolve_module(handle)`, which takes a local
SavedModel folder as it is and downloads a URL or Kaggle model path once through `tensorflow_hub`
(its cache: TFHUB_CACHE_DIR). A Backbone node becomes `backbone(x, keras.applications.<Name>, ...)`:
the same preprocessing layers, application (include_top=False), weights and freezing as
`studio.hub.backbones.build_backbone`, so the exported weights file loads into it. A KerasHubPreset
node becomes `keras_hub_preset(x, preset=..., rescale=..., ...)`: `keras_hub.models.Backbone.from_preset`
(a local preset folder, a kaggle:// or hf:// handle or a preset name; KerasHub caches downloads)
behind the same image scaling and pooling as `studio.hub.presets.build_preset`.

Identifiers come from allowlists only: the application from `keras_names.APPLICATIONS` (the
backbone table), everything else is fixed text below; every project value (handle, endpoint,
weights file...) is written by `pyformat.literal`. The fixed code uses only names that
`script_safety.check_script` allows (its TRANSFER_* sets).
"""

from __future__ import annotations

from typing import Any

from studio.core.errors import ExportError
from studio.export.pyformat import Call, Raw, statement
from studio.graph.keras_names import APPLICATIONS
from studio.graph.layers.presets import PIXELS, POOLING, PRESET
from studio.graph.layers.transfer import BACKBONE, BACKBONES, HUB_MODULE, WEIGHTS

MODULE = "studio.hub"
CLASSES = (HUB_MODULE, BACKBONE, PRESET)

HUB_SOURCE = '''def resolve_module(handle):
    """A module handle -> its local SavedModel folder: a local folder as it is; a URL or a Kaggle
    model path is downloaded once by tensorflow_hub into its cache folder (TFHUB_CACHE_DIR)."""
    folder = Path(handle).expanduser()
    if folder.is_dir():
        return str(folder)
    if not handle.startswith(("https://", "http://", "gs://")):
        handle = "https://www.kaggle.com/models/" + handle
    import tensorflow_hub

    return tensorflow_hub.resolve(handle)


class HubModule(layers.TFSMLayer):
    """A TensorFlow Hub / SavedModel module as a Keras 3 layer (Network Studio's HubModule): its
    variables are the layer's weights (fit fine-tunes them unless trainable=False), `training`
    reaches modules that take it, a signature is called with its input's keyword, one output
    is returned. A .keras file holding it stores the module's folder and does not reload in Keras'
    safe mode: rebuild the model with build_model() and load the weights instead."""

    def _add_existing_weight(self, weight):
        # TFSMLayer's own, with a name Keras accepts as an optimizer scope ("kernel:0" is not).
        name = "".join(c if c.isalnum() or c in "_.-" else "_" for c in weight.name.removesuffix(":0"))
        variable = keras.Variable(initializer=weight, trainable=weight.trainable, dtype=weight.dtype,
                                  shape=weight.shape, name=name)
        self._track_variable(variable)

    def call(self, inputs, training=False):
        if self.module_dtype != "string":
            inputs = keras.ops.cast(inputs, self.module_dtype)
        if self.module_keyword:
            outputs = self.call_endpoint_fn(**{self.module_keyword: inputs})
        elif self.module_training:
            outputs = self.call_endpoint_fn(inputs, training=bool(training) and self.trainable)
        else:
            outputs = self.call_endpoint_fn(inputs)
        if isinstance(outputs, dict):
            return outputs[self.module_output] if self.module_output else list(outputs.values())[0]
        if isinstance(outputs, (list, tuple)) and self.module_output:
            return outputs[int(self.module_output)]
        return outputs


def hub_module(handle, endpoint, input_keyword, takes_training, output_key, input_dtype, trainable, name):
    """The HubModule layer of a module handle, called as Network Studio called it."""
    layer = HubModule(resolve_module(handle), call_endpoint=endpoint, trainable=trainable, name=name)
    layer.module_keyword = input_keyword
    layer.module_training = takes_training
    layer.module_output = output_key
    layer.module_dtype = input_dtype
    return layer'''

BACKBONE_SOURCE = '''def preprocess(x, mode, name):
    """The application's own input preprocessing, as layers (pixels in [0, 255])."""
    if mode == "tf":  # [0, 255] -> [-1, 1]
        return layers.Rescaling(1 / 127.5, offset=-1.0, name=name + "_preprocess")(x)
    if mode == "torch":  # [0, 1], then the ImageNet mean and deviation
        x = layers.Rescaling(1 / 255.0, name=name + "_rescale")(x)
        return layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[s * s for s in (0.229, 0.224, 0.225)],
                                    name=name + "_preprocess")(x)
    if mode == "caffe":  # RGB -> BGR, minus the ImageNet mean (BGR)
        flip = keras.initializers.Constant([[[[0, 0, 1], [0, 1, 0], [1, 0, 0]]]])
        mean = keras.initializers.Constant([-103.939, -116.779, -123.68])
        return layers.Conv2D(3, 1, trainable=False, kernel_initializer=flip, bias_initializer=mean,
                             name=name + "_preprocess")(x)
    return x  # the application preprocesses inside itself


def backbone(x, application, preprocessing, weights, pooling, trainable, freeze_up_to, name):
    """A Keras Applications network without its classifier, behind its preprocessing, called on x.
    weights: None (random), "imagenet" (downloaded once into ~/.keras/models) or a weights file."""
    shape = tuple(x.shape[1:])
    base = application(include_top=False, weights="imagenet" if weights == "imagenet" else None,
                       input_shape=shape, pooling=None if pooling == "none" else pooling)
    if weights is not None and weights != "imagenet":
        base.load_weights(weights)
    if not trainable:
        base.trainable = False
    elif freeze_up_to:
        for layer in base.layers[:freeze_up_to]:
            layer.trainable = False
    inputs = keras.Input(shape=shape, name=name + "_input")
    features = preprocess(inputs, preprocessing, name)
    frozen = not trainable or freeze_up_to > 0
    outputs = base(features, training=False) if frozen else base(features)
    return keras.Model(inputs, outputs, name=name)(x)'''

PRESET_SOURCE = '''def keras_hub_preset(x, preset, rescale, pooling, trainable, freeze_up_to, name):
    """A KerasHub backbone called on x: keras_hub.models.Backbone.from_preset(preset) (a local preset
    folder, a kaggle:// or hf:// handle, or a KerasHub preset name; downloads are cached by KerasHub),
    behind the preset's image scaling (rescale: [scale, offset]) and followed by pooling. A text backbone
    takes token ids (0 = padding) and gives its sequence_output."""
    import keras_hub

    base = keras_hub.models.Backbone.from_preset(preset)
    if not trainable:
        base.trainable = False
    elif freeze_up_to:
        for layer in base.layers[:freeze_up_to]:
            layer.trainable = False
    inputs = keras.Input(shape=tuple(x.shape[1:]), name=name + "_input", dtype=x.dtype)
    features = inputs
    if rescale is not None:
        features = layers.Rescaling(rescale[0], offset=rescale[1], name=name + "_preprocess")(features)
    if isinstance(base.input, dict) and "token_ids" in base.input:  # a text backbone: token ids in, 0 = padding
        feed = {"token_ids": features, "padding_mask": keras.ops.not_equal(features, 0)}
        if "segment_ids" in base.input:
            feed["segment_ids"] = keras.ops.multiply(features, 0)
        features = feed
    frozen = not trainable or freeze_up_to > 0
    features = base(features, training=False) if frozen else base(features)
    if isinstance(features, dict):
        features = features["sequence_output"]
    if pooling != "none" and len(features.shape) > 2:
        image = len(features.shape) == 4
        if pooling == "avg":
            pool = layers.GlobalAveragePooling2D if image else layers.GlobalAveragePooling1D
        else:
            pool = layers.GlobalMaxPooling2D if image else layers.GlobalMaxPooling1D
        features = pool(name=name + "_pool")(features)
    return keras.Model(inputs, features, name=name)(x)'''


def used(plan: Any) -> set[str]:
    """The transfer-learning classes the plan uses."""
    return {call.class_name for call in plan.calls if is_transfer(call)}


def is_transfer(call: Any) -> bool:
    return call.module == MODULE and call.class_name in CLASSES


def source(plan: Any) -> str:
    """The fixed code the plan's transfer nodes need ('' for none)."""
    kinds = used(plan)
    return "\n\n\n".join(text for kind, text in ((HUB_MODULE, HUB_SOURCE), (BACKBONE, BACKBONE_SOURCE),
                                                 (PRESET, PRESET_SOURCE)) if kind in kinds)


def _refuse(call: Any, problem: str) -> ExportError:
    return ExportError(f"{call.label or call.name}: {problem}; the Python export was refused, nothing was written")


def _text(call: Any, key: str, default: str = "") -> str:
    value = call.config.get(key, default)
    if value is None:
        value = default
    if not isinstance(value, str):
        raise _refuse(call, f"parameter {key} must be text")
    return value


def call_statement(call: Any, var: str, refs: list[str]) -> str:
    """`var = hub_module(...)(x)` or `var = backbone(x, keras.applications.Name, ...)`."""
    if len(refs) != 1:
        raise _refuse(call, f"takes one input, {len(refs)} are wired")
    config = call.config
    trainable = config.get("trainable", True) is not False
    if call.class_name == HUB_MODULE:
        endpoint = _text(call, "endpoint")
        if not endpoint:
            raise _refuse(call, "the module's endpoint is not known (it was discovered before this version); "
                          "load the module again (change its handle, or open the project in the app) and export")
        expr = Call("hub_module", kwargs=(
            ("handle", _text(call, "handle")), ("endpoint", endpoint),
            ("input_keyword", _text(call, "input_keyword")),
            ("takes_training", bool(config.get("takes_training"))), ("output_key", _text(call, "output_key")),
            ("input_dtype", _text(call, "input_dtype", "float32") or "float32"), ("trainable", trainable),
            ("name", call.name)))
        return statement(var, expr, tail=f"({refs[0]})")
    if call.class_name == PRESET:
        return statement(var, _preset_call(call, refs[0], trainable))
    name = _text(call, "backbone")
    if name not in APPLICATIONS or name not in BACKBONES:
        raise _refuse(call, f"{name!r} is not a backbone of this version")
    weights = _text(call, "weights", "none")
    if weights not in WEIGHTS:
        raise _refuse(call, f"weights must be one of {', '.join(WEIGHTS)}")
    file = _text(call, "weights_file")
    value = None if weights == "none" else "imagenet" if weights == "imagenet" else file
    freeze = config.get("freeze_up_to") or 0
    if not isinstance(freeze, int) or isinstance(freeze, bool) or freeze < 0:
        raise _refuse(call, "freeze_up_to must be a whole number")
    pooling = _text(call, "pooling", "avg")
    expr = Call("backbone", (Raw(refs[0]), Raw(f"keras.applications.{name}")), kwargs=(
        ("preprocessing", BACKBONES[name].preprocessing), ("weights", value), ("pooling", pooling),
        ("trainable", trainable), ("freeze_up_to", freeze), ("name", call.name)))
    return statement(var, expr)


def _preset_call(call: Any, ref: str, trainable: bool) -> Call:
    config = call.config
    preset = _text(call, "preset")
    if not preset:
        raise _refuse(call, "no preset is chosen")
    pooling, pixels = _text(call, "pooling", "avg"), _text(call, "pixels", "0-255")
    if pooling not in POOLING or pixels not in PIXELS:
        raise _refuse(call, f"pooling must be one of {', '.join(POOLING)} and pixels one of {', '.join(PIXELS)}")
    freeze = config.get("freeze_up_to") or 0
    if not isinstance(freeze, int) or isinstance(freeze, bool) or freeze < 0:
        raise _refuse(call, "freeze_up_to must be a whole number")
    rescale = config.get("rescale")
    if rescale is not None:
        rescale = _rescale(call, rescale, 255.0 if pixels == "0-1" else 1.0)
    return Call("keras_hub_preset", (Raw(ref),), kwargs=(
        ("preset", preset), ("rescale", rescale), ("pooling", pooling), ("trainable", trainable),
        ("freeze_up_to", freeze), ("name", call.name)))


def _numbers(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items)


def _rescale(call: Any, value: Any, factor: float) -> list:
    """The preset's [scale, offset] for the node's pixel range (scale x 255 for pixels in [0, 1])."""
    if not (isinstance(value, list) and len(value) == 2 and all(_numbers(v) for v in value)):
        raise _refuse(call, "the preset's discovered image scaling is not [scale, offset]; load the preset again")
    scale, offset = value
    scale = [float(s) * factor for s in scale] if isinstance(scale, list) else float(scale) * factor
    return [scale, offset]


# --- model files: formats a transfer model cannot take ---------------------------------------------
def _hub_layers(model: Any) -> list:
    found, stack = [], list(getattr(model, "layers", []) or [])
    while stack:
        layer = stack.pop(0)
        if type(layer).__name__ == HUB_MODULE and hasattr(layer, "handle"):
            found.append(layer)
        stack.extend(getattr(layer, "layers", []) or [])
    return found


def format_refusal(model: Any, fmt: str) -> str | None:
    """Why `model` (holding Hub modules) cannot be exported as `fmt`, naming the format to use instead;
    None when it can be tried (each export is then verified numerically)."""
    if fmt not in ("tflite", "onnx"):
        return None
    for layer in _hub_layers(model):
        dtype = (getattr(layer, "_hub_input", None) or {}).get("dtype")
        if dtype == "string":
            what = ("TFLite needs TensorFlow's string ops (the Flex delegate), which the TFLite runtime lacks"
                    if fmt == "tflite" else "ONNX has no equivalent of TensorFlow's string ops")
            return (f"the module '{layer.handle}' ({layer.name}) takes text as strings and {what}; export a "
                    "SavedModel (--format savedmodel) or a .keras file instead, or put the text's "
                    "tokenisation outside the model")
    return None
