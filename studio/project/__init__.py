"""The versioned JSON project file (pure: no Qt, no TensorFlow)."""

from studio.project.io import load_project, project_from_dict, save_project
from studio.project.migrations import register_migration
from studio.project.model import FORMAT, SUFFIX, VERSION, Project, project_stem

__all__ = [
    "FORMAT",
    "SUFFIX",
    "VERSION",
    "Project",
    "load_project",
    "project_from_dict",
    "project_stem",
    "register_migration",
    "save_project",
]
