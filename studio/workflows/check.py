"""Check a project without training it: shapes and parameters per layer, totals, problems.

`check_project` is what `studio check` calls; it runs the same pure analysis
as the window's diagnostics (`studio.graph.inference.analyse`) and adds what
only a whole project knows: its training settings (`training.epochs: ...`,
problems `studio train` would refuse) and whether its dataset fits the model.
No TensorFlow, except for the shapes of layers outside the catalog when a
project has such layers (`opaque_external`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from studio.core.errors import StudioError
from studio.graph.inference import ERROR, WARNING, Diagnostic, ShapeReport, analyse
from studio.graph.model import Graph
from studio.project.model import Project


@dataclass
class CheckOutcome:
    """A checked project: the shape report (diagnostics included) and the nodes it could not check."""

    project: Project
    report: ShapeReport
    unchecked: list[str] = field(default_factory=list)  # ids of layers unknown to this version and to Keras

    @property
    def ok(self) -> bool:
        """No error and every layer checked: the project can be trained."""
        return self.report.ok and not self.unchecked


def check_project(project: Project, *, data: bool = True) -> CheckOutcome:
    """Analyse the project's graph, its training settings and (with `data`) whether its dataset fits."""
    report = analyse(project.graph, opaque_external(project.graph))
    report.diagnostics.extend(training_diagnostics(project))
    if project.dataset and data:
        report.diagnostics.extend(data_diagnostics(project, report))
    return CheckOutcome(project, report, unchecked_nodes(project.graph, report))


def check_file(path: str | Path, *, data: bool = True) -> CheckOutcome:
    """Load the project file (a `ProjectError` listing every problem) and check it."""
    from studio.project.io import load_project

    return check_project(load_project(Path(path)), data=data)


def data_diagnostics(project: Project, report: ShapeReport) -> list[Diagnostic]:
    """Does the project's dataset fit its model? Reads only the data's
    description (no TensorFlow). Data that cannot be read is a warning: the
    graph itself may be fine, and training names the problem again."""
    from studio.data import binding
    from studio.workflows.data import describe_project_data

    try:
        info = describe_project_data(project)
    except StudioError as exc:
        return [Diagnostic(None, WARNING, f"dataset: {exc}; training needs it")]
    found = [Diagnostic(None, WARNING, f"dataset: {problem.message}") for problem in info.errors]
    return found + binding.check(project.graph, info, report)


def training_diagnostics(project: Project) -> list[Diagnostic]:
    """Errors of the training section (`training.epochs: ...`): `studio train`
    would refuse them, so the check fails on them too."""
    from studio.training.config import training_problems

    return [Diagnostic(None, ERROR, f"{path}: {message}") for path, message in training_problems(project.training)]


def opaque_external(graph: Graph) -> dict:
    """Shapes of layers outside the catalog, from Keras (imports TensorFlow only
    when the project has such layers). Those Keras cannot build stay unknown."""
    if not any(graph.catalog.find(n.type) is None for n in graph.nodes):
        return {}
    from studio.compiler.keras_shapes import opaque_shapes

    return opaque_shapes(graph).shapes


def unchecked_nodes(graph: Graph, report: Optional[ShapeReport] = None) -> list[str]:
    """Ids of nodes whose layer type this version does not know and whose
    shape Keras could not give either."""
    return [
        n.id
        for n in graph.nodes
        if graph.catalog.find(n.type) is None and (report is None or report.outputs.get(n.id) is None)
    ]


def estimate_result(project: Project, report: ShapeReport, *, calibrate: bool = True) -> dict:
    """`studio check --estimate`: the pre-flight estimate (studio/workflows/estimate.py) as JSON,
    with `latest_run`: the latest run's measurement beside the estimate, when there is one.
    `calibrate` measures this device once when no calibration is cached (imports TensorFlow)."""
    from studio.training import runs
    from studio.workflows import estimate as est

    calibration = est.cached_calibration()
    if calibration is None and calibrate:
        calibration = est.calibrate()
    found = est.estimate(project, report, samples=est.project_samples(project), calibration=calibration)
    result = found.to_dict()
    result["latest_run"] = None
    run = runs.latest_run(project.runs_dir, with_model=False) if project.runs_dir else None
    measured = est.measured_of_run(run.path) if run is not None else None
    if measured is not None:
        result["latest_run"] = {"run": run.path.name, **est.comparison(found, measured)}
    return result


def format_estimate(data: dict) -> str:
    """The text `studio check --estimate` prints under the check's table."""
    mb = 1024 * 1024

    def size(n) -> str:
        return "?" if n is None else f"{n / mb:,.1f} MB"

    def secs(s) -> str:
        from studio.workflows.estimate import format_seconds

        return "?" if s is None else format_seconds(s)

    lines = ["", f"Estimate (batch {data['batch_size']}, {data['optimizer']}: "
                 f"{data['optimizer_slots']} state slot{'s' if data['optimizer_slots'] != 1 else ''} per weight)"]
    for label, key in (("weights", "weights_bytes"), ("gradients", "gradient_bytes"),
                       ("optimizer state", "optimizer_bytes"), ("activations (fwd+bwd)", "activation_bytes"),
                       ("data pipeline", "data_bytes"), ("TensorFlow runtime", "runtime_bytes"),
                       ("total", "total_bytes")):
        lines.append(f"  {label:<22} {size(data[key])}")
    lines.append(f"  {'forward FLOPs/sample':<22} {data['forward_flops']:,.0f}")
    lines.append(f"  {'time per epoch':<22} {secs(data['epoch_seconds'])}"
                 f" (first epoch {secs(data['first_epoch_seconds'])}, {data['steps_per_epoch'] or '?'} steps"
                 f"{', on ' + data['device'] if data['device'] else ''})")
    for note in data.get("notes", []):
        lines.append(f"  note: {note}")
    run = data.get("latest_run")
    if run:
        lines.append(f"Latest run {run['run']}: estimated vs measured")
        lines.append(f"  time per epoch  {secs(run.get('estimated_epoch_seconds'))} vs "
                     f"{secs(run.get('measured_epoch_seconds'))} (first epoch "
                     f"{secs(run.get('estimated_first_epoch_seconds'))} vs {secs(run.get('measured_first_epoch_seconds'))})")
        lines.append(f"  peak memory     {size(run.get('estimated_peak_bytes'))} vs {size(run.get('measured_peak_bytes'))}"
                     f" ({run.get('memory_method') or 'not measured'})")
    return "\n".join(lines) + "\n"
