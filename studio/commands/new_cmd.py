"""`studio new PROJECT [--template NAME] [--force]`: create a project from a template."""

from __future__ import annotations

import argparse

from studio.core.errors import StudioError
from studio.project.model import SUFFIX
from studio.project.templates import DEFAULT_TEMPLATE, TEMPLATES
from studio.workflows.new import create_project


def add_parser(sub: argparse._SubParsersAction) -> None:
    names = ", ".join(TEMPLATES)
    parser = sub.add_parser(
        "new",
        help="create a project from a template",
        description=f"Create a new project file from a template ({names}). "
        f"A name without .json gets '{SUFFIX}' added.",
    )
    parser.add_argument("project", metavar="PROJECT", nargs="?", help="the file to create, e.g. demo.studio.json")
    parser.add_argument(
        "--template",
        "-t",
        default=DEFAULT_TEMPLATE,
        metavar="NAME",
        help=f"one of: {names} (default: {DEFAULT_TEMPLATE})",
    )
    parser.add_argument("--force", action="store_true", help="overwrite PROJECT if it exists")
    parser.add_argument("--list", action="store_true", help="list the templates and exit")


def run(args: argparse.Namespace) -> int:
    if args.list:
        width = max(len(n) for n in TEMPLATES)
        for template in TEMPLATES.values():
            print(f"{template.name:<{width}}  {template.title}: {template.description}")
        return 0
    if not args.project:
        raise StudioError("give the file to create, e.g. 'studio new demo.studio.json --template cnn'")
    created = create_project(args.project, args.template, force=args.force)
    print(
        f"created {created.path} from template '{args.template}' ({len(created.project.graph.nodes)} layers, "
        f"{created.total_params:,} parameters); check it with: studio check {created.path}"
    )
    return 0
