"""Which modules and presets a project would load, and the refusal when they are not trusted.

A SavedModel is a TensorFlow graph: its ops can read and write files. A KerasHub preset runs no code
of its own (studio.hub.presets checks its config names only KerasHub/Keras classes) but is downloaded
and its weights loaded from where the project says. A project opened from disk that names a module
or a preset (a handle or a local folder) must therefore not load it silently: the window asks once
per project (`studio.ui.hub_dialog.ask_trust`), the command line needs `--trust-modules`. Pure: no
TensorFlow.
"""

from __future__ import annotations

from typing import Any

from studio.core.errors import StudioError
from studio.graph.layers.presets import PRESET
from studio.graph.layers.transfer import HUB_MODULE

TRUST_FLAG = "--trust-modules"


class UntrustedModules(StudioError):
    """A project names modules the user has not agreed to load."""


def module_handles(graph: Any) -> list[str]:
    """The distinct module handles (URLs, model paths, folders) the graph's HubModule nodes name, and
    the presets (handles, folders, names) its KerasHubPreset nodes name."""
    handles = []
    for node in graph.nodes:
        if node.type in (HUB_MODULE, PRESET):
            handle = node.params.get("handle" if node.type == HUB_MODULE else "preset")
            if isinstance(handle, str) and handle.strip() and handle.strip() not in handles:
                handles.append(handle.strip())
    return sorted(handles)


def require_trust(project: Any, trusted: bool, where: str = "") -> None:
    """UntrustedModules unless `trusted` or the project names no module."""
    handles = module_handles(project.graph)
    if trusted or not handles:
        return
    shown = ", ".join(handles[:3]) + (f" and {len(handles) - 3} more" if len(handles) > 3 else "")
    name = where or getattr(project, "name", "the project")
    raise UntrustedModules(
        f"{name}: the project loads TensorFlow Hub / SavedModel modules or KerasHub presets ({shown}); a module is "
        f"a TensorFlow graph that runs on this machine, a preset is downloaded and loaded from where the project "
        f"says. Check that you trust them, then run again with {TRUST_FLAG}")


def add_trust_flag(parser: Any) -> None:
    """The command-line flag that lets a command load the modules a project names."""
    parser.add_argument(TRUST_FLAG, dest="trust_modules", action="store_true",
                        help="load the TensorFlow Hub / SavedModel modules and KerasHub presets the project names (a "
                        "module is a TensorFlow graph that runs on this machine; without this flag such a project "
                        "is refused)")
