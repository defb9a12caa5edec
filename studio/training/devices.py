"""Choosing where to train: a `tf.device` scope or a distribution strategy.

`tf.device` applies only to the thread that enters it (DESIGN.md section 7),
so the session enters the scope returned here inside its own thread. A GPU
that is not there falls back to the CPU with a clear message instead of
failing. TensorFlow is imported inside functions.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Optional

from studio.core.errors import TrainingError

STRATEGIES = ("auto", "default", "mirrored")


@dataclass
class Placement:
    """The scope to build and train in, and what to tell the user about it."""

    scope: Any  # a context manager: tf.device(...) or strategy.scope()
    description: str  # "CPU", "GPU:0 (NVIDIA H100)", "MirroredStrategy on 2 GPUs"
    is_gpu: bool
    warnings: list[str] = field(default_factory=list)
    strategy: Any = None


def gpu_names() -> list[str]:
    """Names of the GPUs TensorFlow sees, e.g. ["NVIDIA H100 80GB HBM3"]."""
    import tensorflow as tf

    names = []
    for device in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(device)
        except (ValueError, RuntimeError):
            details = {}
        names.append(str(details.get("device_name") or device.name))
    return names


def place(device: str = "auto", strategy: str = "default") -> Placement:
    """Resolve a TrainingConfig device ("auto" | "cpu" | "gpu:N") and a strategy name."""
    import tensorflow as tf

    if strategy not in STRATEGIES:
        raise TrainingError(f"--strategy {strategy!r} is not known; use one of {', '.join(STRATEGIES)}")
    gpus = tf.config.list_logical_devices("GPU")
    names = gpu_names()
    warnings: list[str] = []

    if strategy == "mirrored" or (strategy == "auto" and len(gpus) > 1):
        if device not in ("auto",) and strategy == "mirrored":
            warnings.append(f"device {device!r} is ignored with the mirrored strategy, which uses every GPU")
        mirrored = tf.distribute.MirroredStrategy()
        replicas = mirrored.num_replicas_in_sync
        where = f"{len(gpus)} GPU(s)" if gpus else "the CPU"
        if replicas == 1:
            warnings.append(f"the mirrored strategy has one replica on {where}; it trains like the default")
        return Placement(
            scope=mirrored.scope(),
            description=f"MirroredStrategy, {replicas} replica(s) on {where}",
            is_gpu=bool(gpus),
            warnings=warnings,
            strategy=mirrored,
        )

    if device == "cpu":
        return Placement(tf.device("/CPU:0"), "CPU", False, warnings)
    index: Optional[int] = None
    if device == "auto":
        index = 0 if gpus else None
    elif device.startswith("gpu:"):
        index = int(device.split(":", 1)[1])
        if index >= len(gpus):
            seen = f"TensorFlow sees {len(gpus)} GPU(s)" if gpus else "TensorFlow sees no GPU"
            warnings.append(
                f"device gpu:{index} is not available ({seen}); training on the CPU. "
                "Pick another device in the training settings, or check the GPU driver and CUDA install"
            )
            index = None
    if index is None:
        return Placement(tf.device("/CPU:0"), "CPU", False, warnings)
    name = names[index] if index < len(names) else ""
    label = f"GPU:{index}" + (f" ({name})" if name else "")
    return Placement(tf.device(f"/GPU:{index}"), label, True, warnings)


def null_placement() -> Placement:
    return Placement(contextlib.nullcontext(), "default", False)
