"""Saving is atomic: on any failure the previous file is left exactly as it was."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import stat
import subprocess

import pytest

from studio.core.errors import ProjectError
from studio.project import load_project, save_project
from tests.project.samples import sample_project


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@contextlib.contextmanager
def read_only(folder):
    """Make `folder` read-only for this process: chmod, or for root (whom chmod
    does not stop) the immutable attribute; skip if neither is possible."""
    if os.name == "posix" and os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("running as root without chattr +i: cannot make a read-only folder")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)


def test_save_into_a_read_only_folder_fails_and_keeps_the_old_file(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = save_project(sample_project(), folder / "p.studio.json")
    before = path.read_bytes()
    project = load_project(path)
    project.graph.set_param("h", "units", 99)
    with read_only(folder):
        with pytest.raises(ProjectError) as info:
            save_project(project)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert "previous file is unchanged" in message or "cannot write" in message
    assert path.read_bytes() == before
    assert leftovers(folder) == []


@pytest.mark.parametrize("failing", ["fsync", "replace", "write"])
def test_a_failure_at_any_step_keeps_the_old_file(tmp_path, monkeypatch, failing):
    path = save_project(sample_project(), tmp_path / "p.studio.json")
    before = path.read_bytes()
    project = load_project(path)
    project.graph.set_param("h", "units", 99)

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if failing == "write":  # half the text is written, then the disk is full
        real_fdopen = os.fdopen

        class HalfWritten:
            def __init__(self, fh):
                self.fh = fh

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.fh.close()

            def write(self, text):
                self.fh.write(text[: len(text) // 2])
                self.fh.flush()
                boom()

        monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: HalfWritten(real_fdopen(fd, *a, **k)))
    else:
        monkeypatch.setattr(os, failing, boom)
    with pytest.raises(ProjectError) as info:
        save_project(project)
    monkeypatch.undo()
    message = str(info.value)
    assert "No space left on device" in message and "previous file is unchanged" in message
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_save_replaces_the_file_and_keeps_its_permissions(tmp_path):
    path = save_project(sample_project(), tmp_path / "p.studio.json")
    path.chmod(0o640)
    project = load_project(path)
    project.graph.set_param("h", "units", 7)
    save_project(project)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert load_project(path).graph.node("h").params["units"] == 7
    assert leftovers(tmp_path) == []


def test_a_new_file_is_readable_by_others(tmp_path):
    path = save_project(sample_project(), tmp_path / "new.studio.json")
    assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044


def test_save_through_a_symlink_replaces_the_target_not_the_link(tmp_path):
    real = save_project(sample_project(), tmp_path / "real.studio.json")
    link = tmp_path / "link.studio.json"
    link.symlink_to(real)
    project = load_project(link)
    project.graph.set_title("h", "renamed")
    save_project(project)
    assert link.is_symlink()
    assert load_project(real).graph.node("h").title == "renamed"


def test_nan_is_refused_before_anything_is_written(tmp_path):
    path = save_project(sample_project(), tmp_path / "p.studio.json")
    before = path.read_bytes()
    project = load_project(path)
    project.training["learning_rate"] = math.nan
    with pytest.raises(ProjectError, match="NaN"):
        save_project(project)
    assert path.read_bytes() == before


def test_save_without_a_path_or_into_a_missing_folder(tmp_path):
    project = sample_project()
    with pytest.raises(ProjectError, match="no file name"):
        save_project(project)
    with pytest.raises(ProjectError, match="does not exist"):
        save_project(project, tmp_path / "missing" / "p.studio.json")
    with pytest.raises(ProjectError, match="is a folder"):
        save_project(project, tmp_path)


def test_saved_text_is_indented_utf8_json(tmp_path):
    project = sample_project()
    project.description = "Netz für Bilder"
    path = save_project(project, tmp_path / "p.studio.json")
    text = path.read_text(encoding="utf-8")
    assert "Netz für Bilder" in text and text.endswith("}\n") and "\n  \"graph\"" in text
    assert json.loads(text)["description"] == "Netz für Bilder"
