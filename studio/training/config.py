"""`TrainingConfig`: every training setting of a project, as plain data.

PURE: imports neither TensorFlow, Keras nor numpy, so the project file, the
settings form and `studio check` can read it instantly.

`project.training` is `TrainingConfig.to_dict()`. `from_dict` is tolerant:
missing keys take their defaults, unknown keys are kept (and written back),
and a bad value raises one `TrainingError` naming the key and the fix.

Keras vocabulary: optimizer params are Keras optimizer config keys, so
`keras.optimizers.deserialize(config.keras_optimizer_config())` builds the
optimizer. Learning-rate schedules are applied per epoch by the training
session (`learning_rate_at(epoch)` is pure) or, for `reduce_on_plateau`, by
`keras.callbacks.ReduceLROnPlateau`; the optimizer itself always gets a float
learning rate, so the schedule can be shown, logged and changed mid-run.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple, Optional, Union

from studio.core.errors import TrainingError
from studio.core.tasks import auto_loss, auto_metrics
from studio.core.text import shorten, show

# --- optimizers --------------------------------------------------------------
# name -> (Keras class_name, {param: default}). Params are Keras config keys.
_ADAM_PARAMS = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {"momentum": 0.0, "nesterov": False}),
    "adam": ("Adam", dict(_ADAM_PARAMS)),
    "adamw": ("AdamW", {"weight_decay": 0.004, **_ADAM_PARAMS}),
    "rmsprop": ("RMSprop", {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}),
    "adagrad": ("Adagrad", {"initial_accumulator_value": 0.1, "epsilon": 1e-7}),
    "nadam": ("Nadam", {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
}
# Accepted by every optimizer; None means "off".
COMMON_OPTIMIZER_PARAMS: dict[str, Any] = {"clipnorm": None, "clipvalue": None, "global_clipnorm": None}

# --- learning-rate schedules ---------------------------------------------------
# name -> {param: default}. Epochs count from 0.
LR_SCHEDULES: dict[str, dict[str, Any]] = {
    "constant": {},
    # lr * factor ** (epoch // step_epochs)
    "step": {"step_epochs": 10, "factor": 0.5},
    # lr * decay_rate ** epoch
    "exponential": {"decay_rate": 0.95},
    # linear warm-up, then half a cosine from lr down to min_lr over the remaining epochs
    "cosine": {"min_lr": 0.0, "warmup_epochs": 0},
    # keras.callbacks.ReduceLROnPlateau
    "reduce_on_plateau": {"monitor": "val_loss", "factor": 0.1, "patience": 5, "min_lr": 0.0},
}

# Keras loss names offered in the form (any Keras loss name is accepted).
LOSSES = (
    "auto",
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "log_cosh",
    "kl_divergence",
    "poisson",
    "categorical_hinge",
    "hinge",
    "squared_hinge",
    "cosine_similarity",
)
# Short aliases Keras also accepts.
LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "kld": "kl_divergence"}

METRICS = (
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "auc",
    "precision",
    "recall",
    "mae",
    "mse",
    "rmse",
    "mape",
    "r2_score",
)

TASKS = ("classification", "regression", "forecast")  # forecast trains like regression
LABEL_ENCODINGS = ("index", "onehot", "binary", "multilabel")
MONITORS_HINT = "a logged metric such as 'val_loss', 'loss', 'val_accuracy'"

_DEVICE_RE = re.compile(r"^(auto|cpu|mirrored|gpu:\d+(,gpu:\d+)*)$")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")  # a Keras loss / metric / monitor name


class ResolvedLoss(NamedTuple):
    """What `TrainingConfig.resolve_loss` decided: a Keras loss name and metric names."""

    loss: str
    metrics: list[str]


@dataclass
class EarlyStopping:
    enabled: bool = False
    monitor: str = "val_loss"
    patience: int = 5
    min_delta: float = 0.0
    restore_best_weights: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "monitor": self.monitor,
            "patience": self.patience,
            "min_delta": self.min_delta,
            "restore_best_weights": self.restore_best_weights,
        }


@dataclass
class FineTune:
    """Two-phase fine-tuning of a pretrained base (Backbone / Hub module nodes), in one run.

    Phase 1 trains the head with every base frozen for `head_epochs`; phase 2 unfreezes the top
    `unfreeze_top` layers of each base (0: all of it) and trains the rest of `epochs` at
    `learning_rate * lr_factor`."""

    enabled: bool = False
    head_epochs: int = 3
    unfreeze_top: int = 0
    lr_factor: float = 0.1

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "head_epochs": self.head_epochs, "unfreeze_top": self.unfreeze_top,
                "lr_factor": self.lr_factor}


@dataclass
class TrainingConfig:
    optimizer: str = "adam"
    # Keras config keys of the optimizer (see OPTIMIZERS); missing keys take Keras' defaults.
    optimizer_params: dict[str, Any] = field(default_factory=dict)
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"
    lr_schedule_params: dict[str, Any] = field(default_factory=dict)
    loss: str = "auto"
    # None: the defaults for the task (accuracy / mae); [] means no metrics.
    metrics: Optional[list[str]] = None
    # One weight per output (list) or per output name (dict); None: all 1.
    loss_weights: Union[list[float], dict[str, float], None] = None
    epochs: int = 10
    batch_size: int = 32
    # Fraction of the training data held out when the dataset has no validation split.
    validation_split: float = 0.2
    early_stopping: EarlyStopping = field(default_factory=EarlyStopping)
    checkpoint_best: bool = True
    checkpoint_monitor: str = "val_loss"
    seed: Optional[int] = None
    device: str = "auto"  # "auto" | "cpu" | "gpu:N" | "mirrored" (every GPU) | "gpu:0,gpu:2" (mirrored)
    mixed_precision: bool = False
    # Batches per call into TensorFlow: "auto" groups tiny batches (see training/execution.py).
    steps_per_execution: Union[int, str] = "auto"
    fine_tune: FineTune = field(default_factory=FineTune)
    # While the pretrained base is frozen (and nothing random precedes it), compute its features once
    # and train the head on them (training/features.py): the same head, many times faster.
    cache_features: bool = True
    # Keys of the dict this version does not know; written back unchanged.
    unknown: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # --- serialization -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "optimizer": self.optimizer,
            "optimizer_params": dict(self.optimizer_params),
            "learning_rate": self.learning_rate,
            "lr_schedule": self.lr_schedule,
            "lr_schedule_params": dict(self.lr_schedule_params),
            "loss": self.loss,
            "metrics": None if self.metrics is None else list(self.metrics),
            "loss_weights": _copy_json(self.loss_weights),
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "validation_split": self.validation_split,
            "early_stopping": self.early_stopping.to_dict(),
            "checkpoint_best": self.checkpoint_best,
            "checkpoint_monitor": self.checkpoint_monitor,
            "seed": self.seed,
            "device": self.device,
            "mixed_precision": self.mixed_precision,
            "steps_per_execution": self.steps_per_execution,
            "fine_tune": self.fine_tune.to_dict(),
            "cache_features": self.cache_features,
        }
        for key, value in self.unknown.items():
            data.setdefault(key, _copy_json(value))
        return data

    @classmethod
    def from_dict(cls, data: Optional[dict[str, Any]]) -> TrainingConfig:
        """Build from `project.training`; tolerant of missing and unknown keys."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise TrainingError(
                f"training settings: expected a JSON object, got {type(data).__name__}; "
                "reset the training settings"
            )
        known = {f.name for f in fields(cls)} - {"unknown"}
        kwargs: dict[str, Any] = {}
        unknown = {k: _copy_json(v) for k, v in data.items() if k not in known}
        for key in known & data.keys():
            kwargs[key] = _copy_json(data[key])
        if "early_stopping" in kwargs:
            kwargs["early_stopping"] = _early_stopping_from(kwargs["early_stopping"])
        if "fine_tune" in kwargs:
            kwargs["fine_tune"] = _fine_tune_from(kwargs["fine_tune"])
        return cls(**kwargs, unknown=unknown)

    def replace(self, **changes: Any) -> TrainingConfig:
        """A validated copy with some fields changed (e.g. `--epochs` from the CLI)."""
        data = self.to_dict()
        for key, value in changes.items():
            data[key] = value.to_dict() if isinstance(value, (EarlyStopping, FineTune)) else value
        return TrainingConfig.from_dict(data)

    # --- validation ------------------------------------------------------------
    def validate(self) -> None:
        """Normalise names and check every value; raise TrainingError naming the key."""
        opt = _require_str("optimizer", self.optimizer).strip().lower()
        if opt not in OPTIMIZERS:
            raise TrainingError(
                f"training setting 'optimizer': unknown optimizer {show(self.optimizer)}; "
                f"choose one of {', '.join(OPTIMIZERS)}"
            )
        self.optimizer = opt
        self.optimizer_params = _check_optimizer_params(opt, self.optimizer_params)
        self.learning_rate = _require_number("learning_rate", self.learning_rate, low=0.0, low_open=True)
        sched = _require_str("lr_schedule", self.lr_schedule).strip().lower()
        if sched not in LR_SCHEDULES:
            raise TrainingError(
                f"training setting 'lr_schedule': unknown schedule {show(self.lr_schedule)}; "
                f"choose one of {', '.join(LR_SCHEDULES)}"
            )
        self.lr_schedule = sched
        self.lr_schedule_params = _check_schedule_params(sched, self.lr_schedule_params)
        loss = _require_str("loss", self.loss).strip()
        loss = LOSS_ALIASES.get(loss, loss)
        if not _NAME_RE.match(loss):
            raise TrainingError(
                f"training setting 'loss': {show(self.loss)} is not a loss name; "
                "use 'auto' or a Keras loss name such as 'sparse_categorical_crossentropy'"
            )
        self.loss = loss
        if self.metrics is not None:
            if not isinstance(self.metrics, (list, tuple)) or not all(
                isinstance(m, str) and _NAME_RE.match(m) for m in self.metrics
            ):
                raise TrainingError(
                    "training setting 'metrics': expected a list of Keras metric names such as "
                    "['accuracy'], or null for the defaults of the task"
                )
            self.metrics = list(dict.fromkeys(self.metrics))
        self.loss_weights = _check_loss_weights(self.loss_weights)
        self.epochs = _require_int("epochs", self.epochs, low=1, high=1_000_000)
        self.batch_size = _require_int("batch_size", self.batch_size, low=1, high=1 << 20)
        self.validation_split = _require_number("validation_split", self.validation_split, low=0.0, high=0.9)
        if not isinstance(self.early_stopping, EarlyStopping):
            self.early_stopping = _early_stopping_from(self.early_stopping)
        es = self.early_stopping
        es.enabled = _require_bool("early_stopping.enabled", es.enabled)
        es.monitor = _require_monitor("early_stopping.monitor", es.monitor)
        es.patience = _require_int("early_stopping.patience", es.patience, low=0, high=1_000_000)
        es.min_delta = _require_number("early_stopping.min_delta", es.min_delta, low=0.0)
        es.restore_best_weights = _require_bool(
            "early_stopping.restore_best_weights", es.restore_best_weights
        )
        self.checkpoint_best = _require_bool("checkpoint_best", self.checkpoint_best)
        self.checkpoint_monitor = _require_monitor("checkpoint_monitor", self.checkpoint_monitor)
        if self.seed is not None:
            self.seed = _require_int("seed", self.seed, low=0, high=2**31 - 1)
        device = _require_str("device", self.device).strip().lower().replace(" ", "")
        if not _DEVICE_RE.match(device):
            raise TrainingError(
                f"training setting 'device': {show(self.device)} is not a device; use 'auto', 'cpu', 'gpu:N' (e.g. 'gpu:0'), "
                "'mirrored' (every GPU) or GPUs to mirror over (e.g. 'gpu:0,gpu:2')"
            )
        self.device = device
        self.mixed_precision = _require_bool("mixed_precision", self.mixed_precision)
        if isinstance(self.steps_per_execution, str):
            if self.steps_per_execution.strip().lower() != "auto":
                raise TrainingError(
                    f"training setting 'steps_per_execution': {show(self.steps_per_execution)} is not "
                    "'auto' or a whole number of batches (e.g. 8)"
                )
            self.steps_per_execution = "auto"
        else:
            self.steps_per_execution = _require_int(
                "steps_per_execution", self.steps_per_execution, low=1, high=100_000
            )
        self.cache_features = _require_bool("cache_features", self.cache_features)
        if not isinstance(self.fine_tune, FineTune):
            self.fine_tune = _fine_tune_from(self.fine_tune)
        ft = self.fine_tune
        ft.enabled = _require_bool("fine_tune.enabled", ft.enabled)
        ft.head_epochs = _require_int("fine_tune.head_epochs", ft.head_epochs, low=1, high=1_000_000)
        ft.unfreeze_top = _require_int("fine_tune.unfreeze_top", ft.unfreeze_top, low=0, high=100_000)
        ft.lr_factor = _require_number("fine_tune.lr_factor", ft.lr_factor, low=0.0, high=10.0, low_open=True)
        if ft.enabled and ft.head_epochs >= self.epochs:
            raise TrainingError(
                f"training setting 'fine_tune.head_epochs': {ft.head_epochs} head epoch(s) leave no epoch of "
                f"the {self.epochs} for fine-tuning; use fewer head epochs or more epochs"
            )
        if not isinstance(self.unknown, dict):
            self.unknown = {}

    # --- Keras vocabulary --------------------------------------------------------
    @property
    def optimizer_class_name(self) -> str:
        return OPTIMIZERS[self.optimizer][0]

    def keras_optimizer_config(self) -> dict[str, Any]:
        """`{"class_name", "config"}` for `keras.optimizers.deserialize`.

        The learning rate is the base float rate; schedules are applied per
        epoch by the training session (see `learning_rate_at`).
        """
        config: dict[str, Any] = {"learning_rate": self.learning_rate}
        config.update(self.optimizer_params)
        return {"class_name": self.optimizer_class_name, "config": config}

    def resolve_loss(
        self,
        task: str,
        num_classes: Optional[int] = None,
        label_encoding: str = "index",
        output_units: Optional[int] = None,
    ) -> ResolvedLoss:
        """The Keras loss name and metric names to compile with.

        `loss="auto"` picks from the task: regression -> mean_squared_error;
        classification with one-hot labels -> categorical_crossentropy; with
        a single sigmoid output (`output_units == 1`), binary or multi-label
        targets -> binary_crossentropy; otherwise (integer class indices) ->
        sparse_categorical_crossentropy. `metrics=None` gives accuracy for
        classification and mae for regression.
        """
        if task not in TASKS:
            raise TrainingError(f"task {task!r} is not known; expected one of {', '.join(TASKS)}")
        if label_encoding not in LABEL_ENCODINGS:
            raise TrainingError(
                f"label encoding {label_encoding!r} is not known; expected one of {', '.join(LABEL_ENCODINGS)}"
            )
        loss = self.loss if self.loss != "auto" else auto_loss(task, label_encoding, output_units)
        metrics = list(self.metrics) if self.metrics is not None else auto_metrics(task, label_encoding)
        return ResolvedLoss(loss, metrics)

    # --- schedules -----------------------------------------------------------------
    def learning_rate_at(self, epoch: int, epochs: Optional[int] = None) -> float:
        """The learning rate of `epoch` (from 0) under the per-epoch schedule.

        `reduce_on_plateau` depends on the metrics and is not predictable:
        it returns the base rate. `epochs` (default `self.epochs`) is the
        length of the cosine decay.
        """
        lr = self.learning_rate
        p = self.lr_schedule_params
        total = self.epochs if epochs is None else max(1, int(epochs))
        if self.lr_schedule == "step":
            return lr * p["factor"] ** (epoch // p["step_epochs"])
        if self.lr_schedule == "exponential":
            return lr * p["decay_rate"] ** epoch
        if self.lr_schedule == "cosine":
            warm = p["warmup_epochs"]
            if epoch < warm:
                return lr * (epoch + 1) / (warm + 1)
            span = max(1, total - warm - 1)
            t = min(1.0, (epoch - warm) / span)
            return p["min_lr"] + (lr - p["min_lr"]) * 0.5 * (1.0 + math.cos(math.pi * t))
        return lr

    @property
    def uses_epoch_schedule(self) -> bool:
        return self.lr_schedule in ("step", "exponential", "cosine")


# --- every problem at once -------------------------------------------------------------
_PROBLEM = re.compile(r"^training setting '([^']*)': (.*)$", re.DOTALL)
# Dropping one of these drops its parameters too: they are judged by it.
_PARAMS_OF = {"optimizer": "optimizer_params", "lr_schedule": "lr_schedule_params"}


def training_problems(data: Any) -> list[tuple[str, str]]:
    """Every problem of a project's `training` section, as `(json path, message)`:
    `("training.epochs", "1e+308 is out of range; use a value from 1 to 1,000,000")`.

    `studio check` reports these; `TrainingConfig.from_dict` (train) stops at the
    first. Each faulty value is set aside and the rest checked again."""
    if data is None:
        return []
    if not isinstance(data, dict):
        return [("training", "must be an object of training settings; reset the training settings")]
    data = _copy_json(data)
    found: list[tuple[str, str]] = []
    for _ in range(len(data) + 8):
        try:
            TrainingConfig.from_dict(data)
            return found
        except TrainingError as exc:
            match = _PROBLEM.match(str(exc))
            if match is None:
                found.append(("training", str(exc)))
                return found
            key, detail = match.groups()
            found.append((f"training.{key}", detail))
            if not _drop(data, key.split(".")):
                return found
    return found


def _drop(data: dict, parts: list[str]) -> bool:
    """Remove data[a][b]... for the dotted key; True when something was removed."""
    node: Any = data
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or parts[-1] not in node:
        # The message named a key under a value that is not an object (or a
        # normalised key): drop the top-level setting instead.
        return data.pop(parts[0], _MISSING_KEY) is not _MISSING_KEY
    del node[parts[-1]]
    if len(parts) == 1 and parts[0] in _PARAMS_OF:
        data.pop(_PARAMS_OF[parts[0]], None)
    return True


_MISSING_KEY = object()


# --- helpers ---------------------------------------------------------------------
def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy_json(v) for v in value]
    return value


def _require_str(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TrainingError(f"training setting {key!r}: expected text, got {show(value)}")
    return value


def _require_bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TrainingError(f"training setting {key!r}: expected true or false, got {show(value)}")
    return value


def _require_int(key: str, value: Any, low: int, high: int) -> int:
    shown = show(value)  # as written: 1e+308, not its 309 digits
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TrainingError(f"training setting {key!r}: expected a whole number, got {show(value)}")
    if not low <= value <= high:
        raise TrainingError(
            f"training setting {key!r}: {shown} is out of range; use a value from {low:,} to {high:,}"
        )
    return value


def _require_number(
    key: str, value: Any, low: Optional[float] = None, high: Optional[float] = None, low_open: bool = False
) -> float:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 1e300:
        raise TrainingError(f"training setting {key!r}: {show(value)} is too large; use a smaller number")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TrainingError(f"training setting {key!r}: expected a finite number, got {show(value)}")
    value = float(value)
    if low is not None and (value < low or (low_open and value == low)):
        bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
        raise TrainingError(f"training setting {key!r}: {value:g} is too small; use a value {bound}")
    if high is not None and value > high:
        raise TrainingError(
            f"training setting {key!r}: {value:g} is too large; use a value of at most {high:g}"
        )
    return value


def _require_monitor(key: str, value: Any) -> str:
    value = _require_str(key, value).strip()
    if not _NAME_RE.match(value):
        raise TrainingError(f"training setting {key!r}: {show(value)} is not a metric name; use {MONITORS_HINT}")
    return value


def _check_param_value(key: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        return _require_bool(key, value)
    if default is None:  # optional number (clipping)
        if value is None:
            return None
        return _require_number(key, value, low=0.0, low_open=True)
    if isinstance(default, int):
        return _require_int(key, value, low=1, high=1_000_000)
    return _require_number(key, value, low=0.0)


def _check_optimizer_params(optimizer: str, params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise TrainingError(
            "training setting 'optimizer_params': expected a JSON object such as {\"momentum\": 0.9}"
        )
    allowed = {**OPTIMIZERS[optimizer][1], **COMMON_OPTIMIZER_PARAMS}
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in allowed:
            raise TrainingError(
                f"training setting 'optimizer_params.{shorten(str(key))}': {OPTIMIZERS[optimizer][0]} has no parameter {show(key)}; "
                f"use one of {', '.join(allowed)} or remove it"
            )
        out[key] = _check_param_value(f"optimizer_params.{key}", value, allowed[key])
    for key in ("beta_1", "beta_2", "rho"):
        if key in out and not 0.0 <= out[key] < 1.0:
            raise TrainingError(
                f"training setting 'optimizer_params.{key}': {out[key]:g} must be in [0, 1); try 0.9"
            )
    if "momentum" in out and not 0.0 <= out["momentum"] < 1.0:
        raise TrainingError(
            f"training setting 'optimizer_params.momentum': {out['momentum']:g} must be in [0, 1); try 0.9"
        )
    return out


def _check_schedule_params(schedule: str, params: Any) -> dict[str, Any]:
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise TrainingError(
            "training setting 'lr_schedule_params': expected a JSON object such as {\"factor\": 0.5}"
        )
    defaults = LR_SCHEDULES[schedule]
    out = dict(defaults)
    for key, value in params.items():
        name = f"lr_schedule_params.{key}"
        if key not in defaults:
            # Params of another schedule are kept so switching back and forth loses nothing.
            out[key] = _copy_json(value)
            continue
        default = defaults[key]
        if key == "monitor":
            out[key] = _require_monitor(name, value)
        elif key in ("step_epochs", "patience"):
            out[key] = _require_int(name, value, low=1 if key == "step_epochs" else 0, high=1_000_000)
        elif key == "warmup_epochs":
            out[key] = _require_int(name, value, low=0, high=1_000_000)
        elif key in ("factor", "decay_rate"):
            v = _require_number(name, value, low=0.0, low_open=True)
            if v > 1.0 or (key == "factor" and schedule == "reduce_on_plateau" and v >= 1.0):
                raise TrainingError(
                    f"training setting {name!r}: {v:g} must be below 1 to reduce the rate; try 0.5"
                )
            out[key] = v
        else:
            out[key] = _require_number(name, value, low=0.0) if isinstance(default, float) else value
    return out


def _check_loss_weights(value: Any) -> Any:
    if value is None:
        return None
    msg = "training setting 'loss_weights': expected a list of numbers (one per output), an object {output name: number} or null"
    if isinstance(value, (list, tuple)):
        return [_require_number("loss_weights", v, low=0.0) for v in value]
    if isinstance(value, dict):
        return {str(k): _require_number(f"loss_weights.{shorten(str(k))}", v, low=0.0) for k, v in value.items()}
    raise TrainingError(msg)


def _fine_tune_from(value: Any) -> FineTune:
    return _section_from(FineTune, value, "fine_tune",
                         '{"enabled": true, "head_epochs": 3, "unfreeze_top": 0, "lr_factor": 0.1}')


def _early_stopping_from(value: Any) -> EarlyStopping:
    return _section_from(EarlyStopping, value, "early_stopping",
                         '{"enabled": true, "monitor": "val_loss", "patience": 5}')


def _section_from(cls: Any, value: Any, key: str, example: str) -> Any:
    """A settings section (EarlyStopping, FineTune) from its JSON object; `true`/`false` turn it on or off."""
    if isinstance(value, cls):
        return value
    if value is None:
        return cls()
    if isinstance(value, bool):  # shorthand: "early_stopping": true
        return cls(enabled=value)
    if not isinstance(value, dict):
        raise TrainingError(f"training setting '{key}': expected an object such as {example}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in value.items() if k in names})
