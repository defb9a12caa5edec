"""Totals in the status bar and the Keras-style model summary table."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import TrainingError
from studio.graph.inference import ShapeReport, format_shape
from studio.graph.model import Graph
from studio.ui.document import ProjectDocument

BYTES_PER_PARAM = 4  # float32


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def optimizer_state(training: dict | None) -> tuple[str, int]:
    """(the optimizer's name, how many values it keeps per weight) for the project's
    training settings: Adam keeps two moments, SGD without momentum none."""
    from studio.training.config import OPTIMIZERS, TrainingConfig

    try:
        config = TrainingConfig.from_dict(training or {})
    except TrainingError:
        config = TrainingConfig()
    label, defaults = OPTIMIZERS.get(config.optimizer, ("Adam", {}))
    p = {**defaults, **config.optimizer_params}
    slots = {
        "sgd": 1 if p.get("momentum") else 0,
        "adam": 3 if p.get("amsgrad") else 2,
        "adamw": 3 if p.get("amsgrad") else 2,
        "nadam": 2,
        "rmsprop": 1 + (1 if p.get("momentum") else 0) + (1 if p.get("centered") else 0),
        "adagrad": 1,
    }.get(config.optimizer, 2)
    return label, slots


def totals_text(report: ShapeReport, optimizer: tuple[str, int] = ("Adam", 2)) -> str:
    total = report.total_params
    trainable = report.trainable_params
    name, slots = optimizer
    weights = human_bytes(total * BYTES_PER_PARAM)
    training = human_bytes(total * BYTES_PER_PARAM * (2 + slots))  # weights, gradients, optimizer state
    return (f"{total:,} params · {trainable:,} trainable · weights {weights} "
            f"(≈{training} while training with {name})")


class SummaryBar(QWidget):
    """Permanent status-bar widget: totals, errors, warnings."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setObjectName("summaryBar")
        self.totals = QLabel(self)
        self.totals.setObjectName("totals")
        self.problems = QLabel(self)
        self.problems.setObjectName("problems")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(14)
        layout.addWidget(self.problems)
        layout.addWidget(self.totals)
        document.reportChanged.connect(self.show_report)
        document.sectionChanged.connect(lambda key: key == "training" and self.show_report(document.report))
        document.projectReplaced.connect(lambda _p: self.show_report(document.report))
        self.show_report(document.report)

    def show_report(self, report: ShapeReport) -> None:
        optimizer = optimizer_state(self.document.project.training)
        self.totals.setText(totals_text(report, optimizer) if self.document.graph.nodes else "Empty model")
        self.totals.setToolTip("Parameters counted from the live shapes; memory for float32 weights, "
                               f"their gradients and {optimizer[0]}'s state "
                               f"({optimizer[1]} value{'s' if optimizer[1] != 1 else ''} per weight)")
        errors = sum(d.severity == "error" for d in report.diagnostics)
        warnings = sum(d.severity == "warning" for d in report.diagnostics)
        if errors or warnings:
            parts = []
            if errors:
                parts.append(f"<span style='color:#E5484D'>✖ {errors} error{'s' if errors > 1 else ''}</span>")
            if warnings:
                parts.append(f"<span style='color:#D9A100'>⚠ {warnings} warning{'s' if warnings > 1 else ''}</span>")
            self.problems.setText(" ".join(parts))
        else:
            self.problems.setText("<span style='color:#2DA160'>✓ model is valid</span>" if report.order else "")


def summary_rows(graph: Graph, report: ShapeReport) -> list[tuple[str, str, str, str]]:
    """(Layer (type), Output Shape, Param #, Connected to) in topological order."""
    order = report.order or [n.id for n in graph.nodes]
    rows = []
    for nid in order:
        node = graph.node(nid)
        spec = graph.spec(node)
        cls = spec.class_name if spec else node.type
        outs = report.outputs.get(nid)
        shape = ", ".join(format_shape(s) for s in outs) if outs else "?"
        counts = report.params.get(nid)
        params = f"{sum(counts):,}" if counts is not None else "?"
        inputs = ", ".join(graph.label(e.source) for e in graph.inputs_of(nid)) or "-"
        rows.append((f"{node.title or node.type} ({cls})", shape, params, inputs))
    return rows


def summary_text(graph: Graph, report: ShapeReport, name: str = "model") -> str:
    rows = summary_rows(graph, report)
    headers = ("Layer (type)", "Output Shape", "Param #", "Connected to")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "─" * (sum(widths) + 3 * (len(widths) - 1))

    def fmt(cells):
        return "   ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [f'Model: "{name}"', "┏" + line + "┓", fmt(headers), line]
    out += [fmt(r) for r in rows]
    out += [line,
            f" Total params: {report.total_params:,} ({human_bytes(report.total_params * BYTES_PER_PARAM)})",
            f" Trainable params: {report.trainable_params:,}",
            f" Non-trainable params: {report.non_trainable_params:,}"]
    return "\n".join(out)


class SummaryDialog(QDialog):
    """The Keras-style summary as a table, live while it is open."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWindowTitle("Model summary")
        self.setObjectName("summaryDialog")
        self.resize(760, 480)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(["Layer (type)", "Output Shape", "Param #", "Connected to"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.totals = QLabel(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = buttons.addButton("Copy as text", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        layout.addWidget(buttons)
        document.reportChanged.connect(self.fill)
        self.fill(document.report)

    def fill(self, report: ShapeReport) -> None:
        rows = summary_rows(self.document.graph, report)
        self.table.setRowCount(len(rows))
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c in (1, 2):
                    item.setFont(mono)
                if c == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.totals.setText(totals_text(report))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(summary_text(self.document.graph, self.document.report,
                                                         self.document.name))
