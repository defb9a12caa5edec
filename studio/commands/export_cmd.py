"""`studio export PROJECT --format keras|savedmodel|tflite|onnx|python|bundle [--run RUN] -o PATH`.

Exports a run's model (default: the latest finished run; without runs, the
imported weights or freshly initialised ones), verifies the written file by
reloading it in its own runtime, and prints the largest difference from the
Keras model. A graph with errors is refused with its diagnostics listed.
A step that takes over a second (loading the model, converting, verifying)
shows a progress line on stderr while it runs.
"""

from __future__ import annotations

import argparse
import sys

from studio.workflows.export import COMMAND_FORMATS


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="export the model as a Keras file, SavedModel, TFLite, ONNX or Python code, or a run "
        "as a reproducible bundle",
        description="Write the project's model in another format and check that the written file "
        "loads and gives the same answers as the Keras model (the result is saved beside it as "
        "PATH.verify.json). Nothing is written when the check fails. --format bundle writes a run's "
        "reproducible bundle (project, script, settings and seed, pinned requirements, data sha256, weights; "
        "a folder, or a zip when PATH ends in .zip) for `studio reproduce`.",
    )
    parser.add_argument("project", metavar="PROJECT", help="the .studio.json file")
    from studio.hub.trust import add_trust_flag

    add_trust_flag(parser)
    parser.add_argument("--format", "-f", required=True, choices=COMMAND_FORMATS, help="what to write")
    parser.add_argument("--run", help="run id, unique part of it, or run folder (default: the latest run)")
    parser.add_argument("--best", action="store_true", help="use the run's best.keras instead of final.keras")
    parser.add_argument("--with-data", action="store_true",
                        help="bundle: copy the data files into the bundle (when under 100 MB together)")
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="the file to write (a folder for savedmodel and bundle, or a .zip for bundle)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from studio.commands.step_line import StepLine
    from studio.project.io import load_project
    from studio.workflows.export import export_project, result_lines

    project = load_project(Path(args.project))
    from studio.hub.trust import require_trust

    require_trust(project, args.trust_modules, args.project)

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    if args.format == "bundle":
        from studio.workflows import bundle

        written = bundle.export_bundle(project, Path(args.output), run=args.run, with_data=args.with_data,
                                       progress=log)
        for line in bundle.result_lines(written):
            print(line)
        return 0
    if args.with_data:
        print("studio: note: --with-data is for --format bundle; ignored", file=sys.stderr)
    with StepLine() as step:  # a line for each step that takes over a second
        result = export_project(project, args.format, Path(args.output), run=args.run,
                                which="best" if args.best else "final", progress=log, step=step)
    for line in result_lines(result):
        print(line)
    return 0
