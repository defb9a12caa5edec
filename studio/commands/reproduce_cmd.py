"""`studio reproduce BUNDLE [--json] [--keep DIR] [--device cpu|auto|gpu:N]`.

Re-runs a bundle written by `studio export --format bundle` (a folder or a
.zip): checks every file against the bundle's manifest (a changed file is
refused, named) and the data files against their recorded sha256, trains the
bundled project with the recorded seed and settings in a fresh folder, and
prints the recorded and reproduced final metrics side by side with the
tolerance. Exit status: 0 when every metric matches, 1 when one differs (or
the bundle is refused). The bundle's script is never run.

`--json`: one object on stdout, `{"ok", "bundle", "run", "device", "epochs",
"tolerance", "metrics": [{"metric", "recorded", "reproduced", "difference",
"ok"}], "run_dir", "notes"}`.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "reproduce",
        help="re-run an exported bundle and compare its final metrics with the recorded ones",
        description="Check a bundle written by `studio export --format bundle` against its manifest, "
        "train its project again with the recorded seed and settings in a fresh folder (on the CPU by "
        "default) and compare the final metrics with the recorded ones. Exits 0 when they match within "
        "the stated tolerance, 1 when they do not. The bundle's script is never run.",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="the bundle folder or .zip")
    from studio.hub.trust import add_trust_flag

    add_trust_flag(parser)
    parser.add_argument("--keep", metavar="DIR",
                        help="train in DIR (new or empty) and keep the run there (default: a temporary folder)")
    parser.add_argument("--device", default="cpu",
                        help="cpu (default: the tolerance is for the CPU), auto or gpu:N")
    parser.add_argument("--json", action="store_true", help="print the comparison as one JSON object")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from studio.workflows.bundle import reproduce_bundle, table_lines

    def log(line: str) -> None:
        print(f"studio: {line}", file=sys.stderr)

    reporter = None
    if not args.json:
        from studio.commands.train_cmd import ConsoleReporter

        reporter = ConsoleReporter(False, out=sys.stderr)
    result = reproduce_bundle(Path(args.bundle), keep=args.keep, device=args.device, progress=log,
                              reporter=reporter, trust_modules=args.trust_modules)
    for note in result.notes:
        print(f"studio: note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        for line in table_lines(result):
            print(line)
    return 0 if result.ok else 1
