"""The Predict tab: one input through a run's model, the output shown at once.

Loading the model and predicting run on a `FunctionRunner` thread; the
model of the selected run is loaded once and kept for the next inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.training import runs
from studio.ui.workers import FunctionRunner


def takes_images(record: dict) -> bool:
    """True when the run's model reads images: image data, or an Input of
    (height, width, channels)."""
    dataset = record.get("dataset_resolved") or record.get("dataset") or {}
    if isinstance(dataset, dict) and dataset.get("kind") == "images":
        return True
    graph = record.get("graph") if isinstance(record.get("graph"), dict) else {}
    for node in graph.get("nodes") or []:
        if isinstance(node, dict) and node.get("type") == "Input":
            shape = (node.get("params") or {}).get("batch_shape")
            if isinstance(shape, list) and len(shape) == 4:
                return True
    return False


class PredictView(QWidget):
    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.run: Optional[runs.RunInfo] = None
        self.class_names: Optional[list[str]] = None
        self._models: dict[str, Any] = {}  # run path -> model (touched on the worker thread only)
        self.runner = FunctionRunner(self)
        self.runner.done.connect(self._show)
        self.runner.failed.connect(self._failed)
        self.runner.busyChanged.connect(self._busy)

        self.title = QLabel("Select a run to predict with its model.")
        self.title.setWordWrap(True)
        self.input = QLineEdit()
        self.input.setPlaceholderText("input values, e.g. 5.1, 3.5, 1.4, 0.2 (or a text for text models)")
        self.input.returnPressed.connect(self.predict)
        self.predict_button = QPushButton("Predict")
        self.predict_button.clicked.connect(self.predict)
        self.image_button = QPushButton("Image…")
        self.image_button.setToolTip("Predict on an image file (image models)")
        self.image_button.clicked.connect(self._choose_image)
        self.output = QTableWidget(0, 2)
        self.output.setHorizontalHeaderLabels(["output", "value"])
        self.output.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.predict_button)
        row.addWidget(self.image_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addWidget(self.output, 1)
        layout.addWidget(self.status)
        self.set_run(None)

    def set_run(self, info: Optional[runs.RunInfo]) -> None:
        self.run = info if info is not None and info.model_path is not None else None
        names = None
        hint = "input values, e.g. 5.1, 3.5, 1.4, 0.2 (or a text for text models)"
        images = False
        if self.run is not None:
            record = runs.load_config(self.run)
            images = takes_images(record)
            names = (record.get("task") or {}).get("class_names")
            dataset = record.get("dataset_resolved") or {}
            features = dataset.get("features")
            if dataset.get("kind") == "images":
                hint = "choose an image file with Image…"
            elif dataset.get("kind") in ("npz", "npy"):
                # arrays: one sample's values in order (an image model also takes an image file)
                hint = "the values of one sample, separated by commas" + (
                    ", or an image file (Image…)" if images else "")
            elif isinstance(features, list) and features and all(isinstance(f, str) for f in features):
                hint = "values for " + ", ".join(features[:12]) + (" …" if len(features) > 12 else "")
            self.title.setText(f"Model of run {self.run.id} ({self.run.model_path.name})")
        else:
            self.title.setText("Select a finished run (with a saved model) to predict with it.")
        self.class_names = list(names) if names else None
        self.input.setPlaceholderText(hint)
        for widget in (self.input, self.predict_button, self.image_button):
            widget.setEnabled(self.run is not None)
        self.image_button.setVisible(images)  # no "Image…" for a model of two numbers

    def predict(self, value: Any = None) -> bool:
        """Predict on the typed input (or `value`: text or an image Path) on a worker thread."""
        if self.run is None:
            return False
        value = self.input.text() if value is None or value is False else value
        run, names, models = self.run, self.class_names, self._models

        def work() -> dict:
            from studio.training.predict import predict_one
            from studio.workflows.evaluate import load_run_model

            key = str(run.path)
            if key not in models:
                models[key] = load_run_model(run)
            return predict_one(models[key], value, names)

        return self.runner.start(work)

    def _choose_image(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Image to predict", "", "Images (*.png *.jpg *.jpeg *.bmp *.gif)"
        )
        if path:
            self.predict(Path(path))

    def _show(self, result: dict) -> None:
        self.status.setText("")
        rows = (
            result.get("classes")
            if result.get("kind") == "classes"
            else list(enumerate(result.get("values", [])))
        )
        self.output.setRowCount(len(rows))
        for r, (name, value) in enumerate(rows):
            self.output.setItem(r, 0, QTableWidgetItem(str(name)))
            text = f"{value:.1%}" if result.get("kind") == "classes" else f"{value:.6g}"
            self.output.setItem(r, 1, QTableWidgetItem(text))
        self.output.resizeColumnsToContents()

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _busy(self, busy: bool) -> None:
        self.predict_button.setEnabled(not busy and self.run is not None)
        if busy:
            self.status.setText("Predicting…")
