"""The PEP 517 build backend: setuptools' own, loaded from packaging/.

pyproject.toml names this module with `backend-path = ["packaging"]`, so the
folder is on sys.path while building and setuptools can import the build step
`bundled_build.BuildPy` (named in `[tool.setuptools] cmdclass`), which copies
resources/ and projects/ into the wheel. The build helpers live in packaging/
because the repository's top-level layout is fixed.
"""

from setuptools.build_meta import *  # noqa: F403 - the backend hooks, unchanged
