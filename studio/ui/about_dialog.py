"""Help > About: the version and the environment report `studio --version --verbose` prints
(TensorFlow's build, the CUDA and cuDNN it was built with, the devices it sees, why no GPU,
the start-time device settings), with a Copy button for bug reports.

The report imports TensorFlow and lists its devices (seconds the first time), so it is
made on a daemon thread; the dialog shows "Reading..." until the report arrives on the
GUI thread through a queued signal. The report is made once per process.
"""

from __future__ import annotations

import threading
from typing import Optional

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio import __version__

READING = "Reading TensorFlow's build and devices…"


class _Reporter(QObject):
    ready = Signal(str)


_LOCK = threading.Lock()
_REPORTER: Optional[_Reporter] = None  # made on the GUI thread, lives as long as the app
_REPORT: Optional[str] = None
_STARTED = False


def _make_report() -> None:
    global _REPORT
    try:
        from studio.workflows.environment import report_text

        text = report_text()
    except Exception as exc:  # noqa: BLE001 - the dialog says what went wrong instead of a report
        text = f"The environment report could not be made: {type(exc).__name__}: {exc}"
    with _LOCK:
        _REPORT = text
        reporter = _REPORTER
    if reporter is not None:
        reporter.ready.emit(text)  # queued: the slot runs on the GUI thread


def _request(slot) -> Optional[str]:  # type: ignore[no-untyped-def]
    """The report when it is made; else connect `slot` to get it and start making it once."""
    global _REPORTER, _STARTED
    with _LOCK:
        if _REPORT is not None:
            return _REPORT
        if _REPORTER is None:
            _REPORTER = _Reporter()
        _REPORTER.ready.connect(slot)
        start, _STARTED = not _STARTED, True
    if start:
        threading.Thread(target=_make_report, name="environment-report", daemon=True).start()
    return None


class AboutDialog(QDialog):
    """The version, the environment report (read-only, selectable) and Copy / Close."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Network Studio")
        self.setObjectName("aboutDialog")
        layout = QVBoxLayout(self)
        title = QLabel(f"<b>Network Studio</b> {__version__}<br>Design, train and export neural networks.")
        layout.addWidget(title)
        layout.addWidget(QLabel("This machine, as TensorFlow sees it (the same as <tt>studio --version --verbose</tt>):"))
        self.report = QPlainTextEdit(READING)
        self.report.setObjectName("environmentReport")
        self.report.setReadOnly(True)
        self.report.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.report.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.report.setMinimumSize(720, 260)
        layout.addWidget(self.report)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the version and the report, e.g. for a bug report")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        ready = _request(self.show_report)
        if ready is not None:
            self.show_report(ready)

    def show_report(self, text: str) -> None:
        self.report.setPlainText(text)
        self.copy_button.setEnabled(True)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.report.toPlainText())
