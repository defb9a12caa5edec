"""Export a project's model: a run's, the imported weights, or fresh ones; written and verified.

`export_project` is what `studio export` calls (and what a window's Export
action is to call); the export package does the work (`studio.export.
project_export`: which model, the writers, the verification) and this module
adds the fronts' part: the progress hook, the cancel check, and the lines that
tell the user what was written (`result_lines`), printed by the command and
shown by the window alike. TensorFlow is imported by the export package,
inside its functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from studio.project.model import Project
from studio.workflows.hooks import CancelFlag, Progress, steps

FORMATS = ("keras", "savedmodel", "tflite", "onnx", "python")
# What `studio export --format` takes: the model formats and "bundle", a run's reproducible
# bundle, written by `studio.workflows.bundle.export_bundle`.
COMMAND_FORMATS = (*FORMATS, "bundle")


def export_project(project: Project, fmt: str, path: str | Path, *, run: Optional[str] = None,
                   which: str = "final", progress: Optional[Progress] = None,
                   cancel: Optional[CancelFlag] = None, step: Optional[Progress] = None):
    """Write the project's model as `fmt` to `path` and verify it; returns an `ExportResult`.

    The model is `run`'s (default: the latest finished run; `which` picks its
    final or best model), else the project's imported weights, else freshly
    initialised weights (announced through `progress`); `which="current"`
    skips the runs: the project's own weights (stored, or fresh). Nothing is written
    when the verification fails; a graph with errors is refused naming them.

    `step(text)` hears each step as it starts (loading the model, converting,
    verifying, writing); `cancel` is checked before each one: a set flag
    raises `Cancelled` there and the staged files are removed, so a cancelled
    export leaves nothing behind (an existing file at `path` stays as it was)."""
    from studio.export.project_export import export_project as export

    if fmt == "bundle":
        raise ValueError("a bundle is written by studio.workflows.bundle.export_bundle")
    if fmt == "python":
        complete_module_facts(project)
    return export(project, fmt, Path(path), run=run, which=which, log=progress or _quiet,
                  step=steps(cancel, step, f"exporting {project.name}"))


def complete_module_facts(project: Project) -> None:
    """Fill in how each Hub module node calls its module (endpoint, input keyword, training
    argument) where the project file does not say (written by hand, a template, an older
    version): the script calls the module the same way the layer does. The window's module
    job fills them as a project opens; here, for the command line. Raises `HubError` with one
    line naming the module when it cannot be resolved."""
    from studio.graph.layers.transfer import HUB_MODULE

    missing = [n for n in project.graph.nodes if n.type == HUB_MODULE and not n.params.get("endpoint")]
    if not missing:
        return
    from studio.hub.module_layer import discover, node_params
    from studio.hub.resolve import resolve_handle

    for node in missing:
        handle = node.params.get("handle") or ""
        found = node_params(discover(resolve_handle(handle), handle), node.params.get("signature") or "",
                            node.params.get("output_key") or "")
        node.params.update({k: v for k, v in found.items() if k in ("endpoint", "input_keyword", "takes_training")})


def result_lines(result) -> list[str]:
    """What the export wrote, for people: notes, the files, the verification."""
    lines = [f"note: {note}" for note in result.notes]
    extra = [str(p) for p in result.files if p != result.path and p != result.report_path]
    also = f" (with {', '.join(extra)})" if extra else ""
    lines.append(f"Exported {result.path}{also}")
    lines.append(f"Verified: max abs difference {result.max_abs_diff:.3g} (tolerance {result.tolerance:.3g}); "
                 f"report in {result.report_path}")
    return lines


def _quiet(_line: str) -> None:
    pass
