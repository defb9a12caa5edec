"""A wheel carries resources/ and projects/, and an installed copy finds them.

The wheel is built offline from a copy of the repository's sources (so the
shared checkout gets no build/ or egg-info from the test), installed with
`pip install --target`, and exercised in fresh processes whose PYTHONPATH puts
the installed copy ahead of the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What a source distribution holds (MANIFEST.in and setuptools' defaults); local artefacts left out.
SOURCES = ("pyproject.toml", "README.md", "MANIFEST.in", "packaging", "studio", "resources", "projects")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.runs", "*.vocab.txt", "*.egg-info", "build")


def _copy_sources(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=IGNORE)
        else:
            shutil.copy2(src, dest / name)
    return dest


def _run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def _build_wheel(source: Path, out: Path) -> Path:
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--disable-pip-version-check", "-q", "-w", str(out), "."], cwd=source)
    wheels = list(out.glob("network_studio-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _bundled_names(wheel: Path) -> set[str]:
    prefix = "studio/_bundled/"
    with zipfile.ZipFile(wheel) as z:
        return {n[len(prefix):] for n in z.namelist() if n.startswith(prefix)}


def _shipped(folder: str) -> set[str]:
    """The repository's files of `folder` a wheel must carry (as `folder/rel`)."""
    root = REPO / folder
    out = set()
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if p.is_file() and not any(part == "__pycache__" or part.endswith(".runs") for part in rel.parts) \
                and not p.name.endswith((".pyc", ".vocab.txt")):
            out.add(f"{folder}/{rel.as_posix()}")
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if shutil.which("pip") is None and subprocess.run(
            [sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        pytest.skip("pip is not installed in this Python")
    try:
        import wheel as _wheel  # noqa: F401  (setuptools needs it for bdist_wheel on setuptools < 70.1)
    except ImportError:
        pytest.skip("the 'wheel' package is missing from this environment (pip install wheel)")
    base = tmp_path_factory.mktemp("wheel")
    return _build_wheel(_copy_sources(base / "src"), base / "dist")


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("installed") / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
          "-q", "--target", str(target), str(wheel)], cwd=target.parent)
    return target


def _installed_env(site: Path, tmp: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(site)  # the installed copy, not the checkout
    env["STUDIO_CACHE_DIR"] = str(tmp / "cache")
    env["STUDIO_OFFLINE"] = "1"
    env["QT_QPA_PLATFORM"] = "offscreen"
    for key in ("STUDIO_DATASETS_DIR", "STUDIO_DEBUG"):
        env.pop(key, None)
    return env


def test_wheel_carries_every_icon_style_dataset_and_example(wheel):
    names = _bundled_names(wheel)
    expected = _shipped("resources") | _shipped("projects")
    assert expected - names == set(), "missing from the wheel"
    for must in ("resources/styles/base.qss", "resources/icons/actions/save.svg",
                 "resources/icons/categories/core.svg", "resources/datasets/iris.csv",
                 "resources/datasets/README.md", "projects/iris-mlp.studio.json"):
        assert must in names
    with zipfile.ZipFile(wheel) as z:
        top = {n.split("/", 1)[0] for n in z.namelist()}
        # Nothing at the top of site-packages but the package and its metadata (no resources/, no
        # projects/, no packaging/bundled_build.py).
        assert {t for t in top if not t.endswith(".dist-info")} == {"studio"}
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in z.namelist())
        assert z.read("studio/_bundled/projects/iris-mlp.studio.json") == \
            (REPO / "projects" / "iris-mlp.studio.json").read_bytes()


def test_installed_copy_finds_its_own_folders(site, tmp_path):
    code = """
import json, studio
from studio.core import paths
from studio.data import registry
from studio.ui import files, icons, theme
print(json.dumps({
    "studio": studio.__file__,
    "resources": str(paths.resources_dir()),
    "projects": str(paths.projects_dir()),
    "datasets": str(registry.resources_dir()),
    "icons": str(icons.icons_dir()),
    "example": str(files.EXAMPLE),
    "example_exists": files.EXAMPLE.is_file(),
    "stylesheet": len(theme.stylesheet(theme.current())),
}))
"""
    out = json.loads(_run([sys.executable, "-c", code], cwd=tmp_path, env=_installed_env(site, tmp_path)).stdout)
    bundled = site / "studio" / "_bundled"
    assert Path(out["studio"]).is_relative_to(site)
    assert Path(out["resources"]) == bundled / "resources" and (bundled / "resources" / "styles").is_dir()
    assert Path(out["projects"]) == bundled / "projects"
    assert Path(out["datasets"]) == bundled / "resources" / "datasets"
    assert (Path(out["icons"]) / "actions" / "save.svg").is_file()
    assert Path(out["example"]).is_relative_to(bundled) and out["example_exists"]
    assert out["stylesheet"] > 0, "the installed copy found no style sheets"


def test_installed_studio_checks_the_example_and_describes_a_sample(site, tmp_path):
    env = _installed_env(site, tmp_path)
    example = site / "studio" / "_bundled" / "projects" / "iris-mlp.studio.json"
    checked = _run([sys.executable, "-m", "studio", "check", "--json", str(example)], cwd=tmp_path, env=env)
    report = json.loads(checked.stdout)
    # ok includes the data check: the sample's file was found in the installed copy.
    assert report["ok"] and report["total_params"] > 0, report["diagnostics"]
    described = _run([sys.executable, "-m", "studio", "data", "--json", "iris"], cwd=tmp_path, env=env)
    info = json.loads(described.stdout)
    assert Path(info["path"]) == site / "studio" / "_bundled" / "resources" / "datasets" / "iris.csv"
    assert info["num_samples"] == 150 and info["class_counts"] == [50, 50, 50]


def test_sdist_carries_the_folders_and_builds_the_same_wheel(tmp_path):
    source = _copy_sources(tmp_path / "src")
    # the backend pyproject.toml names, loaded from its backend-path as a frontend does
    code = ("import sys; sys.path.insert(0, 'packaging'); import studio_build as b; "
            "print(b.build_sdist(sys.argv[1]))")
    name = _run([sys.executable, "-c", code, str(tmp_path / "sdist")], cwd=source).stdout.strip().splitlines()[-1]
    with tarfile.open(tmp_path / "sdist" / name) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
        assert {"packaging/bundled_build.py", "packaging/studio_build.py", "MANIFEST.in"} <= members
        assert (_shipped("resources") | _shipped("projects")) - members == set()
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tmp_path / "unpacked", filter="data")
        else:
            tar.extractall(tmp_path / "unpacked")  # our own archive, just built
    wheel = _build_wheel(tmp_path / "unpacked" / name.removesuffix(".tar.gz"), tmp_path / "dist")
    assert {"resources/datasets/iris.csv", "projects/iris-mlp.studio.json"} <= _bundled_names(wheel)


def test_installed_example_trains(site, tmp_path):
    # The installed example names its data as a bundled sample; runs go outside site-packages.
    env = _installed_env(site, tmp_path)
    example = site / "studio" / "_bundled" / "projects" / "iris-mlp.studio.json"
    _run([sys.executable, "-m", "studio", "train", "--epochs", "2", "--seed", "1", "--run-dir",
          str(tmp_path / "runs"), str(example)], cwd=tmp_path, env=env, timeout=600)
    histories = list((tmp_path / "runs").rglob("history.csv"))
    assert len(histories) == 1
    rows = histories[0].read_text(encoding="utf-8").strip().splitlines()
    assert rows[0].startswith("epoch,") and [r.split(",")[0] for r in rows[1:]] == ["1", "2"]
    assert not list((site / "studio" / "_bundled" / "projects").glob("*.runs")), "wrote into the install"
