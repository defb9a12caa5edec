"""What `model.compile` gets, decided once from the training settings (pure).

`keras_build.compile_model` passes these arguments to Keras and
`export.codegen` writes them into the exported script, so the model trained
in the app and the one the script compiles use the same optimizer, loss and
metrics.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

from studio.training.config import TrainingConfig

TrainingLike = Union[TrainingConfig, dict, None]


@dataclass(frozen=True)
class CompileArgs:
    optimizer: dict  # {"class_name": "Adam", "config": {"learning_rate": 0.001, ...}}
    loss: Union[str, list]  # one Keras loss name, or one per output
    metrics: list  # metric names, or one list per output
    loss_weights: Union[list, dict, None] = None
    steps_per_execution: int = 1


def training_config(training: TrainingLike) -> TrainingConfig:
    """`TrainingConfig` from a config, `project.training` or None (defaults).

    The older shape `{"optimizer": {"class_name", "config"}, "loss", "metrics"}`
    is accepted too.
    """
    if isinstance(training, TrainingConfig):
        return training
    if isinstance(training, dict) and isinstance(training.get("optimizer"), dict):
        data = copy.deepcopy(training)
        opt = data.pop("optimizer")
        config = dict(opt.get("config") or {})
        data["optimizer"] = str(opt.get("class_name", "adam")).lower()
        if "learning_rate" in config:
            data["learning_rate"] = config.pop("learning_rate")
        data["optimizer_params"] = config
        return TrainingConfig.from_dict(data)
    return TrainingConfig.from_dict(training)


def compile_args(
    training: TrainingLike = None,
    task: str = "classification",
    label_encoding: str = "index",
    num_classes: Optional[int] = None,
    output_units: Union[Optional[int], Sequence[Optional[int]]] = None,
) -> CompileArgs:
    """Resolve the optimizer, the loss ("auto" from the task) and metrics.

    `output_units` is the size of each output's last axis (one int for a
    single output): a single unit makes "auto" pick binary cross-entropy.
    With several outputs, the loss and metrics are given once per output.
    """
    config = training_config(training)
    units = list(output_units) if isinstance(output_units, (list, tuple)) else [output_units]
    resolved = [
        config.resolve_loss(task, num_classes=num_classes, label_encoding=label_encoding, output_units=u)
        for u in units
    ]
    loss: Any = resolved[0].loss
    metrics: list = list(resolved[0].metrics)
    if len(units) > 1:
        loss = [r.loss for r in resolved]
        metrics = [list(r.metrics) for r in resolved]
    return CompileArgs(
        optimizer=config.keras_optimizer_config(),
        loss=loss,
        metrics=metrics,
        loss_weights=copy.deepcopy(config.loss_weights),
        # "auto" is resolved by the training session from the built model and the data
        # (studio/training/execution.py); Keras compiles with its default until then.
        steps_per_execution=config.steps_per_execution if isinstance(config.steps_per_execution, int) else 1,
    )
