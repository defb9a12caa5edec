"""The dependency rule holds: import-linter's contracts pass, and the pure packages
import (and work) with Qt, pyqtgraph, TensorFlow/Keras and numpy made unimportable."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_pass():
    exe = Path(sys.executable).parent / "lint-imports"
    assert exe.exists(), f"import-linter is not installed next to {sys.executable}"
    proc = subprocess.run([str(exe)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


BLOCKER = """
import importlib, sys

BLOCKED = set(sys.argv[1].split(","))


class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked in this test")
        return None


sys.meta_path.insert(0, Blocker())
"""


def run_blocked(blocked: tuple[str, ...], code: str) -> subprocess.CompletedProcess:
    script = BLOCKER + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script, ",".join(blocked)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


HEAVY = ("PySide6", "shiboken6", "pyqtgraph", "tensorflow", "keras", "tensorflow_hub", "tf_keras")


def test_pure_packages_import_and_work_without_qt_tf_or_numpy():
    proc = run_blocked(
        HEAVY + ("numpy",),
        """
        import studio.graph, studio.project, studio.compiler.plan
        from studio.graph import analyse, default_catalog
        from studio.project import project_from_dict
        from studio.project.templates import TEMPLATES, make_project
        from studio.compiler.plan import make_plan

        assert len(default_catalog()) > 0  # every layer family module imported
        for name in TEMPLATES:
            project = make_project(name)
            project_from_dict(project.to_dict())
            assert analyse(project.graph).ok, name
            make_plan(project.graph)
        for optional in ("studio.training.config", "studio.export.codegen"):
            try:
                importlib.import_module(optional)
            except ModuleNotFoundError as exc:
                if exc.name != optional:
                    raise
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not heavy, heavy
        print("ok")
        """,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "ok"


def test_the_blocker_really_blocks():
    proc = run_blocked(("numpy",), "import numpy")
    assert proc.returncode != 0 and "blocked" in proc.stderr


def test_studio_new_and_check_run_without_qt_or_tensorflow(tmp_path):
    proc = run_blocked(
        HEAVY,
        f"""
        from studio.cli import main
        path = {str(tmp_path / "demo.studio.json")!r}
        assert main(["new", path, "--template", "resnet-block"]) == 0
        assert main(["check", path, "--json"]) == 0
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not heavy, heavy
        """,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '"ok": true' in proc.stdout
