"""From a `Project` to a training session: the glue shared by the GUI and the CLI.

Qt-free (the `studio train` / `studio evaluate` commands import it too).
It is the one place that joins `studio.data` (the datasets), `studio.compiler`
(the model) and `studio.training` (the session), which may not import each
other. TensorFlow is only imported by the functions that run on the training
thread (`setup()` inside the session, `evaluate_run`, `load_run_model`).

The graph is planned *now* (pure, milliseconds): a broken graph is refused
before any thread starts, and edits made while training do not change the
model being trained.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Optional, Union

from studio.core.errors import TrainingError
from studio.core.files import FileWriteError
from studio.project.model import Project
from studio.training import runs
from studio.training.config import TrainingConfig
from studio.training.reports import Prepared, Reporter, TaskInfo
from studio.training.session import TrainingSession


def training_config(project: Project, **overrides: Any) -> TrainingConfig:
    """The project's settings with command-line overrides (None values ignored)."""
    config = TrainingConfig.from_dict(project.training)
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
    )


def _require_dataset(project: Project) -> dict:
    if not project.dataset:
        raise TrainingError(
            f"{project.name}: the project has no dataset; choose one in the Data panel "
            '(or set "dataset" in the project file, e.g. {"kind": "sample", "path": "iris"})'
        )
    return copy.deepcopy(project.dataset)


def make_setup(project: Project, config: TrainingConfig, plan: Any = None):
    """A `setup()` for `TrainingSession.from_setup`: data, model and task, made on the training thread."""
    from studio.compiler.plan import make_plan

    if plan is None:
        plan = make_plan(project.graph, project.name)  # raises BuildError naming the node
    spec = _require_dataset(project)
    base_dir = project.folder

    def setup() -> Prepared:
        from studio import data
        from studio.compiler.keras_build import build_model, compile_model
        from studio.training.adapt import adapt_normalization

        prepared = data.prepare(spec, base_dir, batch_size=config.batch_size, seed=config.seed)
        task = task_info(prepared.info)
        network = build_model(plan)
        adapted = adapt_normalization(network, prepared.train, prepared.wrap_model)
        model = prepared.wrap_model(network)
        compile_model(
            model, config, task=task.task, label_encoding=task.label_encoding, num_classes=task.num_classes
        )
        record = {"dataset_resolved": prepared.spec, "counts": dict(prepared.counts)}
        if adapted:
            record["adapted"] = adapted
        return Prepared(
            model=model,
            train=prepared.train,
            validation=prepared.validation,
            test=prepared.test,
            task=task,
            record=record,
            messages=adapted,
            warnings=list(prepared.warnings),
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
) -> TrainingSession:
    """A ready-to-run session for `project` (runs saved beside the project file).

    Raises `BuildError`/`TrainingError` at once for a broken graph, missing
    dataset or bad settings. An unsaved project trains without a run folder
    unless `runs_root` is given.
    """
    from studio.compiler.plan import make_plan

    config = config or training_config(project)
    plan = make_plan(project.graph, project.name)  # raises BuildError naming the node
    setup = make_setup(project, config, plan)
    snapshot = {
        "project": project.name,
        "project_file": str(project.path) if project.path else None,
        "graph": project.graph.to_dict(),
        "dataset": copy.deepcopy(project.dataset),
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
    )


def load_run_model(run: Union[runs.RunInfo, Path], which: str = "best") -> Any:
    """The saved model of a run ("best" falls back to "final"), loaded with safe_mode=True."""
    import keras

    import studio.compiler.keras_build  # noqa: F401 - registers the app's own layers, if any
    from studio.compiler.archive import check_keras_archive

    info = run if isinstance(run, runs.RunInfo) else runs.read_run(Path(run))
    if info is None:
        raise TrainingError(f"{run}: not a run folder")
    names = [runs.BEST_MODEL, runs.FINAL_MODEL] if which == "best" else [runs.FINAL_MODEL]
    path = next((info.path / n for n in names if (info.path / n).is_file()), None)
    if path is None:
        raise TrainingError(f"{info.path}: the run saved no model ({' or '.join(names)}); train again")
    check_keras_archive(path, TrainingError)  # zip bombs, entries outside the archive: before Keras
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - any load failure is a one-line error
        text = str(exc).strip().splitlines()
        raise TrainingError(
            f"{path}: cannot load the model ({text[0][:200] if text else type(exc).__name__})"
        ) from None


def evaluate_run(
    project: Project, run: Union[runs.RunInfo, Path, str, None] = None, which: str = "best"
) -> dict:
    """Evaluate a run's model on the project's test split; saves `evaluation.json` in the run.

    A run folder that cannot be written (read-only, full disk) does not lose the
    metrics: they are returned with `"warnings"` saying they were not saved."""
    from studio import data
    from studio.training.evaluation import evaluate_model

    info = run if isinstance(run, runs.RunInfo) else runs.find_run(project.runs_dir, run)
    record = runs.load_config(info)
    config = TrainingConfig.from_dict(record.get("training") or project.training)
    spec = record.get("dataset") or _require_dataset(project)
    prepared = data.prepare(spec, project.folder, batch_size=config.batch_size, seed=config.seed)
    if prepared.test is None:
        raise TrainingError(
            f"{project.name}: the dataset has no test split; set a test fraction in the Data panel"
        )
    model = load_run_model(info, which)
    task = task_info(prepared.info)
    result = evaluate_model(model, prepared.test, task, config.batch_size)
    result["run"] = info.id
    result["model"] = which
    try:
        runs.write_json_atomic(info.path / runs.EVALUATION_FILE, result)
    except FileWriteError as exc:
        result["warnings"] = [
            f"the results could not be saved to {exc.path} ({exc.reason.lower()}); they are shown but not kept"
        ]
    return result
