"""Build step: copy ``resources/`` and ``projects/`` into the wheel.

Both folders stay at the top level of the repository; a wheel carries copies
at ``studio/_bundled/resources`` and ``studio/_bundled/projects``, which
``studio.core.paths`` finds in an installed copy. pyproject.toml names this
class in ``[tool.setuptools] cmdclass`` (no setup.py), so ``pip wheel .``,
``pip install .`` and ``python -m build`` (sdist, then wheel from it; MANIFEST.in
puts this file and both folders into the sdist) all run it.

Not part of the installed package: it is only imported by setuptools at build time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parents[1]  # the repository root (this file is in packaging/)
BUNDLED = ("resources", "projects")
TARGET = ("studio", "_bundled")
# Local artefacts beside the committed files (see .gitignore): never shipped.
IGNORE = shutil.ignore_patterns("__pycache__", "*.py[co]", "*.runs", "*.vocab.txt", ".*", "*~")


def _files(folder: Path) -> list[Path]:
    """The files of `folder` that are shipped, relative to it."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        ignored = IGNORE(dirpath, dirnames + filenames)
        dirnames[:] = sorted(d for d in dirnames if d not in ignored)
        rel = Path(dirpath).relative_to(folder)
        out.extend(rel / f for f in sorted(filenames) if f not in ignored)
    return out


class BuildPy(build_py):
    """setuptools' build_py, then the bundled folders into ``build_lib/studio/_bundled``."""

    def _bundled(self) -> list[tuple[Path, Path]]:
        """(source, target) pairs of every bundled file."""
        target = Path(self.build_lib, *TARGET)
        pairs = []
        for name in BUNDLED:
            source = ROOT / name
            if not source.is_dir():
                raise FileNotFoundError(f"{source}: the folder to bundle into the wheel is missing")
            pairs.extend((source / rel, target / name / rel) for rel in _files(source))
        return pairs

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's folders (studio.core.paths)
        # Start clean so a file deleted from the repository leaves a reused build/ too.
        shutil.rmtree(Path(self.build_lib, *TARGET), ignore_errors=True)
        for source, target in self._bundled():
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            outputs.extend(str(target) for _, target in self._bundled())
        return outputs
