"""The Keras callbacks a training session adds to `model.fit`.

Keras is imported inside `callback_classes()` (the classes are built once,
on first use), so importing this module stays cheap.

`ReportingCallback` is the session's only per-batch Python code: it stores
the batch values, checks the loss is finite, honours stop and pause, and
hands the batches to the session at most every `report_interval` seconds.
Keras' TF trainer already converts each step's logs to floats, so this adds
a few microseconds per batch.
"""

from __future__ import annotations

import functools
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core import files
from studio.training.history import interval_mean

if TYPE_CHECKING:  # pragma: no cover
    from studio.training.session import TrainingSession


@functools.lru_cache(maxsize=1)
def callback_classes() -> dict[str, type]:
    import keras

    class LearningRateCallback(keras.callbacks.Callback):
        """Sets the per-epoch schedule's rate and logs the rate each epoch used."""

        def __init__(self, session: TrainingSession) -> None:
            super().__init__()
            self.session = session

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            config = self.session.config
            if config.uses_epoch_schedule:
                self.model.optimizer.learning_rate = config.learning_rate_at(epoch, self.session.final_epoch)
            self.rate = _current_lr(self.model)

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            # First callback of the list: decide before checkpoints look at this epoch.
            self.session._mark_epoch_end()
            if logs is not None:
                logs["learning_rate"] = getattr(self, "rate", None) or _current_lr(self.model)

    class BestCheckpoint(keras.callbacks.ModelCheckpoint):
        """ModelCheckpoint that ignores an epoch cut short by a stop request and saves
        atomically: Keras writes a temp `.keras` file beside `filepath`, which is then
        fsynced and renamed over it, so a kill or a full disk mid-save leaves the
        previous checkpoint intact. A write error names `filepath`."""

        def __init__(self, session: TrainingSession, filepath: str, **kwargs: Any) -> None:
            self.target = Path(filepath)
            self.temp = files.temp_path(self.target, ".keras")
            super().__init__(str(self.temp), **kwargs)
            self.session = session

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if self.session._epoch_cut_short:
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
        def __init__(self, session: TrainingSession) -> None:
            super().__init__()
            self.s = session

        # --- epochs ---------------------------------------------------------------
        def on_train_begin(self, logs: Any = None) -> None:
            self.s._on_train_begin(self.model, self.params)

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            s = self.s
            s._epoch = epoch
            s._epoch_started = time.perf_counter()
            s._paused_in_epoch = 0.0
            s._steps_done = 0
            s._prev_means = {}
            s._prev_step = 0
            s._epoch_cut_short = False
            s._set_state("training")

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            s = self.s
            step = batch + 1
            if s.steps_per_epoch and step > s.steps_per_epoch:
                # a group of batches (steps per execution) that ran out of data: Keras
                # names the step the group would have ended on
                step = s.steps_per_epoch
            prev_step = s._prev_step
            prev = s._prev_means
            buffer = s._buffer
            for key, value in (logs or {}).items():
                if isinstance(value, float):
                    column = buffer.get(key)
                    if column is None:
                        column = buffer[key] = [math.nan] * len(s._buffer_x)
                    column.append(interval_mean(prev.get(key, 0.0), prev_step, value, step))
                    prev[key] = value
            s._buffer_x.append(s._epoch + step / (s.steps_per_epoch or step))
            for column in buffer.values():
                if len(column) < len(s._buffer_x):
                    column.append(math.nan)
            s._prev_step = step
            s._steps_done = step
            loss = (logs or {}).get("loss")
            if isinstance(loss, float) and not math.isfinite(loss):
                s._non_finite(loss, step)
                self.model.stop_training = True
            now = time.perf_counter()
            if now - s._last_flush >= s.report_interval:
                s._flush(now)
            if s._stop_requested:
                self.model.stop_training = True
            elif not s._running.is_set():
                s._wait_while_paused()
                if s._stop_requested:
                    self.model.stop_training = True

        def on_test_begin(self, logs: Any = None) -> None:
            if self.s._stop_requested:
                self.model.stop_evaluating = True
            else:
                self.s._set_state("validating")

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.s._on_epoch_end(epoch, dict(logs or {}))

    return {
        "LearningRateCallback": LearningRateCallback,
        "BestCheckpoint": BestCheckpoint,
        "ReportingCallback": ReportingCallback,
    }


def _current_lr(model: Any) -> float:
    try:
        return float(model.optimizer.learning_rate)
    except (TypeError, ValueError, AttributeError):
        return math.nan
