"""Moved to `studio.workflows` (the train and evaluate use cases, Qt-free).

Kept only until every caller imports `studio.workflows` directly; it holds no
code of its own and looks each name up in the workflows when asked, so a
caller always gets the workflow function itself. Delete it then.
"""

from __future__ import annotations

from typing import Any

_MOVED = {
    "make_session": "studio.workflows.train",
    "make_setup": "studio.workflows.train",
    "task_info": "studio.workflows.train",
    "training_config": "studio.workflows.train",
    "evaluate_run": "studio.workflows.evaluate",
    "load_run_model": "studio.workflows.evaluate",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
