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
