"""KerasHub presets as backbone nodes: resolve a preset, check it, read its facts, build it.

    folder = resolve_preset("kaggle://keras/resnetv2/keras/resnet_50_imagenet")  # or a local folder
    facts = discover("/data/presets/my_resnet", (None, 64, 64, 3), pooling="avg")
    model = build_preset("/data/presets/my_resnet", (64, 64, 3), pooling="avg", trainable=False)

A preset is a folder holding `config.json` (the backbone's Keras config) and `model.weights.h5`
(plus, for presets of an image task, `image_converter.json` / `preprocessor.json` with the
pixel scaling). A handle is data, never code: a local folder, `kaggle://owner/model/keras/variant
[/version]`, `hf://owner/name` or a KerasHub preset name (resnet_50_imagenet...). Handles are
downloaded once by KerasHub's own downloaders into their caches (kagglehub: `KAGGLEHUB_CACHE`,
Hugging Face: `HF_HOME`); offline, one `HubError` line names what to download and where to put it.

Safety. `Backbone.from_preset` rebuilds the backbone from config.json with
`keras.saving.deserialize_keras_object`, which looks classes up by their registered name or by
(module, class name). Before KerasHub reads a preset we check its config.json ourselves
(`check_config`): every serialized object in it must name a module under `keras` or `keras_hub`,
a registered name that is `keras_hub>...` (or none, for Keras' own classes), and no Lambda or
Python function; the top-level class must be a registered `keras_hub` Backbone subclass. A config
that names anything else (another package's class, one of our own registered layers, code) is
refused in one line, and nothing of it is built. Loading then runs inside
Keras' `SafeModeScope(True)`: `safe_mode=False` is never used, and nothing in the preset
folder is imported or executed (weights are read from the .h5 file as arrays).

TensorFlow, Keras and keras_hub are imported inside functions only (importing keras_hub costs
seconds): importing this module is free.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Optional

from studio.core.errors import StudioError
from studio.hub.resolve import HubError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
SHARDED_WEIGHTS_FILE = "model.weights.json"
CONVERTER_FILES = ("image_converter.json", "preprocessor.json")
SCHEMES = ("kaggle", "hf")
MAX_HANDLE = 2000
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_KERAS_MODULES = ("keras", "keras_hub")
_CODE_CLASSES = {"Lambda", "__lambda__", "function", "__python_function__", "TFSMLayer"}


# --- handles -------------------------------------------------------------------------------------
def validate_preset(handle: object) -> str:
    """The handle stripped, or HubError when it is empty, too long or not text."""
    if not isinstance(handle, str) or not handle.strip():
        raise HubError("preset is empty; give a local KerasHub preset folder (config.json, model.weights.h5), a "
                       "kaggle://owner/model/keras/variant handle, an hf://owner/name handle or a KerasHub preset "
                       "name such as resnet_50_imagenet")
    handle = handle.strip()
    if len(handle) > MAX_HANDLE or "\x00" in handle or "\n" in handle:
        raise HubError("preset is not a folder, handle or preset name (too long or with control characters)")
    return handle


def preset_kind(handle: str) -> str:
    """'kaggle', 'hf', 'name' (a KerasHub preset name) or 'folder'."""
    handle = handle.strip()
    if "://" in handle:
        scheme = handle.split("://", 1)[0].lower()
        if scheme not in SCHEMES:
            raise HubError(f"preset '{handle}': only local folders, kaggle:// and hf:// handles and KerasHub preset "
                           f"names are supported, not {scheme}://")
        return scheme
    if _NAME.match(handle) and not Path(handle).expanduser().exists():
        return "name"
    return "folder"


def download_page(handle: str, kaggle: str = "") -> str:
    """Where a person downloads the preset by hand (`kaggle`: the Kaggle handle a preset name stands for)."""
    if kaggle:
        return download_page(kaggle)
    kind = preset_kind(handle)
    if kind == "kaggle":
        return "https://www.kaggle.com/models/" + handle.split("://", 1)[1]
    if kind == "hf":
        return "https://huggingface.co/" + handle.split("://", 1)[1]
    return "https://keras.io/keras_hub/presets/ (search for " + handle + ")"


def _reason(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _offline_message(handle: str, reason: str, kaggle: str = "") -> str:
    return (f"preset '{handle}' cannot be downloaded ({reason}). On a machine with a connection download the "
            f"preset's files from {download_page(handle, kaggle)} (config.json, model.weights.h5 and the .json "
            "files beside them), put them into one folder on this machine, and give that folder as the preset")


def resolve_preset(handle: str, *, download: bool = True) -> Path:
    """The local preset folder of `handle`, checked (`check_preset_folder`).

    A handle is downloaded once by KerasHub's downloaders (into their caches); `download=False`
    refuses handles without trying. One HubError line for every failure.
    """
    handle = validate_preset(handle)
    kind = preset_kind(handle)
    if kind == "folder":
        return check_preset_folder(Path(handle).expanduser().resolve(), handle)
    if not download:
        raise HubError(_offline_message(handle, "it has not been downloaded"))
    try:
        from keras_hub.src.utils import preset_utils
    except ImportError:
        raise HubError(f"preset '{handle}': KerasHub is not installed (pip install keras-hub; it needs Python "
                       ">= 3.11)") from None
    known = preset_utils.BUILTIN_PRESETS.get(handle) if kind == "name" else None
    kaggle = str((known or {}).get("kaggle_handle") or "")
    if kind == "name" and known is None:
        raise HubError(f"preset '{handle}' is neither a folder nor a KerasHub preset name; give a folder holding "
                       "config.json and model.weights.h5, a kaggle:// or hf:// handle, or a name listed at "
                       "https://keras.io/keras_hub/presets/")
    try:
        config = Path(preset_utils.get_file(handle, CONFIG_FILE))
        folder = config.parent
        if not (folder / WEIGHTS_FILE).is_file():
            preset_utils.get_file(handle, WEIGHTS_FILE)
        for name in CONVERTER_FILES:  # optional: the preset's image scaling
            if preset_utils.check_file_exists(handle, name):
                preset_utils.get_file(handle, name)
    except StudioError:
        raise
    except Exception as exc:  # offline, a wrong handle, a gated model...
        raise HubError(_offline_message(handle, _reason(exc, 120), kaggle)) from None
    return check_preset_folder(folder, handle)


# --- checking a folder ------------------------------------------------------------------------------
def check_preset_folder(folder: Path, handle: Optional[str] = None) -> Path:
    """`folder` if it is a KerasHub preset folder whose config names only KerasHub/Keras classes."""
    shown = handle or str(folder)
    if not folder.exists():
        raise HubError(f"preset '{shown}': the folder {folder} does not exist; choose the folder that holds the "
                       "preset's config.json and model.weights.h5")
    if not folder.is_dir():
        raise HubError(f"preset '{shown}': {folder} is a file, not a folder; a KerasHub preset is a folder holding "
                       "config.json and model.weights.h5 (unpack a downloaded archive first)")
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        inside = ", ".join(sorted(p.name for p in folder.iterdir())[:5]) or "nothing"
        raise HubError(f"preset '{shown}': {folder} is not a KerasHub preset folder (no config.json; it holds "
                       f"{inside}); choose the folder saved by save_to_preset or downloaded from Kaggle")
    config = read_json(config_path, shown)
    if "registered_name" not in config:
        raise HubError(f"preset '{shown}': {config_path} is not a KerasHub backbone config (no registered_name); "
                       "only presets in KerasHub's own format are supported (saved by save_to_preset or "
                       "published as Keras presets)")
    check_config(config, shown)
    if not (folder / WEIGHTS_FILE).is_file() and not (folder / SHARDED_WEIGHTS_FILE).is_file():
        raise HubError(f"preset '{shown}': {folder} has no {WEIGHTS_FILE}; put the preset's weights file beside "
                       "its config.json")
    return folder


def read_json(path: Path, shown: str) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise HubError(f"preset '{shown}': {path.name} cannot be read as JSON ({_reason(exc)}); the preset is "
                       "damaged, download or save it again") from None
    if not isinstance(value, dict):
        raise HubError(f"preset '{shown}': {path.name} is not a JSON object; the preset is damaged")
    return value


def _objects(value: Any, where: str = "config"):
    """(path, dict) for every serialized Keras object (a dict with a class_name) inside `value`."""
    if isinstance(value, dict):
        if "class_name" in value:
            yield where, value
        for key, item in value.items():
            yield from _objects(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _objects(item, f"{where}[{i}]")


def check_config(config: dict, shown: str) -> None:
    """HubError unless every object `config` (a preset's config.json) names is KerasHub's or Keras' own.

    Keras' deserializer would resolve any class registered in this process by its registered name,
    and import modules of the keras/keras_hub packages by name: this check keeps it to KerasHub's
    registered classes and Keras' built-ins, and refuses code (Lambda, Python functions)."""
    for where, obj in _objects(config):
        name = obj.get("class_name")
        module = obj.get("module")
        registered = obj.get("registered_name")
        bad = None
        if not isinstance(name, str) or name in _CODE_CLASSES or "lambda" in name.lower():
            bad = f"class {name!r} (code or a layer that loads files)"
        elif module is not None and (not isinstance(module, str)
                                     or module.split(".", 1)[0] not in _KERAS_MODULES):
            bad = f"module {module!r}"
        elif registered is not None and not (isinstance(registered, str) and (
                registered == name or registered.startswith("keras_hub>"))):
            bad = f"registered class {registered!r}"
        elif module is None and registered is not None and registered != name and not registered.startswith(
                "keras_hub>"):
            bad = f"registered class {registered!r}"
        if bad:
            raise HubError(f"preset '{shown}': config.json names {bad} at {where}; a preset may only use KerasHub "
                           "and Keras classes, so it was not loaded")
    top = config.get("registered_name")
    if not isinstance(top, str) or not top.startswith("keras_hub>"):
        raise HubError(f"preset '{shown}': config.json describes {top!r}, not a KerasHub backbone; choose a "
                       "backbone preset (its config.json names a keras_hub>...Backbone)")


def read_rescale(folder: Path, shown: str) -> Optional[list]:
    """[scale, offset] of the preset's image converter (for pixels in [0, 255]), or None. Plain JSON."""
    for name in CONVERTER_FILES:
        path = folder / name
        if not path.is_file():
            continue
        for _where, obj in _objects(read_json(path, shown)):
            if str(obj.get("class_name", "")).endswith("ImageConverter"):
                cfg = obj.get("config") or {}
                scale, offset = cfg.get("scale"), cfg.get("offset")
                if scale is None and offset is None:
                    return None
                return [_number(scale, 1.0, shown), _number(offset, 0.0, shown)]
    return None


def _number(value: Any, default: float, shown: str) -> Any:
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                 for v in value):
        return [float(v) for v in value]
    raise HubError(f"preset '{shown}': its image converter's scale/offset {value!r} is not a number or a list of "
                   "numbers")


# --- loading and building -----------------------------------------------------------------------------
def load_backbone(handle: str) -> tuple[Any, Path]:
    """(the KerasHub Backbone with the preset's weights, its folder), or one HubError line."""
    folder = resolve_preset(handle)
    try:
        import keras
        import keras_hub
    except ImportError:
        raise HubError(f"preset '{handle}': KerasHub is not installed (pip install keras-hub; it needs Python "
                       ">= 3.11)") from None
    config = read_json(folder / CONFIG_FILE, handle)
    cls = keras.saving.get_registered_object(config["registered_name"])
    if not (isinstance(cls, type) and issubclass(cls, keras_hub.models.Backbone)
            and cls.__module__.split(".", 1)[0] == "keras_hub"):
        raise HubError(f"preset '{handle}': config.json names {config['registered_name']!r}, which is not a "
                       "KerasHub backbone class; choose a backbone preset")
    from keras.src.saving.serialization_lib import SafeModeScope  # Keras' own safe-mode switch

    try:
        with SafeModeScope(True):
            backbone = cls.from_preset(str(folder), load_weights=False)
    except Exception as exc:
        raise HubError(f"preset '{handle}': KerasHub cannot build {cls.__name__} from {folder / CONFIG_FILE}: "
                       f"{_reason(exc)}") from None
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        weights = folder / SHARDED_WEIGHTS_FILE
    try:
        backbone.load_weights(str(weights))
    except Exception as exc:
        raise HubError(f"preset '{handle}': the weights {weights} cannot be loaded into {cls.__name__}: "
                       f"{_reason(exc)}; the file may be damaged or saved from another model: download or save "
                       "the preset again") from None
    return backbone, folder


#: The inputs of KerasHub's text backbones a preset node fills from token ids (0 = padding).
TEXT_INPUTS = ("token_ids", "padding_mask", "segment_ids")
SEQUENCE_OUTPUT = "sequence_output"


def is_text(backbone: Any) -> bool:
    """A text backbone: its inputs are a dict holding token_ids (and padding_mask, segment_ids)."""
    own = backbone.input
    return isinstance(own, dict) and "token_ids" in own and set(own) <= set(TEXT_INPUTS)


def _single_input(backbone: Any, handle: str) -> Any:
    """The tensor the node's wire feeds: the image input, or a text backbone's token_ids."""
    if is_text(backbone):
        own = backbone.input["token_ids"]
    else:
        inputs = backbone.inputs
        if len(inputs) != 1:
            names = ", ".join(getattr(t, "name", "?") for t in inputs)
            raise HubError(f"preset '{handle}': {type(backbone).__name__} takes {len(inputs)} inputs ({names}); a "
                           "preset node takes image backbones (one input) and text backbones (token_ids, "
                           "padding_mask, segment_ids)")
        own = inputs[0]
    out = backbone.output
    if isinstance(out, dict) and SEQUENCE_OUTPUT not in out or isinstance(out, (list, tuple)):
        raise HubError(f"preset '{handle}': {type(backbone).__name__} returns several outputs; a preset node "
                       f"takes backbones with one output (or a text backbone's {SEQUENCE_OUTPUT})")
    return own


def _call(backbone: Any, x: Any, frozen: bool) -> Any:
    """The backbone called on the node's input: token ids feed a text backbone's token_ids, with
    padding_mask = (token id != 0) and segment_ids 0; a text backbone's sequence_output comes out."""
    import keras

    if is_text(backbone):
        feed = {"token_ids": x, "padding_mask": keras.ops.not_equal(x, 0)}
        if "segment_ids" in backbone.input:
            feed["segment_ids"] = keras.ops.multiply(x, 0)
        x = feed
    out = backbone(x, training=False) if frozen else backbone(x)
    return out[SEQUENCE_OUTPUT] if isinstance(out, dict) else out


def build_preset(handle: str, input_shape: tuple, pooling: str = "avg", pixels: str = "0-255",
                 trainable: bool = True, freeze_up_to: int = 0, layer_name: Optional[str] = None,
                 lr_multiplier: float = 1.0, loaded: Any = None) -> Any:
    """A functional model: the preset's image scaling -> the backbone -> pooling.

    `input_shape` excludes the batch. `freeze_up_to` N freezes the backbone's first N layers (as
    `backbone.layers[:N]`); `trainable=False` freezes all of it; a frozen backbone is called with
    `training=False` (Keras' fine-tuning recipe). `loaded` is (backbone, folder) already loaded.
    """
    import keras

    from studio.hub.backbones import BASE_ATTR, LR_MULTIPLIER_ATTR

    backbone, folder = loaded or load_backbone(handle)
    own = _single_input(backbone, handle)
    shape = tuple(input_shape)
    want = tuple(own.shape[1:])
    if len(want) != len(shape) or any(w is not None and g is not None and w != g for w, g in zip(want, shape)):
        raise HubError(f"preset '{handle}' takes input of shape (None, {', '.join(map(str, want))}) but the wired "
                       f"input is (None, {', '.join(map(str, shape))}); change the Input's shape or resize first")
    name = layer_name or re.sub(r"[^A-Za-z0-9_]", "_", backbone.name)
    if not trainable:
        backbone.trainable = False
    elif freeze_up_to:
        for layer in backbone.layers[:freeze_up_to]:
            layer.trainable = False
    inputs = keras.Input(shape=shape, name=f"{name}_input", dtype=own.dtype)
    x = inputs
    rescale = read_rescale(folder, handle)
    if rescale is not None and len(shape) == 3:
        scale, offset = rescale
        if pixels == "0-1":
            scale = [s * 255.0 for s in scale] if isinstance(scale, list) else scale * 255.0
        x = keras.layers.Rescaling(scale, offset=offset, name=f"{name}_preprocess")(x)
    frozen = not trainable or freeze_up_to > 0
    try:
        x = _call(backbone, x, frozen)
    except Exception as exc:
        raise HubError(f"preset '{handle}': {type(backbone).__name__} cannot take input {shape}: "
                       f"{_reason(exc)}") from None
    if pooling in ("avg", "max") and len(x.shape) > 2:
        rank = len(x.shape)
        pool = {("avg", 3): keras.layers.GlobalAveragePooling1D, ("avg", 4): keras.layers.GlobalAveragePooling2D,
                ("max", 3): keras.layers.GlobalMaxPooling1D, ("max", 4): keras.layers.GlobalMaxPooling2D}.get(
                    (pooling, rank))
        if pool is None:
            raise HubError(f"preset '{handle}': pooling {pooling} needs a 3-D or 4-D feature map, the backbone "
                           f"returns {rank}-D")
        x = pool(name=f"{name}_pool")(x)
    model = keras.Model(inputs, x, name=name)
    setattr(model, BASE_ATTR, True)
    setattr(model, LR_MULTIPLIER_ATTR, float(lr_multiplier))
    return model


def _count(weights: list) -> int:
    return sum(math.prod(int(d) for d in weight.shape) for weight in weights)


def discover(handle: str, input_shape: tuple, pooling: str = "avg", pixels: str = "0-255") -> dict:
    """The facts a preset node keeps (studio.graph.layers.presets.DISCOVERED), for the wired
    `input_shape` (batch included)."""
    backbone, folder = load_backbone(handle)
    own = _single_input(backbone, handle)
    model = build_preset(handle, tuple(input_shape[1:]), pooling="none", pixels=pixels, loaded=(backbone, folder))
    feature = [None, *model.output.shape[1:]]
    return {
        "backbone_class": type(backbone).__name__,
        "input_shape": [None, *own.shape[1:]],
        "input_dtype": str(own.dtype),
        "feature_shape": [None if d is None else int(d) for d in feature],
        "discovered_for": [None, *input_shape[1:]],
        "param_counts": [_count(model.trainable_weights), _count(model.non_trainable_weights)],
        "layer_params": [_count(layer.trainable_weights) for layer in backbone.layers],
        "rescale": read_rescale(folder, handle),
    }

