"""`studio open PROJECT`: the GUI on a project (`studio` alone: the example)."""

from __future__ import annotations

import argparse
import importlib


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("open", help="open the GUI on a project",
                            description="Open the Network Studio window on PROJECT "
                                        "(without PROJECT: the bundled example).")
    parser.add_argument("project", nargs="?", help="a .studio.json project file")
    parser.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    return parser


def run(args: argparse.Namespace) -> int:
    # Imported by name: commands stay free of Qt until the GUI is really wanted.
    app = importlib.import_module("studio.app")
    return int(app.run(getattr(args, "project", None), screenshot=getattr(args, "screenshot", None)) or 0)
