"""Where the app's bundled folders are: ``resources/`` and ``projects/``.

In the repository both folders sit at the top level, beside ``studio/``. A
source checkout (and the editable install README's set-up makes) reads them
there. A wheel carries copies inside the package, at ``studio/_bundled/``
(put there at build time by ``packaging/bundled_build.py``, see pyproject.toml's
``[tool.setuptools] cmdclass``), and an installed copy reads those.

Pure: no Qt, TensorFlow or numpy, and nothing of studio beyond core.errors.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from studio.core.errors import StudioError

#: The folders a wheel bundles, by their name in the repository.
BUNDLED = ("resources", "projects")
#: Where a wheel puts them, inside the ``studio`` package.
BUNDLED_PACKAGE_DIR = "_bundled"


class BundledFilesMissing(StudioError):
    """Neither the checkout's folder nor the installed copy exists."""


def checkout_root() -> Path | None:
    """The source checkout this ``studio`` package runs from, or None.

    A checkout is recognised by ``pyproject.toml`` beside the package, which
    no site-packages folder has.
    """
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "studio").is_dir() else None


def installed_dir(name: str) -> Path:
    """Where an installed wheel keeps the bundled folder `name` (it may not exist)."""
    base = resources.files("studio") / BUNDLED_PACKAGE_DIR / name
    # A wheel installs unpacked, so this is a real folder; str() also covers
    # importlib's other Traversables if it is not (then is_dir() fails below).
    return Path(str(base))


@cache
def bundled_dir(name: str) -> Path:
    """The folder `name` ("resources" or "projects"): the checkout's, else the installed copy.

    Raises BundledFilesMissing when neither exists (a broken install).
    Only a found folder is cached.
    """
    if name not in BUNDLED:
        raise ValueError(f"{name!r} is not a bundled folder; choose one of {', '.join(BUNDLED)}")
    root = checkout_root()
    candidates = ([root / name] if root is not None else []) + [installed_dir(name)]
    for folder in candidates:
        if folder.is_dir():
            return folder
    looked = " and ".join(str(c) for c in candidates)
    raise BundledFilesMissing(
        f"Network Studio's {name} folder is missing (looked in {looked}); reinstall the package "
        f"(pip install --force-reinstall network-studio) or run from a source checkout"
    )


def resources_dir() -> Path:
    """Icons, styles and bundled sample data (``resources/``)."""
    return bundled_dir("resources")


def projects_dir() -> Path:
    """The example projects (``projects/``)."""
    return bundled_dir("projects")
