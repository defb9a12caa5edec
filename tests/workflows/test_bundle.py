"""Reproducible bundles (issue 17, point 3): `studio export --format bundle` and `studio reproduce`.

One seeded 2-epoch run of the iris example (copied to a temporary folder) is bundled once with
--with-data; the tests reproduce copies of that bundle in fresh folders, tamper with them, and
write the same run as a zip. Everything runs in-process through `studio.cli.main`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from studio.cli import main
from studio.workflows import bundle as bundle_workflow

PROJECTS = Path(__file__).resolve().parents[2] / "projects"
SEED = 5


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """(project file, bundle folder, recorded final metrics): a seeded run bundled with its data."""
    folder = tmp_path_factory.mktemp("bundle-source")
    project = folder / "iris-mlp.studio.json"
    shutil.copy(PROJECTS / project.name, project)
    assert main(["train", str(project), "--epochs", "2", "--seed", str(SEED), "--json"]) == 0
    # The project changes after the run: the bundle keeps what trained it.
    data = json.loads(project.read_text(encoding="utf-8"))
    next(n for n in data["graph"]["nodes"] if n["id"] == "hidden")["params"]["units"] = 32
    data["training"]["epochs"] = 7
    project.write_text(json.dumps(data), encoding="utf-8")
    out = folder / "iris-bundle"
    assert main(["export", str(project), "--format", "bundle", "--with-data", "-o", str(out)]) == 0
    status = json.loads(next((folder / "iris-mlp.runs").iterdir()).joinpath("status.json").read_text())
    return project, out, status["final_metrics"]


def _copy(bundle: Path, tmp_path: Path) -> Path:
    fresh = tmp_path / "elsewhere" / "bundle"
    shutil.copytree(bundle, fresh)
    return fresh


def test_the_bundle_holds_what_trained_the_run(made):
    _, bundle, final = made
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert {"project.studio.json", "train.py", "run.json", "requirements.txt", "manifest.json", "README.md",
            "weights/final.keras", "weights/best.keras", "data/iris.csv"} <= names
    project = json.loads((bundle / "project.studio.json").read_text(encoding="utf-8"))
    hidden = next(n for n in project["graph"]["nodes"] if n["id"] == "hidden")
    assert hidden["params"]["units"] == 16  # the run's graph, not the project's current one
    assert project["training"]["seed"] == SEED and project["training"]["epochs"] == 2
    assert project["dataset"]["path"] == "data/iris.csv"
    run = json.loads((bundle / "run.json").read_text(encoding="utf-8"))
    assert run["seed"] == SEED and run["epochs"] == 2 and run["final_metrics"] == final
    assert run["tolerance"] == bundle_workflow.TOLERANCE and "test_accuracy" in run["test_metrics"]
    requirements = (bundle / "requirements.txt").read_text(encoding="utf-8").splitlines()
    import keras
    import numpy

    assert f"keras=={keras.__version__}" in requirements and f"numpy=={numpy.__version__}" in requirements
    assert any(line.startswith("tensorflow==") for line in requirements)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == names - {"manifest.json"}
    for name, record in manifest["files"].items():
        assert hashlib.sha256((bundle / name).read_bytes()).hexdigest() == record["sha256"], name
    (entry,) = manifest["data"]
    assert entry["path"] == "data/iris.csv" and entry["included"] is True
    assert entry["sha256"] == hashlib.sha256((bundle / "data/iris.csv").read_bytes()).hexdigest()
    assert "studio reproduce iris-bundle" in (bundle / "README.md").read_text(encoding="utf-8")
    # the script's default data path is the bundle's copy, relative to the script itself
    assert 'DATA_PATH = Path(__file__).resolve().parent / "data/iris.csv"' in (bundle / "train.py").read_text(
        encoding="utf-8")


def test_reproducing_the_bundle_in_a_fresh_folder_matches(made, tmp_path, capsys):
    _, bundle, final = made
    fresh = _copy(bundle, tmp_path)
    before = {p: p.read_bytes() for p in fresh.rglob("*") if p.is_file()}
    rc, out, err = _run(capsys, "reproduce", fresh)
    assert rc == 0, err[-2000:]
    assert "all 7 metrics match (CPU)" in out
    assert "Tolerance: |reproduced - recorded| <= 1e-05 + 0.0001 x |recorded|" in out
    for name in final:
        assert any(line.startswith(name) and line.rstrip().endswith("ok") for line in out.splitlines()), name
    # nothing was written into the bundle
    assert {p: p.read_bytes() for p in fresh.rglob("*") if p.is_file()} == before


def test_a_changed_file_is_refused_naming_it(made, tmp_path, capsys):
    fresh = _copy(made[1], tmp_path)
    with open(fresh / "train.py", "a", encoding="utf-8") as handle:
        handle.write("\nimport os; os.system('echo hacked')\n")
    rc, out, err = _run(capsys, "reproduce", fresh)
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 1 and len(lines) == 1, err
    assert "train.py" in lines[0] and "sha256 does not match the manifest" in lines[0]
    assert "Epoch" not in out + err  # refused before any training


def test_a_missing_data_file_says_where_it_belongs(made, tmp_path, capsys):
    fresh = _copy(made[1], tmp_path)
    (fresh / "data" / "iris.csv").unlink()
    manifest = json.loads((fresh / "manifest.json").read_text(encoding="utf-8"))
    del manifest["files"]["data/iris.csv"]  # as a bundle exported without --with-data
    (fresh / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    rc, _, err = _run(capsys, "reproduce", fresh)
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 1 and len(lines) == 1, err
    assert f"{fresh}/data/iris.csv: the data file is missing; copy it there" in lines[0]
    assert "sha256" in lines[0]


def test_a_changed_data_file_is_refused(made, tmp_path, capsys):
    fresh = _copy(made[1], tmp_path)
    with open(fresh / "data" / "iris.csv", "a", encoding="utf-8") as handle:
        handle.write("5.0,3.0,1.0,0.2,setosa\n")
    rc, _, err = _run(capsys, "reproduce", fresh)
    assert rc == 1 and "data/iris.csv" in err and "sha256" in err


def test_manifest_paths_must_stay_inside_the_bundle(made, tmp_path, capsys):
    fresh = _copy(made[1], tmp_path)
    manifest = json.loads((fresh / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["../outside.txt"] = {"sha256": "0" * 64, "size": 1}
    (fresh / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    rc, _, err = _run(capsys, "reproduce", fresh)
    assert rc == 1 and "refused" in err and "../outside.txt" in err


def test_a_zip_bundle_is_written_and_reproduced(made, tmp_path, capsys):
    project, _, final = made
    target = tmp_path / "iris.zip"
    rc, out, err = _run(capsys, "export", project, "--format", "bundle", "-o", target)
    assert rc == 0, err
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
    assert {"iris/manifest.json", "iris/project.studio.json", "iris/train.py", "iris/weights/final.keras"} <= names
    assert not any(n.startswith("iris/data/") for n in names)  # without --with-data: the sample is checked
    assert not [p for p in tmp_path.iterdir() if p.name != "iris.zip"]  # no staging left behind
    rc, out, err = _run(capsys, "reproduce", target, "--json")
    assert rc == 0, err[-2000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["ok"] is True and result["epochs"] == {"recorded": 2, "reproduced": 2}
    assert {row["metric"] for row in result["metrics"]} >= set(final)


def test_a_zip_with_an_entry_outside_is_refused(tmp_path, capsys):
    hostile = tmp_path / "evil.zip"
    with zipfile.ZipFile(hostile, "w") as archive:
        archive.writestr("../escape.txt", "x")
        archive.writestr("manifest.json", "{}")
    rc, _, err = _run(capsys, "reproduce", hostile)
    assert rc == 1 and "refused" in err and "outside the archive" in err
    assert not (tmp_path.parent / "escape.txt").exists()


def test_an_existing_target_and_an_unseeded_run_are_refused(made, tmp_path, capsys):
    project, bundle, _ = made
    rc, _, err = _run(capsys, "export", project, "--format", "bundle", "-o", bundle)
    assert rc == 1 and "already exists" in err
    copy = tmp_path / "iris-mlp.studio.json"
    shutil.copy(PROJECTS / copy.name, copy)
    assert main(["train", str(copy), "--epochs", "1", "--json"]) == 0
    rc, _, err = _run(capsys, "export", copy, "--format", "bundle", "-o", tmp_path / "b")
    assert rc == 1 and "no fixed seed" in err and not (tmp_path / "b").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".b.")]


def test_the_tolerance():
    assert bundle_workflow.within(0.5, 0.5 + 4e-5)
    assert not bundle_workflow.within(0.5, 0.5 + 1e-4)
    assert bundle_workflow.within(float("nan"), float("nan"))
    assert not bundle_workflow.within(0.5, None)
