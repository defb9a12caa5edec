"""The `studio` command line (DESIGN.md section 5).

Each subcommand lives in `studio/commands/<name>.py` with `add_parser(sub)`
and `run(args) -> int`. A `StudioError` prints one clear line to stderr and
exits 1; anything else is a bug: one line plus a hint, the traceback only with
`--debug`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from studio import __version__
from studio.core.errors import StudioError

# Order is the order shown by --help.
COMMANDS = ("open", "new", "check", "train", "evaluate", "export", "import", "data")


def _module(name: str):
    return importlib.import_module(f"studio.commands.{name}_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="Network Studio: design, train and export neural networks. "
        "Without a command, opens the GUI on the bundled example project.",
    )
    parser.add_argument("--version", action="version", version=f"Network Studio {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        _module(name).add_parser(sub)
    return parser


def quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ start-up chatter out of the user's terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def main(argv: list[str] | None = None) -> int:
    quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or bool(os.environ.get("STUDIO_DEBUG"))
    try:
        if args.command is None:
            from studio.commands import open_cmd

            return open_cmd.run(argparse.Namespace(project=None, debug=debug))
        return int(_module(args.command).run(args) or 0)
    except StudioError as exc:
        if debug:
            traceback.print_exc()
        print(f"studio: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, details on request
        if debug:
            traceback.print_exc()
        else:
            print(
                f"studio: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
                file=sys.stderr,
            )
        return 2


if __name__ == "__main__":
    sys.exit(main())
