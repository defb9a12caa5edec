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
from studio.export.codegen import ScriptSettings, check_plan
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
    dataset: Optional[dict] = None  # the dataset spec the run resolved (columns, classes, vocabulary)
    training: Optional[dict] = None  # the run's training settings (its config.json), not the project's now


def script_settings(project: Project, plan: BuildPlan, stem: str, task: dict | None = None,
                    preprocessing: dict | None = None, dataset: dict | None = None,
                    training: dict | None = None) -> ScriptSettings:
    """What the exported script needs from the project besides the network.

    `preprocessing` is the dataset's fitted scaling and `dataset` the spec as
    the data module resolved it (see `script_data`); default: the project's.
    `training`: a run's settings (seed, epochs, batch size, optimizer...), so the
    script of a run trains as that run did; default: the project's current ones.
    """
    dataset = copy.deepcopy(dataset or project.dataset) if project.dataset else None
    task = dict(task or {})
    kind = task.get("task") or (dataset or {}).get("task") or "classification"
    if kind not in ("classification", "regression"):
        kind = "regression"  # forecasts train like regressions
    return ScriptSettings(
        name=stem,
        training=copy.deepcopy(training if training is not None else project.training),
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
    * `which="current"`: never a run; the project's stored weights or fresh ones.
    * no `run`: the latest finished run with a saved model; else the
      project's stored per-node weights (`project.weights`: imported, from a
      run, pasted; the rest freshly initialised); else freshly initialised
      weights (announced through `log`).
    """
    plan = _plan_of(project.graph, project.name)  # refuses a graph with errors, listing them
    info = _run_info(project, run, which)
    if info is not None:
        return _from_run(project, info, which, plan)
    return _local_source(project, plan, log)


def _run_info(project: Project, run: str | None, which: str) -> Any:
    """The run whose model `model_source` exports (None: the project's own weights)."""
    from studio.training import runs

    if which == "current":  # the project's own weights, even when it has runs
        return None
    return runs.find_run(project.runs_dir, run) if run else runs.latest_run(project.runs_dir)


def _local_source(project: Project, plan: BuildPlan, log: Callable[[str], None]) -> ModelSource:
    """The project's own model: its stored weights, else fresh ones (announced through `log`)."""
    store = project.weights
    if store.entries or store.legacy is not None:
        return _from_store(project, plan, log)
    log("note: the project has no trained run; exporting freshly initialised weights "
        "(train first with: studio train PROJECT)")
    return ModelSource(_build(plan, project), plan, "freshly initialised weights")


def _from_store(project: Project, plan: BuildPlan, log: Callable[[str], None]) -> ModelSource:
    """The graph's model holding the project's stored weights, as training starts from them."""
    from studio.compiler.keras_build import apply_weights, stored_weights

    model = _build(plan, project)
    arrays, origins, warnings = stored_weights(plan, project.weights)
    applied, misfits, total = apply_weights(model, plan, arrays)
    for line in warnings + misfits:
        log(f"warning: {line}")
    counts: dict[str, int] = {}
    for node_id in applied:
        counts[origins[node_id]] = counts.get(origins[node_id], 0) + 1
    if not applied:
        log("note: the project's stored weights fit no layer; exporting freshly initialised weights")
        return ModelSource(model, plan, "freshly initialised weights")
    parts = ", ".join(f"{origin} {n}" for origin, n in counts.items())
    return ModelSource(model, plan, f"stored weights ({parts} of {total} layers)")


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

    from studio.compiler.archive import check_keras_archive
    from studio.training import runs

    names = [runs.FINAL_MODEL, runs.BEST_MODEL] if which == "final" else [runs.BEST_MODEL, runs.FINAL_MODEL]
    path = next((info.path / n for n in names if (info.path / n).is_file()), None)
    if path is None:
        raise ExportError(f"{info.path}: the run saved no model ({' or '.join(names)}); train again")
    check_keras_archive(path, ExportError)  # zip bombs, entries outside the archive: before Keras
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
    resolved = record.get("dataset_resolved") if isinstance(record.get("dataset_resolved"), dict) else None
    training = record.get("training") if isinstance(record.get("training"), dict) else None
    return ModelSource(model, plan, f"run {info.id} ({path.name})", task, info.id, resolved, training)


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
                   which: str = "final", log: Callable[[str], None] = print,
                   step: Callable[[str], None] | None = None) -> ExportResult:
    """Export the project's model as `fmt` to `path`, verified; see `export_model`.

    `step(text)` is called as each step starts; raising from it stops the
    export at that step, with nothing written."""
    step = step or (lambda _text: None)
    target = check_target(fmt, path)  # fail before any model is loaded
    if fmt != "python":
        step("loading the model" + (f" of run {run}" if run else ""))
        return export_model(model_source(project, run, which, log).model, fmt, target, step=step)
    # A class name, module or key the script cannot write: refused before anything is built or run.
    plan = _plan_of(project.graph, project.name)
    check_plan(plan, project.graph.catalog)
    from studio.export.exporters import ScriptRunner, stage_script

    stem = target.name[:-3] if target.name.endswith(".py") else target.stem
    with ScriptRunner() as runner:  # the script's check process loads TensorFlow meanwhile
        info = _run_info(project, run, which)
        run_source = None
        if info is not None:
            step("loading the model" + (f" of run {run}" if run else ""))
            run_source = _from_run(project, info, which, plan)
            plan = run_source.plan  # the graph the run trained
        # The script needs the graph and the data (a run's: its scaling layers), not the model's
        # weights: written first, so the check process builds the script's model while this one
        # builds its own.
        step("preparing the data's scaling for the script")
        dataset, scale = script_scaling(project, run_source)
        task, training = (run_source.task, run_source.training) if run_source else (None, None)
        settings = script_settings(project, plan, stem, task, scale, dataset, training)
        step("writing the Python script")
        with stage_script(target, plan, settings, runner) as script:
            if run_source is None:
                step("loading the model")
                source = _local_source(project, plan, log)
                bare = source.model
            else:  # a run's model may wrap the graph's in its scaling: the graph's model gets its weights
                source, bare = run_source, graph_model(run_source)
            return export_model(reference_model(source, bare, dataset, scale), fmt, target, plan=plan,
                                script_settings=settings, graph_model=bare, step=step, runner=runner,
                                script=script)


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


def script_data(project: Project, source: ModelSource, bare: Any) -> tuple[Optional[dict], Optional[dict], Any]:
    """What the script's data part needs: `(dataset spec, scaling, reference model)`.

    * the dataset spec as the data module resolves it (features, targets,
      columns, classes, a text vocabulary), so the script's `load_data()`
      reads what the app reads: a run's own resolved spec, else the one
      `studio.data` resolves now;
    * the scaling the script puts in front of `bare`: a run's own scaling
      layers, else (None without a dataset) what the app fits before training
      (`studio.data.prepare`, the same split and statistics);
    * the model the script's must equal on raw inputs: the run's model, or
      `bare` wrapped in the scaling the way the app wraps it.
    """
    dataset, scale = script_scaling(project, source if source.run_id is not None else None)
    return dataset, scale, reference_model(source, bare, dataset, scale)


def script_scaling(project: Project, run: Optional[ModelSource] = None) -> tuple[Optional[dict], Optional[dict]]:
    """`(dataset spec, scaling)` of `script_data`, known before the graph's model is built:
    a `run`'s own scaling layers and resolved spec, else the project's data."""
    from studio.export.script_parts import scaling

    if run is not None:
        found = app_preprocessing(run.model)
        dataset = (run.dataset or _resolved(project)) if project.dataset else None
        return dataset, (found[0] if found else {})
    if not project.dataset:
        return None, None
    from studio.data.codegen import fixed_preprocessing

    fixed = fixed_preprocessing(copy.deepcopy(project.dataset))
    if fixed is not None:
        from studio.data.registry import concrete_spec

        # Keras' own sets need no resolving (and describing one would download it).
        keras_set = concrete_spec(project.dataset).get("kind") == "keras"
        dataset = copy.deepcopy(project.dataset) if keras_set else _resolved(project)
        return dataset, scaling(fixed)
    dataset, fitted = _fitted(project)
    return dataset, scaling(fitted)


def reference_model(source: ModelSource, bare: Any, dataset: Optional[dict], scale: Optional[dict]) -> Any:
    """The model the script's must equal on raw inputs: a run's own model when it takes
    them (its scaling layers, or data bound per Input), else `bare` wrapped in the data's
    scaling the way the app wraps it."""
    if source.run_id is not None:
        if app_preprocessing(source.model) is not None:
            return source.model
        if source.model is not bare and _bound_wrapper(dataset, source, bare) is not None:
            return source.model  # data bound per Input: the app's model takes each raw, as the script's
        return bare
    if not dataset:
        return bare
    if not scale and len(bare.inputs) > 1:  # data bound per Input: each its own Normalization, as the app's
        wrapped = _bound_wrapper(dataset, source, bare)
        return wrapped if wrapped is not None else bare
    if not scale or len(bare.inputs) != 1:  # several inputs: the script refuses, naming the reason
        return bare
    from studio.data.pipeline import wrap_model

    return wrap_model(bare, scale)


def _bound_wrapper(dataset: Optional[dict], source: ModelSource, bare: Any) -> Any:
    """`bare` taking each Input raw, as the app trains it on data bound per node (None when the
    data is not bound per node or holds no statistics)."""
    from studio.data import wrap_bound

    if not dataset or not dataset.get("inputs"):
        return None
    return wrap_bound(bare, dataset, list(source.plan.inputs))


def _resolved(project: Project) -> dict:
    """The project's dataset spec as `studio.data.describe` resolves it (the spec as is
    when the data cannot be read now: the script then reports it when run)."""
    from studio import data

    try:
        return dict(data.describe(copy.deepcopy(project.dataset), project.folder).spec)
    except StudioError:
        return copy.deepcopy(project.dataset)


def _fitted(project: Project) -> tuple[dict, dict]:
    """(resolved spec, fitted preprocessing) from `studio.data.prepare`, as training does;
    a dataset that cannot be read is an `ExportError`."""
    from studio import data

    try:
        prepared = data.prepare(copy.deepcopy(project.dataset), project.folder)
    except StudioError as exc:
        raise ExportError(f"{project.name}: the script scales the data like the app, which needs the "
                          f"dataset, but it cannot be read: {exc}") from None
    return dict(prepared.spec), dict(prepared.preprocessing)
