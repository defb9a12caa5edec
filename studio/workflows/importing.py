"""Import a Keras model file (.keras, .h5, Keras 2 SavedModel) as an editable project.

`import_model` is what `studio import` calls (and what a window's Import action
is to call). The compiler does the work (`studio.compiler.keras_import`: the
safety scan, config -> graph, the rebuilt model checked against the original,
project and weights written together); the graph is laid out by
`studio.graph.layout`, the same algorithm as the canvas' Auto layout. This
module adds the fronts' part: progress, the cancel check and the lines that
say what was imported (`result_lines`). The module is named `importing`
because `import` is a keyword.
"""

from __future__ import annotations

import os
from typing import Optional

from studio.workflows.hooks import CancelFlag, Progress, steps


def import_model(model_path: str | os.PathLike, project_path: str | os.PathLike, *, overwrite: bool = False,
                 progress: Optional[Progress] = None, cancel: Optional[CancelFlag] = None,
                 step: Optional[Progress] = None):
    """Import `model_path` as the project `project_path` (.studio.json added when missing) with its
    weights beside it; returns an `ImportResult`. Warnings about the model go to `progress`.

    `step(text)` hears each step as it starts (reading the file, converting, checking the
    rebuilt model, writing); `cancel` is checked before each one: a set flag raises
    `Cancelled` there, before anything is written."""
    from studio.compiler.keras_import import import_model as run_import

    return run_import(model_path, project_path, overwrite=overwrite, log=progress,
                      step=steps(cancel, step, f"importing {model_path}"))


def result_lines(result) -> list[str]:
    """What was imported and written, for people."""
    opaque = f", {result.opaque} kept as-is (not in the catalog)" if result.opaque else ""
    placeholders = list(getattr(result, "placeholders", None) or [])
    if placeholders:
        shown = ", ".join(placeholders[:5]) + (f" and {len(placeholders) - 5} more" if len(placeholders) > 5 else "")
        return [
            f"Imported {result.layers} layers{opaque}; {len(placeholders)} kept as placeholders ({shown}): "
            "replace them with built-in layers before training or exporting; no weights were imported",
            f"Wrote {result.project_path}",
        ]
    return [
        f"Imported {result.layers} layers{opaque}, {result.params:,} parameters "
        f"(rebuilt model matches, max abs difference {result.max_abs_diff:.3g})",
        f"Wrote {result.project_path} and {result.weights_path}",
    ]
