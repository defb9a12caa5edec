"""`studio import MODEL -o PROJECT`: open a Keras model as an editable project.

MODEL is a .keras or .h5 file (loaded in Keras' safe mode) or a Keras 2
SavedModel folder. The project gets one node per layer (nested models are
flattened), wired as the model is, laid out left to right, and the model's
weights beside it as PROJECT.weights.h5. The rebuilt model is checked to give
the same answers as the original before anything is written.

Hostile files are refused with one line naming the file and the archive entry
or layer, before Keras reads them: zip bombs, archive entries outside the
archive or with duplicate names, a config.json over 64 MB, not UTF-8, not JSON
or nested too deeply, Lambda layers or custom classes anywhere in the config.

A step that takes over a second (loading TensorFlow and the model, checking
the rebuilt model) shows a progress line on stderr while it runs.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="turn a Keras model file (.keras, .h5, SavedModel) into an editable project",
        description="Read a Keras model (safe mode: no Lambda layers or custom code) and write a project "
        "whose graph is that model, with its weights beside it.",
    )
    parser.add_argument("model", metavar="MODEL", help="a .keras or .h5 file, or a Keras 2 SavedModel folder")
    parser.add_argument("-o", "--output", required=True, metavar="PROJECT",
                        help="the project to write (.studio.json is added when missing)")
    parser.add_argument("--force", action="store_true", help="replace an existing project of that name")


def run(args: argparse.Namespace) -> int:
    from studio.commands.step_line import StepLine
    from studio.workflows.importing import import_model, result_lines

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    with StepLine() as step:  # a line for each step that takes over a second
        result = import_model(args.model, args.output, overwrite=args.force, progress=log, step=step)
    for line in result_lines(result):
        print(line)
    return 0
