"""Open a Keras model file as an editable project: `studio import MODEL -o PROJECT`.

    result = import_model("resnet.keras", "resnet.studio.json")

* `.keras` / `.h5` files load with `keras.saving.load_model(..., safe_mode=True)`.
  Before loading, the file's model config (plain JSON) is scanned so a
  `Lambda` layer or an unknown custom class is reported by layer name.
* A SavedModel folder written by Keras 2 (`keras_metadata.pb`) is read with
  `tf_keras` and converted; one written by `model.export()` or plain
  TensorFlow holds no layer graph and is refused with the reason.
* Only `model.get_config()` is read (no private attributes). The graph is
  rebuilt with our compiler, the original weights are copied layer by layer,
  and the rebuilt model must give the same answers before anything is
  written. Weights go beside the project as `NAME.weights.h5`, recorded in
  `project.assets["weights"]`.

TensorFlow/Keras are imported inside the functions.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

from studio.compiler.from_config import MODEL_CLASSES, UNSAFE_CLASSES, ModelImportError, graph_from_config
from studio.compiler.plan import make_plan
from studio.core.errors import BuildError, StudioError
from studio.graph.catalog import Catalog, default_catalog
from studio.project.model import SUFFIX, Project, project_stem

TOLERANCE = 1e-5


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

    Raises ModelImportError for a file that is not a model; returns None when
    the format keeps no readable config.
    """
    suffix = path.suffix.lower()
    if suffix == ".keras":
        try:
            with zipfile.ZipFile(path) as archive:
                if "config.json" not in archive.namelist():
                    raise ModelImportError(f"{path}: a zip file without config.json; not a Keras model file")
                text = archive.read("config.json").decode("utf-8")
        except zipfile.BadZipFile:
            raise ModelImportError(f"{path}: not a Keras model file (a .keras file is a zip archive); "
                                   "was it saved with model.save('model.keras')?") from None
        return _json(text, path)
    if suffix in (".h5", ".hdf5"):
        import h5py

        try:
            with h5py.File(path, "r") as handle:
                raw = handle.attrs.get("model_config")
        except OSError:
            raise ModelImportError(f"{path}: not an HDF5 model file") from None
        if raw is None:
            raise ModelImportError(f"{path}: holds weights only (no model config); load them into the model "
                                   "in Keras and save it with model.save('model.keras')")
        return _json(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw), path)
    return None


def _json(text: str, path: Path) -> dict:
    try:
        data = json.loads(text)
    except ValueError:
        raise ModelImportError(f"{path}: the model config is not valid JSON; the file may be damaged") from None
    if not isinstance(data, dict):
        raise ModelImportError(f"{path}: the model config is not a JSON object")
    return data


def scan_config(config: dict, source: Path) -> None:
    """Refuse Lambda layers and classes that are not built into Keras, naming the layer."""
    import keras

    def known(class_name: str, module: Any, registered: Any) -> bool:
        if class_name in MODEL_CLASSES or class_name == "InputLayer":
            return True
        if isinstance(registered, str) and registered and registered != class_name:
            return False  # a registered custom object ("package>Class")
        if module is not None and not str(module).startswith("keras"):
            return False
        return isinstance(getattr(keras.layers, class_name, None), type)

    def visit(entry: Any, where: tuple[str, ...]) -> None:
        if not isinstance(entry, dict):
            return
        class_name = entry.get("class_name")
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        name = config.get("name") or entry.get("name") or class_name
        here = where + (str(name),) if class_name not in MODEL_CLASSES or where else where
        label = "/".join(here) or str(name)
        if class_name in UNSAFE_CLASSES:
            raise ModelImportError(f"{source}: layer '{label}' is a {class_name} layer, which runs arbitrary "
                                   "Python code; Network Studio never loads code from a file (safe mode). "
                                   "Replace it with built-in layers and save the model again")
        if isinstance(class_name, str) and not known(class_name, entry.get("module"), entry.get("registered_name")):
            shown = entry.get("registered_name") or class_name
            raise ModelImportError(f"{source}: layer '{label}' uses the custom class '{shown}', which is not "
                                   "built into Keras; custom code is never loaded from a file (safe mode). "
                                   "Replace it with built-in layers or export the model without it")
        for child in config.get("layers") or []:
            visit(child, here)
        for key in ("layer", "backward_layer", "cell"):
            if isinstance(config.get(key), dict):
                visit(config[key], here)

    visit(config, ())


def load_model_file(path: str | os.PathLike) -> Any:
    """Load a .keras/.h5 file or a Keras 2 SavedModel folder, safely."""
    import keras

    from studio.compiler.keras_build import keras_reason

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
    from studio.project.io import save_project

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
    fd, tmp = tempfile.mkstemp(prefix=f".{weights_path.name}.", suffix=".weights.h5", dir=weights_path.parent)
    os.close(fd)
    try:
        rebuilt.save_weights(tmp)
        save_project(project, target)
        os.replace(tmp, weights_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    opaque = sum(1 for n in graph.nodes if graph.spec(n) is None)
    if log is not None:
        for warning in imported.warnings:
            log(f"warning: {warning}")
    return ImportResult(project, target, weights_path, len(graph.nodes), opaque, model.count_params(), diff,
                        imported.warnings)


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
