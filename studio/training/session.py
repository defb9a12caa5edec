"""`TrainingSession`: one training run around `model.fit`, shared by GUI and CLI.

    session = TrainingSession(build_model, (x, y), (x_val, y_val), config, reporter,
                              runs_root=project.runs_dir, snapshot={...}, task=TaskInfo(...))
    # or, when the data and model must be made on the training thread:
    session = TrainingSession.from_setup(setup, config, reporter, runs_root=...)
    result = session.run()        # blocks; call it on the worker thread
    session.request_stop()        # from any thread: effective after the current batch
                                  # (or group of batches, see training/execution.py)
    session.pause() / session.resume()

`run()` clears the Keras session, enters the device scope *in the calling
thread*, builds the model (the factory runs here, so the GUI thread never
touches TensorFlow), compiles it if needed, trains, saves the run folder and
returns a `RunResult`; training failures do not raise, they come back as
`status == "failed"` with a one-line message (and `error.txt` in the run).

Reports go to the `Reporter` on this thread, batched: one `on_batches` call
per `report_interval` (default 1/30 s) with every batch since the last.
"""

from __future__ import annotations

import math
import re
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Optional, Union

from studio.core import files
from studio.core.errors import StudioError, TrainingError
from studio.training import devices, execution, features, memory, multiworker, peak_memory, phases, runs
from studio.training.callbacks import callback_classes
from studio.training.config import TrainingConfig
from studio.training.data_utils import DataInfo, describe, non_finite_inputs
from studio.training.history import MetricsHistory, interval_mean
from studio.training.reports import (
    BatchReport,
    EpochReport,
    Prepared,
    Reporter,
    RunResult,
    StartInfo,
    TaskInfo,
)

ModelSource = Union[Any, Callable[[], Any]]  # keras.Model or a factory returning one
LayerRef = tuple[str, str, str, str]  # (Keras layer name, class name, node id, node label)
Setup = Callable[[], Prepared]


class TrainingSession:
    def __init__(
        self,
        model: ModelSource = None,
        train_data: Any = None,
        val_data: Any = None,
        config: Optional[TrainingConfig] = None,
        reporter: Optional[Reporter] = None,
        *,
        test_data: Any = None,
        task: Optional[TaskInfo] = None,
        runs_root: Optional[Path] = None,
        snapshot: Optional[dict[str, Any]] = None,
        continue_from: Optional[Path] = None,
        strategy: str = "default",
        report_interval: float = 1 / 30,
        clear_session: bool = True,
        save_models: bool = True,
        tensorboard: bool = True,
        setup: Optional[Setup] = None,
        layers: Optional[list[LayerRef]] = None,
        health: bool = False,
    ) -> None:
        self.setup = setup
        self.health = health  # measure each layer's health while training (training/health.py)
        self.health_monitor: Any = None
        self.layers = list(layers or [])  # to name the node a Keras error is about
        self.model_source = model
        self.train_data = train_data
        self.val_data = val_data
        self.test_data = test_data
        self.config = config or TrainingConfig()
        self.reporter = reporter or Reporter()
        self.task = task or TaskInfo()
        self.runs_root = Path(runs_root) if runs_root is not None else None
        self.snapshot = dict(snapshot or {})
        self.continue_from = Path(continue_from) if continue_from is not None else None
        self.strategy = strategy
        self.report_interval = report_interval
        self.clear_session = clear_session
        self.save_models = save_models
        self.tensorboard = tensorboard

        self.history = MetricsHistory()
        self.model: Any = None
        self.writer: Optional[runs.RunWriter] = None
        self.steps_per_epoch: Optional[int] = None
        self.steps_per_execution = 1  # batches per call into TensorFlow, set before fit
        self.initial_epoch = 0
        self.final_epoch = self.config.epochs
        self.state = "idle"
        # two-phase fine-tuning (training/phases.py): the phase now trained (0: one phase) and its
        # learning-rate factor, read by the learning-rate callback
        self.phase = 0
        self.lr_factor = 1.0
        self._phases: list[phases.Phase] = []
        self._fitting: Any = None  # the model fit() trains now (the head alone on cached features)

        self._stop_requested = False
        self._stop_reason = ""
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._data: Optional[DataInfo] = None
        self._buffer_x: list[float] = []
        self._buffer: dict[str, list[float]] = {}
        self._last_flush = 0.0
        self._epoch = 0
        self._epoch_started = 0.0
        self._paused_in_epoch = 0.0
        self._steps_done = 0
        self._prev_step = 0
        self._prev_means: dict[str, float] = {}
        self._epoch_cut_short = False
        self._epoch_seconds: list[float] = []
        # The ETA counts only steady batches: the first call of each epoch (tracing,
        # the data iterator's start, a whole group with steps per execution) is skipped.
        self._steady_from: Optional[tuple[float, int, float]] = None  # (time, step, paused) after it
        self._steady_rate: Optional[float] = None  # steps/s of the last steady stretch
        self._nan_message = ""
        self._started = 0.0
        self._device = ""
        self._strategy: Any = None  # the distribution strategy of the run, if any

    @classmethod
    def from_setup(
        cls,
        setup: Setup,
        config: Optional[TrainingConfig] = None,
        reporter: Optional[Reporter] = None,
        **kwargs: Any,
    ) -> TrainingSession:
        """A session whose model and data come from `setup()`, called on the training thread."""
        return cls(None, None, None, config, reporter, setup=setup, **kwargs)

    # --- control (any thread) ---------------------------------------------------------
    def request_stop(self, reason: str = "user") -> None:
        """Stop after the current batch; the run is saved as "stopped"."""
        with self._lock:
            if not self._stop_requested:
                self._stop_requested = True
                self._stop_reason = reason
        for model in (self.model, self._fitting):
            if model is not None:
                model.stop_training = True
        self._running.set()  # wake a paused run so it can stop

    def pause(self) -> None:
        """Hold the run between two batches until `resume()` or `request_stop()`."""
        if not self._stop_requested:
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def is_paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    # --- the run (worker thread) ----------------------------------------------------------
    def run(self) -> RunResult:
        """Train; never raises for training failures (see RunResult.status)."""
        import keras

        self._started = time.perf_counter()
        policy = keras.mixed_precision.global_policy().name
        result: Optional[RunResult] = None
        gradients = memory.LEDGER.snapshot()
        try:
            result = self._run()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a failed run
            result = self._failed(exc)
        finally:
            memory.LEDGER.finished(gradients)
            if keras.mixed_precision.global_policy().name != policy:
                keras.mixed_precision.set_global_policy(policy)
            self.model = None if result is None or result.status == "failed" else self.model
        self._set_state("finished")
        self.reporter.on_finish(result)
        return result

    def _run(self) -> RunResult:
        import keras

        self._set_state("building")
        if self.clear_session:
            # Not free_memory=True: its full gc.collect() holds the GIL for 100-250 ms
            # (the GUI thread freezes); memory.collect_garbage() is as thorough and ~3 ms.
            # Collect first: the previous run's data iterators must be gone before Keras clears
            # TensorFlow's kernel cache, or a kernel still running for them can deadlock it.
            memory.collect_garbage()
            keras.backend.clear_session()
            memory.collect_garbage()
            # The previous runs' models are gone now: drop the gradient entries that kept
            # their traced train steps alive (see studio/training/memory.py).
            memory.LEDGER.forget_finished()
        placement = devices.place(self.config.device, self.strategy)
        self._strategy = placement.strategy
        self._device = placement.description
        for warning in placement.warnings:
            self.reporter.on_message("warning", warning)
        uneven = devices.uneven_batch_problem(placement.strategy, self.config.batch_size)
        if uneven:
            raise TrainingError(uneven)
        if self.config.seed is not None:
            keras.utils.set_random_seed(self.config.seed)
        if self.config.mixed_precision:
            if placement.is_gpu:
                keras.mixed_precision.set_global_policy("mixed_float16")
            else:
                self.reporter.on_message(
                    "warning", "mixed precision needs a GPU; training in float32 on the CPU"
                )

        previous = self._previous_history()
        with placement.scope:
            if self.setup is not None:
                self._apply(self.setup())
            model = (
                self.model_source()
                if callable(self.model_source) and not _is_model(self.model_source)
                else self.model_source
            )
            if not _is_model(model):
                raise TrainingError(f"the model factory returned {type(model).__name__}, not a Keras model")
            self.model = model
            if self._stop_requested:
                model.stop_training = True
            if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
                from studio.compiler.keras_build import compile_model

                # the one compile path: the app's builds, the CLI and the exported script agree
                compile_model(model, self.config, task=self.task.task, label_encoding=self.task.label_encoding,
                              num_classes=self.task.num_classes, outputs=self.task.outputs)
            if self.continue_from is not None:
                self._load_previous_weights(model)
            data = describe(_resolve(self.train_data), _resolve(self.val_data), self.config, self.task)
            self._data = data
            if data.warning:
                self.reporter.on_message("warning", data.warning)
            self.steps_per_epoch = data.steps_per_epoch
            self.steps_per_execution = execution.apply(
                self.config.steps_per_execution, model, data.batch_size, data.steps_per_epoch
            )
            self.initial_epoch = previous.epochs_done if previous else 0
            self.final_epoch = self.initial_epoch + self.config.epochs
            if previous:
                self.history.extend(previous)
            self._phases = self._plan_phases(model)

            if self.runs_root is not None:
                self.writer = runs.RunWriter(self.runs_root)
                self.writer.write_config(self._config_record(data))
                self.writer.update(device=self._device)
            callbacks = self._callbacks(data)
            self.reporter.on_start(
                StartInfo(
                    run_id=self.writer.id if self.writer else None,
                    run_dir=self.writer.path if self.writer else None,
                    device=self._device,
                    initial_epoch=self.initial_epoch,
                    epochs=self.final_epoch,
                    steps_per_epoch=data.steps_per_epoch,
                    batch_size=data.batch_size,
                    train_samples=data.train_samples,
                    val_samples=data.val_samples,
                    parameters=int(model.count_params()) if model.built else 0,
                    previous=previous,
                )
            )
            self._set_state("training")
            self._last_flush = time.perf_counter()
            if not self._stop_requested:
                with peak_memory.Probe(placement.is_gpu) as probe:
                    self._fit(model, data, callbacks)
                if self.writer is not None:  # beside the pre-flight estimate (workflows/estimate.py)
                    self.writer.update(measured=probe.record(self._epoch_seconds))
            self._flush(time.perf_counter())
            if self._strategy is None:
                return self._finish(model)
        # outside the strategy's scope: the test split is evaluated on one device (_evaluate)
        return self._finish(model)

    # --- pieces of run() ------------------------------------------------------------------
    def _apply(self, prepared: Prepared) -> None:
        if not isinstance(prepared, Prepared):
            raise TypeError(f"setup() must return Prepared, not {type(prepared).__name__}")
        self.model_source = prepared.model
        self.train_data, self.val_data, self.test_data = prepared.train, prepared.validation, prepared.test
        if prepared.task is not None:
            self.task = prepared.task
        self.snapshot.update(prepared.record)
        for line in prepared.messages:
            self.reporter.on_message("info", line)
        for line in prepared.warnings:
            self.reporter.on_message("warning", line)

    def _previous_history(self) -> Optional[MetricsHistory]:
        if self.continue_from is None:
            return None
        history = runs.load_history(self.continue_from)
        return history if history.epochs_done else None

    def _load_previous_weights(self, model: Any) -> None:
        from studio.compiler.archive import check_keras_archive

        info = runs.read_run(self.continue_from) if self.continue_from else None
        path = info.path / runs.FINAL_MODEL if info else None
        if path is None or not path.is_file():
            raise TrainingError(
                f"{self.continue_from}: no final.keras to continue from; start a new run instead"
            )
        try:
            if not model.optimizer.built:  # so the saved optimizer state (Adam moments...) loads too
                model.optimizer.build(model.trainable_variables)
            check_keras_archive(path, TrainingError)  # zip bombs, entries outside the archive: before Keras
            model.load_weights(path)
        except (ValueError, KeyError, OSError) as exc:
            raise TrainingError(
                f"{path}: cannot continue from this run - the network changed since ({_first_line(exc)}); "
                "start a new run instead"
            ) from None

    def _config_record(self, data: DataInfo) -> dict[str, Any]:
        from studio import __version__

        record = dict(self.snapshot)
        record.update(
            training=self.config.to_dict(),
            task=self.task.to_dict(),
            parent_run=self.continue_from.name if self.continue_from else record.get("parent_run"),
            initial_epoch=self.initial_epoch,
            strategy=self.strategy,
            device=self._device,
            data={
                "train_samples": data.train_samples,
                "val_samples": data.val_samples,
                "batch_size": data.batch_size,
                "steps_per_epoch": data.steps_per_epoch,
                "steps_per_execution": self.steps_per_execution,
            },
            studio_version=__version__,
        )
        if self._phases:
            record["phases"] = [phase.record(self.config.learning_rate) for phase in self._phases]
        return record

    def _plan_phases(self, model: Any) -> list[phases.Phase]:
        """Two-phase fine-tuning's phases, with each one's trainable parameters (none: one phase)."""
        if not self.config.fine_tune.enabled:
            return []
        bases = phases.find_bases(model)
        if not bases:
            self.reporter.on_message("warning", "two-phase fine-tuning is on but the network has no pretrained "
                                                "base (Backbone or Hub module node): training in one phase")
            return []
        planned = phases.plan(self.config.fine_tune, self.initial_epoch, self.final_epoch)
        for phase in reversed(planned):  # counted as each phase will freeze the base; phase 1 last
            phases.apply(phase, bases)
            phase.trainable_params, phase.non_trainable_params = phases.count_params(model)
        return planned

    def _fit(self, model: Any, data: DataInfo, callbacks: list[Any]) -> None:
        """model.fit over the run's epochs: in one go, or phase by phase (two-phase fine-tuning)."""
        if not self._phases:
            self._fit_epochs(model, data, callbacks, self.initial_epoch, self.final_epoch, frozen=True)
            return
        import keras

        bases = phases.find_bases(model)
        for phase in self._phases:
            if self._stop_requested or self._nan_message:
                break
            start = max(phase.first_epoch, self.history.epochs_done)
            if start >= phase.end_epoch:
                continue
            phases.apply(phase, bases)
            self._recompile(model, phase.lr_factor)
            self.phase, self.lr_factor = phase.number, phase.lr_factor
            self.reporter.on_message("info", f"{phase.describe()}: {phase.trainable_params:,} trainable parameters")
            # early stopping judges the fine-tuning only: the head's epochs are few and fixed
            own = [cb for cb in callbacks if phase.number == 2 or not isinstance(cb, keras.callbacks.EarlyStopping)]
            self._fit_epochs(model, data, own, start, phase.end_epoch, frozen=phase.number == 1,
                             lr_factor=phase.lr_factor)

    def _cached_head(self, model: Any, data: DataInfo, lr_factor: float) -> Optional[tuple[Any, features.Cached]]:
        """The head model, compiled, and the frozen base's cached features; None to train the whole model."""
        split, why = features.split(model)
        if split is None:
            if phases.find_bases(model) and "not frozen" not in why:
                self.reporter.on_message("info", f"the base's features are computed in every epoch: {why}")
            return None
        cached, why = features.cache(split, data.x, data.y, data.validation, data.batch_size or 32)
        if cached is None:
            self.reporter.on_message("info", f"the base's features are computed in every epoch: {why}")
            return None
        self._recompile(split.head, lr_factor)
        execution.apply(self.config.steps_per_execution, split.head, data.batch_size, data.steps_per_epoch)
        self.reporter.on_message(
            "info", f"the frozen base's features of {cached.samples:,} samples were computed once "
                    f"({cached.megabytes:,.1f} MB): each epoch trains the head only")
        return split.head, cached

    def _recompile(self, model: Any, lr_factor: float) -> None:
        """Compile again after (un)freezing, as Keras asks: a new optimizer at the phase's rate."""
        from studio.compiler.keras_build import compile_model

        config = self.config
        if lr_factor != 1.0:
            config = config.replace(learning_rate=config.learning_rate * lr_factor)
        steps = self.steps_per_execution
        compile_model(model, config, task=self.task.task, label_encoding=self.task.label_encoding,
                      num_classes=self.task.num_classes, outputs=self.task.outputs)
        if steps > 1:
            model.steps_per_execution = steps

    def _fit_epochs(self, model: Any, data: DataInfo, callbacks: list[Any], first: int, end: int,
                    frozen: bool = False, lr_factor: float = 1.0) -> None:
        """fit() from epoch `first` to `end`; with a `frozen` base, the head alone on cached features."""
        x, y, validation, batch, shuffle = data.x, data.y, data.validation, data.fit_batch_size, data.shuffle
        found = self._cached_head(model, data, lr_factor) if frozen and self.config.cache_features else None
        if found is not None:
            model, cached = found
            x, y, validation = cached.x, cached.y, cached.validation
            batch = data.batch_size
            shuffle = True if data.fit_batch_size is None else data.shuffle  # a dataset shuffled itself
        self._fitting = model
        if self._stop_requested:
            model.stop_training = True
        if multiworker.is_multiworker(self._strategy):  # Keras' fit fails there: the custom loop
            multiworker.fit(self, model, data, callbacks, first, end)
            return
        monitor = self._health_monitor(model, x)
        if monitor is not None:
            callbacks = callbacks + [monitor.attach(model, x, data.steps_per_epoch)]
        try:
            self._fit_model(model, x, y, batch, first, end, validation, callbacks, shuffle)
        finally:
            if monitor is not None:
                monitor.detach()

    def _health_monitor(self, model: Any, x: Any) -> Any:
        """The run's health monitor (training/health.py), or None when health is off or cannot be measured."""
        if not self.health:
            return None
        if self._strategy is not None:
            self.reporter.on_message("info", "training health is not measured under a distribution strategy")
            return None
        from studio.training import health

        if self.health_monitor is None:
            self.health_monitor = health.Monitor(self.layers, self.reporter.on_health,
                                                 learning_rate=self.config.learning_rate)
        return self.health_monitor

    def _fit_model(self, model: Any, x: Any, y: Any, batch: Any, first: int, end: int, validation: Any,
                   callbacks: list[Any], shuffle: Any) -> None:
        model.fit(
            x,
            y,
            batch_size=batch,
            epochs=end,
            initial_epoch=first,
            validation_data=validation,
            callbacks=callbacks,
            shuffle=shuffle,
            verbose=0,
        )

    def _callbacks(self, data: DataInfo) -> list[Any]:
        import keras

        classes = callback_classes()
        config = self.config
        has_val = data.validation is not None
        cbs: list[Any] = [classes["LearningRateCallback"](self)]
        if config.lr_schedule == "reduce_on_plateau":
            p = config.lr_schedule_params
            cbs.append(
                keras.callbacks.ReduceLROnPlateau(
                    monitor=_monitor(p["monitor"], has_val),
                    factor=p["factor"],
                    patience=p["patience"],
                    min_lr=p["min_lr"],
                    verbose=0,
                )
            )
        es = config.early_stopping
        if es.enabled:
            cbs.append(
                keras.callbacks.EarlyStopping(
                    monitor=_monitor(es.monitor, has_val),
                    patience=es.patience,
                    min_delta=es.min_delta,
                    restore_best_weights=es.restore_best_weights,
                    verbose=0,
                )
            )
        if self.writer is not None and config.checkpoint_best and self.save_models:
            cbs.append(
                classes["BestCheckpoint"](
                    self,
                    str(self.writer.file(runs.BEST_MODEL)),
                    monitor=_monitor(config.checkpoint_monitor, has_val),
                    save_best_only=True,
                    verbose=0,
                )
            )
        if self.writer is not None and self.tensorboard:
            cbs.append(
                keras.callbacks.TensorBoard(
                    log_dir=str(self.writer.file(runs.LOGS_DIR)),
                    write_graph=False,
                    update_freq="epoch",
                    profile_batch=0,
                )
            )
        cbs.append(classes["ReportingCallback"](self))
        return cbs

    def _finish(self, model: Any) -> RunResult:
        history = self.history
        status, reason, message = "completed", "", ""
        epochs_done = history.epochs_done
        if self._nan_message:
            status, reason, message = "failed", "nan", self._nan_message
        elif self._stop_requested:
            status, reason = "stopped", self._stop_reason or "user"
            message = f"stopped by the user after {epochs_done} epoch(s)"
        elif epochs_done < self.final_epoch:
            status, reason = "completed", "early_stopping"
            message = f"early stopping after {epochs_done} epoch(s): {self.config.early_stopping.monitor} stopped improving"
        else:
            message = f"trained {epochs_done - self.initial_epoch} epoch(s)"
        best = self._best()
        evaluation = None
        health_flags = self._save_health(reason == "nan")
        if self.writer is not None:
            self._set_state("saving")
            self.writer.write_history(history)
            if self.save_models and status != "failed":
                self._save_model(model, self.writer.file(runs.FINAL_MODEL))
        if self.test_data is not None and status != "failed" and not self._stop_requested:
            evaluation = self._evaluate(model)
        result = RunResult(
            status=status,
            message=message,
            run_id=self.writer.id if self.writer else None,
            run_dir=self.writer.path if self.writer else None,
            epochs_done=epochs_done,
            duration_s=time.perf_counter() - self._started,
            device=self._device,
            final_logs=history.last_epoch_logs(),
            best=best,
            evaluation=evaluation,
            reason=reason,
            history=history,
            health=health_flags,
        )
        if self.writer is not None:
            self.writer.finish(
                status,
                message,
                reason=reason,
                epochs_done=epochs_done,
                final_metrics=result.final_logs,
                best=best,
                device=self._device,
            )
        return result

    def _save_health(self, diverged: bool) -> list[dict[str, Any]]:
        """Write health.csv / health.json into the run; the run's flags. After a NaN loss, TensorFlow's
        numerics check names the first op that makes the NaN (in the flag's message)."""
        monitor = self.health_monitor
        if monitor is None:
            return []
        if diverged:
            try:
                op = monitor.first_non_finite_op()
            except Exception:  # noqa: BLE001 - the check is a hint; the run's failure is already told
                op = None
            if op:
                monitor.history.note_first_op(op)
        if self.writer is not None:
            monitor.history.write(self.writer.path)
        return monitor.history.flags()

    def _evaluate(self, model: Any) -> Optional[dict[str, Any]]:
        from studio.training.evaluation import evaluate_model

        self._set_state("evaluating")
        try:
            model = devices.single_device_copy(model, self._strategy)
            evaluation = evaluate_model(model, _resolve(self.test_data), self.task, self.config.batch_size)
        except StudioError as exc:
            self.reporter.on_message("warning", f"evaluation on the test split failed: {exc}")
            return None
        if self.writer is not None:
            try:
                self.writer.write_evaluation(evaluation)
            except files.FileWriteError as exc:
                if exc.disk_full:
                    raise
                self.reporter.on_message("warning", f"the evaluation could not be saved: {exc}")
        return evaluation

    def _save_model(self, model: Any, path: Path) -> None:
        """Save atomically; a full disk fails the run, other save errors are a warning."""
        try:
            self.writer.save_model(model, path.name)
        except Exception as exc:  # noqa: BLE001 - a model that cannot be saved still trained
            if files.is_disk_full(exc):
                raise
            self.reporter.on_message("warning", f"could not save {path.name}: {_first_line(exc)}")

    def _best(self) -> Optional[dict[str, Any]]:
        has_val = self._data is not None and self._data.validation is not None
        monitor = _monitor(self.config.checkpoint_monitor, has_val)
        found = self.history.best_epoch(monitor)
        if found is None:
            return None
        return {"epoch": found[0], "monitor": monitor, "value": found[1]}

    def _failed(self, exc: BaseException) -> RunResult:
        node_id, label = None, ""
        if isinstance(exc, files.FileWriteError):  # names the file it was writing
            message = runs.disk_full_message(exc.path, model_megabytes(self.model)) if exc.disk_full else str(exc)
        elif not isinstance(exc, StudioError) and files.is_disk_full(exc):  # e.g. inside Keras' save
            where = self.writer.path if self.writer else None
            message = (
                runs.disk_full_message(where, model_megabytes(self.model))
                if where is not None
                else "no space left on device; free some space or save the runs on another disk"
            )
        else:
            message = _explain(exc)
            node_id, label = _failing_node(exc, self.layers)
        if label and not message.startswith(label):
            message = f"{label}: {message}"
        if self.writer is not None:
            try:
                self.writer.write_error("".join(traceback.format_exception(exc)))
                self.writer.write_history(self.history)
                self.writer.finish(
                    "failed",
                    message,
                    reason="error",
                    node=node_id,
                    epochs_done=self.history.epochs_done,
                    device=self._device,
                )
                self._save_health(False)
            except (OSError, StudioError):
                pass  # a full disk: the run is listed as interrupted once this process ends
        return RunResult(
            status="failed",
            message=message,
            reason="error",
            run_id=self.writer.id if self.writer else None,
            run_dir=self.writer.path if self.writer else None,
            epochs_done=self.history.epochs_done,
            duration_s=time.perf_counter() - self._started,
            device=self._device,
            final_logs=self.history.last_epoch_logs(),
            history=self.history,
            node_id=node_id,
        )

    # --- called by the callbacks (worker thread) ------------------------------------------
    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.reporter.on_state(state)

    # The hooks below are all the callbacks call (`callbacks.SessionHooks`); the
    # per-batch state they keep is the session's own.
    def begin_training(self, params: dict[str, Any]) -> bool:
        steps = params.get("steps") if params else None
        if steps:
            self.steps_per_epoch = int(steps)
        return self._stop_requested

    def begin_epoch(self, epoch: int) -> None:
        self._epoch = epoch
        self._epoch_started = time.perf_counter()
        self._paused_in_epoch = 0.0
        self._steps_done = 0
        self._prev_means = {}
        self._prev_step = 0
        self._epoch_cut_short = False
        self._steady_from = None
        self._set_state("training")

    def end_batch(self, batch: int, logs: Any) -> bool:
        """Store a batch's (or a group's) running means as the batch values; True: stop."""
        step = batch + 1
        if self.steps_per_epoch and step > self.steps_per_epoch:
            # a group of batches (steps per execution) that ran out of data: Keras
            # names the step the group would have ended on
            step = self.steps_per_epoch
        prev_step = self._prev_step
        prev = self._prev_means
        buffer = self._buffer
        xs = self._buffer_x
        for key, value in (logs or {}).items():
            if isinstance(value, float):
                column = buffer.get(key)
                if column is None:
                    column = buffer[key] = [math.nan] * len(xs)
                column.append(interval_mean(prev.get(key, 0.0), prev_step, value, step))
                prev[key] = value
        xs.append(self._epoch + step / (self.steps_per_epoch or step))
        for column in buffer.values():
            if len(column) < len(xs):
                column.append(math.nan)
        self._prev_step = step
        self._steps_done = step
        stop = False
        loss = (logs or {}).get("loss")
        if isinstance(loss, float) and not math.isfinite(loss):
            self._non_finite(loss, step)
            stop = True
        now = time.perf_counter()
        if self._steady_from is None:
            self._steady_from = (now, step, self._paused_in_epoch)
        elif step > self._steady_from[1]:
            since, first, paused = self._steady_from
            self._steady_rate = (step - first) / max(1e-9, now - since - (self._paused_in_epoch - paused))
        if now - self._last_flush >= self.report_interval:
            self._flush(now)
        if self._stop_requested:
            return True
        if not self._running.is_set():
            self._wait_while_paused()
            return stop or self._stop_requested
        return stop

    def begin_validation(self) -> bool:
        if self._stop_requested:
            return True
        self._set_state("validating")
        return False

    def epoch_cut_short(self) -> bool:
        return self._epoch_cut_short

    def _non_finite(self, loss: float, step: int) -> None:
        if self._nan_message:
            return
        lr = self.config.learning_rate
        where = f"the loss became {loss} at epoch {self._epoch + 1}, batch {step}: training stopped. "
        # Data with inf/NaN makes the loss NaN whatever the learning rate: say so instead.
        fitted = self._data
        data = None if fitted is None else fitted.x if fitted.y is None else (fitted.x, fitted.y)
        bad = non_finite_inputs(data, self.snapshot.get("dataset_resolved"))
        if bad:
            self._nan_message = (
                f"{where}{bad[0].upper()}{bad[1:]}, so a lower learning rate will not help: replace those "
                "values with finite numbers, or leave the cells empty to mark them missing"
            )
        else:
            self._nan_message = (
                f"{where}Try a lower learning rate (now {lr:g}, e.g. {lr / 10:g}), normalise the inputs, "
                "or set gradient clipping (clipnorm 1.0) in the optimizer settings"
            )
        with self._lock:
            self._stop_requested = True
            self._stop_reason = "nan"
        self.reporter.on_message("error", self._nan_message)

    def _wait_while_paused(self) -> None:
        self._flush(time.perf_counter())
        self._set_state("paused")
        began = time.perf_counter()
        self._running.wait()
        self._paused_in_epoch += time.perf_counter() - began
        self._set_state("stopping" if self._stop_requested else "training")

    def _speed(self, now: float) -> tuple[float, Optional[float]]:
        """(samples/s, ETA in s), both from steady batches: the ETA is None
        ("estimating") until some ran after the first call of the first epoch,
        which carries the tracing and can take longer than the whole rest."""
        batch = (self._data.batch_size if self._data else None) or 1
        rate, steps = self._steady_rate, self.steps_per_epoch
        if rate:
            speed = rate * batch
        else:
            speed = self._steps_done * batch / max(1e-9, now - self._epoch_started - self._paused_in_epoch)
        per_epoch = self._epoch_estimate(steps, rate)
        if not steps or per_epoch is None:
            return speed, None
        left = max(0, steps - self._steps_done)
        left_now = left / rate if rate else per_epoch * left / steps
        epochs_after = max(0, self.final_epoch - self._epoch - 1)
        return speed, left_now + epochs_after * per_epoch

    def _epoch_estimate(self, steps: Optional[int], rate: Optional[float]) -> Optional[float]:
        """Seconds a whole epoch takes: the recent full epochs after the first (which
        traced the model), else the steady batch rate; None before either is known."""
        later = self._epoch_seconds[1:][-3:]
        if later:
            return sum(later) / len(later)
        return steps / rate if steps and rate else None

    def _flush(self, now: float) -> None:
        self._last_flush = now
        if not self._buffer_x:
            return
        xs, values = self._buffer_x, self._buffer
        self._buffer_x, self._buffer = [], {}
        self.history.add_batches(xs, values)
        speed, eta = self._speed(now)
        self.reporter.on_batches(
            BatchReport(
                epoch=self._epoch + 1,
                step=self._steps_done,
                steps_per_epoch=self.steps_per_epoch,
                xs=xs,
                values=values,
                samples_per_s=speed,
                eta_s=eta,
                elapsed_s=now - self._started,
            )
        )

    def mark_epoch_end(self) -> None:
        steps = self.steps_per_epoch
        self._epoch_cut_short = bool(self._stop_requested and steps and self._steps_done < steps)

    def end_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        now = time.perf_counter()
        self._flush(now)
        if self._nan_message or self._epoch_cut_short:
            return  # a partial or diverged epoch is not an epoch of the history
        seconds = now - self._epoch_started - self._paused_in_epoch
        self._epoch_seconds.append(seconds)
        if not self.steps_per_epoch:
            self.steps_per_epoch = self._steps_done
        logs = {k: float(v) for k, v in logs.items() if isinstance(v, (int, float))}
        self.history.add_epoch(epoch + 1, logs)
        if self.writer is not None:
            self.writer.write_history(self.history)
            self.writer.update(epochs_done=epoch + 1)
        speed, _ = self._speed(now)
        remaining = self.final_epoch - epoch - 1
        per_epoch = self._epoch_estimate(self.steps_per_epoch, self._steady_rate)
        if per_epoch is None:
            per_epoch = seconds
        self.reporter.on_epoch(
            EpochReport(
                epoch=epoch + 1,
                epochs=self.final_epoch,
                logs=logs,
                seconds=seconds,
                samples_per_s=speed,
                eta_s=remaining * per_epoch,
            )
        )


# --- helpers ----------------------------------------------------------------------------
def model_megabytes(model: Any) -> Optional[float]:
    """About how many MB `model.save` writes: its weights and optimizer state; None if unknown."""
    if model is None:
        return None
    try:
        import numpy as np

        optimizer = getattr(model, "optimizer", None)
        variables = list(model.weights) + list(getattr(optimizer, "variables", None) or [])
        total = sum(
            int(np.prod([int(d) for d in v.shape], dtype=np.int64)) * np.dtype(str(v.dtype)).itemsize
            for v in variables
        )
    except (AttributeError, TypeError, ValueError):
        return None
    return total / 1e6


def _is_model(obj: Any) -> bool:
    return hasattr(obj, "fit") and hasattr(obj, "compile")


def _resolve(data: Any) -> Any:
    return data() if callable(data) and not hasattr(data, "element_spec") else data


def _monitor(name: str, has_val: bool) -> str:
    """Without validation data, monitor the training metric instead of `val_*`."""
    return name[4:] if name.startswith("val_") and not has_val else name


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CALLING = re.compile(r"Exception encountered when calling (?:layer )?['\"]?(\w+)['\"]?(?:\.call\(\))?")


def _first_line(exc: BaseException) -> str:
    """Keras' reason in one line (skipping its "Exception encountered when calling X" header)."""
    lines = [line.strip() for line in _ANSI.sub("", str(exc)).splitlines() if line.strip()]
    if len(lines) > 1 and _CALLING.match(lines[0]):
        lines = lines[1:]
    return lines[0][:300] if lines else type(exc).__name__


def _failing_node(exc: BaseException, layers: list[LayerRef]) -> tuple[Optional[str], str]:
    """(node id, label) of the layer an error is about: its `node_id`, a layer name it
    quotes (or an op path through it), or the only layer of the class it names."""
    node_id = getattr(exc, "node_id", None)
    by_node = {ref[2]: ref for ref in layers}
    if node_id:
        return node_id, by_node[node_id][3] if node_id in by_node else ""
    text = _ANSI.sub("", str(exc))
    found = []
    for name, _cls, nid, label in layers:
        match = re.search(rf"(?:^|[\s'\"/(]){re.escape(name)}(?:[\s'\"/):,.]|$)", text)
        if match:
            found.append((match.start(), -len(name), nid, label))
    if found:
        _pos, _len, nid, label = min(found)
        return nid, label
    calling = _CALLING.search(text)
    if calling:
        same = [ref for ref in layers if ref[1] == calling.group(1) or ref[0] == calling.group(1)]
        if len(same) == 1:
            return same[0][2], same[0][3]
    return None, ""


def _explain(exc: BaseException) -> str:
    """One line for the user; known TensorFlow failures get a hint."""
    if isinstance(exc, StudioError):
        return str(exc)
    name = type(exc).__name__
    text = _first_line(exc)
    if name == "ResourceExhaustedError" or "out of memory" in text.lower() or isinstance(exc, MemoryError):
        return "training ran out of memory; lower the batch size or make the network smaller"
    if "Incompatible shapes" in text or "expected shape" in text or "incompatible with the layer" in text:
        return f"the data does not fit the network: {text}; check the Input shape and the output units"
    if "Received a label value of" in text or "labels must be" in text.lower():
        return f"labels and output do not match: {text}; the last layer needs one unit per class"
    return f"training failed: {name}: {text}"
