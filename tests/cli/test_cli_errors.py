"""cli.main: every failure is one line on stderr naming the file; with --json also one JSON object on stdout."""

from __future__ import annotations

import json

import pytest

from studio import cli
from studio.commands import check_cmd
from studio.core.errors import ProjectError


def _run(monkeypatch, capsys, exc: BaseException, *args: str):
    def boom(parsed):
        raise exc

    monkeypatch.setattr(check_cmd, "run", boom)
    rc = cli.main(["check", "some/model.studio.json", *args])
    out, err = capsys.readouterr()
    return rc, out, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (RecursionError("maximum recursion depth exceeded"), ["nested too deeply"]),
        (MemoryError(), ["too large"]),
        (OverflowError("int too large to convert to float"), ["too large"]),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), ["not UTF-8", "byte 0"]),
    ],
)
def test_input_errors_are_one_line_naming_the_file(monkeypatch, capsys, exc, words):
    rc, out, err = _run(monkeypatch, capsys, exc)
    assert rc == 1 and out == ""
    [line] = err
    assert line.startswith("studio: error: some/model.studio.json: ")
    assert "internal error" not in line and all(w in line for w in words)
    rc, out, err = _run(monkeypatch, capsys, exc, "--json")
    assert json.loads(out) == {"ok": False, "error": err[0].removeprefix("studio: error: ")}


def test_a_bug_is_an_internal_error_naming_the_file_and_still_json(monkeypatch, capsys):
    rc, out, err = _run(monkeypatch, capsys, KeyError("oops"), "--json")
    assert rc == 2
    [line] = err
    assert line.startswith("studio: some/model.studio.json: internal error: KeyError")
    data = json.loads(out)
    assert data["ok"] is False and "internal error: KeyError" in data["error"]


def test_a_studio_error_prints_json_once(monkeypatch, capsys):
    # A first line, then the other problems (as `export` lists a graph's errors).
    rc, out, err = _run(monkeypatch, capsys, ProjectError("x.studio.json: broken\n  other problem"), "--json")
    assert rc == 1 and err == ["studio: error: x.studio.json: broken", "  other problem"]
    assert json.loads(out) == {"ok": False, "error": "x.studio.json: broken\n  other problem"}

    reported = ProjectError("already said")
    reported.json_reported = True
    rc, out, err = _run(monkeypatch, capsys, reported, "--json")
    assert out == "" and err == ["studio: error: already said"]


def test_a_huge_message_stays_short(monkeypatch, capsys):
    rc, out, err = _run(monkeypatch, capsys, ProjectError("x" * 1_000_000))
    [line] = err
    assert len(line) < 2_200 and "1,000,000 characters" in line
    rc, out, err = _run(monkeypatch, capsys, ProjectError("first\n" + "line\n" * 100_000))
    assert len(err) == 50 and err[0] == "studio: error: first" and err[-1] == "(and 99,952 more lines)"
