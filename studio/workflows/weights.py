"""A run's trained weights as the project's stored weights ("Use these weights").

`run_weights(project, run)` loads the run's best (else final) `.keras` safely and
reads each layer's weights by the name the compiler gave its node in the graph the
run trained (its `config.json` snapshot; a restored network has the same node ids),
for the nodes of the project's graph whose stored weights would fit (the same
parameter count). The caller makes them one undoable `SetWeights` edit. TensorFlow
is imported inside the function, on the caller's thread (the window runs it on a
worker thread).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from studio.core.errors import StudioError, TrainingError
from studio.graph.inference import analyse
from studio.graph.model import Graph
from studio.project.model import Project
from studio.project.weights import WeightEntry, run_origin
from studio.training import runs


def run_model_path(info: runs.RunInfo, which: str = "best") -> Path:
    """The run's best.keras (or final.keras with `which="final"`), each falling back to the other."""
    names = [runs.BEST_MODEL, runs.FINAL_MODEL] if which == "best" else [runs.FINAL_MODEL, runs.BEST_MODEL]
    path = next((info.path / n for n in names if (info.path / n).is_file()), None)
    if path is None:
        raise TrainingError(f"{info.path}: the run saved no model ({' or '.join(names)}); train again")
    return path


def run_weights(project: Project, run: Union[runs.RunInfo, Path, str, None], which: str = "best",
                ) -> tuple[dict[str, WeightEntry], list[str]]:
    """`({node id: WeightEntry(origin "run <id>")}, notes)` for the project's nodes that the run's
    model has a fitting layer for; notes name the nodes left out. A run that cannot be read
    raises `TrainingError` naming its file."""
    import keras

    from studio.compiler.archive import check_keras_archive
    from studio.compiler.keras_build import keras_reason, layer_weights
    from studio.compiler.plan import make_plan

    info = run if isinstance(run, runs.RunInfo) else runs.find_run(project.runs_dir, run)
    path = run_model_path(info, which)
    graph = _trained_graph(project, info)
    plan = make_plan(graph, project.name)
    check_keras_archive(path, TrainingError)  # zip bombs, entries outside the archive: before Keras
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:
        raise TrainingError(f"{path}: cannot load the run's model ({keras_reason(exc)})") from exc
    found = layer_weights(model, plan)
    report = analyse(project.graph)
    origin = run_origin(info.id)
    entries: dict[str, WeightEntry] = {}
    notes: list[str] = []
    for node_id, arrays in found.items():
        if not project.graph.has_node(node_id):
            continue
        entry = WeightEntry.of(arrays, origin)
        params = report.params.get(node_id)
        if params is not None and sum(params) != entry.size:
            notes.append(f"'{project.graph.label(node_id)}' changed since run {info.id} (its weights do not fit)")
            continue
        entries[node_id] = entry
    return entries, notes


def _trained_graph(project: Project, info: runs.RunInfo) -> Graph:
    """The graph the run trained (its snapshot), whose layer names its model uses; the project's
    own graph when the snapshot cannot be read."""
    snapshot: Optional[Any] = (runs.load_config(info) or {}).get("graph")
    if isinstance(snapshot, dict):
        try:
            return Graph.from_dict(snapshot, project.graph.catalog)
        except (StudioError, KeyError, TypeError, ValueError):
            pass
    return project.graph
