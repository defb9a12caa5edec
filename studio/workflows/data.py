"""Describe a dataset as the app reads it: kind, samples, columns, classes, split, problems.

`describe_file` is what `studio data FILE [options]` calls: it turns the
command's options into a dataset spec (the same keys a project's "dataset"
holds) and describes it; `describe_project_data` describes a project's own
dataset (what `studio check` compares with the model). Both read only the
data's description: no TensorFlow.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from studio.core.errors import DataError
from studio.project.model import Project

TAB_NAMES = ("\\t", "tab", "TAB")


def data_spec(file: str, *, kind: Optional[str] = None, targets: Optional[Sequence[str]] = None,
              features: Optional[Sequence[str]] = None, task: Optional[str] = None,
              missing: Optional[str] = None, delimiter: Optional[str] = None, decimal: Optional[str] = None,
              header: Optional[bool] = None, encoding: Optional[str] = None,
              skip_rows: Optional[int] = None) -> dict[str, Any]:
    """The dataset spec for `file` (a file, a folder or a bundled sample name) with these
    options; an option that does not apply, or a bad value, is a `DataError` naming the file."""
    from studio.data.api import to_spec_dict
    from studio.data.spec import DatasetSpec

    spec = to_spec_dict(file, None)
    if kind:
        if spec.get("kind") == "sample":
            raise DataError(f"{file}: --kind does not apply to a bundled sample")
        spec["kind"] = kind
    if targets:
        spec["targets"] = list(targets)
    if features:
        spec["features"] = list(features)
    if task:
        spec["task"] = task
    if missing:
        spec["missing"] = missing
    if delimiter:
        spec["delimiter"] = "\t" if delimiter in TAB_NAMES else delimiter
    if decimal:
        spec["decimal"] = decimal
    if header is not None:
        spec["header"] = header
    if encoding:
        spec["encoding"] = encoding
    if skip_rows:
        if spec.get("kind") == "sample":
            raise DataError(f"{file}: --skip-rows does not apply to a bundled sample")
        spec["skip_rows"] = skip_rows
    DatasetSpec.from_dict(spec, source=str(file))  # a bad option names the file, not a project
    return spec


def describe_file(file: str, **options: Any):
    """The `DatasetInfo` of `file` read with `options` (see `data_spec`)."""
    from studio.data.api import describe

    return describe(data_spec(file, **options), None)


def describe_project_data(project: Project):
    """The `DatasetInfo` of the project's dataset (paths relative to the project file);
    a `StudioError` when it has none or it cannot be read."""
    from studio.data.api import describe

    if not project.dataset:
        raise DataError(f"{project.name}: the project has no dataset")
    return describe(project.dataset, project.folder)
