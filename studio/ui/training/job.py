"""Moved to `studio.workflows` (train and evaluate use cases, Qt-free).

Kept only until the training panel imports `studio.workflows` directly; it
holds no code of its own.
"""

from studio.workflows.evaluate import evaluate_run, load_run_model  # noqa: F401
from studio.workflows.train import make_session, make_setup, task_info, training_config  # noqa: F401
