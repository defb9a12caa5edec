"""`EstimateLine`: the pre-flight estimate beside Train ('needs ~35 MB, ~0.4 s per epoch').

The estimate itself is studio/workflows/estimate.py: pure arithmetic over the shapes and the
training settings, computed on a worker thread (it reads the dataset's description for the sample
count). Seconds need this device's calibration: cached in the config folder; without one the line
offers a 'calibrate' link that measures it in the background (TensorFlow, about a minute on a small
CPU) while Train waits. The tooltip breaks the memory down and, after a run, shows the estimate
next to what the run measured.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from studio.ui.workers import FunctionRunner

DELAY_MS = 300  # coalesce a burst of edits into one estimate


class EstimateLine(QLabel):
    calibratingChanged = Signal(bool)

    def __init__(self, document: Any, can_calibrate: Callable[[], bool], parent: Optional[QWidget] = None) -> None:
        super().__init__("", parent)
        self.document = document
        self.can_calibrate = can_calibrate
        self.estimate: Optional[dict] = None
        self.calibrating = False
        self._pending = False
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setStyleSheet("color: #555555;")
        self.runner = FunctionRunner(self)
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.calibration_runner = FunctionRunner(self)
        self.calibration_runner.done.connect(self._on_calibrated)
        self.calibration_runner.failed.connect(self._on_calibration_failed)
        self.linkActivated.connect(lambda _link: self.calibrate())
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self.refresh_now)
        document.reportChanged.connect(lambda _r: self.refresh())
        document.sectionChanged.connect(lambda _s: self.refresh())
        document.projectReplaced.connect(lambda _p: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        self._timer.start()

    def refresh_now(self) -> None:
        report = self.document.report
        if not report.ok:
            self.estimate = None
            self.setText("")
            self.setToolTip("")
            return
        project = self.document.project

        def work() -> dict:
            from studio.workflows.check import estimate_result

            return estimate_result(project, report, calibrate=False)

        if not self.runner.start(work):
            self._pending = True

    def calibrate(self) -> bool:
        """Measure this device (TensorFlow, in the background); the line updates when done."""
        if self.calibrating or not self.can_calibrate():
            return False

        def work() -> Any:
            from studio.workflows.estimate import calibrate

            return calibrate()

        self.calibrating = self.calibration_runner.start(work)
        if self.calibrating:
            self.setText("estimate: calibrating this device…")
            self.calibratingChanged.emit(True)
        return self.calibrating

    def _on_done(self, estimate: dict) -> None:
        if self._pending:
            self._pending = False
            self.refresh()
        self.estimate = estimate
        if not self.calibrating:
            self.setText(line_text(estimate))
        self.setToolTip(tooltip_text(estimate))

    def _on_failed(self, text: str) -> None:
        self.estimate = None
        self.setText("")
        self.setToolTip(f"no estimate: {text}")

    def _on_calibrated(self, _calibration: Any) -> None:
        self.calibrating = False
        self.calibratingChanged.emit(False)
        self.refresh_now()

    def _on_calibration_failed(self, text: str) -> None:
        self.calibrating = False
        self.calibratingChanged.emit(False)
        self.setText(f"estimate: calibration failed ({text})")


def _mb(n: Optional[int]) -> str:
    return "?" if n is None else f"{n / (1024 * 1024):,.1f} MB"


def line_text(e: dict) -> str:
    from studio.workflows.estimate import format_seconds, memory_text

    text = memory_text(e["total_bytes"], e.get("runtime_bytes") is not None)
    if e.get("epoch_seconds") is not None:
        text += f", ~{format_seconds(e['epoch_seconds'])} per epoch"
    elif e.get("steps_per_epoch"):
        text += ", <a href='calibrate'>calibrate</a> for time per epoch"
    return text


def tooltip_text(e: dict) -> str:
    from studio.workflows.check import format_estimate

    return f"<pre>{_escape(format_estimate(e).strip())}</pre>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
