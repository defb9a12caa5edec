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
  written. Weights go beside the project as `NAME.weights.h5`, recorded in
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
from studio.compiler.from_config import MODEL_CLASSES, UNSAFE_CLASSES, ModelImportError, graph_from_config
from studio.compiler.plan import make_plan
from studio.core.errors import BuildError, StudioError
from studio.graph.catalog import Catalog, default_catalog
from studio.graph.keras_names import CLASSES, UNSAFE
from studio.project.model import SUFFIX, Project, project_stem

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
    max_abs_diff: float
    warnings: list[str] = field(default_factory=list)


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


def scan_config(config: dict, source: Path) -> None:
    """Refuse Lambda layers, Python lambdas and classes that are not built into
    Keras anywhere in a model config, naming the layer and where in it.

    Every nested dict and list is visited (RNN cells and cell lists, wrapped
    layers, nested models, initializers...), iteratively, before Keras
    deserialises anything."""
    keras_layers = CLASSES["keras.layers"]

    def custom(class_name: str, module: Any, registered: Any) -> bool:
        """True for a class registered by user code or living outside Keras."""
        if ">" in class_name or (isinstance(registered, str) and registered
                                 and (registered != class_name or ">" in registered)):
            return True  # a registered custom object ("package>Class")
        return isinstance(module, str) and not (module == "keras" or module.startswith("keras."))

    def known_layer(class_name: str, module: Any, registered: Any) -> bool:
        if class_name in MODEL_CLASSES or class_name == "InputLayer":
            return True
        if custom(class_name, module, registered):
            return False
        if isinstance(module, str) and (module == "keras.ops" or module.startswith(_OPS_MODULES)):
            return class_name.isidentifier()  # an operation of a functional model (`x + 1`)
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


def load_model_file(path: str | os.PathLike) -> Any:
    """Load a .keras/.h5 file or a Keras 2 SavedModel folder, safely.

    The archive checks and the config scan run before Keras is imported or
    touches the file."""
    path = Path(path)
    if not path.exists():
        raise ModelImportError(f"{path}: no such file or folder")
    if path.is_dir():
        return _load_savedmodel(path)
    if path.suffix.lower() not in (".keras", ".h5", ".hdf5"):
        raise ModelImportError(f"{path}: unsupported file type; import a .keras or .h5 model file or a "
                               "SavedModel folder")
    config = read_model_config(path)
    if config is not None:
        scan_config(config, path)
    import keras

    from studio.compiler.keras_build import keras_reason

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # any failure of Keras to load is one line for the user
        raise ModelImportError(f"{path}: Keras cannot load this model: {keras_reason(exc)}") from None


def _load_savedmodel(path: Path) -> Any:
    import keras

    from studio.compiler.keras_build import keras_reason

    if not (path / "saved_model.pb").is_file():
        raise ModelImportError(f"{path}: a folder without saved_model.pb; not a SavedModel")
    if not (path / "keras_metadata.pb").is_file():
        raise ModelImportError(f"{path}: this SavedModel holds no Keras layer graph (it was written by "
                               "model.export() or plain TensorFlow), so it cannot become an editable graph; "
                               "import the .keras file it came from instead")
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
            scan_config({"class_name": "Functional", "config": legacy.get_config()}, path)
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
            entry = {"class_name": record.get("class_name"), "module": None,
                     "config": record.get("config") if isinstance(record.get("config"), dict)
                     else {"name": record.get("name")}}
            entry["config"].setdefault("name", record.get("name"))
            scan_config(entry, path)


# --- Keras' own form of a layer config -----------------------------------------------------
@lru_cache(maxsize=4096)
def _keras_config_json(class_name: str, params_json: str) -> Optional[str]:
    import keras

    from studio.compiler.keras_build import with_modules

    record = {"module": "keras.layers", "class_name": class_name, "config": json.loads(params_json)}
    try:
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
                 log: Callable[[str], None] | None = None) -> ImportResult:
    """Import a model file as a project with its weights; see the module docstring."""
    from studio.export.staging import check_writable

    catalog = catalog or default_catalog()
    target = project_target(project_path)
    stem = project_stem(target)
    weights_path = target.with_name(f"{stem}.weights.h5")
    for path in (target, weights_path):
        if path.exists() and not overwrite:
            raise ModelImportError(f"{path}: already exists; choose another project name or pass --force")
    try:
        check_writable(target)
    except StudioError as exc:
        raise ModelImportError(str(exc)) from None

    model = load_model_file(model_path)
    source = Path(model_path)
    imported = graph_from_config(model.get_config(), catalog, keras_config)
    graph = imported.graph
    rebuilt, plan = _rebuild(graph, stem, source)
    _copy_weights(model, rebuilt, plan, imported.origin, source)
    diff = _compare(model, rebuilt, source)

    project = Project(graph=graph, name=stem, description=f"Imported from {source.name}",
                      assets={"weights": weights_path.name})
    _write_outputs(rebuilt, project, target, weights_path)
    opaque = sum(1 for n in graph.nodes if graph.spec(n) is None)
    if log is not None:
        for warning in imported.warnings:
            log(f"warning: {warning}")
    return ImportResult(project, target, weights_path, len(graph.nodes), opaque, model.count_params(), diff,
                        imported.warnings)


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


def _write_outputs(rebuilt: Any, project: Project, target: Path, weights_path: Path) -> None:
    """Write the weights and the project, both or neither: each goes to a
    temporary file beside its target first, then both are renamed into place.
    A failed write (a full disk...) removes the temporary files and raises one
    line naming the file that could not be written."""
    from studio.project.io import dumps_project

    text = dumps_project(project)  # may raise a ProjectError before the disk is touched
    folder = target.parent if str(target.parent) else Path(".")
    temps: list[str] = []
    writing = weights_path
    try:
        for name, suffix in ((weights_path.name, ".weights.h5"), (target.name, ".tmp")):
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=suffix, dir=folder)
            os.close(fd)
            temps.append(tmp)
        tmp_weights, tmp_project = temps
        rebuilt.save_weights(tmp_weights)
        writing = target
        with open(tmp_project, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        for tmp in temps:
            os.chmod(tmp, 0o644)
        os.replace(tmp_weights, weights_path)
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
    from studio.compiler.keras_build import keras_reason

    for call in plan.calls:
        if call.is_input or call.node_id not in origin:
            continue
        original = _layer_at(model, origin[call.node_id])
        weights = original.get_weights()
        target = rebuilt.get_layer(call.name)
        original_config = _plain({k: v for k, v in original.get_config().items() if k != "name"})
        rebuilt_config = _plain({k: v for k, v in target.get_config().items() if k != "name"})
        if original_config != rebuilt_config:
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
    x = sample_inputs(model, batch=2)
    with on_cpu():
        expected = predict(model, x)
        diff = max_abs_diff(expected, predict(rebuilt, x))
    scale = max([1.0] + [float(abs(e).max()) for e in expected if e.size])
    if not diff <= TOLERANCE * scale:
        raise ModelImportError(f"{source}: the rebuilt model does not give the same answers as the original "
                               f"(max abs difference {diff:.3g}); nothing was written")
    return diff
