"""The dependency rule holds: import-linter's contracts pass, they say what is true
(every accepted sideways import is listed with its reason, and a new one breaks
them), and the pure packages import (and work) with Qt, pyqtgraph,
TensorFlow/Keras and numpy made unimportable."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MIDDLE = ("training", "export", "data", "hub", "compiler", "project")


def lint_imports(cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    assert LINT_IMPORTS.exists(), f"import-linter is not installed next to {sys.executable}"
    return subprocess.run([str(LINT_IMPORTS), "--no-logo", *extra], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_import_linter_contracts_pass():
    proc = lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _contracts() -> dict[str, dict]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _layers_contract() -> dict:
    (contract,) = [c for c in _contracts().values() if c["type"] == "layers"]
    return contract


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_middle_layer_is_independent_and_ui_is_only_imported_by_app():
    contract = _layers_contract()
    assert contract["containers"] == ["studio"] and contract["exhaustive"] is True
    layers = [[p.strip().strip("()") for p in re.split(r"[|:]", layer)] for layer in contract["layers"]]
    assert layers[-2:] == [["graph"], ["core"]]
    assert sorted(layers[-3]) == sorted(MIDDLE) and "|" in contract["layers"][-3]
    assert layers[-4] == ["workflows"]
    assert sorted(layers[-5]) == ["commands", "ui"] and "|" in contract["layers"][-5]
    forbidden = _contracts()["Nothing but studio.app imports studio.ui"]
    assert forbidden["forbidden_modules"] == ["studio.ui"]
    top = {p.name for p in (REPO / "studio").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    top |= {p.stem for p in (REPO / "studio").glob("*.py") if p.stem != "__init__"}
    sources = {m.split(".")[1] for m in forbidden["source_modules"]}
    assert sources == top - {"app", "ui"}, "every package but app and ui is a source of the ui contract"


def test_every_accepted_sideways_import_is_real_and_has_a_reason():
    """The layers contract's ignore_imports are exactly the imports between middle
    packages that the code makes (import-linter itself fails on a listed one that
    no longer exists), each under a '# reason' comment in pyproject.toml."""
    import grimp

    ignored = _layers_contract()["ignore_imports"]
    sideways = sorted(i for i in ignored if _package(i.split(" -> ")[0]) in MIDDLE)
    graph = grimp.build_graph("studio", cache_dir=None)
    real = sorted(
        f"{m} -> {imported}"
        for m in graph.modules
        if _package(m) in MIDDLE
        for imported in graph.find_modules_directly_imported_by(m)
        if _package(imported) in MIDDLE and _package(imported) != _package(m)
    )
    assert real == sideways, (
        "sideways imports in the middle layer changed; list each new one in pyproject.toml's "
        f"ignore_imports with its reason (or remove it): new {sorted(set(real) - set(sideways))}, "
        f"gone {sorted(set(sideways) - set(real))}"
    )
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    block = text[text.index("ignore_imports", text.index('type = "layers"')):]
    block = block[: block.index("]\n")]
    reason = False  # each group of entries sits right under its reason
    for line in block.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith("# --"):
            reason = False
        elif line.startswith("#"):
            reason = True
        else:
            assert reason, f"no reason given above {line} in pyproject.toml"


def test_a_new_sideways_or_ui_import_breaks_the_contracts(tmp_path):
    """A copy of the package with one new import from export to training and one
    from workflows to ui: lint-imports fails and names both."""
    shutil.copytree(REPO / "studio", tmp_path / "studio", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "studio" / "export" / "probe_sideways.py").write_text("import studio.training.history\n")
    (tmp_path / "studio" / "workflows" / "probe_ui.py").write_text("import studio.ui.document\n")
    proc = lint_imports(tmp_path, str(REPO / "pyproject.toml"), "--no-cache")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "studio.export.probe_sideways -> studio.training.history" in out, out[-3000:]
    assert "Nothing but studio.app imports studio.ui BROKEN" in out, out[-3000:]
    assert "studio.workflows.probe_ui -> studio.ui.document" in out, out[-3000:]


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
