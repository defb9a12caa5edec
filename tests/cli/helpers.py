"""Run the `studio` command as a user would: a fresh process, stdout/stderr captured."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def studio(*args: str, cwd: Path | None = None, timeout: float = 300) -> Result:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("STUDIO_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "studio", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_one_clear_line(result: Result, *words: str) -> str:
    """A failure: non-zero exit, exactly one line on stderr, no traceback, naming `words`."""
    assert result.rc != 0, result
    assert "Traceback" not in result.err and "Traceback" not in result.out, result.err
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("studio: error: "), line
    for word in words:
        assert word in line, (word, line)
    return line
