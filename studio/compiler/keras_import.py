"""Open a Keras model file as an editable project: `studio import MODEL -o PROJECT`.

    result = import_model("resnet.keras", "resnet.studio.json")

* `.keras` / `.h5` files load with `keras.saving.load_model(..., safe_mode=True)`.
  Before Keras is imported or touches the file, a `.keras` archive is checked
  (`archive.py`: zip bombs, entries outside the archive, duplicate names) and
  the model config (plain JSON, read with a size limit) is scanned everywhere,
  RNN cell lists and wrapped layers included, so a `Lambda` layer, a Python
  lambda or an unknown custom class is reported by layer name and path.
* A SavedModel folder written by Keras 2 (`keras_metadata.pb`) is read with
  `tf_keras` and converted; one written by `model.export()` or plain
  TensorFlow holds no layer graph and is refused with the reason.
* Only `model.get_config()` is read (no private attributes). The graph is
  rebuilt with our compiler, the original weights are copied layer by layer,
  and the rebuilt model must give the same answers before anything is
  written. Weights go beside the project as `NAME.weights.npz` (the per-node
  store of `studio.project.weights`, origin "imported"), recorded in
  `project.assets["weights"]`. Both files are written to temporary files and
  renamed into place together: a full disk leaves neither (nor a temp file).

TensorFlow/Keras are imported inside the functions.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional

from studio.compiler.archive import parse_model_json, read_keras_config
from studio.compiler.from_config import (
    MODEL_CLASSES,
    UNSAFE_CLASSES,
    ModelImportError,
    graph_from_config,
    is_custom,
    is_operation_module,
    mask_only_operations,
    placeholder_reason,
)
from studio.compiler.plan import OP, make_plan
from studio.core.errors import BuildError, StudioError
from studio.graph.catalog import Catalog, default_catalog
from studio.graph.keras_names import BUILTIN_LAYERS, CLASSES, TF_OP_LAMBDAS, UNSAFE, builtin_layer
from studio.project.model import SUFFIX, Project, project_stem
from studio.project.weights import IMPORTED, WeightEntry, weights_file_for, write_weights

TOLERANCE = 1e-5
DISK_FULL_ERRNOS = frozenset(e for e in (getattr(errno, "ENOSPC", None), getattr(errno, "EDQUOT", None)) if e)
DISK_FULL_TEXT = ("no space left on device", "disk quota exceeded", "not enough space on the disk")


@dataclass
class ImportResult:
    project: Project
    project_path: Path
    weights_path: Path
    layers: int
    opaque: int
    params: int
    max_abs_diff: float  # NaN when nothing could be compared (placeholders)
    warnings: list[str] = field(default_factory=list)
    # Layers kept as placeholders ("encoder/sampling"): the project has no weights file then.
    placeholders: list[str] = field(default_factory=list)


# --- reading the file ---------------------------------------------------------------------
def read_model_config(path: Path) -> Optional[dict]:
    """The model config stored in a .keras or .h5 file, as plain JSON (no Keras).

    A .keras archive is checked first (`archive.check_keras_archive`: no zip
    bombs, no entries outside the archive, no duplicate names) and its
    config.json read with a size limit. Raises ModelImportError for a file
    that is not a model; returns None when the format keeps no readable config.
    """
    suffix = path.suffix.lower()
    if suffix == ".keras":
        return read_keras_config(path)
    if suffix in (".h5", ".hdf5"):
        import h5py

        try:
            with h5py.File(path, "r") as handle:
                raw = handle.attrs.get("model_config")
        except UnicodeDecodeError:
            raise ModelImportError(f"{path}: the model_config attribute is not UTF-8 text; the file is damaged "
                                   "or not a Keras model") from None
        except OSError:
            raise ModelImportError(f"{path}: not an HDF5 model file") from None
        if raw is None:
            raise ModelImportError(f"{path}: holds weights only (no model config); load them into the model "
                                   "in Keras and save it with model.save('model.keras')")
        if not isinstance(raw, (bytes, str)):
            raise ModelImportError(f"{path}: the model_config attribute is not text; not a Keras model file")
        return parse_model_json(raw, path, "the model_config attribute")
    return None


# Config keys whose value is a layer (or a list of layers) that Keras deserialises.
LAYER_KEYS = frozenset({"layers", "layer", "backward_layer", "forward_layer", "cell", "cells"})
# Keys Keras does not deserialise when loading with compile=False.
SKIPPED_KEYS = frozenset({"compile_config"})
MAX_CONFIG_DEPTH = 500
_OPS_MODULES = ("keras.src.ops.", "keras.ops.")


def _where(keys: tuple[Any, ...]) -> str:
    """("cell", "config", "cells", 1) -> "cell.cells[1]"."""
    text = ""
    for key in keys:
        if key == "config":
            continue
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def scan_config(config: dict, source: Path) -> list[str]:
    """Refuse Lambda layers, Python lambdas and classes that are not built into
    Keras anywhere in a model config, naming the layer and where in it; return
    the layers of functional models that become placeholders instead.

    Every nested dict and list is visited (RNN cells and cell lists, wrapped
    layers, nested models, initializers...), iteratively, before Keras
    deserialises anything. A layer of a functional model (one with inbound
    nodes, whose output shapes the file records) that cannot be loaded
    safely (`from_config.placeholder_reason`: a custom class, a Lambda, a
    TFOpLambda other than plain arithmetic) is not refused: it is returned
    ("encoder/sampling") and its config is never deserialised, only kept as
    text. Anywhere else (a Sequential model, inside a layer's config) it is
    refused as before."""
    keras_layers = CLASSES["keras.layers"]
    placeholders: list[str] = []
    masks: set[int] = set()  # ids of the operations that only compute masks: never placeholders

    def custom(class_name: str, module: Any, registered: Any) -> bool:
        """True for a class registered by user code or living outside Keras."""
        return is_custom(class_name, module, registered)

    def known_layer(class_name: str, module: Any, registered: Any) -> bool:
        if class_name in MODEL_CLASSES or class_name == "InputLayer":
            return True
        if custom(class_name, module, registered):
            return False
        if is_operation_module(module):
            return class_name.isidentifier()  # an operation of a functional model (`x + 1`)
        if builtin_layer(module, class_name) is not None:
            return True  # a layer Keras ships in its applications (LayerScale)
        return class_name in keras_layers

    def refuse(text: str) -> NoReturn:
        raise ModelImportError(f"{source}: {text}")

    # (value, names of the enclosing layers, keys from the innermost layer, is a layer, depth)
    stack: list[tuple[Any, tuple[str, ...], tuple[Any, ...], bool, int]] = [(config, (), (), True, 0)]
    while stack:
        value, names, keys, is_layer, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            refuse(f"the model config nests more than {MAX_CONFIG_DEPTH} levels deep (in layer "
                   f"'{'/'.join(names) or 'model'}'); not a model Keras wrote")
        if isinstance(value, list):
            stack.extend((item, names, keys + (i,), is_layer, depth + 1) for i, item in enumerate(value))
            continue
        if not isinstance(value, dict):
            continue
        if isinstance(value.get("layers"), list):
            found = mask_only_operations(value)
            masks.update(id(e) for e in value["layers"]
                         if isinstance(e, dict) and isinstance(e.get("config"), dict) and e["config"].get("name") in found)
        class_name = value.get("class_name")
        if isinstance(class_name, str):
            inner = value.get("config") if isinstance(value.get("config"), dict) else {}
            name = str(inner.get("name") or value.get("name") or class_name)
            at = _where(keys)
            direct = is_layer and (not at or at.startswith("layers["))  # a layer of a model
            outer = "/".join(names)
            owner = f"layer '{outer}'" if outer else "the model"
            top_model = not names and not keys and class_name in MODEL_CLASSES  # not part of the labels
            label_names = names + (name,) if direct and not top_model else names
            label = "/".join(label_names)
            code = "which runs arbitrary Python code; Network Studio never loads code from a file (safe mode)"
            if direct and value.get("inbound_nodes"):  # a layer of a functional model
                if id(value) not in masks and placeholder_reason(value) is not None:
                    placeholders.append(label)  # kept as text, never deserialised: not visited further
                    continue
                if class_name == "TFOpLambda":
                    continue  # plain arithmetic (TF_OP_LAMBDAS), read as an operation
            if class_name in UNSAFE_CLASSES or class_name in UNSAFE:
                if direct:
                    refuse(f"layer '{label}' is a {class_name} layer, {code}. Replace it with built-in layers "
                           "and save the model again")
                refuse(f"{owner} holds a {class_name} layer '{name}' (at {at}), {code}. Replace it with "
                       "built-in layers and save the model again")
            if class_name == "__lambda__":
                refuse(f"{owner} holds a Python lambda (at {at or 'its config'}), {code}. Use a built-in "
                       "function or layer and save the model again")
            module, registered = value.get("module"), value.get("registered_name")
            if not known_layer(class_name, module, registered) if is_layer else custom(class_name, module,
                                                                                      registered):
                shown = registered if isinstance(registered, str) and registered else class_name
                what = (f"layer '{label}' uses the custom class '{shown}'" if direct
                        else f"{owner} uses the custom class '{shown}' (at {at})")
                refuse(f"{what}, which is not built into Keras; custom code "
                       "is never loaded from a file (safe mode). Replace it with built-in layers or export the "
                       "model without it")
            if direct:  # paths inside it start from its name
                names, keys = label_names, ()
        for key, item in value.items():
            if key in SKIPPED_KEYS or not isinstance(item, (dict, list)):
                continue
            stack.append((item, names, keys + (key,), key in LAYER_KEYS, depth + 1))
    return placeholders


def _has_tf_op_lambdas(config: Any) -> bool:
    """True when a layer of the (scanned) model config is a Keras 2 TFOpLambda."""
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("class_name") == "TFOpLambda":
                return True
            stack.extend(v for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend(v for v in value if isinstance(v, (dict, list)))
    return False


@dataclass
class OpenedModel:
    """A model file read for import: the Keras model when Keras can load it safely, else
    None (layers kept as placeholders, or Keras 2 TFOpLambda layers Keras 3 does not
    know: only the config is read), and the model's config."""

    model: Any
    config: dict
    placeholders: list[str] = field(default_factory=list)


def open_model_file(path: str | os.PathLike) -> OpenedModel:
    """Read a .keras/.h5 file or a Keras 2 SavedModel folder for import, safely.

    The archive checks and the config scan run before Keras is imported or
    touches the file. When the scan finds layers that become placeholders, or
    the file holds Keras 2 TFOpLambda layers, Keras never loads the model: only
    its config is read (the placeholders' configs are never deserialised)."""
    path = Path(path)
    if not path.exists():
        raise ModelImportError(f"{path}: no such file or folder")
    if path.is_dir():
        model = _load_savedmodel(path)
        return OpenedModel(model, model.get_config())
    if path.suffix.lower() not in (".keras", ".h5", ".hdf5"):
        raise ModelImportError(f"{path}: unsupported file type; import a .keras or .h5 model file or a "
                               "SavedModel folder")
    config = read_model_config(path)
    placeholders = scan_config(config, path) if config is not None else []
    if config is not None and placeholders:
        inner = config.get("config") if isinstance(config.get("config"), dict) else None
        if inner is None:
            raise ModelImportError(f"{path}: the model config has no layers; not a model Keras wrote")
        return OpenedModel(None, inner, placeholders)
    if config is not None and path.suffix.lower() != ".keras" and _has_tf_op_lambdas(config):
        # Keras 2 (tf_keras) wrote it; every TFOpLambda in it is plain arithmetic (the scan made
        # the others placeholders), which tf_keras resolves by its TensorFlow name.
        legacy = _load_tf_keras_h5(path)
        return OpenedModel(legacy, legacy.get_config())
    import keras

    from studio.compiler.keras_build import keras_reason

    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # any failure of Keras to load is one line for the user
        raise ModelImportError(f"{path}: Keras cannot load this model: {keras_reason(exc)}") from None
    return OpenedModel(model, model.get_config())


def load_model_file(path: str | os.PathLike) -> Any:
    """Load a .keras/.h5 file or a Keras 2 SavedModel folder, safely, as a Keras model.

    The archive checks and the config scan run before Keras is imported or
    touches the file. A model with layers that cannot be loaded safely is
    refused here, naming them (`open_model_file` imports it with placeholders)."""
    opened = open_model_file(path)
    if opened.model is None:
        what = (f"layer '{opened.placeholders[0]}' cannot be loaded safely" if opened.placeholders
                else "it holds Keras 2 TFOpLambda layers, which Keras 3 cannot load")
        raise ModelImportError(f"{path}: Keras cannot load this model: {what}; import it as a project "
                               "(studio import), which keeps such layers as placeholders")
    return opened.model


def _load_tf_keras_h5(path: Path) -> Any:
    """A Keras 2 .h5 model with TFOpLambda layers (scanned: only plain arithmetic), read by tf_keras."""
    from studio.compiler.keras_build import keras_reason

    try:
        import tf_keras
    except ImportError:
        raise ModelImportError(f"{path}: a Keras 2 model with TensorFlow operations needs the tf_keras package "
                               "to be read: pip install tf_keras") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tf_keras.models.load_model(str(path), compile=False)
    except Exception as exc:
        raise ModelImportError(f"{path}: cannot read this Keras 2 model: {keras_reason(exc)}") from None


def _load_savedmodel(path: Path) -> Any:
    import keras

    from studio.compiler.keras_build import keras_reason

    if not (path / "saved_model.pb").is_file():
        raise ModelImportError(f"{path}: a folder without saved_model.pb; not a SavedModel")
    if not (path / "keras_metadata.pb").is_file():
        raise ModelImportError(f"{path}: this SavedModel holds no Keras layer graph (it was written by "
                               "model.export() or plain TensorFlow), so it cannot become an editable graph; "
                               "import the .keras file it came from instead, or add the SavedModel to a "
                               "project as a module node (Transfer learning: a TFSMLayer or Hub module)")
    try:
        import tf_keras
    except ImportError:
        raise ModelImportError(f"{path}: a Keras 2 SavedModel needs the tf_keras package to be read: "
                               "pip install tf_keras") from None
    import tensorflow as tf

    _scan_savedmodel_metadata(path, tf_keras)
    tf.get_logger().setLevel("ERROR")  # tf_keras' notes about compiled metrics
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf_keras' advice about legacy formats
            legacy = tf_keras.models.load_model(str(path), compile=False)
            if scan_config({"class_name": "Functional", "config": legacy.get_config()}, path):
                raise ModelImportError(f"{path}: holds layers that cannot be loaded safely")  # refused before
            if _has_tf_op_lambdas(legacy.get_config()):
                return legacy  # Keras 3 cannot read its TFOpLambda layers: import from tf_keras' model
            with tempfile.TemporaryDirectory() as tmp:
                h5 = Path(tmp) / "model.h5"
                legacy.save(str(h5), save_format="h5")
                return keras.saving.load_model(h5, safe_mode=True, compile=False)
    except StudioError:
        raise
    except Exception as exc:
        raise ModelImportError(f"{path}: cannot read this Keras 2 SavedModel: {keras_reason(exc)}") from None


def _scan_savedmodel_metadata(path: Path, tf_keras: Any) -> None:
    """Scan the layer configs in keras_metadata.pb before tf_keras loads anything
    (a Keras 2 Lambda layer stores Python bytecode)."""
    try:
        from tf_keras.protobuf import saved_metadata_pb2
    except ImportError:
        raise ModelImportError(f"{path}: this tf_keras cannot read Keras 2 SavedModel metadata safely") from None
    meta = saved_metadata_pb2.SavedMetadata()
    try:
        meta.ParseFromString((path / "keras_metadata.pb").read_bytes())
    except Exception:
        raise ModelImportError(f"{path}: keras_metadata.pb is damaged; not a readable Keras SavedModel") from None
    for node in meta.nodes:
        try:
            record = json.loads(node.metadata)
        except RecursionError:
            raise ModelImportError(f"{path}: keras_metadata.pb holds a layer config nested too deeply; the file "
                                   "is damaged or hostile") from None
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("class_name"):
            config = record.get("config") if isinstance(record.get("config"), dict) else {}
            if record.get("class_name") == "TFOpLambda" and config.get("function") in TF_OP_LAMBDAS:
                continue  # plain arithmetic, resolved by name among TensorFlow's own functions
            entry = {"class_name": record.get("class_name"), "module": None,
                     "config": record.get("config") if isinstance(record.get("config"), dict)
                     else {"name": record.get("name")}}
            entry["config"].setdefault("name", record.get("name"))
            scan_config(entry, path)


# --- Keras' own form of a layer config -----------------------------------------------------
@lru_cache(maxsize=4096)
def _keras_config_json(class_name: str, params_json: str) -> Optional[str]:
    import keras

    from studio.compiler.keras_build import builtin_class, with_modules

    record = {"module": "keras.layers", "class_name": class_name, "config": json.loads(params_json)}
    builtin = next((builtin_class(module, cls) for cls, module in BUILTIN_LAYERS if cls == class_name), None)
    try:
        if builtin is not None:
            layer = builtin.from_config(with_modules(record["config"]))
        else:
            layer = keras.layers.deserialize(with_modules(record))
    except Exception:  # these params alone do not make a layer: nothing to compare with
        return None
    return json.dumps(layer.get_config(), default=list)


def keras_config(class_name: str, params: dict) -> Optional[dict]:
    """The config Keras writes for a `class_name` layer built from `params`."""
    text = _keras_config_json(class_name, json.dumps(params, sort_keys=True, default=list))
    return json.loads(text) if text else None


# --- import ----------------------------------------------------------------------------------
def project_target(path: str | os.PathLike) -> Path:
    """`-o PROJECT` with the `.studio.json` suffix added when missing."""
    path = Path(path)
    return path if path.name.endswith(SUFFIX) else path.with_name(path.name + SUFFIX)


def import_model(model_path: str | os.PathLike, project_path: str | os.PathLike, *,
                 catalog: Catalog | None = None, overwrite: bool = False,
                 log: Callable[[str], None] | None = None,
                 step: Callable[[str], None] | None = None) -> ImportResult:
    """Import a model file as a project with its weights; see the module docstring.

    `step(text)` is called as each step starts (reading, converting, checking,
    writing); when it raises (a cancel), the import stops there and nothing is
    written."""
    from studio.export.staging import check_writable

    step = step or (lambda _text: None)
    catalog = catalog or default_catalog()
    target = project_target(project_path)
    stem = project_stem(target)
    weights_path = weights_file_for(target)
    for path in (target, weights_path):
        if path.exists() and not overwrite:
            raise ModelImportError(f"{path}: already exists; choose another project name or pass --force")
    try:
        check_writable(target)
    except StudioError as exc:
        raise ModelImportError(str(exc)) from None

    step(f"reading {Path(model_path).name}")
    opened = open_model_file(model_path)
    source = Path(model_path)
    step("turning its layers into a graph")
    imported = graph_from_config(opened.config, catalog, keras_config)
    graph = imported.graph
    opaque = sum(1 for n in graph.nodes if graph.spec(n) is None)
    if imported.placeholders or opened.model is None:
        step(f"writing {target.name}")
        return _import_with_placeholders(imported, source, target, stem, opaque, log)
    model = opened.model
    step("rebuilding the model and copying its weights")
    rebuilt, plan = _rebuild(graph, stem, source)
    _copy_weights(model, rebuilt, plan, imported.origin, source)
    step("checking that the rebuilt model gives the same answers")
    diff = _compare(model, rebuilt, source)

    project = Project(graph=graph, name=stem, description=f"Imported from {source.name}",
                      assets={"weights": weights_path.name})
    from studio.compiler.keras_build import layer_weights

    labels = {call.node_id: call.label for call in plan.calls}
    for node_id, weights in layer_weights(rebuilt, plan).items():
        try:
            project.weights.set(node_id, WeightEntry.of(weights, IMPORTED))
        except ValueError as exc:  # e.g. bfloat16: not a type the weights file holds
            if log is not None:
                log(f"warning: '{labels.get(node_id, node_id)}': {exc}; it starts from random weights")
    step(f"writing {target.name} and {weights_path.name}")
    _write_outputs(rebuilt, project, target, weights_path)
    if log is not None:
        for warning in imported.warnings:
            log(f"warning: {warning}")
    return ImportResult(project, target, weights_path, len(graph.nodes), opaque, model.count_params(), diff,
                        imported.warnings)


def _import_with_placeholders(imported: Any, source: Path, target: Path, stem: str, opaque: int,
                              log: Callable[[str], None] | None) -> ImportResult:
    """Write the project of a model with placeholders: the graph only. Keras never loaded the
    model (a placeholder's code is never run), so there are no weights to keep and nothing to
    compare; every placeholder is an error on its node until it is replaced."""
    from studio.graph.inference import analyse

    graph = imported.graph
    names = ", ".join(f"'{p}'" for p in imported.placeholders) or "none"
    notes = [f"{len(imported.placeholders)} layer(s) kept as placeholders ({names}): their code is never "
             "loaded from a file; replace them with built-in layers or operations before training or exporting. "
             "The model was not loaded, so no weights were imported"]
    project = Project(graph=graph, name=stem, description=f"Imported from {source.name} (with placeholders)")
    _write_outputs(None, project, target, None)
    report = analyse(graph)
    warnings_ = imported.warnings + notes
    if log is not None:
        for warning in warnings_:
            log(f"warning: {warning}")
    return ImportResult(project, target, weights_file_for(target), len(graph.nodes), opaque,
                        report.total_params, float("nan"), warnings_, list(imported.placeholders))


def _is_disk_full(exc: BaseException) -> bool:
    """True when `exc`, or what it was raised from, says the disk (or quota) is full."""
    seen: set[int] = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "errno", None) in DISK_FULL_ERRNOS:
            return True
        text = str(current).lower()
        if any(words in text for words in DISK_FULL_TEXT):
            return True
        current = current.__cause__ or current.__context__
    return False


def _write_failure(path: Path, exc: BaseException) -> ModelImportError:
    if _is_disk_full(exc):
        return ModelImportError(f"{path}: cannot write: the disk is full (no space left on device); free some "
                                "space and import again; nothing was written")
    reason = getattr(exc, "strerror", None) or (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    return ModelImportError(f"{path}: cannot write ({reason}); nothing was written")


def _write_outputs(rebuilt: Any, project: Project, target: Path, weights_path: Optional[Path]) -> None:
    """Write the weights and the project, both or neither: each goes to a
    temporary file beside its target first, then both are renamed into place.
    A failed write (a full disk...) removes the temporary files and raises one
    line naming the file that could not be written."""
    from studio.project.io import dumps_project

    text = dumps_project(project)  # may raise a ProjectError before the disk is touched
    folder = target.parent if str(target.parent) else Path(".")
    temps: list[str] = []
    writing = weights_path or target
    files = ([(weights_path.name, ".tmp")] if weights_path is not None else []) + [(target.name, ".tmp")]
    try:
        for name, suffix in files:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=suffix, dir=folder)
            os.close(fd)
            temps.append(tmp)
        tmp_project = temps[-1]
        if weights_path is not None:
            write_weights(Path(temps[0]), project.weights, [n.id for n in project.graph.nodes], atomic=False)
        writing = target
        with open(tmp_project, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        for tmp in temps:
            os.chmod(tmp, 0o644)
        if weights_path is not None:
            os.replace(temps[0], weights_path)
            project.weights.saved = (weights_path, project.weights.revision)
        os.replace(tmp_project, target)
    except BaseException as exc:
        for tmp in temps:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(exc, (KeyboardInterrupt, SystemExit, StudioError)):
            raise
        if isinstance(exc, OSError) or _is_disk_full(exc):
            raise _write_failure(writing, exc) from None
        raise
    project.path = target


def _rebuild(graph: Any, name: str, source: Path) -> tuple[Any, Any]:
    from studio.compiler.keras_build import build_model

    try:
        plan = make_plan(graph, name)
        return build_model(plan), plan
    except BuildError as exc:
        first = str(exc).splitlines()[0]
        raise ModelImportError(f"{source}: the imported graph does not build: {first}") from None


def _layer_at(model: Any, path: tuple[str, ...]) -> Any:
    layer = model
    for name in path:
        layer = layer.get_layer(name)
    return layer


def _copy_weights(model: Any, rebuilt: Any, plan: Any, origin: dict, source: Path) -> None:
    """Copy each layer's weights from `model` to the rebuilt one, by layer name.

    Each rebuilt layer's config must equal the original's, except for a model read by tf_keras
    (Keras 2, whose configs have another form): there the outputs are compared afterwards."""
    from studio.compiler.keras_build import keras_reason

    legacy = type(model).__module__.startswith("tf_keras")
    for call in plan.calls:
        if call.is_input or call.call_style == OP or call.node_id not in origin or call.shares:
            continue  # operations hold no weights and are not layers; a shared layer is copied once
        original = _layer_at(model, origin[call.node_id])
        weights = original.get_weights()
        target = rebuilt.get_layer(call.name)
        original_config = _plain({k: v for k, v in original.get_config().items() if k != "name"})
        rebuilt_config = _plain({k: v for k, v in target.get_config().items() if k != "name"})
        if original_config != rebuilt_config and not legacy:
            keys = sorted(k for k in set(original_config) | set(rebuilt_config)
                          if original_config.get(k) != rebuilt_config.get(k))
            raise ModelImportError(f"{source}: layer '{'/'.join(origin[call.node_id])}' would not be rebuilt "
                                   f"exactly (differs in {', '.join(keys)}); this model cannot be imported "
                                   "faithfully")
        if not weights:
            continue
        try:
            target.set_weights(weights)
        except Exception as exc:
            raise ModelImportError(f"{source}: the weights of layer '{'/'.join(origin[call.node_id])}' do not "
                                   f"fit the rebuilt layer ({keras_reason(exc)})") from None


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=list))


def _compare(model: Any, rebuilt: Any, source: Path) -> float:
    from studio.export.verify import max_abs_diff, on_cpu, predict, sample_inputs

    if rebuilt.count_params() != model.count_params():
        raise ModelImportError(f"{source}: the rebuilt model has {rebuilt.count_params():,} parameters instead of "
                               f"{model.count_params():,}; this model cannot be imported faithfully")
    # (a Keras 2 model read by tf_keras has the same inputs, described in TensorFlow's types)
    x = sample_inputs(rebuilt if type(model).__module__.startswith("tf_keras") else model, batch=2)
    with on_cpu():
        expected = predict(model, x)
        diff = max_abs_diff(expected, predict(rebuilt, x))
    scale = max([1.0] + [float(abs(e).max()) for e in expected if e.size])
    if not diff <= TOLERANCE * scale:
        raise ModelImportError(f"{source}: the rebuilt model does not give the same answers as the original "
                               f"(max abs difference {diff:.3g}); nothing was written")
    return diff
