"""`studio check PROJECT [--json]`: validate a project without TensorFlow.

Prints a table with one row per node in topological order (Keras layer name,
class, output shape, parameters), the totals and the diagnostics; exits
non-zero when the project has errors or layers this version cannot check.
`--json` prints exactly one JSON object instead (see `check_result`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studio.compiler.plan import layer_names
from studio.core.errors import ProjectError, StudioError
from studio.core.text import shorten, show
from studio.graph.inference import ERROR, ShapeReport, format_shape
from studio.graph.model import Graph
from studio.project.io import load_project
from studio.project.model import Project
from studio.workflows.check import check_project, unchecked_nodes

# Longest diagnostic message shown (messages quoting user text shorten it themselves).
MESSAGE_LIMIT = 500


class CheckFailed(StudioError):
    """The project loaded but has errors (or layers that cannot be checked)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "check",
        help="validate a project: output shape and parameters per layer, totals, problems",
        description="Check a project without TensorFlow: infer every layer's output shape and "
        "parameter count, and list errors and warnings. Exits 1 if the project has errors or "
        "layers this version does not know.",
    )
    parser.add_argument("project", metavar="PROJECT", help="the .studio.json file")
    parser.add_argument(
        "--no-data", action="store_true", help="skip checking that the project's dataset fits the model"
    )
    parser.add_argument(
        "--estimate",
        action="store_true",
        help="also estimate memory and time per epoch for the project's training settings (times need "
        "a calibration of this device: a few seconds of TensorFlow, once, cached), and for the latest "
        "run the estimate next to what it measured",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object: {"ok", "total_params", "trainable_params", "non_trainable_params", '
        '"nodes": [...], "diagnostics": [...]}',
    )


def run(args: argparse.Namespace) -> int:
    path = Path(args.project)
    try:
        project = load_project(path)
    except ProjectError as exc:
        if args.json:
            print(json.dumps(load_failure_result(exc)))
            exc.json_reported = True
        raise
    report = check_project(project, data=not args.no_data).report
    result = check_result(project.graph, report)
    failure = None if result["ok"] else CheckFailed(failure_line(path, project.graph, report))
    if getattr(args, "estimate", False) and result["ok"]:
        from studio.workflows.check import estimate_result
        from studio.workflows.estimate import cached_calibration

        if cached_calibration() is None:
            print("calibrating this device for the time estimate (about a minute, once; cached)...",
                  file=sys.stderr, flush=True)
        result["estimate"] = estimate_result(project, report)
    if args.json:
        if failure is not None:
            result["error"] = str(failure)
            failure.json_reported = True
        print(json.dumps(result))
    else:
        sys.stdout.write(format_result(path, project, result))
        if "estimate" in result:
            from studio.workflows.check import format_estimate

            sys.stdout.write(format_estimate(result["estimate"]))
    if failure is not None:
        raise failure
    return 0


# --- the result ------------------------------------------------------------------
def check_result(graph: Graph, report: ShapeReport) -> dict[str, Any]:
    """The `--json` object. `ok` is false when there is an error or a layer this
    version cannot check; shapes are lists with null for unknown dims (a list of
    lists for a layer with several outputs, null when unknown)."""
    order = report.order or [n.id for n in graph.nodes]
    names = layer_names(graph, order)
    nodes = []
    for nid in order:
        node = graph.node(nid)
        spec = graph.spec(node)
        params = report.params.get(nid)
        nodes.append(
            {
                "id": shorten(nid),
                "name": shorten(names[nid]),
                "class_name": spec.class_name if spec is not None else shorten(node.type),
                "output_shape": _json_shape(report.outputs.get(nid)),
                "params": None if params is None else params[0] + params[1],
                # another call of a shared layer: its weights are the named layer's, counted there
                **({"shares": shorten(names[report.shared[nid]])} if nid in report.shared else {}),
            }
        )
    return {
        "ok": report.ok and not unchecked_nodes(graph, report),
        "total_params": report.total_params,
        "trainable_params": report.trainable_params,
        "non_trainable_params": report.non_trainable_params,
        "nodes": nodes,
        "diagnostics": [_short_diagnostic(d.to_dict()) for d in report.diagnostics],
    }


def _short_diagnostic(d: dict[str, Any]) -> dict[str, Any]:
    """Messages quoting user text are already short; this bounds any other."""
    return {**d, "node": None if d["node"] is None else shorten(d["node"]),
            "message": shorten(d["message"], MESSAGE_LIMIT)}


def load_failure_result(exc: ProjectError) -> dict[str, Any]:
    """The `--json` object for a file that could not be loaded: one error per problem."""
    if exc.problems:
        messages = [shorten(f"{path}: {message}", MESSAGE_LIMIT) for path, message in exc.problems]
    else:
        messages = [shorten(str(exc), MESSAGE_LIMIT)]
    return {
        "ok": False,
        "error": shorten(str(exc), MESSAGE_LIMIT),
        "total_params": 0,
        "trainable_params": 0,
        "non_trainable_params": 0,
        "nodes": [],
        "diagnostics": [{"node": None, "severity": ERROR, "message": m} for m in messages],
    }


def _json_shape(shapes: list | None) -> Any:
    if shapes is None:
        return None
    lists = [list(s) for s in shapes]
    return lists[0] if len(lists) == 1 else lists


def failure_line(path: Path, graph: Graph, report: ShapeReport) -> str:
    """One line naming the file, the first faulty node and its problem."""
    errors = report.errors
    unknown = unchecked_nodes(graph, report)
    if errors:
        first = errors[0]
        more = len(errors) - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''}, listed above)" if more else ""
        return f"{path}: {_located(graph, first.node, first.message)}{suffix}"
    node = graph.node(unknown[0])
    more = len(unknown) - 1
    suffix = f" (and {more} more such layer{'s' if more > 1 else ''})" if more else ""
    return (
        f"{path}: {_where(graph, node.id)}: layer type {show(node.type)} is unknown to this version of Network "
        f"Studio, so it cannot be checked or built; it is kept unchanged in the file{suffix}"
    )


def _located(graph: Graph, node_id: str | None, message: str) -> str:
    """'node 'hidden': message', 'model: message', or the message alone when it
    starts with its own JSON path ('training.epochs: ...')."""
    if node_id is None and message.startswith("training."):
        return message
    return f"{_where(graph, node_id)}: {_strip_label(graph, node_id, message)}"


def _where(graph: Graph, node_id: str | None) -> str:
    if node_id is None or not graph.has_node(node_id):
        return "model"
    return f"node '{graph.label(node_id)}'"


def _strip_label(graph: Graph, node_id: str | None, message: str) -> str:
    if node_id is not None and graph.has_node(node_id):
        prefix = f"{graph.label(node_id)}: "
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


# --- the table -------------------------------------------------------------------
def format_result(path: Path, project: Project, result: dict[str, Any]) -> str:
    rows = [("#", "Layer", "Class", "Output shape", "Params")]
    for i, node in enumerate(result["nodes"], 1):
        rows.append(
            (
                str(i),
                node["name"],
                node["class_name"],
                _text_shape(node["output_shape"]),
                "?" if node["params"] is None else "shared" if node.get("shares") else f"{node['params']:,}",
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(5)]
    lines = [f"{path}: {shorten(project.name)}, {len(result['nodes'])} layer{'s' if len(result['nodes']) != 1 else ''}", ""]
    for r, row in enumerate(rows):
        cells = [
            row[0].rjust(widths[0]),
            row[1].ljust(widths[1]),
            row[2].ljust(widths[2]),
            row[3].ljust(widths[3]),
            row[4].rjust(widths[4]),
        ]
        lines.append("  ".join(cells).rstrip())
        if r == 0:
            lines.append("-" * len(lines[-1]))
    lines.append("")
    lines.append(f"Total params:         {result['total_params']:,}")
    lines.append(f"Trainable params:     {result['trainable_params']:,}")
    lines.append(f"Non-trainable params: {result['non_trainable_params']:,}")
    uncounted = sum(1 for node in result["nodes"] if node["params"] is None)
    if uncounted:
        lines.append(f"({uncounted} layer{'s' if uncounted > 1 else ''} could not be counted: see the problems below)")
    diagnostics = result["diagnostics"]
    if diagnostics:
        labels = {shorten(n.id): f"node '{project.graph.label(n.id)}'" for n in project.graph.nodes}
        lines.append("")
        lines.append(f"{len(diagnostics)} problem{'s' if len(diagnostics) != 1 else ''}:")
        for d in diagnostics:
            if d["node"] is None:
                located = _located(project.graph, None, d["message"])
            else:
                located = f"{labels.get(d['node'], 'model')}: {_strip_label(project.graph, d['node'], d['message'])}"
            lines.append(f"  {d['severity']:<7}  {located}")
    lines.append("")
    lines.append("OK" if result["ok"] else "FAILED")
    return "\n".join(lines) + "\n"


def _text_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    if shape and isinstance(shape[0], list):
        return ", ".join(format_shape(tuple(s)) for s in shape)
    return format_shape(tuple(shape))
