"""`studio new`: create a project from a template, never overwriting by accident."""

from __future__ import annotations

import json

from studio.project import load_project
from studio.project.templates import TEMPLATES
from tests.cli.helpers import assert_one_clear_line, studio


def test_new_creates_a_loadable_project_named_after_the_file(tmp_path):
    result = studio("new", "demo.studio.json", "--template", "mlp", cwd=tmp_path)
    assert result.rc == 0, result.err
    assert "demo.studio.json" in result.out
    project = load_project(tmp_path / "demo.studio.json")
    assert project.name == "demo"
    assert [n.type for n in project.graph.nodes][0] == "Input"


def test_a_bare_name_gets_the_suffix(tmp_path):
    assert studio("new", "net", cwd=tmp_path).rc == 0
    assert (tmp_path / "net.studio.json").is_file()


def test_new_refuses_to_overwrite_unless_forced(tmp_path):
    path = tmp_path / "mine.studio.json"
    path.write_text("my precious work", encoding="utf-8")
    line = assert_one_clear_line(studio("new", path, cwd=tmp_path), str(path), "--force")
    assert "exists" in line
    assert path.read_text(encoding="utf-8") == "my precious work"
    assert studio("new", path, "--force", cwd=tmp_path).rc == 0
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "network-studio-project"


def test_a_bad_template_name_lists_the_templates(tmp_path):
    line = assert_one_clear_line(studio("new", "x.studio.json", "--template", "transformer-xl", cwd=tmp_path),
                                 "transformer-xl")
    for name in TEMPLATES:
        assert name in line
    assert not (tmp_path / "x.studio.json").exists()


def test_list_shows_every_template(tmp_path):
    result = studio("new", "--list", cwd=tmp_path)
    assert result.rc == 0
    for name in TEMPLATES:
        assert name in result.out


def test_new_into_a_missing_folder_or_onto_a_folder(tmp_path):
    assert_one_clear_line(studio("new", tmp_path / "nope" / "a.studio.json"), "does not exist")
    (tmp_path / "d.studio.json").mkdir()
    assert_one_clear_line(studio("new", tmp_path / "d.studio.json", "--force"), "folder")
