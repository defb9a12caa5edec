"""`Inspector`: the selected layer's parameters, explanation and live shape.

Several selected nodes of the same type are edited together: one change sets
the parameter on all of them as one undo step.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.graph.edits import Batch, SetParam, SetTitle, SetTrainable
from studio.graph.inference import ShapeReport, format_shape
from studio.graph.model import Node
from studio.graph.spec import LayerSpec
from studio.ui import icons
from studio.ui.document import ProjectDocument
from studio.ui.inspector.editors import ParamEditor, make_editor

_MISSING = object()


def format_params(counts: tuple[int, int] | None) -> str:
    if counts is None:
        return "? params"
    trainable, frozen = counts
    total = trainable + frozen
    text = f"{total:,} params"
    if frozen:
        text += f" ({trainable:,} trainable, {frozen:,} non-trainable)"
    return text


class Inspector(QScrollArea):
    """Edits the selection through `document.push` (STYLE.md 13)."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setObjectName("inspector")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.editors: dict[str, ParamEditor] = {}
        self.spec: LayerSpec | None = None
        self.node_ids: list[str] = []
        self.title_edit: QLineEdit | None = None
        self.trainable_box: QCheckBox | None = None
        self.live: QLabel | None = None
        self.diagnostics: QLabel | None = None
        document.selectionChanged.connect(self.rebuild)
        document.reportChanged.connect(self.refresh)
        document.projectReplaced.connect(lambda _p: self.rebuild())
        self.rebuild()

    # -- building --------------------------------------------------------------------
    def rebuild(self, *_args) -> None:
        nodes = self.document.selected_nodes()
        self.node_ids = [n.id for n in nodes]
        self.editors = {}
        self.title_edit = self.trainable_box = self.live = self.diagnostics = None
        self.spec = None
        body = QWidget()
        body.setObjectName("inspectorBody")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(8)
        if not nodes:
            self._empty(layout, "Select a layer to edit its parameters.\n\n"
                                "Drag layers from the palette, or press Tab on the canvas to add one.")
        elif len({n.type for n in nodes}) > 1:
            self._empty(layout, f"{len(nodes)} layers of different types are selected.\n\n"
                                "Select layers of one type to edit them together.")
        else:
            spec = self.document.graph.spec(nodes[0])
            if spec is None:
                self._opaque(layout, nodes[0])
            else:
                self.spec = spec
                self._header(layout, spec, nodes)
                self._params(layout, spec, nodes)
        layout.addStretch(1)
        self.setWidget(body)
        self.refresh()

    def _empty(self, layout: QVBoxLayout, text: str) -> None:
        label = QLabel(text)
        label.setObjectName("placeholder")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addSpacing(24)
        layout.addWidget(label)

    def _header(self, layout: QVBoxLayout, spec: LayerSpec, nodes: list[Node]) -> None:
        top = QFormLayout()
        top.setContentsMargins(0, 0, 0, 0)
        kind = QLabel(f"<b>{spec.class_name}</b> · {spec.category}" +
                      (f" · <b>{len(nodes)} selected</b>" if len(nodes) > 1 else ""))
        kind.setObjectName("inspectorKind")
        icon = QLabel()
        icon.setPixmap(icons.category_icon(spec.category).pixmap(22, 22))
        row = QWidget()
        r = QFormLayout(row)
        r.setContentsMargins(0, 0, 0, 0)
        r.addRow(icon, kind)
        layout.addWidget(row)
        if len(nodes) == 1:
            self.title_edit = QLineEdit(nodes[0].title)
            self.title_edit.setObjectName("titleEdit")
            self.title_edit.setPlaceholderText(spec.id)
            self.title_edit.editingFinished.connect(self._rename)
            top.addRow("Name", self.title_edit)
        self.trainable_box = QCheckBox("Trainable")
        self.trainable_box.setToolTip("Untick to freeze this layer's weights during training.")
        self.trainable_box.toggled.connect(self._set_trainable)
        top.addRow("", self.trainable_box)
        self._top_form = top
        layout.addLayout(top)
        description = QLabel(spec.description)
        description.setObjectName("description")
        description.setWordWrap(True)
        layout.addWidget(description)
        self.live = QLabel()
        self.live.setObjectName("liveShape")
        self.live.setWordWrap(True)
        self.live.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.live)
        self.diagnostics = QLabel()
        self.diagnostics.setObjectName("diagnostics")
        self.diagnostics.setWordWrap(True)
        layout.addWidget(self.diagnostics)

    def _params(self, layout: QVBoxLayout, spec: LayerSpec, nodes: list[Node]) -> None:
        if not spec.params:
            return
        heading = QLabel("Parameters")
        heading.setObjectName("sectionHeading")
        layout.addWidget(heading)
        basic = QFormLayout()
        basic.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(basic)
        advanced_specs = [p for p in spec.params if p.advanced]
        advanced_box = QWidget()
        advanced = QFormLayout(advanced_box)
        advanced.setContentsMargins(0, 0, 0, 0)
        advanced.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for pspec in spec.params:
            editor = make_editor(pspec)
            editor.setObjectName(f"param_{pspec.key}")
            editor.committed.connect(lambda value, key=pspec.key: self._set_param(key, value))
            label = QLabel(pspec.title)
            label.setToolTip(pspec.help)
            (advanced if pspec.advanced else basic).addRow(label, editor)
            self.editors[pspec.key] = editor
        if advanced_specs:
            toggle = QToolButton()
            toggle.setObjectName("advancedToggle")
            toggle.setText(f"Advanced ({len(advanced_specs)})")
            toggle.setCheckable(True)
            toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            toggle.setArrowType(Qt.ArrowType.RightArrow)
            advanced_box.setVisible(False)

            def flip(on: bool) -> None:
                advanced_box.setVisible(on)
                toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

            toggle.toggled.connect(flip)
            layout.addWidget(toggle)
            layout.addWidget(advanced_box)

    def _opaque(self, layout: QVBoxLayout, node: Node) -> None:
        kind = QLabel(f"<b>{node.type}</b> · unknown layer type")
        kind.setObjectName("inspectorKind")
        layout.addWidget(kind)
        note = QLabel("This layer type is not in this version's catalog (it came from an import or a "
                      "newer version). It is kept unchanged and saved back as it was; its "
                      "configuration is shown read-only.")
        note.setObjectName("description")
        note.setWordWrap(True)
        layout.addWidget(note)
        text = QPlainTextEdit(json.dumps(node.params, indent=2, sort_keys=True))
        text.setReadOnly(True)
        text.setObjectName("opaqueConfig")
        layout.addWidget(text)

    # -- showing the model --------------------------------------------------------------
    def refresh(self, report: ShapeReport | None = None) -> None:
        """Show current values, the live output shape and the diagnostics."""
        graph = self.document.graph
        nodes = [graph.node(n) for n in self.node_ids if graph.has_node(n)]
        if not nodes or self.spec is None:
            return
        report = report if report is not None else self.document.report
        first = nodes[0]
        for key, editor in self.editors.items():
            values = [self.spec.resolve(n.params).get(key) for n in nodes]
            mixed = any(v != values[0] for v in values[1:])
            if values[0] != editor.value or mixed != editor.mixed:
                editor.set_value(values[0], mixed)
            editor.set_error("")
        if self.title_edit is not None and not self.title_edit.hasFocus():
            self.title_edit.setText(first.title)
        if self.trainable_box is not None:
            self.trainable_box.blockSignals(True)
            self.trainable_box.setChecked(all(n.trainable for n in nodes))
            self.trainable_box.blockSignals(False)
            # An Input, a Dropout, a Flatten have no weights to freeze: no box (unless
            # a file froze one anyway, so it can be unfrozen).
            weightless = all(n.trainable and report.params.get(n.id) == (0, 0) for n in nodes)
            self._top_form.setRowVisible(self.trainable_box, not weightless)
        if self.live is not None:
            outs = report.outputs.get(first.id)
            shape = ", ".join(format_shape(s) for s in outs) if outs else "unknown"
            ins = report.inputs.get(first.id) or []
            in_text = ", ".join(format_shape(s) for s in ins) if ins else "—"
            counts = report.params.get(first.id)
            suffix = " (first selected)" if len(nodes) > 1 else ""
            self.live.setText(
                f"<table cellspacing=2><tr><td>Input</td><td><code>{in_text}</code></td></tr>"
                f"<tr><td>Output</td><td><b><code>{shape}</code></b></td></tr>"
                f"<tr><td>Weights</td><td>{format_params(counts)}{suffix}</td></tr></table>"
            )
        if self.diagnostics is not None:
            lines = []
            for node in nodes:
                for d in report.for_node(node.id):
                    if d.key in self.editors:
                        self.editors[d.key].set_error(d.message)
                    css = "error" if d.severity == "error" else "warning" if d.severity == "warning" else "info"
                    lines.append(f"<p class='{css}'>{'✖' if css == 'error' else '⚠' if css == 'warning' else 'ℹ'} "
                                 f"{_escape(d.message)}</p>")
            self.diagnostics.setText("".join(dict.fromkeys(lines)))
            self.diagnostics.setVisible(bool(lines))

    # -- editing ----------------------------------------------------------------------------
    def _set_param(self, key: str, value: Any) -> None:
        graph = self.document.graph
        nodes = [n for n in self.node_ids if graph.has_node(n)]
        edits = [SetParam(n, key, value) for n in nodes if graph.node(n).params.get(key, _MISSING) != value]
        if not edits:
            return
        if len(edits) == 1:
            self.document.push(edits[0])
        else:
            self.document.push(Batch(edits, f"Change {key} of {len(edits)} layers"))

    def _rename(self) -> None:
        if self.title_edit is None or len(self.node_ids) != 1:
            return
        node_id = self.node_ids[0]
        title = self.title_edit.text().strip()
        if self.document.graph.has_node(node_id) and title != self.document.graph.node(node_id).title:
            self.document.push(SetTitle(node_id, title))

    def _set_trainable(self, on: bool) -> None:
        graph = self.document.graph
        edits = [SetTrainable(n, on) for n in self.node_ids if graph.has_node(n) and graph.node(n).trainable != on]
        if edits:
            self.document.push(edits[0] if len(edits) == 1 else Batch(edits, "Freeze" if not on else "Unfreeze"))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
