"""Evaluate a trained run on the project's test split, and load a run's model.

`evaluate_run` is what `studio evaluate` and the training panel's Evaluate
button call (the panel on a worker thread); `load_run_model` is what the
panel's Predict tab uses; `read_samples` reads the test samples behind a
number (a confusion cell, the worst errors) from their files for the
Evaluation tab. TensorFlow is imported inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from studio.core.errors import TrainingError
from studio.core.files import FileWriteError
from studio.project.model import Project
from studio.training import runs
from studio.training.config import TrainingConfig
from studio.workflows.hooks import CancelFlag, Progress, check_cancel, report
from studio.workflows.train import bound_task, find_run, require_dataset, task_info

# What a run's evaluation holds besides its metrics: the per-sample values (a forecast's naive
# values are one per test window), kept in evaluation.json.
PER_SAMPLE_KEYS = ("y_true", "y_pred", "y_naive", "top_classes", "top_probs", "sample_refs")
SNIPPET_CHARS = 400  # of a text sample, shown in the Evaluation tab


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
    project: Project,
    run: Union[runs.RunInfo, Path, str, None] = None,
    which: str = "best",
    *,
    progress: Optional[Progress] = None,
    cancel: Optional[CancelFlag] = None,
) -> dict:
    """Evaluate a run's model (default: the latest run) on the project's test split;
    saves `evaluation.json` in the run and returns the same record.

    A run folder that cannot be written (read-only, full disk) does not lose the
    metrics: they are returned with `"warnings"` saying they were not saved.
    `progress` hears each step; `cancel` is checked between them."""
    from studio import data
    from studio.training.evaluation import evaluate_model

    info = find_run(project, run)
    record = runs.load_config(info)
    config = TrainingConfig.from_dict(record.get("training") or project.training)
    spec = record.get("dataset") or require_dataset(project)
    report(progress, f"Reading the test split of {project.name}…")
    prepared = data.prepare(spec, project.folder, batch_size=config.batch_size, seed=config.seed)
    if prepared.test is None:
        raise TrainingError(
            f"{project.name}: the dataset has no test split; set a test fraction in the Data panel"
        )
    check_cancel(cancel, f"evaluating run {info.id}")
    report(progress, f"Loading the {which} model of run {info.id}…")
    model = load_run_model(info, which)
    check_cancel(cancel, f"evaluating run {info.id}")
    report(progress, f"Evaluating run {info.id} on {project.name}'s test split…")
    task = task_info(prepared.info)
    if getattr(prepared, "output_order", None):  # data bound per output: each output on its own target
        task = bound_task(prepared, model)
    result = evaluate_model(model, prepared.test, task, config.batch_size, samples=prepared.test_samples)
    result["run"] = info.id
    result["model"] = which
    try:
        runs.write_json_atomic(info.path / runs.EVALUATION_FILE, result)
    except FileWriteError as exc:
        result["warnings"] = [
            f"the results could not be saved to {exc.path} ({exc.reason.lower()}); they are shown but not kept"
        ]
    return result


def summary(result: dict) -> dict:
    """The evaluation without its per-sample values (what `--json` prints; they stay in the file)."""
    out = {k: v for k, v in result.items() if k not in PER_SAMPLE_KEYS}
    if isinstance(out.get("outputs"), dict):  # several outputs: each one's metrics, without its samples
        out["outputs"] = {name: summary(each) for name, each in out["outputs"].items()}
    return out


def naive_verdict(mae: float, naive_mae: float) -> str:
    """"the model's MAE is 41 % below the naive forecast's: it beats the obvious baseline"
    (or above: it does not beat repeating the last value); "" when the two cannot be compared.
    The Evaluation tab and `studio evaluate` both say it this way."""
    if not (naive_mae > 0 and mae == mae):
        return ""
    change = (mae - naive_mae) / naive_mae * 100
    if change < 0:
        return f"the model's MAE is {-change:.0f} % below the naive forecast's: it beats the obvious baseline"
    return f"the model's MAE is {change:.0f} % above the naive forecast's: it does not beat repeating the last value"


def sample_label(source: dict, ref: Any) -> str:
    """How a test sample is named: its file in the folder ('cats/003.png') or its data row ('row 12')."""
    return f"row {int(ref) + 1}" if isinstance(ref, int) else str(ref)


def read_samples(evaluation: dict, indices: list[int]) -> list[dict[str, Any]]:
    """The test samples `indices` (positions in the test split) as the Evaluation tab shows them.

    Each is {"index", "label" ('cats/003.png', 'row 12'), "path" (an image or text file, or None),
    "columns" ([[name, value], ...] of a CSV row, or None), "text" (the start of a text, or None),
    "problem" ('' or why the sample cannot be shown: the file is gone, the file changed)}.
    Only these samples are read: an image is named by its path (the tab loads a thumbnail), a CSV
    is read until the last row wanted. Raises nothing for missing files: each says its problem."""
    source = evaluation.get("sample_source") or {}
    refs = evaluation.get("sample_refs") or []
    out: list[dict[str, Any]] = []
    root = Path(str(source.get("path", "")))
    rows_wanted: dict[int, list[dict[str, Any]]] = {}
    for index in indices:
        item: dict[str, Any] = {"index": int(index), "label": f"test sample #{index}", "path": None,
                                "columns": None, "text": None, "problem": ""}
        out.append(item)
        if not source or not 0 <= index < len(refs):
            item["problem"] = "where this sample comes from is not known (evaluate the run again)"
            continue
        ref = refs[index]
        item["label"] = sample_label(source, ref)
        if isinstance(ref, str):
            path = root / ref
            item["path"] = str(path)
            if not path.is_file():
                item["problem"] = f"{path}: the file is no longer there"
            elif source.get("kind") == "text":
                item["text"] = _snippet(path)
        else:
            rows_wanted.setdefault(int(ref), []).append(item)
    if rows_wanted:
        _fill_rows(root, source, rows_wanted)
    return out


def _snippet(path: Path) -> str:
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            return _shorten(fh.read(SNIPPET_CHARS + 1))
    except OSError as exc:
        return f"(cannot read {path.name}: {exc.strerror})"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS - 1] + "…"


def _fill_rows(path: Path, source: dict, wanted: dict[int, list[dict[str, Any]]]) -> None:
    """Read the CSV rows `wanted` (data rows from 0) into their items: the columns, or the text
    column's start; the file is read only up to the last row wanted."""
    import bisect

    from studio.core.errors import DataError
    from studio.data import csvreader

    settings = dict(source.get("format") or {})
    column = source.get("column")
    images = source.get("image_column")
    last, found = max(wanted), set()
    try:
        fmt = csvreader.sniff(path, **settings)
        names = fmt.names
        numbers = sorted(wanted)
        start = 0  # the data row number of the chunk's first row
        for rows, lines in csvreader.read_chunks(fmt):
            end = start + len(rows)
            for number in numbers[bisect.bisect_left(numbers, start):bisect.bisect_left(numbers, end)]:
                row, line = rows[number - start], lines[number - start]
                found.add(number)
                for item in wanted[number]:
                    item["label"] += f" (line {line})"
                    if source.get("kind") == "text" and column in names:
                        item["text"] = _shorten(row[names.index(column)])
                    else:
                        item["columns"] = [[n, v] for n, v in zip(names, row)]
                    if images in names:  # a table naming an image per row: its file, for a thumbnail
                        item["path"] = str(Path(str(source.get("image_folder", ""))) / row[names.index(images)])
            start = end
            if start > last:
                break
    except (DataError, OSError, ValueError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    else:
        problem = f"{path}: the file has fewer rows than when it was evaluated (it changed since)"
    for number, items in wanted.items():
        if number not in found:
            for item in items:
                item["problem"] = problem
