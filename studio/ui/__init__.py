"""Everything Qt: the main window, the canvas, palette, inspector and panels.

Nothing outside `studio.ui` and `studio.app` imports this package.
"""
