"""The training settings form, bound to `project.training` through the document.

Every change builds a new `TrainingConfig` dict, validates it and, when
valid, pushes it with `document.set_section("training", ...)` (one undo step
per change). The form mirrors the document: it reloads on
`sectionChanged("training")` and `projectReplaced` (undo included).
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import TrainingError
from studio.graph.layers.presets import PRESET
from studio.graph.layers.transfer import BACKBONE, HUB_MODULE
from studio.training.config import LOSSES, LR_SCHEDULES, OPTIMIZERS, TrainingConfig
from studio.ui.preload import when_devices_known

OPTIMIZER_LABELS = {
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "nadam": "Nadam",
}
SCHEDULE_LABELS = {
    "constant": "Constant",
    "step": "Step decay",
    "exponential": "Exponential decay",
    "cosine": "Cosine (with warm-up)",
    "reduce_on_plateau": "Reduce on plateau",
}
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")
DEVICES = ("auto", "cpu", "gpu:0", "gpu:1")  # until TensorFlow, loaded in the background, lists them
DEVICE_TIP = "auto uses the first GPU if there is one; a missing GPU falls back to the CPU"


class _WheelGuard(QObject):
    """Scrolling the settings column over a box must not change the box: a wheel
    event reaches a spin box or combo box only once it has the focus (clicked or
    tabbed into); otherwise it scrolls the column."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False


def _double(low: float, high: float, decimals: int, step: float, tip: str = "") -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setKeyboardTracking(False)
    box.setToolTip(tip)
    return box


def _int(low: int, high: int, tip: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setKeyboardTracking(False)
    box.setToolTip(tip)
    return box


class TrainingSettingsForm(QWidget):
    """Edits `document.project.training`; `configChanged(TrainingConfig)` after each accepted change."""

    configChanged = Signal(object)

    def __init__(self, document: Any, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.document = document
        self._loading = False
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()

        # --- optimizer ---
        self.optimizer = QComboBox()
        for key, label in OPTIMIZER_LABELS.items():
            self.optimizer.addItem(label, key)
        self.learning_rate = _double(
            1e-7, 10.0, 7, 1e-4, "Step size of each update; lower it if the loss jumps or becomes NaN"
        )
        self.learning_rate.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.momentum = _double(0.0, 0.999, 3, 0.05, "SGD/RMSprop momentum (0.9 is common)")
        self.nesterov = QCheckBox("Nesterov momentum")
        self.weight_decay = _double(0.0, 1.0, 5, 0.001, "AdamW weight decay")
        self.clipnorm = _double(
            0.0, 1000.0, 3, 0.5, "Clip each gradient to this norm; 0 = off (try 1.0 against NaN losses)"
        )
        self.clipnorm.setSpecialValueText("off")
        opt_box = QGroupBox("Optimizer")
        opt_form = QFormLayout(opt_box)
        opt_form.addRow("Optimizer", self.optimizer)
        opt_form.addRow("Learning rate", self.learning_rate)
        opt_form.addRow("Momentum", self.momentum)
        opt_form.addRow("", self.nesterov)
        opt_form.addRow("Weight decay", self.weight_decay)
        opt_form.addRow("Gradient clip", self.clipnorm)
        self._opt_form = opt_form

        # --- schedule ---
        self.schedule = QComboBox()
        for key, label in SCHEDULE_LABELS.items():
            self.schedule.addItem(label, key)
        self.step_epochs = _int(1, 100_000, "Multiply the rate by the factor every this many epochs")
        self.factor = _double(0.001, 0.999, 3, 0.05, "Multiply the rate by this factor")
        self.decay_rate = _double(0.001, 1.0, 4, 0.01, "Multiply the rate by this each epoch")
        self.warmup_epochs = _int(0, 100_000, "Epochs of linear warm-up before the cosine decay")
        self.min_lr = _double(0.0, 1.0, 7, 1e-5, "The rate never goes below this")
        self.plateau_patience = _int(0, 100_000, "Epochs without improvement before the rate is reduced")
        sched_box = QGroupBox("Learning-rate schedule")
        sched_form = QFormLayout(sched_box)
        sched_form.addRow("Schedule", self.schedule)
        sched_form.addRow("Every (epochs)", self.step_epochs)
        sched_form.addRow("Factor", self.factor)
        sched_form.addRow("Decay per epoch", self.decay_rate)
        sched_form.addRow("Warm-up epochs", self.warmup_epochs)
        sched_form.addRow("Patience", self.plateau_patience)
        sched_form.addRow("Minimum rate", self.min_lr)
        self._sched_form = sched_form

        # --- loss and data ---
        self.loss = QComboBox()
        self.loss.setEditable(True)
        self.loss.addItems(list(LOSSES))
        self.loss.setToolTip("'auto' picks the loss from the dataset's task and the output layer")
        self.metrics = QLineEdit()
        self.metrics.setPlaceholderText("auto (accuracy / mae)")
        self.metrics.setToolTip("Comma-separated Keras metric names; empty for the task's defaults")
        self.epochs = _int(1, 1_000_000, "Passes over the training data")
        self.batch_size = _int(1, 1 << 20, "Samples per gradient step")
        self.validation_split = _double(
            0.0, 0.9, 2, 0.05, "Held out for validation when the dataset has no validation split"
        )
        fit_box = QGroupBox("Training")
        fit_form = QFormLayout(fit_box)
        fit_form.addRow("Loss", self.loss)
        fit_form.addRow("Metrics", self.metrics)
        fit_form.addRow("Epochs", self.epochs)
        fit_form.addRow("Batch size", self.batch_size)
        fit_form.addRow("Validation split", self.validation_split)

        # --- two-phase fine-tuning of a pretrained base (Backbone / Hub module nodes) ---
        self.fine_tune = QCheckBox("Two-phase fine-tuning of the pretrained base")
        self.fine_tune.setToolTip(
            "Phase 1 trains your layers while the Backbone / Hub module is frozen; phase 2 unfreezes its top "
            "layers and continues at a lower learning rate, in the same run and on the same curves"
        )
        self.ft_head_epochs = _int(1, 1_000_000, "Epochs of phase 1 (the head on the frozen base); the rest "
                                   "of the epochs fine-tune")
        self.ft_unfreeze_top = _int(0, 100_000, "Layers unfrozen at the top of the base in phase 2; 'all' "
                                    "unfreezes all of it (BatchNormalization layers always stay frozen)")
        self.ft_unfreeze_top.setSpecialValueText("all")
        self.ft_lr_factor = _double(0.0001, 10.0, 4, 0.05, "Phase 2's learning rate is the learning rate "
                                    "times this (0.1: ten times lower)")
        self.cache_features = QCheckBox("Compute a frozen base's features once (faster head epochs)")
        self.cache_features.setToolTip(
            "While the Backbone / Hub module is frozen and no random augmentation or dropout comes before it, "
            "its features are computed once per sample and each epoch trains only your layers on them: the "
            "same result, many times faster"
        )
        ft_box = QGroupBox("Fine-tuning a pretrained base")
        ft_form = QFormLayout(ft_box)
        ft_form.addRow(self.fine_tune)
        ft_form.addRow("Head epochs (frozen base)", self.ft_head_epochs)
        ft_form.addRow("Then unfreeze top layers", self.ft_unfreeze_top)
        ft_form.addRow("Learning-rate factor", self.ft_lr_factor)
        ft_form.addRow(self.cache_features)
        self.ft_box = ft_box  # shown when the network has a pretrained base (or two-phase is on)

        # --- stopping and saving ---
        self.early_stopping = QCheckBox("Stop early when the monitored value stops improving")
        self.es_monitor = QComboBox()
        self.es_monitor.setEditable(True)
        self.es_monitor.addItems(list(MONITORS))
        self.es_patience = _int(0, 100_000, "Epochs without improvement before stopping")
        self.restore_best = QCheckBox("Restore the best weights")
        self.checkpoint_best = QCheckBox("Save the best model (best.keras)")
        stop_box = QGroupBox("Early stopping and checkpoints")
        stop_form = QFormLayout(stop_box)
        stop_form.addRow(self.early_stopping)
        stop_form.addRow("Monitor", self.es_monitor)
        stop_form.addRow("Patience", self.es_patience)
        stop_form.addRow(self.restore_best)
        stop_form.addRow(self.checkpoint_best)

        # --- hardware ---
        self.device = QComboBox()
        self.device.setEditable(True)
        self.device.addItems(list(DEVICES))
        self.device.setToolTip(DEVICE_TIP)
        when_devices_known(self.set_devices)  # the devices TensorFlow sees, once it is loaded
        self.seed = _int(
            -1, 2**31 - 1, "Fixes weight initialisation and shuffling; 'random' for a new seed each run"
        )
        self.seed.setSpecialValueText("random")
        self.mixed_precision = QCheckBox("Mixed precision (float16 on GPUs)")
        self.steps_per_execution = _int(
            0,
            100_000,
            "Batches run per call into TensorFlow. 'auto' groups batches only when they are tiny "
            "(a group stays under about 50 ms of work), which can make small models train much faster; "
            "Stop and Pause then take effect after the current group, and the batch curve gets a "
            "point per group.",
        )
        self.steps_per_execution.setSpecialValueText("auto")
        hw_box = QGroupBox("Hardware and reproducibility")
        hw_form = QFormLayout(hw_box)
        hw_form.addRow("Device", self.device)
        hw_form.addRow("Seed", self.seed)
        hw_form.addRow("Steps per execution", self.steps_per_execution)
        hw_form.addRow(self.mixed_precision)

        layout = QVBoxLayout(self)
        layout.addWidget(self.error)
        for box in (fit_box, opt_box, sched_box, ft_box, stop_box, hw_box):
            layout.addWidget(box)
        layout.addStretch(1)
        self._wheel_guard = _WheelGuard(self)
        for widget in self.findChildren(QAbstractSpinBox) + self.findChildren(QComboBox):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(self._wheel_guard)
        self._shown: dict[str, Any] = {}  # the settings the form shows, as TrainingConfig.to_dict()

        for combo in (self.optimizer, self.schedule, self.device):
            combo.currentIndexChanged.connect(self._changed)
        for combo in (self.loss, self.es_monitor, self.device):
            combo.lineEdit().editingFinished.connect(self._changed)
        self.loss.currentIndexChanged.connect(self._changed)
        self.es_monitor.currentIndexChanged.connect(self._changed)
        self.metrics.editingFinished.connect(self._changed)
        for box in (
            self.learning_rate,
            self.momentum,
            self.weight_decay,
            self.clipnorm,
            self.step_epochs,
            self.factor,
            self.decay_rate,
            self.warmup_epochs,
            self.min_lr,
            self.plateau_patience,
            self.epochs,
            self.batch_size,
            self.validation_split,
            self.es_patience,
            self.seed,
            self.steps_per_execution,
            self.ft_head_epochs,
            self.ft_unfreeze_top,
            self.ft_lr_factor,
        ):
            box.valueChanged.connect(self._changed)
        for check in (
            self.nesterov,
            self.early_stopping,
            self.restore_best,
            self.checkpoint_best,
            self.mixed_precision,
            self.fine_tune,
            self.cache_features,
        ):
            check.toggled.connect(self._changed)

        document.sectionChanged.connect(self._on_section_changed)
        document.graphChanged.connect(self._show_fine_tuning)
        document.projectReplaced.connect(lambda _p: self.load())
        self.load()

    # --- document -> form ---------------------------------------------------------------
    def config(self) -> TrainingConfig:
        """The project's settings (defaults when the stored ones are invalid)."""
        try:
            return TrainingConfig.from_dict(self.document.project.training)
        except TrainingError:
            return TrainingConfig()

    def load(self) -> None:
        try:
            config = TrainingConfig.from_dict(self.document.project.training)
            self._show_error("")
        except TrainingError as exc:
            config = TrainingConfig()
            self._show_error(f"{exc} (showing defaults)")
        self._loading = True
        try:
            self._fill(config)
        finally:
            self._loading = False
        self._update_visibility()
        self._show_fine_tuning()
        try:
            self._shown = TrainingConfig.from_dict(self.form_dict()).to_dict()
        except TrainingError:
            self._shown = {}

    def _fill(self, c: TrainingConfig) -> None:
        self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(c.optimizer)))
        self.learning_rate.setValue(c.learning_rate)
        defaults = OPTIMIZERS[c.optimizer][1]
        p = {**defaults, **c.optimizer_params}
        self.momentum.setValue(float(p.get("momentum", 0.0)))
        self.nesterov.setChecked(bool(p.get("nesterov", False)))
        self.weight_decay.setValue(float(p.get("weight_decay", 0.0) or 0.0))
        self.clipnorm.setValue(float(c.optimizer_params.get("clipnorm") or 0.0))
        self.schedule.setCurrentIndex(max(0, self.schedule.findData(c.lr_schedule)))
        sp = {**{k: v for d in LR_SCHEDULES.values() for k, v in d.items()}, **c.lr_schedule_params}
        self.step_epochs.setValue(int(sp["step_epochs"]))
        self.factor.setValue(float(sp["factor"]))
        self.decay_rate.setValue(float(sp["decay_rate"]))
        self.warmup_epochs.setValue(int(sp["warmup_epochs"]))
        self.min_lr.setValue(float(sp["min_lr"]))
        self.plateau_patience.setValue(int(sp["patience"]))
        self.loss.setCurrentText(c.loss)
        self.metrics.setText("" if c.metrics is None else ", ".join(c.metrics))
        self.epochs.setValue(c.epochs)
        self.batch_size.setValue(c.batch_size)
        self.validation_split.setValue(c.validation_split)
        es = c.early_stopping
        self.early_stopping.setChecked(es.enabled)
        self.es_monitor.setCurrentText(es.monitor)
        self.es_patience.setValue(es.patience)
        self.restore_best.setChecked(es.restore_best_weights)
        self.checkpoint_best.setChecked(c.checkpoint_best)
        self.device.setCurrentText(c.device)
        self.seed.setValue(-1 if c.seed is None else c.seed)
        self.mixed_precision.setChecked(c.mixed_precision)
        self.steps_per_execution.setValue(0 if c.steps_per_execution == "auto" else c.steps_per_execution)
        ft = c.fine_tune
        self.fine_tune.setChecked(ft.enabled)
        self.ft_head_epochs.setValue(ft.head_epochs)
        self.ft_unfreeze_top.setValue(ft.unfreeze_top)
        self.ft_lr_factor.setValue(ft.lr_factor)
        self.cache_features.setChecked(c.cache_features)

    def set_devices(self, devices: list[Any]) -> None:
        """Offer the devices TensorFlow sees (studio.training.devices.DeviceInfo records):
        auto, cpu and each GPU, described in their tooltips. The project's setting stays
        shown even when this machine lacks it (it then trains on the CPU)."""
        gpus = [d for d in devices if d.kind == "GPU"]
        cpu = next((d for d in devices if d.kind == "CPU"), None)
        entries = [("auto", "the first GPU if there is one, else the CPU")]
        entries.append(("cpu", cpu.label() if cpu else "the CPU"))
        entries += [(d.name, d.label()) for d in gpus]
        logical_cpus = [d for d in devices if d.kind == "CPU"]
        if len(gpus) > 1 or (not gpus and len(logical_cpus) > 1):
            replicas = f"{len(gpus)} GPUs" if gpus else f"{len(logical_cpus)} logical CPU devices"
            entries.append(("mirrored", f"all GPUs (mirrored): one replica on each of the {replicas}, "
                                        "the batch split between them"))
        current = self.device.currentText()
        loading, self._loading = self._loading, True
        try:
            self.device.clear()
            for name, tip in entries:
                self.device.addItem(name)
                self.device.setItemData(self.device.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
            self.device.setCurrentText(current)
        finally:
            self._loading = loading
        seen = "; ".join(tip for _, tip in entries[1:])
        self.device.setToolTip(
            f"{DEVICE_TIP}. This machine: {seen}"
            + ("" if gpus else " and no GPU (Help > About, or studio --version --verbose, says why)")
        )

    def _on_section_changed(self, key: str) -> None:
        if key == "training":
            self.load()

    # --- form -> document ---------------------------------------------------------------
    def form_dict(self) -> dict[str, Any]:
        """The settings as the form shows them, on top of the stored dict (unknown keys kept)."""
        base = dict(self.document.project.training or {})
        opt = self.optimizer.currentData()
        params: dict[str, Any] = {}
        allowed = OPTIMIZERS[opt][1]
        if "momentum" in allowed:
            params["momentum"] = self.momentum.value()
        if "nesterov" in allowed:
            params["nesterov"] = self.nesterov.isChecked()
        if "weight_decay" in allowed:
            params["weight_decay"] = self.weight_decay.value()
        for key, value in (base.get("optimizer_params") or {}).items():
            if key in allowed and key not in params:
                params[key] = value
        if self.clipnorm.value() > 0:
            params["clipnorm"] = self.clipnorm.value()
        schedule = self.schedule.currentData()
        sched_params = dict(base.get("lr_schedule_params") or {})
        shown = {
            "step": {"step_epochs": self.step_epochs.value(), "factor": self.factor.value()},
            "exponential": {"decay_rate": self.decay_rate.value()},
            "cosine": {"warmup_epochs": self.warmup_epochs.value(), "min_lr": self.min_lr.value()},
            "reduce_on_plateau": {
                "factor": self.factor.value(),
                "patience": self.plateau_patience.value(),
                "min_lr": self.min_lr.value(),
            },
        }.get(schedule, {})
        sched_params.update(shown)
        metrics_text = self.metrics.text().strip()
        metrics = None if not metrics_text else [m.strip() for m in metrics_text.split(",") if m.strip()]
        base.update(
            optimizer=opt,
            optimizer_params=params,
            learning_rate=self.learning_rate.value(),
            lr_schedule=schedule,
            lr_schedule_params=sched_params,
            loss=self.loss.currentText().strip() or "auto",
            metrics=metrics,
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            validation_split=self.validation_split.value(),
            early_stopping={
                "enabled": self.early_stopping.isChecked(),
                "monitor": self.es_monitor.currentText().strip(),
                "patience": self.es_patience.value(),
                "min_delta": float((base.get("early_stopping") or {}).get("min_delta", 0.0))
                if isinstance(base.get("early_stopping"), dict)
                else 0.0,
                "restore_best_weights": self.restore_best.isChecked(),
            },
            checkpoint_best=self.checkpoint_best.isChecked(),
            device=self.device.currentText().strip(),
            seed=None if self.seed.value() < 0 else self.seed.value(),
            mixed_precision=self.mixed_precision.isChecked(),
            steps_per_execution=self.steps_per_execution.value() or "auto",
            fine_tune={
                "enabled": self.fine_tune.isChecked(),
                "head_epochs": self.ft_head_epochs.value(),
                "unfreeze_top": self.ft_unfreeze_top.value(),
                "lr_factor": self.ft_lr_factor.value(),
            },
            cache_features=self.cache_features.isChecked(),
        )
        return base

    def _changed(self, *_args: Any) -> None:
        self._update_visibility()
        if self._loading:
            return
        data = self.form_dict()
        try:
            config = TrainingConfig.from_dict(data)
        except TrainingError as exc:
            self._show_error(str(exc))
            return
        self._show_error("")
        # Only what the user changed is written, over the project's own dict: a click or
        # focus change that changes nothing is no undo step, and the file keeps its form
        # (no defaults written out, no values rounded by the boxes they were shown in).
        new = config.to_dict()
        changed = {k: v for k, v in new.items() if self._shown.get(k, object()) != v}
        if not changed:
            return
        stored = dict(self.document.project.training or {})
        stored.update(changed)
        try:
            TrainingConfig.from_dict(stored)
        except TrainingError:
            stored = new  # the stored settings were invalid: write the form's whole
        if stored != self.document.project.training:
            self.document.set_section("training", stored, "Change training settings")
        self.configChanged.emit(config)

    def _show_fine_tuning(self) -> None:
        """The fine-tuning group only where it means something: a Backbone or Hub module node in the
        network, or two-phase fine-tuning already on (so it can be turned off)."""
        graph = self.document.project.graph
        has_base = any(node.type in (BACKBONE, HUB_MODULE, PRESET) for node in graph.nodes)
        self.ft_box.setVisible(has_base or self.fine_tune.isChecked())

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _update_visibility(self) -> None:
        opt = self.optimizer.currentData()
        allowed = OPTIMIZERS.get(opt, ("", {}))[1]
        self._opt_form.setRowVisible(self.momentum, "momentum" in allowed)
        self._opt_form.setRowVisible(self.nesterov, "nesterov" in allowed)
        self._opt_form.setRowVisible(self.weight_decay, "weight_decay" in allowed)
        schedule = self.schedule.currentData()
        rows = {
            self.step_epochs: ("step",),
            self.factor: ("step", "reduce_on_plateau"),
            self.decay_rate: ("exponential",),
            self.warmup_epochs: ("cosine",),
            self.plateau_patience: ("reduce_on_plateau",),
            self.min_lr: ("cosine", "reduce_on_plateau"),
        }
        for widget, schedules in rows.items():
            self._sched_form.setRowVisible(widget, schedule in schedules)
        on = self.early_stopping.isChecked()
        for widget in (self.es_monitor, self.es_patience, self.restore_best):
            widget.setEnabled(on)
        for widget in (self.ft_head_epochs, self.ft_unfreeze_top, self.ft_lr_factor):
            widget.setEnabled(self.fine_tune.isChecked())
