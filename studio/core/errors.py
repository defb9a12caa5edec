"""Typed errors shared by every layer of the code.

Every error a user can cause is a `StudioError`: its message is one clear
line naming the file, node or parameter and, where possible, the fix. The CLI
prints `str(error)` and exits non-zero; the GUI shows it in a dialog or on the
node. Anything that is not a `StudioError` is a bug and shows a traceback.
"""

from __future__ import annotations


class StudioError(Exception):
    """Base class: a problem caused by the user's input, with a clear message.

    A command run with `--json` that already printed its own result object for
    this error sets `json_reported = True`, so the CLI does not print a second one.
    """

    json_reported: bool = False


# --- graph -----------------------------------------------------------------
class GraphError(StudioError):
    """A change to the graph that its rules refuse."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


class UnknownNodeError(GraphError):
    pass


class DuplicateNodeError(GraphError):
    pass


class CycleError(GraphError):
    pass


class PortError(GraphError):
    """A port that does not exist, or an input port that is already taken."""


class DuplicateEdgeError(GraphError):
    pass


class ShapeMismatch(GraphError):
    """The shapes meeting at a wire are incompatible with the target layer."""


class ParamError(GraphError):
    """A parameter value of the wrong type or out of range."""

    def __init__(self, message: str, node_id: str | None = None, key: str | None = None) -> None:
        super().__init__(message, node_id)
        self.key = key


class UnknownLayerType(GraphError):
    pass


# --- files -----------------------------------------------------------------
class ProjectError(StudioError):
    """A project file that cannot be loaded or saved.

    `problems` lists every problem found as `(json_path, message)` pairs.
    """

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class DataError(StudioError):
    """A data file or folder that cannot be read as a dataset."""


class BuildError(StudioError):
    """Keras refused to build the model; `node_id` names the node when known."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


class ExportError(StudioError):
    pass


class TrainingError(StudioError):
    pass
