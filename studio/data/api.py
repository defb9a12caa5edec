"""The public entry points behind `studio.data.describe` / `prepare` / `open_source`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from studio.core.errors import DataError
from studio.data import files, registry
from studio.data.info import DatasetInfo
from studio.data.spec import DatasetSpec, spec_for_path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
TEXT_SUFFIXES = (".txt",)


def detect_kind(path: Path) -> str:
    """The kind of a file or folder from its name or, for a folder, its contents."""
    if not path.is_dir():
        return spec_for_path(str(path))["kind"]
    seen_images = seen_texts = 0
    try:
        subdirs = [p for p in sorted(path.iterdir()) if p.is_dir() and not p.name.startswith(".")]
    except OSError as exc:
        raise DataError(f"{path}: cannot list the folder ({exc.strerror})") from None
    for sub in subdirs:
        for i, f in enumerate(sub.iterdir()):
            suffix = f.suffix.lower()
            seen_images += suffix in IMAGE_SUFFIXES
            seen_texts += suffix in TEXT_SUFFIXES
            if i > 50:
                break
    if not subdirs:
        raise DataError(f"{path}: the folder has no subfolders; put the files of each class in a subfolder "
                        "named after the class (e.g. cats/, dogs/)")
    if seen_images == 0 and seen_texts == 0:
        raise DataError(f"{path}: the class folders hold no images (.jpg .png .bmp .gif) or texts (.txt)")
    return "images" if seen_images >= seen_texts else "text"


def to_spec_dict(spec_or_path: Any, base_dir: str | os.PathLike | None = None) -> dict:
    """A spec dict from a spec (dict or DatasetSpec) or a file/folder path."""
    if isinstance(spec_or_path, DatasetSpec):
        return spec_or_path.to_dict()
    if isinstance(spec_or_path, dict):
        return dict(spec_or_path)
    if isinstance(spec_or_path, (str, os.PathLike)):
        text = str(spec_or_path)
        if text in registry.SAMPLES and not registry.resolve_path(text, base_dir).exists():
            return {"kind": "sample", "path": text}
        path = registry.resolve_path(text, base_dir)
        files.refuse_system_path(path)  # before a folder such as /proc is listed
        if not path.exists():
            raise DataError(f"{path}: no such file or folder")
        return {"kind": detect_kind(path), "path": text}
    raise DataError(f"a dataset is a file, a folder or a spec dict, not {type(spec_or_path).__name__}")


def open_source(spec_or_path: Any, base_dir: str | os.PathLike | None = None, *, materialize: bool = True):
    """The `Source` for a spec or path; bundled samples are generated on first use."""
    from studio.data.sources import source_for

    data = to_spec_dict(spec_or_path, base_dir)
    DatasetSpec.from_dict(data)  # check the project's own keys first
    title = ""
    if data.get("kind") == "sample":
        sample = registry.sample(str(data.get("path")))
        title = sample.title
        if materialize and sample.origin == "generated":
            from studio.data import samples

            samples.ensure(sample.name)
        data = registry.concrete_spec(data)
    spec = DatasetSpec.from_dict(data)
    return source_for(spec, base_dir, title=title)


def _bound_spec(spec_or_path: Any, base_dir: str | os.PathLike | None) -> DatasetSpec | None:
    """The checked spec when its data is bound per node (``inputs``/``outputs``), else None."""
    if isinstance(spec_or_path, (dict, DatasetSpec)):
        data = to_spec_dict(spec_or_path, base_dir)
        if not DatasetSpec.from_dict(data).bound:
            return None
        if data.get("kind") == "sample":  # a bundled table: its file
            data = registry.concrete_spec(data)
        spec = DatasetSpec.from_dict(data)
        if spec.kind not in ("csv", "tsv", "npz"):
            raise DataError(f"{spec.path}: data bound per node works for tables (csv, tsv) and .npz files, "
                            f"not {spec.kind} data; remove 'inputs'/'outputs' or choose such a file")
        return spec
    return None


def describe(spec_or_path: Any, base_dir: str | os.PathLike | None = None) -> DatasetInfo:
    bound = _bound_spec(spec_or_path, base_dir)
    if bound is not None:
        from studio.data.multi import describe_bound

        info = describe_bound(bound, base_dir)[0]
        if isinstance(spec_or_path, dict) and spec_or_path.get("kind") == "sample":
            info.title = registry.sample(str(spec_or_path.get("path"))).title
        return info
    return open_source(spec_or_path, base_dir).describe()


def prepare(spec: Any, base_dir: str | os.PathLike | None = None, batch_size: int = 32,
            seed: int | None = None, input_order: list[str] | None = None,
            output_order: list[str] | None = None):
    """Batched splits; a spec bound per node yields its inputs and targets in `input_order` /
    `output_order` (node ids: the model's order)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise DataError(f"the batch size must be a whole number >= 1, got {batch_size!r}")
    bound = _bound_spec(spec, base_dir)
    if bound is not None:
        from studio.data.multi import prepare_bound

        return prepare_bound(bound, base_dir, batch_size, seed, input_order, output_order)
    return open_source(spec, base_dir).prepare(batch_size, seed)
