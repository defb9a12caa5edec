"""Export a project: pick the model (a run's, the imported weights, or fresh),
then write and verify the file. Shared by `studio export` and the GUI.

TensorFlow is imported inside the functions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from studio.compiler.plan import BuildPlan, make_plan
from studio.core.errors import ExportError, StudioError
from studio.export.codegen import ScriptSettings
from studio.export.exporters import ExportResult, check_target, export_model
from studio.graph.model import Graph
from studio.project.model import Project


@dataclass
class ModelSource:
    """The model to export and where its weights come from."""

    model: Any
    plan: BuildPlan
    description: str  # "run 20260101-120000-abc123 (final.keras)", "fresh weights"...
    task: dict = field(default_factory=dict)  # the run's TaskInfo record, if any
    run_id: Optional[str] = None


def script_settings(project: Project, plan: BuildPlan, stem: str, task: dict | None = None,
                    preprocessing: dict | None = None) -> ScriptSettings:
    """What the exported script needs from the project besides the network.

    `preprocessing` is the dataset's fitted scaling (see `script_scaling`).
    """
    dataset = copy.deepcopy(project.dataset) if project.dataset else None
    task = dict(task or {})
    kind = task.get("task") or (dataset or {}).get("task") or "classification"
    if kind not in ("classification", "regression"):
        kind = "regression"  # forecasts train like regressions
    return ScriptSettings(
        name=stem,
        training=copy.deepcopy(project.training),
        dataset=dataset,
        task=kind,
        label_encoding=task.get("label_encoding") or "index",
        num_classes=task.get("num_classes"),
        data_base_dir=str(project.folder) if project.folder else None,
        preprocessing=copy.deepcopy(preprocessing),
    )


def _plan_of(graph: Graph, name: str) -> BuildPlan:
    return make_plan(graph, name)


def model_source(project: Project, run: str | None = None, which: str = "final",
                 log: Callable[[str], None] = print) -> ModelSource:
    """The model to export.

    * `run` given: that run's `final.keras` (or `best.keras` with
      `which="best"`; each falls back to the other); a missing run is a
      `TrainingError` naming it.
    * no `run`: the latest finished run with a saved model; else the
      project's imported weights (`assets["weights"]`); else freshly
      initialised weights (announced through `log`).
    """
    from studio.training import runs

    plan = _plan_of(project.graph, project.name)  # refuses a graph with errors, listing them
    runs_root = project.runs_dir
    info = runs.find_run(runs_root, run) if run else runs.latest_run(runs_root)
    if info is not None:
        return _from_run(project, info, which, plan)
    weights = project.asset_path("weights")
    if weights is not None:
        if not weights.is_file():
            raise ExportError(f"{weights}: the project's weights file is missing; re-import the model "
                              "or remove \"weights\" from the project's assets")
        model = _build(plan, project)
        try:
            model.load_weights(weights)
        except Exception as exc:
            from studio.compiler.keras_build import keras_reason

            raise ExportError(f"{weights}: these weights do not fit the graph any more "
                              f"({keras_reason(exc)}); train the model or re-import it") from exc
        return ModelSource(model, plan, f"imported weights ({weights.name})")
    log("note: the project has no trained run; exporting freshly initialised weights "
        "(train first with: studio train PROJECT)")
    return ModelSource(_build(plan, project), plan, "freshly initialised weights")


def _build(plan: BuildPlan, project: Project) -> Any:
    import keras

    from studio.compiler.keras_build import build_model
    from studio.training.config import TrainingConfig

    seed = TrainingConfig.from_dict(project.training).seed
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return build_model(plan)


def _from_run(project: Project, info: Any, which: str, plan: BuildPlan) -> ModelSource:
    import keras

    from studio.training import runs

    names = [runs.FINAL_MODEL, runs.BEST_MODEL] if which == "final" else [runs.BEST_MODEL, runs.FINAL_MODEL]
    path = next((info.path / n for n in names if (info.path / n).is_file()), None)
    if path is None:
        raise ExportError(f"{info.path}: the run saved no model ({' or '.join(names)}); train again")
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:
        from studio.compiler.keras_build import keras_reason

        raise ExportError(f"{path}: cannot load the run's model ({keras_reason(exc)})") from exc
    record = runs.load_config(info) or {}
    snapshot = record.get("graph")
    if isinstance(snapshot, dict):
        try:  # the graph the run trained, which its weights fit
            plan = _plan_of(Graph.from_dict(snapshot, project.graph.catalog), project.name)
        except StudioError:
            pass
    task = record.get("task") if isinstance(record.get("task"), dict) else {}
    return ModelSource(model, plan, f"run {info.id} ({path.name})", task, info.id)


def graph_model(source: ModelSource) -> Any:
    """The model `source.plan` builds, holding the source model's weights.

    A run's model may wrap the graph's model in preprocessing layers
    (rescaling, normalisation); the exported script builds the graph's model,
    so the weights come from that inner model.
    """
    import keras

    from studio.compiler.keras_build import build_model, keras_reason

    model = build_model(source.plan)
    candidates = [source.model] + [layer for layer in source.model.layers if isinstance(layer, keras.Model)]
    for candidate in candidates:
        try:
            model.set_weights(candidate.get_weights())
            return model
        except Exception as exc:  # shapes/counts differ: try the next candidate
            last = exc
    raise ExportError(f"the weights of {source.description} do not fit the project's graph "
                      f"({keras_reason(last)}); the graph changed since that run: train again "
                      "or export another format")


def export_project(project: Project, fmt: str, path: str | Path, run: str | None = None,
                   which: str = "final", log: Callable[[str], None] = print) -> ExportResult:
    """Export the project's model as `fmt` to `path`, verified; see `export_model`."""
    target = check_target(fmt, path)  # fail before any model is loaded
    source = model_source(project, run, which, log)
    if fmt == "python":
        stem = target.name[:-3] if target.name.endswith(".py") else target.stem
        bare = graph_model(source)
        scale, reference = script_scaling(project, source, bare)
        settings = script_settings(project, source.plan, stem, source.task, scale)
        return export_model(reference, fmt, target, plan=source.plan, script_settings=settings,
                            graph_model=bare)
    return export_model(source.model, fmt, target)


# --- the data's scaling in the exported script --------------------------------------------
def app_preprocessing(model: Any) -> Optional[tuple[dict, Any]]:
    """`(scaling, network)` when `model` is the app's raw-input wrapper, else None.

    The app trains `studio.data.pipeline.wrap_model(network, preprocessing)`:
    an Input, then Rescaling ("rescale") and/or Normalization ("normalize"),
    then the network as one nested model. The scaling is read back from the
    layers' configs, so a run's script scales exactly as its model does.
    """
    import keras
    import numpy as np

    layers = list(model.layers)
    if len(layers) < 3 or not isinstance(layers[0], keras.layers.InputLayer) \
            or not isinstance(layers[-1], keras.Model):
        return None
    scale: dict = {}
    for layer in layers[1:-1]:
        config = layer.get_config()
        if isinstance(layer, keras.layers.Rescaling) and not scale and not config.get("offset"):
            scale["rescale"] = float(config["scale"])
        elif (isinstance(layer, keras.layers.Normalization) and "normalize" not in scale
              and config.get("mean") is not None and not config.get("invert")
              and tuple(np.atleast_1d(config.get("axis"))) == (-1,)):
            scale["normalize"] = {"mean": np.asarray(config["mean"], "float64").reshape(-1).tolist(),
                                  "variance": np.asarray(config["variance"], "float64").reshape(-1).tolist()}
        else:
            return None
    return scale, layers[-1]


def dataset_scaling(project: Project) -> dict:
    """The scaling the app fits for the project's dataset before training.

    Known without the data for images and texts; otherwise fitted by
    `studio.data.prepare`, the very function training uses (same split, same
    statistics). A dataset that cannot be read is an `ExportError`.
    """
    from studio.data.codegen import fixed_preprocessing

    spec = copy.deepcopy(project.dataset)
    fixed = fixed_preprocessing(spec)
    if fixed is not None:
        return fixed
    from studio import data

    try:
        return dict(data.prepare(spec, project.folder).preprocessing)
    except StudioError as exc:
        raise ExportError(f"{project.name}: the script scales the data like the app, which needs the "
                          f"dataset, but it cannot be read: {exc}") from None


def script_scaling(project: Project, source: ModelSource, bare: Any) -> tuple[Optional[dict], Any]:
    """The scaling the script puts in front of `bare` (None without a dataset),
    and the model the script's must equal on raw inputs.

    A run's model: its own scaling layers (it is that model). Otherwise: the
    scaling the app would fit, and `bare` wrapped in it the way the app wraps it.
    """
    from studio.export.script_parts import scaling

    if not project.dataset:
        return None, bare
    if source.run_id is not None:
        found = app_preprocessing(source.model)
        return (found[0], source.model) if found else ({}, bare)
    scale = scaling(dataset_scaling(project))
    if not scale or len(bare.inputs) != 1:  # several inputs: the script refuses, naming the reason
        return scale, bare
    from studio.data.pipeline import wrap_model

    return scale, wrap_model(bare, scale)
