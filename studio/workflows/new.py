"""Create a project from a template: `studio new PROJECT [--template NAME]`.

`project_file` turns what the user typed into the project's file name and
`create_project` writes the template there (refusing to replace a file
unless `force`), returning the project and its parameter count. Pure: no Qt,
no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.core.errors import StudioError
from studio.graph.inference import analyse
from studio.project.io import save_project
from studio.project.model import SUFFIX, Project, project_stem
from studio.project.templates import DEFAULT_TEMPLATE, make_project


@dataclass
class NewProject:
    path: Path
    project: Project
    template: str
    total_params: int


def project_file(text: str | Path) -> Path:
    """`demo` -> `demo.studio.json`; names ending in .json are kept as given."""
    path = Path(text)
    if not path.name.lower().endswith(".json"):
        path = path.with_name(path.name + SUFFIX)
    return path


def create_project(path: str | Path, template: str = DEFAULT_TEMPLATE, *, force: bool = False) -> NewProject:
    """Write a new project made from `template` at `path` (see `project_file`)."""
    path = project_file(path)
    project = make_project(template, name=project_stem(path))
    if path.is_dir():
        raise StudioError(f"{path}: is a folder; give a file name such as {path / ('demo' + SUFFIX)}")
    if path.exists() and not force:
        raise StudioError(f"{path}: the file exists already; use --force to overwrite it")
    save_project(project, path)
    return NewProject(path, project, template, analyse(project.graph).total_params)
