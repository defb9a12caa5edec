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
    outputs: Optional[Sequence[dict]] = None,
) -> CompileArgs:
    """Resolve the optimizer, the loss ("auto" from the task) and metrics.

    `output_units` is the size of each output's last axis (one int for a
    single output): a single unit makes "auto" pick binary cross-entropy.
    With several outputs, the loss and metrics are given once per output.

    `outputs` (data bound per output node, in the model's output order): one dict per output
    with its ``task``, ``num_classes``, ``label_encoding``, ``loss`` ("auto" or a Keras name)
    and ``weight``; each output then gets the loss and metrics of its own data (classes:
    sparse categorical or binary cross-entropy and accuracy; numbers: mean squared error and
    mae), its own loss if it names one, and the weights unless the settings give loss_weights.
    """
    config = training_config(training)
    units = list(output_units) if isinstance(output_units, (list, tuple)) else [output_units]
    if outputs:
        return _per_output(config, list(outputs), units)
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


def _per_output(config: TrainingConfig, outputs: list, units: list) -> CompileArgs:
    units = units + [None] * (len(outputs) - len(units))
    losses, metrics = [], []
    for out, unit in zip(outputs, units):
        resolved = config.resolve_loss(str(out.get("task") or "regression"), num_classes=out.get("num_classes"),
                                       label_encoding=str(out.get("label_encoding") or "index"), output_units=unit)
        own = out.get("loss")
        losses.append(own if isinstance(own, str) and own != "auto" else resolved.loss)
        metrics.append(list(resolved.metrics))
    weights: Any = copy.deepcopy(config.loss_weights)
    if weights is None and any(out.get("weight") is not None for out in outputs):
        weights = [float(out["weight"]) if out.get("weight") is not None else 1.0 for out in outputs]
    single = len(outputs) == 1  # one output: its loss and metrics as they are, no weights
    return CompileArgs(
        optimizer=config.keras_optimizer_config(),
        loss=losses[0] if single else losses,
        metrics=metrics[0] if single else metrics,
        loss_weights=None if single else weights,
        steps_per_execution=config.steps_per_execution if isinstance(config.steps_per_execution, int) else 1,
    )
