"""Running training (and other TensorFlow work) off the GUI thread.

`TrainingRunner` is the one place where a training thread's lifecycle is
wired (STYLE.md 15): it makes the `QThread`, moves a `_SessionWorker` onto
it, connects start -> run -> finished -> quit -> cleanup, and re-emits the
session's reports as its own signals. The worker emits from the training
thread, so every connection to the runner (which lives on the GUI thread)
is queued. The session already batches batch reports (at most one per
`report_interval`, 1/30 s by default), so the GUI gets <= ~30 batch updates
a second however small the model; plots repaint on their own timer.

Stop / pause / resume call the session directly: they are thread-safe and
must work while the training thread is busy inside `model.fit` (it has no
event loop to deliver a queued call).

`FunctionRunner` runs one plain function on a thread (predict, evaluate,
load a model) and returns its result or its one-line error as a signal.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable, Optional

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from studio.core.errors import StudioError
from studio.training.reports import BatchReport, EpochReport, Reporter, RunResult, StartInfo
from studio.training.session import TrainingSession


class _Reaper(QObject):
    """Keeps every started thread (and its worker) alive until the thread has ended.

    A QThread destroyed while it runs aborts the process; a runner (or the
    panel owning it) may be deleted mid-run, so the threads are also held
    here, on the GUI thread, and let go only after `finished` and `wait()`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._live: list[tuple[QThread, QObject]] = []

    def keep(self, thread: QThread, worker: QObject) -> None:
        self._live.append((thread, worker))
        thread.finished.connect(self._reap)

    @Slot()
    def _reap(self) -> None:
        sender = self.sender()
        for entry in list(self._live):
            if entry[0] is sender:
                entry[0].wait()
                self._live.remove(entry)


_REAPER: Optional[_Reaper] = None


def _keep_alive(thread: QThread, worker: QObject) -> None:
    global _REAPER
    if _REAPER is None:
        _REAPER = _Reaper()
    _REAPER.keep(thread, worker)


class _SignalReporter(Reporter):
    """Turns the session's Reporter calls (training thread) into worker signals."""

    def __init__(self, worker: _SessionWorker) -> None:
        self.worker = worker

    def on_start(self, info: StartInfo) -> None:
        self.worker.started.emit(info)

    def on_batches(self, report: BatchReport) -> None:
        self.worker.batches.emit(report)

    def on_epoch(self, report: EpochReport) -> None:
        self.worker.epochEnded.emit(report)

    def on_state(self, state: str) -> None:
        self.worker.stateChanged.emit(state)

    def on_message(self, level: str, text: str) -> None:
        self.worker.message.emit(level, text)

    def on_health(self, report: Any) -> None:
        self.worker.health.emit(report)


class _SessionWorker(QObject):
    started = Signal(object)
    batches = Signal(object)
    epochEnded = Signal(object)
    stateChanged = Signal(str)
    message = Signal(str, str)
    health = Signal(object)
    finished = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.session: Optional[TrainingSession] = None
        self.reporter = _SignalReporter(self)

    @Slot()
    def run(self) -> None:
        session = self.session
        assert session is not None
        try:
            result = session.run()
        except BaseException as exc:  # noqa: BLE001 - never leave the GUI waiting
            result = RunResult(
                status="failed", message=f"training failed: {type(exc).__name__}: {exc}", reason="error"
            )
            traceback.print_exc()
        self.finished.emit(result)


class TrainingRunner(QObject):
    """Runs one `TrainingSession` at a time on its own `QThread`.

    Signals (all delivered on the GUI thread, in this order for one run):
      runStarted()                  the thread started (before the model is built)
      started(StartInfo)            the model is built, fit begins
      batches(BatchReport)          batched per-batch values, <= ~30 per second
      epochEnded(EpochReport)       one per finished epoch
      stateChanged(str)             building, training, validating, paused, stopping, saving, ...
      message(str, str)             (level, text): warnings such as a GPU fallback, the NaN advice
      health(HealthReport)          per-layer training health (studio/training/health.py), every few steps
      finished(RunResult)           always last, also after a failure or a stop
    """

    runStarted = Signal()
    started = Signal(object)
    batches = Signal(object)
    epochEnded = Signal(object)
    stateChanged = Signal(str)
    message = Signal(str, str)
    health = Signal(object)
    finished = Signal(object)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._thread: Optional[QThread] = None
        self._worker: Optional[_SessionWorker] = None
        self.session: Optional[TrainingSession] = None

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, make_session: Callable[[Reporter], TrainingSession]) -> TrainingSession:
        """Create the session with our reporter (on this thread) and run it on a new thread.

        `make_session(reporter)` may raise a `StudioError` (broken graph,
        no dataset...): nothing is started then and the error propagates.
        """
        if self._thread is not None:
            raise RuntimeError("a training run is already in progress")
        worker = _SessionWorker()
        session = make_session(worker.reporter)
        worker.session = session
        thread = QThread()
        thread.setObjectName("studio-training")
        worker.moveToThread(thread)
        # Lifecycle, all in one place.
        thread.started.connect(worker.run)
        # quit() is thread-safe; calling it directly ends the thread even while the GUI waits on it.
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        # Reports.
        worker.started.connect(self.started)
        worker.batches.connect(self.batches)
        worker.epochEnded.connect(self.epochEnded)
        worker.stateChanged.connect(self.stateChanged)
        worker.message.connect(self.message)
        worker.health.connect(self.health)
        worker.finished.connect(self._on_worker_finished)
        self._thread, self._worker, self.session = thread, worker, session
        self._result: Optional[RunResult] = None
        _keep_alive(thread, worker)
        thread.start()
        self.runStarted.emit()
        return session

    def stop(self) -> None:
        if self.session is not None:
            self.session.request_stop()

    def pause(self) -> None:
        if self.session is not None:
            self.session.pause()

    def resume(self) -> None:
        if self.session is not None:
            self.session.resume()

    def is_paused(self) -> bool:
        return self.session is not None and self.session.is_paused

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until the thread ends (it keeps its reports queued); True if it ended."""
        thread = self._thread
        if thread is None:
            return True
        return bool(thread.wait(timeout_ms))

    def stop_and_wait(self, timeout_ms: int = 30_000) -> bool:
        """Stop after the current batch, wait for the run to be saved, deliver `finished`."""
        if self._thread is None:
            return True
        self.stop()
        ended = self.wait(timeout_ms)
        if ended:
            # Deliver the queued reports and `finished` now, so the run is shown as saved.
            for _ in range(50):
                if self._thread is None:
                    break
                QCoreApplication.processEvents()
        return ended

    # --- lifecycle ---------------------------------------------------------------------
    def _on_worker_finished(self, result: RunResult) -> None:
        self._result = result

    def _on_thread_finished(self) -> None:
        thread = self._thread
        result = self._result or RunResult(status="failed", message="the training thread ended unexpectedly")
        if thread is not None:
            # `finished` is emitted by the thread just before it ends: wait for the end, or
            # dropping the last reference would destroy a running QThread (Qt aborts).
            thread.wait()
        self._thread = self._worker = None
        self.session = None
        self.finished.emit(result)


class _FunctionWorker(QObject):
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn

    @Slot()
    def run(self) -> None:
        try:
            value = self.fn()
        except StudioError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user as one line
            traceback.print_exc()
            self.failed.emit(
                f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            )
            return
        self.done.emit(value)


class FunctionRunner(QObject):
    """Runs one function at a time on a thread; `done(result)` or `failed(message)` on the GUI thread."""

    done = Signal(object)
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._thread: Optional[QThread] = None
        self._worker: Optional[_FunctionWorker] = None

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, fn: Callable[[], Any]) -> bool:
        """Run `fn` on a new thread; False (nothing started) while one is running."""
        if self._thread is not None:
            return False
        worker = _FunctionWorker(fn)
        thread = QThread()
        thread.setObjectName("studio-task")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.done.connect(self.done)
        worker.failed.connect(self.failed)
        thread.finished.connect(self._on_finished)
        self._thread, self._worker = thread, worker
        _keep_alive(thread, worker)
        thread.start()
        self.busyChanged.emit(True)
        return True

    def wait(self, timeout_ms: int = 30_000) -> bool:
        return True if self._thread is None else bool(self._thread.wait(timeout_ms))

    def _on_finished(self) -> None:
        if self._thread is not None:
            self._thread.wait()  # see TrainingRunner._on_thread_finished
        self._thread = self._worker = None
        self.busyChanged.emit(False)
