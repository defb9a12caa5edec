"""The Keras callbacks a training session adds to `model.fit`.

Keras is imported inside `callback_classes()` (the classes are built once,
on first use), so importing this module stays cheap.

`ReportingCallback` is the session's only per-batch Python code: each hook is
one call of the session (`SessionHooks`), which stores the batch values,
checks the loss is finite, honours stop and pause, and reports the batches
at most every `report_interval` seconds. Keras' TF trainer already converts
each step's logs to floats, so this adds a few microseconds per batch.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Protocol

from studio.core import files
from studio.training.history import PHASE


class SessionHooks(Protocol):
    """What the callbacks ask of the training session (`TrainingSession`).

    The session owns all per-run and per-batch state; each hook is one call
    and the callbacks touch nothing else of it."""

    config: Any
    final_epoch: int
    phase: int  # two-phase fine-tuning's phase (0: one phase)
    lr_factor: float  # that phase's learning-rate factor

    def begin_training(self, params: dict) -> bool:
        """fit() starts with Keras' `params`; True: stop at once (stop was requested)."""

    def begin_epoch(self, epoch: int) -> None: ...

    def end_batch(self, batch: int, logs: Any) -> bool:
        """A batch (or a group of them) ended; True: stop training."""

    def begin_validation(self) -> bool:
        """Validation starts; True: skip it (stop was requested)."""

    def mark_epoch_end(self) -> None:
        """Decide, before checkpoints look at the epoch, whether a stop cut it short."""

    def epoch_cut_short(self) -> bool: ...

    def end_epoch(self, epoch: int, logs: dict) -> None: ...


@functools.lru_cache(maxsize=1)
def callback_classes() -> dict[str, type]:
    import keras

    class LearningRateCallback(keras.callbacks.Callback):
        """Sets the per-epoch schedule's rate and logs the rate each epoch used."""

        def __init__(self, session: SessionHooks) -> None:
            super().__init__()
            self.session = session

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            config = self.session.config
            if config.uses_epoch_schedule:  # times the fine-tuning phase's factor (training/phases.py)
                self.model.optimizer.learning_rate = (config.learning_rate_at(epoch, self.session.final_epoch)
                                                      * self.session.lr_factor)
            self.rate = _current_lr(self.model)

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            # First callback of the list: decide before checkpoints look at this epoch.
            self.session.mark_epoch_end()
            if logs is not None:
                logs["learning_rate"] = getattr(self, "rate", None) or _current_lr(self.model)
                if self.session.phase:  # two-phase fine-tuning: which phase this epoch trained in
                    logs[PHASE] = float(self.session.phase)

    class BestCheckpoint(keras.callbacks.ModelCheckpoint):
        """ModelCheckpoint that ignores an epoch cut short by a stop request and saves
        atomically: Keras writes a temp `.keras` file beside `filepath`, which is then
        fsynced and renamed over it, so a kill or a full disk mid-save leaves the
        previous checkpoint intact. A write error names `filepath`."""

        def __init__(self, session: SessionHooks, filepath: str, **kwargs: Any) -> None:
            self.target = Path(filepath)
            self.temp = files.temp_path(self.target, ".keras")
            super().__init__(str(self.temp), **kwargs)
            self.session = session

        def set_model(self, model: Any) -> None:
            # fit() may train the head alone on cached features (training/features.py): the
            # checkpoint is always the whole model the session trains
            super().set_model(getattr(self.session, "model", None) or model)

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if self.session.epoch_cut_short():
                return
            try:
                super().on_epoch_end(epoch, logs)
                if self.temp.exists():  # this epoch was the best so far: Keras saved it
                    files.commit(self.temp, self.target)
            except BaseException as exc:
                files.discard(self.temp)
                if isinstance(exc, OSError):
                    raise files.FileWriteError(self.target, exc) from exc
                raise

    class ReportingCallback(keras.callbacks.Callback):
        """Hands every hook to the session, which owns the per-batch state."""

        def __init__(self, session: SessionHooks) -> None:
            super().__init__()
            self.s = session

        def on_train_begin(self, logs: Any = None) -> None:
            if self.s.begin_training(self.params):
                self.model.stop_training = True

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.s.begin_epoch(epoch)

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if self.s.end_batch(batch, logs):
                self.model.stop_training = True

        def on_test_begin(self, logs: Any = None) -> None:
            if self.s.begin_validation():
                self.model.stop_evaluating = True

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.s.end_epoch(epoch, dict(logs or {}))

    return {
        "LearningRateCallback": LearningRateCallback,
        "BestCheckpoint": BestCheckpoint,
        "ReportingCallback": ReportingCallback,
    }


def _current_lr(model: Any) -> float:
    try:
        rate = model.optimizer.learning_rate
        # under a distribution strategy the rate is a MirroredVariable, which float() refuses
        return float(rate) if not hasattr(rate, "numpy") else float(rate.numpy())
    except (TypeError, ValueError, AttributeError):
        return math.nan
