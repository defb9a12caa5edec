"""The inspector: edits the selected layer's parameters."""

from studio.ui.inspector.panel import Inspector

__all__ = ["Inspector"]
