"""The `studio` command line (DESIGN.md section 5).

Each subcommand lives in `studio/commands/<name>.py` with `add_parser(sub)`
and `run(args) -> int`. A `StudioError` prints one clear line to stderr and
exits 1; anything else is a bug: one line naming the command's file plus a
hint, the traceback only with `--debug`.

With `--json`, a failure also prints one JSON object on stdout,
`{"ok": false, "error": "<the same message>"}`, unless the command already
printed its own result object for it (it then sets `json_reported` on the
error). So a script reading stdout always gets JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback

from studio import __version__
from studio.core.errors import StudioError
from studio.core.text import shorten

# Order is the order shown by --help.
COMMANDS = ("open", "new", "check", "train", "evaluate", "export", "reproduce", "import", "data")
# The argument that names a command's file, in the order looked for.
FILE_ARGS = ("project", "model", "file", "bundle")
# Longest error message printed: a message quoting a huge value stays one readable line.
MESSAGE_LIMIT = 2000
MESSAGE_LINES = 50


def _module(name: str):
    return importlib.import_module(f"studio.commands.{name}_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="Network Studio: design, train and export neural networks. "
        "Without a command, opens the GUI on the bundled example project.",
    )
    parser.add_argument(
        "--version",
        action="store_true",
        help="print the version and exit; with --verbose, also TensorFlow's build (CUDA, cuDNN), "
        "the devices it sees and why no GPU is seen (this imports TensorFlow: a few seconds)",
    )
    parser.add_argument("--verbose", action="store_true", help="with --version: the environment report")
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
        if args.version:
            return _print_version(args.verbose)
        if args.command is None:
            from studio.commands import open_cmd

            return open_cmd.run(argparse.Namespace(project=None, debug=debug))
        return int(_module(args.command).run(args) or 0)
    except StudioError as exc:
        if debug:
            traceback.print_exc()
        message = _bounded(str(exc))
        _json_failure(args, message, exc)
        print(f"studio: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _json_failure(args, "interrupted")
        print("studio: interrupted", file=sys.stderr)
        return 130
    except (RecursionError, MemoryError, OverflowError, UnicodeDecodeError) as exc:
        # Input too deep, too big or not text: the user's file, not a bug.
        message = _one_line(f"{_file_of(args)}{_input_problem(exc)}")
        if debug:
            traceback.print_exc()
        _json_failure(args, message)
        print(f"studio: error: {message}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: say so in one line, details on request
        message = _one_line(f"{_file_of(args)}internal error: {type(exc).__name__}: {_safe_str(exc)}")
        if debug:
            traceback.print_exc()
        _json_failure(args, message)
        print(f"studio: {message} (run with --debug for the traceback)", file=sys.stderr)
        return 2


def _print_version(verbose: bool) -> int:
    """`studio --version`: instant (no TensorFlow); `--verbose` adds the environment report."""
    if not verbose:
        print(f"Network Studio {__version__}")
        return 0
    from studio.workflows.environment import report_text

    print(report_text())
    return 0


def _input_problem(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to process; simplify it or check that it is the right file"
    if isinstance(exc, MemoryError):
        return "the input is too large to process in this machine's memory; check that it is the right file"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start} cannot be decoded); save the file as UTF-8"
    return f"a number in the input is too large ({_safe_str(exc)}); use a smaller value"


def _file_of(args: argparse.Namespace) -> str:
    """'PATH: ' for the command's file argument, or '' when it has none."""
    for name in FILE_ARGS:
        value = getattr(args, name, None)
        if isinstance(value, str) and value:
            return f"{shorten(value)}: "
    return ""


def _safe_str(exc: BaseException) -> str:
    """str(exc), even when that fails (an int too long to print, a broken __str__)."""
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - the message of a message must not fail
        return "(no message)"


def _one_line(message: str) -> str:
    """The message on one line, at most MESSAGE_LIMIT characters."""
    return shorten(" ".join(message.split()), MESSAGE_LIMIT)


def _bounded(message: str) -> str:
    """A StudioError's message: its first line says it all; a few commands list
    further problems on the lines after it. Each line and their number are bounded."""
    lines = [shorten(line, MESSAGE_LIMIT) for line in message.splitlines()[: MESSAGE_LINES + 1]] or [""]
    if len(lines) > MESSAGE_LINES:
        total = message.count("\n") + (0 if message.endswith("\n") else 1)
        more = total - (MESSAGE_LINES - 1)
        lines[MESSAGE_LINES - 1:] = [f"(and {more:,} more lines)"]
    return "\n".join(lines)


def _json_failure(args: argparse.Namespace, message: str, exc: BaseException | None = None) -> None:
    """With --json: `{"ok": false, "error": message}` on stdout, unless the
    command already printed its result for this error."""
    if not getattr(args, "json", False) or getattr(exc, "json_reported", False):
        return
    try:
        sys.stdout.write(json.dumps({"ok": False, "error": message}) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):  # stdout closed: stderr still has the line
        pass


if __name__ == "__main__":
    sys.exit(main())
