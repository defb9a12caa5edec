"""Use cases shared by the window and the `studio` commands (DESIGN.md section 1).

    {ui, commands} -> workflows -> {training, export, data, hub, compiler, project} -> graph -> core

One module per use case: `new`, `check`, `train`, `evaluate`, `export`, `importing`
(`import` is a keyword) and `data`. Each is a few plain functions that take a
`Project` (or a path) and return plain results; long ones take a `progress`
callable and a `cancel` flag (`hooks.py`). The commands print those results,
the window shows them: both fronts call the same function, so they cannot
disagree.

Qt-free: nothing here imports PySide6, pyqtgraph or the GUI package (import-linter
contracts in pyproject.toml). TensorFlow is imported inside the functions that
need it, as in the packages below.
"""
