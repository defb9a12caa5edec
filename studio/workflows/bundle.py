"""A reproducible bundle of a training run, and reproducing one.

    export_bundle(project, "out/iris-bundle", run=None, with_data=True)     # or "out/iris.zip"
    result = reproduce_bundle("out/iris-bundle")                             # trains again, compares

`studio export PROJECT --format bundle` and `studio reproduce BUNDLE` call
these (and the window's File > Export... is to). A bundle is one folder (or a
zip of it) holding:

    project.studio.json   the graph, dataset and settings that trained the run (the run's snapshot,
                          not the project as it is now), data paths pointing into data/
    train.py              the generated script, exported from the run (with train.weights.h5)
    run.json              the run's exact settings, seed, epochs, recorded final metrics, versions
    requirements.txt      the installed versions of the packages that trained it, pinned
    weights/              the run's final.keras (and best.keras)
    data/                 the data files, with --with-data and when under the size limit
    manifest.json         every file's sha256 and size, and each data file's sha256
    README.md             the one command that reproduces the run

Reproducing never runs the bundle's script, never unpickles and never
writes into the bundle: it checks every file against the manifest (a changed
file is refused, named), checks the data files, loads the project through the
normal loader, trains it with the recorded seed and settings in a fresh
folder (on the CPU unless told otherwise) and compares the final metrics
with the recorded ones within `TOLERANCE`. A zip is checked like a `.keras`
archive (no entries outside it, no links, no decompression bombs) before
anything is extracted. The manifest guards against changes and damage, not
against a sender who rewrites the manifest too: the bundle's code is never
run, so the worst a hostile bundle can do is train a model on its data.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import platform
import shutil
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Optional

from studio import __version__
from studio.core import files
from studio.core.errors import ExportError, StudioError
from studio.project.model import Project
from studio.training import runs
from studio.workflows.hooks import CancelFlag, Progress, check_cancel, report

BUNDLE_FORMAT = "network-studio-bundle"
BUNDLE_VERSION = 1
PROJECT_FILE = "project.studio.json"
SCRIPT_FILE = "train.py"
RUN_FILE = "run.json"
REQUIREMENTS_FILE = "requirements.txt"
MANIFEST_FILE = "manifest.json"
README_FILE = "README.md"
WEIGHTS_DIR = "weights"
DATA_DIR = "data"

#: Data larger than this (all files together) is not copied into a bundle; the manifest still
#: records each file's sha256.
DATA_LIMIT = 100 * 1000 * 1000
#: A seeded run repeated on the CPU: |reproduced - recorded| <= ABS + REL * |recorded|.
TOLERANCE = {"rel": 1e-4, "abs": 1e-5}
#: The packages whose versions decide a run's numbers, pinned in requirements.txt when installed.
PACKAGES = ("network-studio", "tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos",
            "tensorflow-metal", "keras", "numpy", "h5py", "ml-dtypes", "tensorflow-hub", "pillow")
MAX_MANIFEST_BYTES = 16 * 1000 * 1000
MAX_BUNDLE_FILES = 10_000


class BundleError(StudioError):
    """A bundle cannot be written, read or reproduced; the message names the file."""


@dataclass
class BundleResult:
    path: Path
    run_id: str
    files: list[str]
    notes: list[str] = field(default_factory=list)
    data_included: bool = False


@dataclass
class MetricRow:
    name: str
    recorded: Optional[float]
    reproduced: Optional[float]

    @property
    def difference(self) -> Optional[float]:
        if self.recorded is None or self.reproduced is None:
            return None
        if _nan(self.recorded) and _nan(self.reproduced):
            return 0.0
        return abs(self.reproduced - self.recorded)

    @property
    def ok(self) -> bool:
        return within(self.recorded, self.reproduced)

    def to_dict(self) -> dict:
        return {"metric": self.name, "recorded": _json_float(self.recorded),
                "reproduced": _json_float(self.reproduced), "difference": _json_float(self.difference),
                "ok": self.ok}


@dataclass
class ReproduceResult:
    bundle: Path
    run_id: str
    rows: list[MetricRow]
    tolerance: dict
    device: str = ""
    epochs: tuple[int, int] = (0, 0)  # (recorded, reproduced)
    run_dir: Optional[Path] = None  # kept with --keep
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows) and self.epochs[0] == self.epochs[1]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "bundle": str(self.bundle), "run": self.run_id, "device": self.device,
                "epochs": {"recorded": self.epochs[0], "reproduced": self.epochs[1]},
                "tolerance": dict(self.tolerance), "metrics": [r.to_dict() for r in self.rows],
                "run_dir": str(self.run_dir) if self.run_dir else None, "notes": list(self.notes)}


def within(recorded: Optional[float], reproduced: Optional[float], tolerance: dict = TOLERANCE) -> bool:
    """Whether `reproduced` equals `recorded` within `tolerance` (NaN equals NaN)."""
    if recorded is None or reproduced is None:
        return False
    if _nan(recorded) or _nan(reproduced):
        return _nan(recorded) and _nan(reproduced)
    return abs(reproduced - recorded) <= tolerance["abs"] + tolerance["rel"] * abs(recorded)


def tolerance_text(tolerance: dict = TOLERANCE) -> str:
    return (f"|reproduced - recorded| <= {tolerance['abs']:g} + {tolerance['rel']:g} x |recorded| "
            "(a seeded run repeated on the CPU)")


# --- writing a bundle --------------------------------------------------------------------------
def export_bundle(project: Project, path: str | Path, *, run: Optional[str] = None, with_data: bool = False,
                  data_limit: int = DATA_LIMIT, progress: Optional[Progress] = None,
                  cancel: Optional[CancelFlag] = None) -> BundleResult:
    """Write the bundle of `run` (default: the latest finished run) to `path`, a folder or a `.zip`.

    Refused, with one line saying why: a run that did not complete, that continued another run or
    that had no fixed seed (none of those can be repeated), a project without a saved file, a
    target that exists (a folder that is not empty). Nothing is left behind on failure: the
    bundle is made in a temporary folder beside the target and renamed (or zipped) at the end."""
    from studio.workflows.train import find_run

    target = Path(path)
    as_zip = target.suffix.lower() == ".zip"
    if project.path is None:
        raise ExportError(f"{project.name}: save the project before exporting a bundle")
    if target.exists() and not (target.is_dir() and not as_zip and not any(target.iterdir())) \
            and not (as_zip and target.is_file()):
        raise ExportError(f"{target}: already exists; choose a new folder for the bundle (or a .zip path)")
    if not target.parent.is_dir():
        raise ExportError(f"{target.parent}: no such folder")
    info = find_run(project, run)
    config = runs.load_config(info)
    _check_repeatable(info, config)
    check_cancel(cancel, "exporting the bundle")

    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        notes: list[str] = []
        report(progress, f"bundling run {info.id}")
        entries, dataset, script_dataset, included = _bundle_data(
            project, config, staging, with_data, data_limit, notes)
        _write_project(project, config, dataset, staging)
        (staging / WEIGHTS_DIR).mkdir()
        for name in (runs.FINAL_MODEL, runs.BEST_MODEL):
            if (info.path / name).is_file() and (info.path / name).stat().st_size > 0:
                shutil.copyfile(info.path / name, staging / WEIGHTS_DIR / name)
        check_cancel(cancel, "exporting the bundle")
        report(progress, "writing and checking the training script")
        notes += _write_script(staging, info, script_dataset, progress)
        _write_json(staging / RUN_FILE, _run_record(info, config))
        (staging / REQUIREMENTS_FILE).write_text(requirements_text(), encoding="utf-8")
        (staging / README_FILE).write_text(_readme(project, info, config, entries, included,
                                                   target.name), encoding="utf-8")
        manifest = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "studio_version": __version__,
                    "run": info.id, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "files": _file_table(staging), "data": entries}
        _write_json(staging / MANIFEST_FILE, manifest)
        check_cancel(cancel, "exporting the bundle")
        written = sorted([MANIFEST_FILE, *manifest["files"]])
        if as_zip:
            top = target.stem
            files.atomic_write(target, lambda tmp: _zip_folder(staging, tmp, top), suffix=".zip")
        else:
            if target.is_dir():
                target.rmdir()  # empty, checked above
            os.replace(staging, target)
            files.fsync_folder(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if as_zip:
        shutil.rmtree(staging, ignore_errors=True)
    return BundleResult(target, info.id, written, notes, included)


def _check_repeatable(info: runs.RunInfo, config: dict) -> None:
    if info.status != "completed":
        raise ExportError(f"{info.path}: the run is {info.status}; only a completed run can be reproduced "
                          "(train it to the end, then export its bundle)")
    if config.get("parent_run") or (config.get("initial_epoch") or 0) > 0:
        raise ExportError(f"{info.path}: the run continued run {config.get('parent_run')}; a bundle repeats a "
                          "run from its start: train a new run with --seed N and bundle that")
    if not isinstance(config.get("graph"), dict) or not isinstance(config.get("training"), dict):
        raise ExportError(f"{info.path}: config.json lacks the graph or the training settings; train again")
    if config["training"].get("seed") is None:
        raise ExportError(f"{info.path}: the run had no fixed seed, so it cannot be repeated; "
                          "train with a seed (studio train PROJECT --seed N) and bundle that run")
    if not info.final_metrics:
        raise ExportError(f"{info.path}: status.json records no final metrics; train again")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _walk(folder: Path) -> list[Path]:
    """The regular files under `folder`, sorted (links are not followed)."""
    out = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            p = Path(root) / name
            if p.is_file() and not p.is_symlink():
                out.append(p)
    return out


def _data_sources(project: Project, config: dict) -> tuple[dict, list[tuple[str, Path]], Optional[str]]:
    """(the dataset spec that trained the run, [(spec key, file or folder)], sample name or None)."""
    from studio.data import registry

    spec = copy.deepcopy(config.get("dataset") or {})
    if not spec:
        raise ExportError(f"{project.name}: the run records no dataset; train again")
    sample = None
    if spec.get("kind") == "sample":
        sample = str(spec.get("path"))
        if registry.sample(sample).origin == "download":
            return spec, [], sample
        spec = registry.concrete_spec(spec)
    found = []
    for key in ("path", "targets_path"):
        value = spec.get(key)
        if isinstance(value, str) and value:
            found.append((key, registry.resolve_path(value, project.folder)))
    if spec.get("kind") == "npy" and not spec.get("targets_path") and found:
        from studio.data.sources.arrays import TARGET_FILES

        beside = next((found[0][1].with_name(n) for n in TARGET_FILES if found[0][1].with_name(n).is_file()), None)
        if beside is not None:
            found.append(("targets_path", beside))
    return spec, found, sample


def _bundle_data(project: Project, config: dict, staging: Path, with_data: bool, limit: int,
                 notes: list[str]) -> tuple[list[dict], dict, dict, bool]:
    """Record (and with `with_data` copy) the run's data files; returns
    (manifest data entries, the bundled project's dataset, the script's dataset, data included)."""
    spec, sources, sample = _data_sources(project, config)
    resolved = copy.deepcopy(config.get("dataset_resolved") or spec)
    if sample is not None and not sources:  # a Keras download: Keras fetches it again
        notes.append(f"the dataset is Keras' {sample!r}, downloaded by Keras: not in the bundle and not checked")
        return [{"keras": sample}], copy.deepcopy(config["dataset"]), resolved, False
    missing = [p for _, p in sources if not p.exists()]
    if missing:
        raise ExportError(f"{missing[0]}: the run's data file is missing, so its sha256 cannot be recorded; "
                          "put it back and export again")
    rel_names: dict[str, str] = {}
    items: list[tuple[Path, str, str]] = []  # (file, bundle path, path inside a data folder)
    for key, source in sources:
        name = source.name
        while name in rel_names.values():
            name = f"{len(rel_names) + 1}-{source.name}"
        rel_names[key] = name
        if source.is_dir():
            for f in _walk(source):
                inner = f.relative_to(source).as_posix()
                items.append((f, f"{DATA_DIR}/{name}/{inner}", inner))
        else:
            items.append((source, f"{DATA_DIR}/{name}", ""))
    total = sum(f.stat().st_size for f, _, _ in items)
    include = with_data and total <= limit
    if with_data and not include:
        notes.append(f"the data ({total / 1e6:.1f} MB) is over the {limit / 1e6:g} MB limit and was not copied; "
                     f"the manifest records each file's sha256: copy them into {DATA_DIR}/ before reproducing")
    keep_sample = sample is not None and not include
    entries = []
    for source, rel, inner in items:
        entry = {"path": rel, "sha256": _sha256(source), "size": source.stat().st_size, "included": include,
                 "original": str(source)}
        if keep_sample:
            entry = {"sample": sample, "file": inner, "sha256": entry["sha256"], "size": entry["size"]}
        entries.append(entry)
        if include:
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
    if keep_sample:  # the app's own copy of the sample: the project keeps naming the sample
        return entries, copy.deepcopy(config["dataset"]), resolved, False
    bundled = copy.deepcopy(spec)
    for key, name in rel_names.items():
        bundled[key] = f"{DATA_DIR}/{name}"
        if key in resolved or key == "targets_path":
            resolved[key] = f"{DATA_DIR}/{name}"
    return entries, bundled, resolved, include


def _write_project(project: Project, config: dict, dataset: dict, staging: Path) -> None:
    from studio.project.io import dumps_project, project_from_dict

    data = project.to_dict()
    data["graph"] = copy.deepcopy(config["graph"])
    data["dataset"] = dataset
    data["training"] = copy.deepcopy(config["training"])
    data["assets"] = {}
    bundled = project_from_dict(json.loads(json.dumps(data)), PROJECT_FILE, project.graph.catalog)
    (staging / PROJECT_FILE).write_text(dumps_project(bundled), encoding="utf-8")


def _write_script(staging: Path, info: runs.RunInfo, dataset: dict, progress: Optional[Progress]) -> list[str]:
    """train.py from the run's model and settings, its data paths relative to the bundle folder."""
    from studio.compiler.plan import make_plan
    from studio.export import project_export as pe
    from studio.export.codegen import check_plan
    from studio.export.exporters import export_model
    from studio.project.io import load_project

    project = load_project(staging / PROJECT_FILE)
    log = progress or (lambda _line: None)
    check_plan(make_plan(project.graph, project.name), project.graph.catalog)
    source = pe.model_source(project, str(info.path), "final", log)
    source.dataset = dataset
    bare = pe.graph_model(source)
    data, scale, reference = pe.script_data(project, source, bare)
    settings = pe.script_settings(project, source.plan, SCRIPT_FILE[:-3], source.task, scale, data)
    settings.data_base_dir = None  # data/... relative to the bundle folder, where the script runs
    result = export_model(reference, "python", staging / SCRIPT_FILE, plan=source.plan,
                          script_settings=settings, graph_model=bare)
    return [n for n in result.notes if not n.startswith("weights in ")]


def _evaluation_metrics(info: runs.RunInfo) -> dict[str, float]:
    evaluation = runs.load_evaluation(info) or {}
    keras_values = evaluation.get("keras") if isinstance(evaluation.get("keras"), dict) else {}
    return {f"test_{k}": float(v) for k, v in keras_values.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _run_record(info: runs.RunInfo, config: dict) -> dict:
    training = config["training"]
    return {
        "format": "network-studio-bundle-run",
        "run": info.id,
        "project": config.get("project"),
        "seed": training.get("seed"),
        "epochs": training.get("epochs"),
        "epochs_done": info.epochs_done,
        "batch_size": training.get("batch_size"),
        "settings": copy.deepcopy(training),
        "dataset": copy.deepcopy(config.get("dataset")),
        "counts": copy.deepcopy(config.get("counts")),
        "task": copy.deepcopy(config.get("task")),
        "strategy": config.get("strategy"),
        "device": info.device or config.get("device"),
        "final_metrics": dict(info.final_metrics),
        "test_metrics": _evaluation_metrics(info),
        "best": copy.deepcopy(info.best),
        "tolerance": dict(TOLERANCE),
        "studio_version": config.get("studio_version") or __version__,
        "exported_by": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def installed_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def requirements_text() -> str:
    lines = [f"# The versions that trained this run (Python {platform.python_version()}, "
             f"{platform.system()} {platform.machine()})."]
    lines += [f"{name}=={version}" for name, version in installed_versions().items()]
    return "\n".join(lines) + "\n"


def _readme(project: Project, info: runs.RunInfo, config: dict, entries: list[dict], included: bool,
            folder: str) -> str:
    training = config["training"]
    metrics = "\n".join(f"| {k} | {v:.6g} |" for k, v in sorted(info.final_metrics.items()))
    if included:
        data = f"The data is included in `{DATA_DIR}/`; its sha256 is in `{MANIFEST_FILE}`."
    elif any("sample" in e for e in entries):
        data = ("The data is Network Studio's bundled sample "
                f"{entries[0]['sample']!r}; `studio reproduce` checks that the installed copy has the recorded sha256.")
    elif any("keras" in e for e in entries):
        data = "The data is a Keras dataset, downloaded by Keras on first use (not checked)."
    else:
        names = ", ".join(f"`{e['path']}`" for e in entries)
        data = (f"The data is not included: copy the files into the bundle ({names}); "
                f"`{MANIFEST_FILE}` holds the sha256 each must have.")
    return f"""# {project.name}: a reproducible training run

Run `{info.id}`, trained with seed {training.get('seed')} for {info.epochs_done} epoch(s)
(batch size {training.get('batch_size')}) by Network Studio {config.get('studio_version') or __version__}.

## Reproduce it

    pip install -r {REQUIREMENTS_FILE}
    studio reproduce {folder}

This trains `{PROJECT_FILE}` again with the recorded seed and settings in a fresh folder (on the CPU)
and compares the final metrics with the recorded ones: {tolerance_text()}.
It exits 0 when they match, 1 when they do not. It first checks every file against `{MANIFEST_FILE}`.

{data}

## What is here

- `{PROJECT_FILE}`: the graph, dataset and training settings that trained the run (open it in Network Studio).
- `{SCRIPT_FILE}`: the same model and training as a plain Keras script, run in this folder
  (`python {SCRIPT_FILE}`); it starts from the trained weights in `train.weights.h5` when that file is
  there (delete it to train from scratch). `studio reproduce` never runs it.
- `{RUN_FILE}`: the run's exact settings, seed, epochs and recorded metrics.
- `{REQUIREMENTS_FILE}`: the package versions that trained it.
- `{WEIGHTS_DIR}/`: the trained model (`final.keras`, and `best.keras` by validation loss).
- `{MANIFEST_FILE}`: every file's size and sha256.

## Recorded final metrics

| metric | value |
|---|---|
{metrics}
"""


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=True, default=str) + "\n", encoding="utf-8")


def _file_table(folder: Path) -> dict[str, dict]:
    return {f.relative_to(folder).as_posix(): {"sha256": _sha256(f), "size": f.stat().st_size}
            for f in _walk(folder) if f.relative_to(folder).as_posix() != MANIFEST_FILE}


def _zip_folder(folder: Path, tmp: Path, top: str) -> None:
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for f in _walk(folder):
            rel = f.relative_to(folder).as_posix()
            archive.write(f, f"{top}/{rel}")


# --- reading a bundle --------------------------------------------------------------------------
def _safe_rel(name: Any) -> Optional[PurePosixPath]:
    """A manifest path as a relative path inside the bundle, or None when it is not one."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        return None
    rel = PurePosixPath(name)
    if rel.is_absolute() or any(part in ("..", "") for part in rel.parts) or ":" in rel.parts[0]:
        return None
    return rel


def _inside(root: Path, rel: PurePosixPath) -> Path:
    """root/rel, refusing a path that leaves `root` through a link."""
    path = root.joinpath(*rel.parts)
    real_root = root.resolve()
    try:
        path.resolve().relative_to(real_root)
    except ValueError:
        raise BundleError(f"{root}: {rel} leads outside the bundle (a symbolic link); refused") from None
    return path


def _extract(zip_path: Path, into: Path) -> Path:
    """Extract a checked bundle zip into `into`; returns the bundle's folder inside it."""
    from studio.compiler.archive import check_keras_archive

    if not zipfile.is_zipfile(zip_path):
        raise BundleError(f"{zip_path}: not a zip file; a bundle is a folder or a .zip written by "
                          "studio export --format bundle")
    infos = check_keras_archive(zip_path, BundleError)  # names, links, sizes, bombs: before extracting
    with zipfile.ZipFile(zip_path) as archive:
        for info in infos:
            if info.is_dir():
                continue
            rel = _safe_rel(info.filename)
            if rel is None:
                raise BundleError(f"{zip_path}: refused: the entry {info.filename[:200]!r} is not a plain "
                                  "relative path; nothing was run")
            dest = into.joinpath(*rel.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with archive.open(info) as src, open(dest, "xb") as out:
                for block in iter(lambda: src.read(1 << 20), b""):
                    written += len(block)
                    if written > info.file_size:
                        raise BundleError(f"{zip_path}: refused: {info.filename[:200]} unpacks to more than "
                                          "it declares; the file is damaged or hostile")
                    out.write(block)
    if (into / MANIFEST_FILE).is_file():
        return into
    tops = [p for p in into.iterdir() if p.is_dir()]
    if len(tops) == 1 and (tops[0] / MANIFEST_FILE).is_file():
        return tops[0]
    raise BundleError(f"{zip_path}: no {MANIFEST_FILE} in the zip; not a bundle written by "
                      "studio export --format bundle")


def _read_manifest(root: Path, shown: Path) -> dict:
    from studio.project.io import read_json

    path = root / MANIFEST_FILE
    if not path.is_file():
        raise BundleError(f"{shown}: no {MANIFEST_FILE}; not a bundle written by studio export --format bundle")
    try:
        manifest = read_json(path, MAX_MANIFEST_BYTES)
    except StudioError as exc:
        raise BundleError(f"{shown}/{MANIFEST_FILE}: {_after_path(exc)}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{shown}/{MANIFEST_FILE}: not a Network Studio bundle manifest")
    version = manifest.get("version")
    if not isinstance(version, int) or version > BUNDLE_VERSION:
        raise BundleError(f"{shown}/{MANIFEST_FILE}: bundle version {version!r} is newer than this "
                          f"Network Studio ({__version__}) reads; update it")
    table = manifest.get("files")
    if not isinstance(table, dict) or not table or len(table) > MAX_BUNDLE_FILES:
        raise BundleError(f"{shown}/{MANIFEST_FILE}: \"files\" must list the bundle's files")
    if not isinstance(manifest.get("data", []), list):
        raise BundleError(f"{shown}/{MANIFEST_FILE}: \"data\" must be a list")
    return manifest


def _after_path(exc: BaseException) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if ": " in text else text


def verify_bundle(root: Path, shown: Optional[Path] = None) -> dict:
    """Check every file the manifest lists (inside the bundle, present, same size and sha256);
    returns the manifest. A changed or missing file is a `BundleError` naming it."""
    shown = shown or root
    manifest = _read_manifest(root, shown)
    for name, record in manifest["files"].items():
        rel = _safe_rel(name)
        if rel is None or rel.parts[0] == MANIFEST_FILE:
            raise BundleError(f"{shown}/{MANIFEST_FILE}: refused: the entry {str(name)[:200]!r} is not a path "
                              "inside the bundle")
        if not isinstance(record, dict) or not isinstance(record.get("sha256"), str):
            raise BundleError(f"{shown}/{MANIFEST_FILE}: the entry {name!r} has no sha256")
        path = _inside(root, rel)
        try:
            st = path.lstat()
        except OSError:
            raise BundleError(f"{shown}/{name}: missing from the bundle (the manifest lists it); "
                              "the bundle is incomplete") from None
        if not stat.S_ISREG(st.st_mode):
            raise BundleError(f"{shown}/{name}: not a regular file; refused")
        if st.st_size != record.get("size", st.st_size) or _sha256(path) != record["sha256"]:
            raise BundleError(f"{shown}/{name}: sha256 does not match the manifest: the file was changed "
                              "after the bundle was exported; refusing to reproduce it")
    for required in (PROJECT_FILE, RUN_FILE):
        if required not in manifest["files"]:
            raise BundleError(f"{shown}/{MANIFEST_FILE}: does not list {required}; not a complete bundle")
    return manifest


def check_data(root: Path, manifest: dict, shown: Path, unzipped: Optional[Path] = None) -> list[str]:
    """Check the data files the run trained on; returns notes. A missing or different file is a
    `BundleError` naming it and where it should be (`unzipped`: where the zip `shown` unzips to)."""
    from studio.data import registry, samples

    notes = []
    for entry in manifest.get("data") or []:
        if not isinstance(entry, dict):
            raise BundleError(f"{shown}/{MANIFEST_FILE}: a \"data\" entry is not an object")
        if "keras" in entry:
            notes.append(f"the dataset {entry['keras']!r} is downloaded by Keras: not checked")
            continue
        expected = entry.get("sha256")
        if "sample" in entry:
            sample = registry.sample(str(entry["sample"]))
            location = samples.ensure(sample.name)
            inner = _safe_rel(entry.get("file")) if entry.get("file") else None
            if entry.get("file") and inner is None:
                raise BundleError(f"{shown}/{MANIFEST_FILE}: refused: the sample file {str(entry['file'])[:200]!r} "
                                  "is not a relative path")
            path = location if inner is None else _inside(location, inner)
            if not path.is_file() or _sha256(path) != expected:
                raise BundleError(f"{path}: this installation's sample {sample.name!r} differs from the one that "
                                  f"trained the run (sha256 {str(expected)[:12]}...); install the versions in "
                                  f"{REQUIREMENTS_FILE} or export the bundle with --with-data")
            continue
        rel = _safe_rel(entry.get("path"))
        if rel is None or rel.parts[0] != DATA_DIR:
            raise BundleError(f"{shown}/{MANIFEST_FILE}: refused: the data path {str(entry.get('path'))[:200]!r} "
                              f"is not inside {DATA_DIR}/")
        path = _inside(root, rel)
        where = f"{shown}/{rel}"
        if not path.is_file():
            original = entry.get("original")
            was = f" (it was {original} when exported)" if original else ""
            if unzipped is not None:
                raise BundleError(f"{shown}: the data file {rel} is not in the zip; unzip it and copy the file to "
                                  f"{unzipped}/{rel}{was}, then reproduce that folder: it must have sha256 "
                                  f"{expected}")
            raise BundleError(f"{where}: the data file is missing; copy it there{was}: it must have sha256 "
                              f"{expected}")
        if _sha256(path) != expected:
            raise BundleError(f"{where}: the data file differs from the one that trained the run "
                              f"(its sha256 is not {str(expected)[:16]}...); put the original file there")
    return notes


def reproduce_bundle(path: str | Path, *, keep: Optional[str | Path] = None, device: str = "cpu",
                     progress: Optional[Progress] = None, cancel: Optional[CancelFlag] = None,
                     reporter: Any = None, trust_modules: bool = True) -> ReproduceResult:
    """Check the bundle at `path` (folder or zip), train its project again with the recorded seed
    and settings in a fresh folder (`keep`: that folder, kept; default a temporary one, removed),
    and compare the final metrics with the recorded ones. `trust_modules=False` refuses a project
    that names TensorFlow Hub / SavedModel modules (`studio reproduce` without --trust-modules)."""
    from studio.project.io import load_project, read_json
    from studio.workflows.train import make_session, training_config

    bundle = Path(path)
    if not bundle.exists():
        raise BundleError(f"{bundle}: no such file or folder")
    scratch = Path(tempfile.mkdtemp(prefix="studio-reproduce-"))
    try:
        root = _extract(bundle, scratch / "bundle") if bundle.is_file() else bundle
        manifest = verify_bundle(root, bundle)
        unzipped = None
        if bundle.is_file():  # where unzipping puts the bundle's folder
            inner = root.relative_to(scratch / "bundle")
            unzipped = bundle.parent.joinpath(*inner.parts) if inner.parts else bundle.with_suffix("")
        notes = check_data(root, manifest, bundle, unzipped)
        record = read_json(root / RUN_FILE, MAX_MANIFEST_BYTES)
        recorded = record.get("final_metrics") if isinstance(record, dict) else None
        if not isinstance(recorded, dict) or not recorded:
            raise BundleError(f"{bundle}/{RUN_FILE}: records no final metrics; nothing to compare")
        check_cancel(cancel, "reproducing the bundle")

        work = Path(keep) if keep else scratch / "work"
        if work.exists() and any(work.iterdir()):
            raise BundleError(f"{work}: already exists and is not empty; choose a new folder for --keep")
        work.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / PROJECT_FILE, work / PROJECT_FILE)
        for entry in manifest.get("data") or []:  # bundled, or copied in by the user; checked above
            if "path" in entry and "sample" not in entry and "keras" not in entry:
                rel = _safe_rel(entry["path"])
                dest = work.joinpath(*rel.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(_inside(root, rel), dest)
        project = load_project(work / PROJECT_FILE)
        from studio.hub.trust import require_trust

        require_trust(project, trust_modules, f"{bundle}/{PROJECT_FILE}")
        config = training_config(project, device=device)
        if config.seed is None:
            raise BundleError(f"{bundle}/{PROJECT_FILE}: the training settings have no seed; not reproducible")
        report(progress, f"{bundle}: every file matches the manifest; training {project.name} with seed {config.seed} for {config.epochs} epoch(s) "
                         f"on {device}")
        session = make_session(project, reporter, config=config)  # runs in project.runs/ beside it
        result = session.run()
        if result.status != "completed":
            raise BundleError(f"{bundle}: the reproduction {result.status}: {result.message}")
        rows = [MetricRow(k, _number(v), _number(result.final_logs.get(k))) for k, v in sorted(recorded.items())]
        test_recorded = record.get("test_metrics") if isinstance(record.get("test_metrics"), dict) else {}
        if test_recorded:
            keras_now = (result.evaluation or {}).get("keras") or {}
            rows += [MetricRow(k, _number(v), _number(keras_now.get(k[len("test_"):])))
                     for k, v in sorted(test_recorded.items())]
        epochs = (int(record.get("epochs_done") or 0), int(result.epochs_done))
        return ReproduceResult(bundle, str(record.get("run") or ""), rows, dict(TOLERANCE), result.device,
                               epochs, result.run_dir if keep else None, notes)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _nan(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _json_float(value: Optional[float]) -> Optional[float]:
    return None if value is None or not math.isfinite(value) else value


def result_lines(result: BundleResult) -> list[str]:
    """What `export_bundle` wrote, for people."""
    lines = [f"note: {note}" for note in result.notes]
    lines.append(f"Exported the bundle of run {result.run_id} to {result.path} ({len(result.files)} files"
                 f"{', data included' if result.data_included else ''})")
    lines.append(f"Reproduce it with: studio reproduce {result.path}")
    return lines


def table_lines(result: ReproduceResult) -> list[str]:
    """The comparison as a table, the tolerance and the verdict."""
    def fmt(v: Optional[float]) -> str:
        return "-" if v is None else f"{v:.6g}"

    width = max([len("metric")] + [len(r.name) for r in result.rows])
    lines = [f"{'metric':<{width}}  {'recorded':>12}  {'reproduced':>12}  {'difference':>10}"]
    for r in result.rows:
        lines.append(f"{r.name:<{width}}  {fmt(r.recorded):>12}  {fmt(r.reproduced):>12}  "
                     f"{fmt(r.difference):>10}  {'ok' if r.ok else 'DIFFERS'}")
    lines.append(f"Tolerance: {tolerance_text(result.tolerance)}")
    if result.epochs[0] != result.epochs[1]:
        lines.append(f"Epochs: recorded {result.epochs[0]}, reproduced {result.epochs[1]}")
    bad = [r for r in result.rows if not r.ok]
    if result.ok:
        lines.append(f"Reproduced run {result.run_id}: all {len(result.rows)} metrics match ({result.device}).")
    else:
        lines.append(f"Not reproduced: {len(bad)} of {len(result.rows)} metrics differ beyond the tolerance "
                     f"({result.device}).")
    if result.run_dir:
        lines.append(f"Run saved in {result.run_dir}")
    return lines

