"""`studio open PROJECT`: the GUI on a project (`studio` alone: the example)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("open", help="open the GUI on a project",
                            description="Open the Network Studio window on PROJECT "
                                        "(without PROJECT: the bundled example).")
    parser.add_argument("project", nargs="?", help="a .studio.json project file")
    parser.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    return parser


def run(args: argparse.Namespace) -> int:
    # The GUI's composition root, imported only when the GUI is wanted: the other commands stay
    # free of Qt. The one import from a command towards the GUI (allowed by name in pyproject.toml).
    from studio import app

    return int(app.run(getattr(args, "project", None), screenshot=getattr(args, "screenshot", None)) or 0)
