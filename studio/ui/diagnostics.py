"""The diagnostics panel: every error, warning and hint of the live report.
Clicking one selects the node and shows it on the canvas. A wire just refused
heads the list with its reason and its fixes (click one to apply it) until the
next click, key or edit on the canvas."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from studio.graph.inference import ShapeReport
from studio.ui import icons, theme
from studio.ui.document import ProjectDocument

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
FIX_ROLE = Qt.ItemDataRole.UserRole + 2
RANK = {"error": 0, "warning": 1, "info": 2}


class DiagnosticsPanel(QWidget):
    nodeActivated = Signal(str)
    fixRequested = Signal(int)  # the refused wire's fix number

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._refusal: tuple[str, list[str]] = ("", [])
        self.setObjectName("diagnosticsPanel")
        self.list = QListWidget(self)
        self.list.setObjectName("diagnosticsList")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.empty = QLabel("No problems: every layer has a shape.", self)
        self.empty.setObjectName("placeholder")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        document.reportChanged.connect(self.show_report)
        self.show_report(document.report)

    def show_report(self, report: ShapeReport) -> None:
        self.list.clear()
        graph = self.document.graph
        items = sorted(report.diagnostics, key=lambda d: (RANK.get(d.severity, 3), d.node or ""))
        reason, fixes = self._refusal
        t = theme.current()
        if reason:
            item = QListWidgetItem(icons.action_icon("error", t.error.name()), f"Wire refused: {reason}")
            item.setToolTip(reason)
            self.list.addItem(item)
            for i, label in enumerate(fixes):
                fix = QListWidgetItem(f"    ▸ {label} (click to apply)")
                fix.setData(FIX_ROLE, i)
                fix.setForeground(t.accent)
                fix.setToolTip(f"{label} between the two layers and wire it (one undo step)")
                self.list.addItem(fix)
        for d in items:
            where = graph.label(d.node) if d.node and graph.has_node(d.node) else "model"
            t = theme.current()
            color = {"error": t.error, "warning": t.warning}.get(d.severity, t.muted).name()
            item = QListWidgetItem(icons.action_icon(d.severity if d.severity in RANK else "info", color),
                                   f"{where}: {d.message}" if where not in d.message else d.message)
            item.setData(NODE_ROLE, d.node)
            item.setToolTip(d.message)
            self.list.addItem(item)
        self.list.setVisible(bool(items) or bool(reason))
        self.empty.setVisible(not items and not reason)
        self.empty.setText("No problems: every layer has a shape." if graph.nodes
                           else "Nothing to check yet: add layers to the canvas.")

    def counts(self) -> tuple[int, int]:
        report = self.document.report
        errors = sum(d.severity == "error" for d in report.diagnostics)
        warnings = sum(d.severity == "warning" for d in report.diagnostics)
        return errors, warnings

    def show_refusal(self, reason: str, fixes: list) -> None:
        """List why a wire was just refused ("" when that is over), with its fixes."""
        if self._refusal == (reason, list(fixes)):
            return
        self._refusal = (reason, list(fixes))
        self.show_report(self.document.report)

    def _activated(self, item: QListWidgetItem) -> None:
        fix = item.data(FIX_ROLE)
        if fix is not None:
            self.fixRequested.emit(fix)
            return
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.nodeActivated.emit(node_id)
