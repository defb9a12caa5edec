"""The training panel: settings, live plots, runs list, evaluation and predict views.

This `__init__` and `job.py` import no Qt, so `studio train` and
`studio evaluate` share `job.py` with the GUI (one engine, DESIGN.md 2).
Import the widgets from their modules, e.g.
`from studio.ui.training.panel import TrainingPanel`.
"""
