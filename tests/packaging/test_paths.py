"""studio.core.paths: the checkout's top-level folders, else the installed copy, else one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core import paths
from studio.core.errors import StudioError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_cache():
    paths.bundled_dir.cache_clear()
    yield
    paths.bundled_dir.cache_clear()


def test_checkout_reads_the_top_level_folders():
    assert paths.checkout_root() == REPO
    assert paths.resources_dir() == REPO / "resources"
    assert paths.projects_dir() == REPO / "projects"
    assert (paths.resources_dir() / "styles" / "base.qss").is_file()
    assert (paths.projects_dir() / "iris-mlp.studio.json").is_file()


def test_every_caller_uses_the_checkout_folders():
    from studio.data import registry

    assert registry.resources_dir() == REPO / "resources" / "datasets"
    assert registry.sample_path(registry.sample("iris")) == REPO / "resources" / "datasets" / "iris.csv"


def test_installed_copy_is_used_outside_a_checkout(tmp_path, monkeypatch):
    installed = tmp_path / "site" / "studio" / "_bundled"
    (installed / "resources").mkdir(parents=True)
    (installed / "projects").mkdir()
    monkeypatch.setattr(paths, "checkout_root", lambda: None)
    monkeypatch.setattr(paths, "installed_dir", lambda name: installed / name)
    assert paths.resources_dir() == installed / "resources"
    assert paths.projects_dir() == installed / "projects"


def test_a_checkout_without_the_folder_falls_back_to_the_installed_copy(tmp_path, monkeypatch):
    (tmp_path / "checkout").mkdir()
    (tmp_path / "installed" / "projects").mkdir(parents=True)
    monkeypatch.setattr(paths, "checkout_root", lambda: tmp_path / "checkout")
    monkeypatch.setattr(paths, "installed_dir", lambda name: tmp_path / "installed" / name)
    assert paths.projects_dir() == tmp_path / "installed" / "projects"


def test_neither_folder_is_one_clear_error_naming_both_places(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "checkout_root", lambda: tmp_path / "checkout")
    monkeypatch.setattr(paths, "installed_dir", lambda name: tmp_path / "site" / name)
    with pytest.raises(StudioError) as info:
        paths.resources_dir()
    message = str(info.value)
    assert "\n" not in message and "resources" in message and "reinstall" in message
    assert str(tmp_path / "checkout" / "resources") in message and str(tmp_path / "site" / "resources") in message
    # A failure is not cached: once the folder appears it is found.
    (tmp_path / "site" / "resources").mkdir(parents=True)
    assert paths.resources_dir() == tmp_path / "site" / "resources"


def test_a_site_packages_folder_is_not_mistaken_for_a_checkout(tmp_path, monkeypatch):
    # site-packages may hold an unrelated top-level resources/ from another package.
    site = tmp_path / "site"
    (site / "studio" / "core").mkdir(parents=True)
    (site / "resources").mkdir()
    monkeypatch.setattr(paths, "__file__", str(site / "studio" / "core" / "paths.py"))
    assert paths.checkout_root() is None
    (site / "pyproject.toml").write_text("")
    assert paths.checkout_root() == site


def test_only_the_bundled_folders_are_known():
    with pytest.raises(ValueError, match="resources, projects"):
        paths.bundled_dir("docs")


def test_the_paths_module_is_pure():
    import subprocess
    import sys

    code = ("import sys, studio.core.paths as p; p.resources_dir(); "
            "print(sorted(m for m in ('PySide6', 'tensorflow', 'keras', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
