"""`studio evaluate PROJECT [--run RUN] [--json]`: metrics of a run on the test split.

Classification: accuracy, per-class precision/recall/F1 and the confusion
matrix. Regression: MSE, RMSE, MAE, R² and the largest error. Forecast: MAE,
RMSE and MAPE on the test windows beside the naive "last value" forecast's,
overall and per step ahead. Classification and regression also list the worst
test samples (most confident mistakes, largest errors) with the file or CSV
row each comes from. The result is
also saved as the run's `evaluation.json`. `--json` prints it as one object
(without the per-sample predictions, which stay in the file). A run folder
that cannot be written still gets its metrics printed, with one warning line
on stderr (and `"warnings"` in the JSON object); the exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studio.commands.train_cmd import clean


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "evaluate",
        help="evaluate a trained run on the project's test split",
        description="Load a run's best (or final) model and report metrics on the test split: "
        "per-class precision/recall/F1 and the confusion matrix for classification, "
        "error metrics for regression.",
    )
    parser.add_argument("project", metavar="PROJECT", help="the .studio.json file")
    from studio.hub.trust import add_trust_flag

    add_trust_flag(parser)
    parser.add_argument("--run", help="run id, unique part of it, or run folder (default: the latest run)")
    parser.add_argument("--final", action="store_true", help="use final.keras instead of best.keras")
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")


def format_evaluation(result: dict[str, Any]) -> str:
    lines = [f"Run {result.get('run')} ({result.get('model')} model), {result.get('samples')} test samples"]
    keras_logs = result.get("keras") or {}
    if keras_logs:
        lines.append("Keras: " + "  ".join(f"{k} {v:.4g}" for k, v in keras_logs.items()))
    outputs = result.get("outputs")
    if isinstance(outputs, dict) and outputs:  # several outputs: each on its own target
        for name, each in outputs.items():
            lines += ["", f"Output {name} ({each.get('task')}):"]
            lines += format_evaluation({k: v for k, v in each.items() if k != "keras"}).splitlines()[1:]
        return "\n".join(lines) + "\n"
    if "confusion" in result:
        names = result["class_names"]
        lines.append(f"Accuracy {result['accuracy']:.4f}   macro F1 {result['macro']['f1']:.4f}")
        width = max(8, *(len(n) for n in names)) + 1
        lines.append("")
        lines.append(f"{'class':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
        for row in result["per_class"]:
            lines.append(
                f"{row['class']:<{width}}{row['precision']:>10.4f}{row['recall']:>10.4f}"
                f"{row['f1']:>10.4f}{row['support']:>10d}"
            )
        lines.append("")
        lines.append("Confusion matrix (rows: true class, columns: predicted)")
        counts = (len(str(v)) + 1 for r in result["confusion"] for v in r)
        cell = max(6, *counts, *(min(12, len(n)) + 1 for n in names))
        lines.append(" " * width + "".join(f"{n[: cell - 1]:>{cell}}" for n in names))
        for name, row in zip(names, result["confusion"]):
            lines.append(f"{name:<{width}}" + "".join(f"{v:>{cell}d}" for v in row))
        lines.extend(format_worst(result))
    elif "forecast" in result:
        lines.extend(format_forecast(result))
    elif "mse" in result:
        lines.append("  ".join(f"{k} {result[k]:.4g}" for k in ("mse", "rmse", "mae", "r2", "max_error")))
        lines.extend(format_worst(result))
    return "\n".join(lines) + "\n"


WORST_SHOWN = 5


def format_worst(result: dict[str, Any]) -> list[str]:
    """The few worst test samples: a classifier's most confident mistakes, a regression's largest
    errors, each with the file or CSV row it comes from (all WORST_KEPT of them are in --json)."""
    worst = list(result.get("worst") or [])
    classification = "confusion" in result
    if not worst:
        return ["", "No mistakes on the test split."] if classification and result.get("samples") else []
    title = "Most confident mistakes" if classification else "Largest errors"
    lines = ["", f"{title} (test sample: where it comes from)"]
    for w in worst[:WORST_SHOWN]:
        where = w.get("file") or (f"row {w['row']}" if "row" in w else "source unknown")
        if classification:
            what = f"true {w['true']}, predicted {w['predicted']} ({w['confidence']:.0%} sure)"
        else:
            what = f"true {w['true']:.4g}, predicted {w['predicted']:.4g}, error {w['error']:+.4g}"
        lines.append(f"  #{w['index']}: {where}: {what}")
    return lines


def _percent(value: Any) -> str:
    return f"{value:.1f} %" if isinstance(value, (int, float)) and value == value else "-"


def format_forecast(result: dict[str, Any]) -> list[str]:
    """The forecast's errors beside the naive forecast's (each target's last input value)."""
    fc = result["forecast"]
    naive = result.get("naive")
    targets = ", ".join(repr(t) for t in fc.get("targets") or [])
    horizon = int(fc.get("horizon") or 1)
    ahead = "1 step ahead" if horizon == 1 else f"1 to {horizon} steps ahead"
    lines = [f"Forecast of {targets}, {ahead}, {result.get('samples')} test windows", ""]
    lines.append(f"{'':<24}{'MAE':>10}{'RMSE':>10}{'MAPE':>10}")
    lines.append(f"{'model':<24}{result['mae']:>10.4g}{result['rmse']:>10.4g}{_percent(result.get('mape')):>10}")
    if naive:
        lines.append(f"{'naive (last value)':<24}{naive['mae']:>10.4g}{naive['rmse']:>10.4g}"
                     f"{_percent(naive.get('mape')):>10}")
        lines.append("")
        lines.append(beats_naive_text(result["mae"], naive["mae"]))
    else:
        lines.append(f"naive forecast: not computed ({fc.get('naive_note') or 'unknown inputs'})")
    if horizon > 1:
        lines.append("")
        lines.append(f"{'step ahead':<12}{'MAE':>10}{'naive MAE':>12}{'RMSE':>10}{'naive RMSE':>12}")
        for row in fc.get("steps") or []:
            lines.append(f"{row['step']:<12}{row['mae']:>10.4g}{row.get('naive_mae', float('nan')):>12.4g}"
                         f"{row['rmse']:>10.4g}{row.get('naive_rmse', float('nan')):>12.4g}")
    if result.get("mape") is not None:
        lines.append("(MAPE is over the actual values that are not 0; it is large where they are near 0)")
    return lines


def beats_naive_text(mae: float, naive_mae: float) -> str:
    """'The model's MAE is 41 % below the naive forecast's: ...' (the workflow's verdict, as a sentence)."""
    from studio.workflows.evaluate import naive_verdict

    verdict = naive_verdict(mae, naive_mae)
    if not verdict:
        return "The naive forecast's MAE is 0: the series repeats its last value."
    if "does not beat" in verdict:
        return verdict[0].upper() + verdict[1:] + "; train longer, or change the model or the window."
    return verdict[0].upper() + verdict[1:] + "."


def run(args: argparse.Namespace) -> int:
    from studio.project.io import load_project
    from studio.workflows.evaluate import evaluate_run, summary

    project = load_project(Path(args.project))
    from studio.hub.trust import require_trust

    require_trust(project, args.trust_modules, args.project)
    result = evaluate_run(project, args.run, which="final" if args.final else "best")
    if args.json:
        shown = {k: v for k, v in summary(result).items() if k != "y_naive"}  # per window, kept in the file
        print(json.dumps(clean(shown)))
    else:
        sys.stdout.write(format_evaluation(result))
    sys.stdout.flush()
    for warning in result.get("warnings") or ():
        print(f"studio: warning: {warning}", file=sys.stderr)
    return 0
