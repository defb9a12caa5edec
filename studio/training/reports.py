"""What a training session reports, and the `Reporter` interface that receives it.

PURE data. The session calls a `Reporter` on its own (training) thread:
`studio train` prints, the GUI worker re-emits Qt signals. Batch reports are
batched: one `on_batches` call carries every batch finished since the last
one, at most `report_interval` apart, so the GUI is not called per batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from studio.training.history import MetricsHistory


@dataclass
class TaskInfo:
    """What the data is for: used to pick the loss ("auto") and to evaluate."""

    task: str = "classification"  # "classification" | "regression"
    num_classes: Optional[int] = None
    label_encoding: str = "index"  # "index" | "onehot" | "binary" | "multilabel"
    class_names: Optional[list[str]] = None
    # A time series: how a window's targets are laid out (`DatasetInfo.forecast_layout()`), so
    # evaluation knows the series' row of each forecast and each target's input column (naive forecast).
    forecast: Optional[dict] = None
    # Where each test sample comes from (`PreparedData.test_samples`), so the evaluation can point at
    # the samples behind its numbers; not part of `to_dict` (a run's config does not keep it).
    samples: Optional[dict] = None
    # Several outputs with their own data (`studio.data.multi`), in the model's output order: per output
    # {"name" (Keras output name), "node", "task", "num_classes", "class_names", "label_encoding", "loss",
    # "weight"}; each is compiled with its own loss and metrics and evaluated on its own.
    outputs: Optional[list[dict]] = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "task": self.task,
            "num_classes": self.num_classes,
            "label_encoding": self.label_encoding,
            "class_names": self.class_names,
        }
        if self.forecast:
            out["forecast"] = dict(self.forecast)
        if self.outputs:
            out["outputs"] = [dict(o) for o in self.outputs]
        return out

    @classmethod
    def from_dict(cls, data: Optional[dict[str, Any]]) -> TaskInfo:
        data = data or {}
        names = data.get("class_names")
        forecast = data.get("forecast")
        return cls(
            task=str(data.get("task") or "classification"),
            num_classes=data.get("num_classes"),
            label_encoding=str(data.get("label_encoding") or "index"),
            class_names=list(names) if names else None,
            forecast=dict(forecast) if isinstance(forecast, dict) and forecast else None,
            outputs=[dict(o) for o in data["outputs"]] if isinstance(data.get("outputs"), list) else None,
        )


@dataclass
class Prepared:
    """What a session's `setup` callable returns (it runs on the training thread)."""

    model: Any  # a keras.Model, compiled or not
    train: Any  # (x, y) arrays or a batched tf.data.Dataset
    validation: Any = None
    test: Any = None
    task: Optional[TaskInfo] = None
    record: dict[str, Any] = field(default_factory=dict)  # extra keys for the run's config.json
    messages: list[str] = field(default_factory=list)  # lines for the user (shown as info)
    warnings: list[str] = field(default_factory=list)  # lines for the user (shown as warnings)


@dataclass
class StartInfo:
    run_id: Optional[str]
    run_dir: Optional[Path]
    device: str  # what actually trains, e.g. "CPU" or "GPU:0 (NVIDIA H100 80GB HBM3)"
    initial_epoch: int  # epochs already done (continued runs)
    epochs: int  # the last epoch number this run will reach
    steps_per_epoch: Optional[int]
    batch_size: Optional[int]
    train_samples: Optional[int]
    val_samples: Optional[int]
    parameters: int = 0
    previous: Optional[MetricsHistory] = None  # history of the run being continued


@dataclass
class BatchReport:
    epoch: int  # counted from 1
    step: int  # batches done in this epoch
    steps_per_epoch: Optional[int]
    xs: list[float]  # fractional epochs of the batch points, e.g. 0.25 = a quarter into epoch 1
    values: dict[str, list[float]]  # metric -> value of each batch point (not the running mean)
    samples_per_s: float
    eta_s: Optional[float]
    elapsed_s: float


@dataclass
class EpochReport:
    epoch: int  # counted from 1
    epochs: int
    logs: dict[str, float]  # loss, metrics, val_*, lr
    seconds: float
    samples_per_s: float
    eta_s: Optional[float]


@dataclass
class RunResult:
    status: str  # "completed" | "stopped" | "failed"
    message: str
    run_id: Optional[str] = None
    run_dir: Optional[Path] = None
    epochs_done: int = 0
    duration_s: float = 0.0
    device: str = ""
    final_logs: dict[str, float] = field(default_factory=dict)
    best: Optional[dict[str, Any]] = None  # {"epoch", "monitor", "value"}
    evaluation: Optional[dict[str, Any]] = None
    reason: str = ""  # "user", "early_stopping", "nan", "error" or ""
    history: MetricsHistory = field(default_factory=MetricsHistory)
    node_id: Optional[str] = None  # the graph node a failure is about, when known
    health: list[dict[str, Any]] = field(default_factory=list)  # training health's flags (training/health.py)

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def summary(self) -> dict[str, Any]:
        """JSON-friendly summary (the last line of `studio train --json`)."""
        return {
            "event": "end",
            "status": self.status,
            "message": self.message,
            "reason": self.reason,
            "run": self.run_id,
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "epochs_done": self.epochs_done,
            "duration_s": round(self.duration_s, 3),
            "device": self.device,
            "final": self.final_logs,
            "best": self.best,
            "evaluation": self.evaluation,
            "node": self.node_id,
            **({"health": self.health} if self.health else {}),
        }


class Reporter:
    """Receives a session's reports on the training thread; every method is optional."""

    def on_start(self, info: StartInfo) -> None:
        pass

    def on_batches(self, report: BatchReport) -> None:
        pass

    def on_epoch(self, report: EpochReport) -> None:
        pass

    def on_state(self, state: str) -> None:
        """ "building", "training", "paused", "stopping", "evaluating", "saving"."""

    def on_message(self, level: str, text: str) -> None:
        """level: "info" | "warning" | "error"."""

    def on_health(self, report: Any) -> None:
        """A `training.health.HealthReport` (only when the session measures health)."""

    def on_finish(self, result: RunResult) -> None:
        pass
