"""`studio new PROJECT [--template NAME] [--force]`: create a project from a template."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.core.errors import StudioError
from studio.graph.inference import analyse
from studio.project.io import save_project
from studio.project.model import SUFFIX, project_stem
from studio.project.templates import DEFAULT_TEMPLATE, TEMPLATES, make_project


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


def project_path(text: str) -> Path:
    """`demo` -> `demo.studio.json`; names ending in .json are kept as given."""
    path = Path(text)
    if not path.name.lower().endswith(".json"):
        path = path.with_name(path.name + SUFFIX)
    return path


def run(args: argparse.Namespace) -> int:
    if args.list:
        width = max(len(n) for n in TEMPLATES)
        for template in TEMPLATES.values():
            print(f"{template.name:<{width}}  {template.title}: {template.description}")
        return 0
    if not args.project:
        raise StudioError("give the file to create, e.g. 'studio new demo.studio.json --template cnn'")
    path = project_path(args.project)
    project = make_project(args.template, name=project_stem(path))
    if path.is_dir():
        raise StudioError(f"{path}: is a folder; give a file name such as {path / ('demo' + SUFFIX)}")
    if path.exists() and not args.force:
        raise StudioError(f"{path}: the file exists already; use --force to overwrite it")
    save_project(project, path)
    report = analyse(project.graph)
    print(
        f"created {path} from template '{args.template}' ({len(project.graph.nodes)} layers, "
        f"{report.total_params:,} parameters); check it with: studio check {path}"
    )
    return 0
