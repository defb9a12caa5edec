"""Train a project: from a `Project` to a ready-to-run `TrainingSession`.

The one function both fronts call is `make_session`: the window's Train button
hands it to `ui.workers.TrainingRunner` (which runs the session on a QThread and
turns its reports into signals), `studio train` runs it on a plain thread and
prints the reports. Progress is the session's `Reporter`; cancelling is
`session.request_stop()` (the run stops after its current batch and is saved
as "stopped").

This is the one place that joins `studio.data` (the datasets),
`studio.compiler` (the model) and `studio.training` (the session), which do
not import each other. TensorFlow is only imported by `setup()`, on the
training thread.

The graph is planned *now* (pure, milliseconds): a broken graph is refused
before any thread starts, and edits made while training do not change the
model being trained.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Optional, Union

from studio.core.errors import TrainingError
from studio.project.model import Project
from studio.training import runs
from studio.training.config import TrainingConfig
from studio.training.reports import Prepared, Reporter, TaskInfo
from studio.training.session import TrainingSession


def training_config(project: Project, **overrides: Any) -> TrainingConfig:
    """The project's settings with command-line overrides (None values ignored).

    A setting the project file gets wrong is refused naming the file."""
    try:
        config = TrainingConfig.from_dict(project.training)
    except TrainingError as exc:
        if project.path is None:
            raise
        raise TrainingError(f"{project.path.name}: {exc}") from None
    changes = {k: v for k, v in overrides.items() if v is not None}
    return config.replace(**changes) if changes else config


def task_info(info: Any) -> TaskInfo:
    """A `TaskInfo` from a `studio.data.DatasetInfo`."""
    task = info.task if info.task in ("classification", "regression", "forecast") else "regression"
    encoding = "index"
    shape = tuple(info.target_shape or ())
    if task == "classification" and len(shape) == 1 and info.num_classes and shape[0] == info.num_classes > 2:
        encoding = "onehot"
    return TaskInfo(
        task=task,
        num_classes=info.num_classes,
        label_encoding=encoding,
        class_names=list(info.class_names) or None,
        forecast=_forecast_layout(info) if task == "forecast" else None,
    )


def _forecast_layout(info: Any) -> Optional[dict]:
    """The series' forecast layout (`DatasetInfo.forecast_layout()`), for evaluation: the row of
    the series each forecast is for, and where each target is among the inputs (naive forecast)."""
    layout = getattr(info, "forecast_layout", None)
    return layout() if callable(layout) else None


def require_dataset(project: Project) -> dict:
    """A copy of the project's dataset spec; a `TrainingError` saying how to choose one when it has none."""
    if not project.dataset:
        raise TrainingError(
            f"{project.name}: the project has no dataset; choose one in the Data panel "
            '(or set "dataset" in the project file, e.g. {"kind": "sample", "path": "iris"})'
        )
    return copy.deepcopy(project.dataset)


def bound_spec(project: Project, spec: dict, plan: Any) -> dict:
    """`spec` with data bound per node (``inputs``/``outputs``) put in the model's input and output
    order (a copy); refused naming the node when an Input has no data, an output no target or a
    column feeds two nodes. A spec without bindings is returned as it is."""
    from studio.data import binding
    from studio.data.spec import DatasetSpec, in_model_order

    checked = DatasetSpec.from_dict(spec, project.path.name if project.path else project.name)
    graph = project.graph
    many = len(graph.input_nodes()) > 1 or len(graph.output_nodes()) > 1
    if not checked.bound and not many:
        return spec
    if not checked.bound:
        raise TrainingError(
            f"{project.name}: the model has {len(graph.input_nodes())} Input node(s) and "
            f"{len(graph.output_nodes())} output(s) but the dataset gives one input and one target; bind columns "
            "to each Input and a target to each output in the Data panel (dataset.inputs / dataset.outputs)")
    problems = [d for d in binding.bound_problems(graph, checked) if d.severity == "error"]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise TrainingError(f"{project.name}: {problems[0].message}{more}")
    return in_model_order(spec, list(plan.inputs), [node for node, _ in plan.outputs])


def bound_task(prepared: Any, model: Any) -> TaskInfo:
    """The `TaskInfo` of data bound per output: the first output's task, and each output's own
    (named as Keras names the model's outputs, so its metrics are 'NAME_accuracy')."""
    nodes = prepared.output_nodes()
    names = list(getattr(model, "output_names", None) or [nd.node for nd in nodes])
    outputs = [{"name": name, "node": nd.node, "task": nd.task or "regression", "num_classes": nd.num_classes,
                "class_names": list(nd.class_names) or None, "label_encoding": "index", "loss": nd.loss,
                "weight": nd.weight} for name, nd in zip(names, nodes)]
    first = outputs[0]
    return TaskInfo(task=first["task"], num_classes=first["num_classes"], class_names=first["class_names"],
                    outputs=outputs)


def find_run(project: Project, run: Union[runs.RunInfo, Path, str, None]) -> runs.RunInfo:
    """The project's run named by `run` (id, unique part of it, folder; None: the latest);
    a `TrainingError` naming it when there is none."""
    return run if isinstance(run, runs.RunInfo) else runs.find_run(project.runs_dir, run)


def initial_weights(model: Any, plan: Any, store: Any) -> tuple[dict, list[str], list[str]]:
    """Set the built `model`'s layers from the project's weight store (`project.weights`, a
    snapshot) where the shapes fit. Returns `(record, messages, warnings)`: the run's
    `config.json` "initial_weights" record, the "initial weights: ..." line for the train
    panel, and one warning per node that starts from random weights because its stored
    weights no longer fit."""
    from studio.compiler.keras_build import apply_weights, stored_weights

    arrays, origins, warnings = stored_weights(plan, store)
    applied, misfits, total = apply_weights(model, plan, arrays)
    counts: dict[str, int] = {}
    for node_id in applied:
        counts[origins[node_id]] = counts.get(origins[node_id], 0) + 1
    labels = {call.node_id: call.label for call in plan.calls}
    line = "initial weights: " + initial_weights_text(counts, total, bool(arrays))
    record = {
        "summary": line[len("initial weights: "):],
        "layers_with_weights": total,
        "stored": len(applied),
        "origins": counts,
        "nodes": {labels.get(n, n): origins[n] for n in applied},
    }
    return record, [line], warnings + misfits


def initial_weights_text(counts: dict[str, int], total: int, stored: bool = False) -> str:
    """'imported (3 of 4 layers)', 'imported (2 of 4 layers), run X (1 of 4 layers)' or 'random'."""
    if not counts:
        return "random" + (" (the stored weights fit no layer)" if stored else " (no stored weights)")
    return ", ".join(f"{origin} ({n} of {total} layer{'s' if total != 1 else ''})" for origin, n in counts.items())


def make_setup(project: Project, config: TrainingConfig, plan: Any = None, *, use_stored: bool = True):
    """A `setup()` for `TrainingSession.from_setup`: data, model and task, made on the training thread.

    The model starts from the project's stored weights (`initial_weights`; a snapshot taken now,
    so edits made while training change nothing) unless `use_stored` is False (a continued run
    loads its own)."""
    from studio.compiler.plan import make_plan

    if plan is None:
        plan = make_plan(project.graph, project.name)  # raises BuildError naming the node
    spec = bound_spec(project, require_dataset(project), plan)  # several Inputs/outputs: data per node
    bound = "inputs" in spec or "outputs" in spec
    order = (list(plan.inputs), [node for node, _ in plan.outputs]) if bound else (None, None)
    base_dir = project.folder
    store = project.weights.copy()

    def setup() -> Prepared:
        from studio import data
        from studio.compiler.keras_build import build_model, compile_model
        from studio.training.adapt import adapt_normalization

        prepared = data.prepare(spec, base_dir, batch_size=config.batch_size, seed=config.seed,
                                input_order=order[0], output_order=order[1])
        task = task_info(prepared.info)
        task.samples = prepared.test_samples  # the evaluation at the end points at its test samples
        network = build_model(plan)
        adapted = adapt_normalization(network, prepared.train, prepared.wrap_model)
        if use_stored:  # after adapting: a Normalization with stored statistics keeps them
            weights_record, weights_lines, weights_warnings = initial_weights(network, plan, store)
        else:
            weights_record = {"summary": "continued from the run's own weights"}
            weights_lines, weights_warnings = [], []
        model = prepared.wrap_model(network)
        if bound:
            task = bound_task(prepared, model)
            task.samples = prepared.test_samples
        compile_model(
            model, config, task=task.task, label_encoding=task.label_encoding, num_classes=task.num_classes,
            outputs=task.outputs,
        )
        record = {"dataset_resolved": prepared.spec, "counts": dict(prepared.counts),
                  "initial_weights": weights_record}
        if adapted:
            record["adapted"] = adapted
        return Prepared(
            model=model,
            train=prepared.train,
            validation=prepared.validation,
            test=prepared.test,
            task=task,
            record=record,
            messages=adapted + weights_lines,  # the weights line last: the train panel shows the latest
            warnings=list(prepared.warnings) + weights_warnings,
        )

    return setup


def make_session(
    project: Project,
    reporter: Optional[Reporter] = None,
    *,
    config: Optional[TrainingConfig] = None,
    continue_from: Optional[Path] = None,
    strategy: str = "default",
    runs_root: Optional[Path] = None,
    report_interval: float = 1 / 30,
    health: bool = False,
) -> TrainingSession:
    """A ready-to-run session for `project` (runs saved beside the project file).

    Raises `BuildError`/`TrainingError` at once for a broken graph, missing
    dataset or bad settings. An unsaved project trains without a run folder
    unless `runs_root` is given. `continue_from` is a run folder whose model
    the session continues (see `find_run`). `health`: measure each layer's
    training health (studio/training/health.py; the run keeps health.csv/json).
    """
    from studio.compiler.plan import make_plan

    config = config or training_config(project)
    plan = make_plan(project.graph, project.name)  # raises BuildError naming the node
    setup = make_setup(project, config, plan, use_stored=continue_from is None)
    snapshot = {
        "project": project.name,
        "project_file": str(project.path) if project.path else None,
        "graph": project.graph.to_dict(),
        "dataset": bound_spec(project, copy.deepcopy(project.dataset), plan) if project.dataset else None,
    }
    return TrainingSession.from_setup(
        setup,
        config,
        reporter,
        runs_root=runs_root if runs_root is not None else project.runs_dir,
        snapshot=snapshot,
        continue_from=continue_from,
        strategy=strategy,
        report_interval=report_interval,
        layers=[(c.name, c.class_name, c.node_id, c.label) for c in plan.calls],
        health=health,
    )
