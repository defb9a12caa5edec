"""Pre-flight estimate of a training run: memory and seconds per epoch, before pressing Train.

`estimate(project, report)` is pure arithmetic over the shapes (`studio.graph.cost`) and the
training settings; its seconds need a `Calibration` of this machine's device, measured once by
`calibrate()` (TensorFlow: short runs of fixed small models through the app's own training engine,
about a minute on a 2-core CPU, run in the background by the window) and cached per device in the app's config folder (`calibration.json`).

Memory, in bytes (what the run needs beyond what was in use before `fit`):
- weights: every parameter in float32 (Keras keeps float32 variables even under mixed precision);
- gradients: one float32 per trainable weight;
- optimizer state: `optimizer_slots` floats per trainable weight (SGD 0, +1 with momentum;
  Adam/AdamW/Nadam 2, +1 with amsgrad; RMSprop 1, +1 with momentum, +1 centered; Adagrad 1);
- activations: every layer's output for the batch, kept for the backward pass, times
  `BACKWARD_FACTOR` (the gradient of each output is as large as the output), 4 bytes a value
  (2 under mixed precision);
- data pipeline: `PREFETCH_BATCHES` batches of inputs in flight (prefetch buffer + the batch in use);
- runtime: what TensorFlow itself took during the calibration's 2-layer MLP run (traced graphs,
  kernels, thread pools), plus what each further layer added in fresh-process runs of an 8-layer
  MLP, a Conv2D network and a GRU (by kind: a recurrent layer's loop costs several Dense layers),
  measured the way runs measure peak memory (studio/training/peak_memory.py).

Seconds per epoch (a steady epoch; the first one also traces the train step: `trace_s` plus
`trace_layer_s` a further layer): calls into TensorFlow * `call_s` + batches * `step_s` + samples *
`sample_s` + `epoch_s` (callbacks, history/status files, best.keras) + each layer's training
arithmetic / its kind's rate (dense, conv, recurrent), plus the validation pass (forward only).
On a machine busy with other work the calibration and the runs both vary: compare on a quiet one.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from studio.graph.cost import NetworkCost, network_cost, optimizer_slots
from studio.graph.inference import ShapeReport
from studio.project.model import Project

BACKWARD_FACTOR = 2.0  # each kept output plus its gradient
PREFETCH_BATCHES = 3  # tf.data prefetch buffer (2) + the batch the step is using
CALIBRATION_FILE = "calibration.json"
CALIBRATION_VERSION = 9
MB = 1024 * 1024


@dataclass
class Calibration:
    """How fast this machine's device trains, measured by `calibrate()`."""

    device: str
    call_s: float  # Python and dispatch per call into the compiled train step
    step_s: float  # per batch inside a call
    flops_per_s: dict[str, float]  # per kind of layer: "dense", "conv", "recurrent"
    trace_s: float  # tracing the train step, once per run (first epoch)
    runtime_bytes: int  # TensorFlow's own memory during a small fit
    layer_bytes: int = 0  # TensorFlow's memory per layer beyond the tiny model's two (traced ops, buffers)
    trace_layer_s: float = 0.0  # tracing time each layer beyond two adds
    kind_bytes: dict = field(default_factory=dict)  # per layer, by kind ("conv", "recurrent"); else layer_bytes
    sample_s: float = 0.0  # per training or validation sample: the input pipeline
    epoch_s: float = 0.0  # per epoch: the app's callbacks, history and status files, best.keras
    measured_at: float = 0.0
    version: int = CALIBRATION_VERSION

    def rate(self, kind: str) -> float:
        return self.flops_per_s.get(kind) or self.flops_per_s.get("dense") or 1e9


@dataclass
class Estimate:
    batch_size: int
    optimizer: str
    optimizer_slots: int
    params: int
    trainable_params: int
    weights_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    activation_bytes: int
    data_bytes: int
    runtime_bytes: Optional[int]
    forward_flops: float  # one sample
    train_samples: Optional[int]
    val_samples: Optional[int]
    steps_per_epoch: Optional[int]
    steps_per_execution: int
    epoch_seconds: Optional[float]  # steady epoch; None without a calibration or sample count
    first_epoch_seconds: Optional[float]
    device: Optional[str]
    notes: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return (self.weights_bytes + self.gradient_bytes + self.optimizer_bytes + self.activation_bytes
                + self.data_bytes + (self.runtime_bytes or 0))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total_bytes"] = self.total_bytes
        return data

    def summary(self) -> str:
        """One line for the training panel."""
        text = memory_text(self.total_bytes, self.runtime_bytes is not None)
        if self.epoch_seconds is not None:
            text += f", ~{format_seconds(self.epoch_seconds)} per epoch"
        return text


def memory_text(total_bytes: float, runtime_known: bool = True) -> str:
    """'needs ~38 MB'; a small model 'needs ~120 KB' (never '~0 MB'); before a calibration has
    measured TensorFlow's own memory, the line says that it comes on top."""
    size = f"{total_bytes / MB:,.0f} MB" if total_bytes >= MB else f"{max(total_bytes / 1024, 1):,.0f} KB"
    return f"needs ~{size}" + ("" if runtime_known else " + TensorFlow's own")


def format_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


# --- the estimate (pure) ----------------------------------------------------------------------
def layer_kind(class_name: str) -> str:
    if "Conv" in class_name:
        return "conv"
    if class_name in ("LSTM", "GRU", "SimpleRNN", "Bidirectional"):
        return "recurrent"
    return "dense"


def memory_kind(layer: Any) -> str:
    """The calibration kind of a layer's memory: a recurrent layer reading a mask (after an
    Embedding with mask_zero, the usual text model) costs TensorFlow more than one without."""
    kind = layer_kind(layer.class_name)
    return "recurrent-masked" if kind == "recurrent" and layer.masked else kind


def split_counts(project: Project, samples: Optional[int]) -> tuple[Optional[int], Optional[int]]:
    """(train, validation) samples of the dataset's split, as the data pipeline makes them."""
    if not samples:
        return None, None
    split = (project.dataset or {}).get("split") or {}
    val_frac = float(split.get("validation", project.training.get("validation_split", 0.2) or 0.0))
    test_frac = float(split.get("test", 0.0) or 0.0)
    test = int(round(samples * test_frac))
    val = int(round(samples * val_frac))
    return max(samples - test - val, 0), val


def estimate(project: Project, report: ShapeReport, *, samples: Optional[int] = None,
             calibration: Optional[Calibration] = None, batch_size: Optional[int] = None) -> Estimate:
    """The estimate for the project's settings (`batch_size` overrides its batch size)."""
    from studio.training.config import TrainingConfig
    from studio.training.execution import ASSUMED_FLOPS, GROUP_SECONDS, MAX_STEPS, MIN_CALLS_PER_EPOCH

    config = TrainingConfig.from_dict(project.training)
    batch = int(batch_size or config.batch_size)
    cost: NetworkCost = network_cost(project.graph, report)
    slots = optimizer_slots(config.optimizer, config.optimizer_params)
    value_bytes = 2 if config.mixed_precision else 4
    trainable = cost.trainable_params
    params = trainable + cost.non_trainable_params
    train, val = split_counts(project, samples)
    steps = math.ceil(train / batch) if train else None
    val_steps = math.ceil(val / batch) if val else 0
    step_flops = cost.train_flops * batch
    spe = 1
    if config.steps_per_execution == "auto":
        if steps:
            spe = max(1, min(MAX_STEPS, int(GROUP_SECONDS * ASSUMED_FLOPS / max(step_flops, 1.0)),
                             steps // MIN_CALLS_PER_EPOCH))
    else:
        spe = int(config.steps_per_execution)
    notes = []
    seconds = first = None
    if calibration is not None and steps:
        arithmetic = sum(layer.flops / calibration.rate(layer_kind(layer.class_name)) for layer in cost.layers)
        train_s = math.ceil(steps / spe) * calibration.call_s + steps * calibration.step_s
        train_s += 3.0 * arithmetic * train
        val_s = math.ceil(val_steps / spe) * calibration.call_s + val_steps * calibration.step_s + arithmetic * (val or 0)
        seconds = train_s + val_s
        seconds += calibration.epoch_s + calibration.sample_s * (train + (val or 0))
        first = seconds + calibration.trace_s + calibration.trace_layer_s * max(len(cost.layers) - 2, 0)
    elif calibration is None:
        notes.append("time per epoch needs this device's calibration (a few seconds of timed steps)")
    else:
        notes.append("time per epoch needs the dataset's sample count")
    if config.mixed_precision:
        notes.append("mixed precision: activations in float16, weights stay float32")
    return Estimate(
        batch_size=batch,
        optimizer=config.optimizer,
        optimizer_slots=slots,
        params=params,
        trainable_params=trainable,
        weights_bytes=4 * params,
        gradient_bytes=4 * trainable,
        optimizer_bytes=4 * slots * trainable,
        activation_bytes=int(cost.activation_elements * batch * value_bytes * BACKWARD_FACTOR),
        data_bytes=int(cost.input_elements * batch * 4 * PREFETCH_BATCHES),
        runtime_bytes=runtime_bytes(calibration, cost) if calibration is not None else None,
        forward_flops=cost.forward_flops,
        train_samples=train,
        val_samples=val,
        steps_per_epoch=steps,
        steps_per_execution=spe,
        epoch_seconds=seconds,
        first_epoch_seconds=first,
        device=calibration.device if calibration is not None else None,
        notes=notes,
    )


def runtime_bytes(calibration: Calibration, cost: NetworkCost) -> int:
    """TensorFlow's own memory for this network: the 2-layer calibration MLP's, plus what each
    further layer of its kind added in the calibration (conv and recurrent layers cost more)."""
    kinds = calibration.kind_bytes
    per_layer = [kinds.get(memory_kind(layer), kinds.get(layer_kind(layer.class_name), calibration.layer_bytes))
                 for layer in cost.layers]
    return max(calibration.runtime_bytes + sum(per_layer) - 2 * calibration.layer_bytes, calibration.runtime_bytes)


def project_samples(project: Project) -> Optional[int]:
    """How many samples the project's dataset has (reads its description; None when unreadable)."""
    from studio.core.errors import StudioError
    from studio.workflows.data import describe_project_data

    if not project.dataset:
        return None
    try:
        return int(describe_project_data(project).num_samples) or None
    except (StudioError, TypeError, ValueError, AttributeError):
        return None


# --- calibration cache ------------------------------------------------------------------------
def calibration_path() -> Path:
    from studio.training.devices import config_dir

    return config_dir() / CALIBRATION_FILE


def device_key(device: str = "auto") -> str:
    """The device calibrations are kept under: 'gpu:0: <name>' or 'cpu: <processor>'."""
    import platform

    return f"cpu: {platform.processor() or platform.machine()}" if device == "cpu" else device


def cached_calibration(device: Optional[str] = None) -> Optional[Calibration]:
    """The cached calibration of `device` (None: the most recent one), or None."""
    try:
        data = json.loads(calibration_path().read_text())
    except (OSError, ValueError):
        return None
    entries = data.get("devices", {}) if isinstance(data, dict) else {}
    if device is None:
        entries = {k: v for k, v in entries.items() if isinstance(v, dict)}
        device = max(entries, key=lambda k: entries[k].get("measured_at", 0), default=None)
    entry = entries.get(device) if device else None
    if not isinstance(entry, dict) or entry.get("version") != CALIBRATION_VERSION:
        return None
    try:
        return Calibration(**entry)
    except TypeError:
        return None


def save_calibration(calibration: Calibration) -> None:
    from studio.core import files

    path = calibration_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict) or not isinstance(data.get("devices"), dict):
        data = {"devices": {}}
    data["devices"][calibration.device] = asdict(calibration)
    path.parent.mkdir(parents=True, exist_ok=True)
    files.atomic_write_json(path, data)


# --- calibration (TensorFlow) -----------------------------------------------------------------
def _timed_fit(model: Any, x: Any, y: Any, batch: int, spe: int, gpu: bool,
               validation: Any = None) -> tuple[float, float, Any]:
    """(first epoch s, fastest later epoch s, memory probe) of a 3-epoch fit."""
    import keras

    from studio.training.peak_memory import Probe

    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    model.compile(optimizer="adam", loss="mse", steps_per_execution=spe)
    with Probe(gpu) as probe:
        model.fit(x, y, batch_size=batch, epochs=3, verbose=0, callbacks=[Timer()], shuffle=False,
                  validation_data=validation)
    return times[0], min(times[1:]), probe


def _grown(probe: Any) -> int:
    if probe.gpu_peak is not None:
        return int(probe.gpu_peak)
    return max((probe.peak or 0) - (probe.before or 0), 0)


def _fresh_process_peak(kind: str) -> Optional[int]:
    """Peak memory of a calibration network (`_memory_run`) trained in a new Python process."""
    import os
    import subprocess
    import sys

    if kind not in ("mlp", "conv", "recurrent", "recurrent-masked"):
        raise ValueError(kind)
    code = f"from studio.workflows.estimate import _memory_run; print(_memory_run({kind!r}))"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        return int(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
        return None


def _memory_run(kind: str) -> int:
    """A calibration network's 3-epoch run in this (fresh) process: its peak memory in bytes.
    "mlp": 8 Dense layers; "conv": two Conv2D(32, 3) on 16x16x8, pooling, Dense; "recurrent": GRU(32)
    over 32 steps, Dense; "recurrent-masked": the same GRU after an Embedding(2000, 32, mask_zero=True)
    (a text model: the mask takes TensorFlow's slower, bigger path)."""
    import tempfile

    import keras
    import numpy as np

    from studio.training.config import TrainingConfig
    from studio.training.session import TrainingSession

    rng = np.random.default_rng(0)
    if kind == "conv":
        x = rng.normal(size=(512, 16, 16, 8)).astype("float32")
        layers = [keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
                  keras.layers.Conv2D(32, 3, padding="same", activation="relu"), keras.layers.GlobalMaxPooling2D()]
    elif kind == "recurrent":
        x = rng.normal(size=(512, 32, 4)).astype("float32")
        layers = [keras.layers.GRU(32)]
    elif kind == "recurrent-masked":
        x = rng.integers(0, 2000, size=(512, 32)).astype("int32")
        layers = [keras.layers.Embedding(2000, 32, mask_zero=True), keras.layers.GRU(32)]
    else:
        x = rng.normal(size=(4096, 4)).astype("float32")
        layers = [keras.layers.Dense(8, activation="relu") for _ in range(7)]
    y = rng.normal(size=(len(x), 1)).astype("float32")
    model = keras.Sequential([keras.Input(x.shape[1:], dtype=x.dtype), *layers, keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    config = TrainingConfig(epochs=3, batch_size=16 if kind == "mlp" else 32, loss="mean_squared_error",
                            metrics=[], steps_per_execution=1)
    with tempfile.TemporaryDirectory() as folder:
        result = TrainingSession(model, (x, y), (x[:256], y[:256]), config, runs_root=Path(folder) / "m.runs").run()
        return int((measured_of_run(result.run_dir) or {}).get("peak_memory_bytes") or 0)


def calibrate(device: str = "auto") -> Calibration:
    """Time a few epochs of fixed small models on this machine's device (about a minute) and cache it.

    - overhead per call, batch, sample and epoch: 3-epoch runs of the app's TrainingSession on a
      2-layer MLP (8 units): 4096 samples at batch 16 and 128, batch 16 grouped 8 per call, and a
      quarter of the data;
    - TensorFlow's own memory and tracing time: that MLP's run, an 8-layer one, and (fresh
      processes, `_memory_run`) conv and recurrent networks for what each further layer adds;
    - arithmetic rates: a Dense 256-512-512-1 MLP, a two-Conv2D network on 16x16x8, a GRU(32) over
      32 steps, each timed after its first epoch, minus the overhead per batch.
    """
    import tempfile

    import keras
    import numpy as np
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU") if device != "cpu" else []
    gpu = bool(gpus)
    if gpu:
        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
        key = f"gpu: {details.get('device_name', gpus[0].name)}"
    else:
        key = device_key("cpu")
    rng = np.random.default_rng(0)
    with tf.device(gpus[0].name if gpu else "/CPU:0"):
        x = rng.normal(size=(4096, 4)).astype("float32")
        y = rng.normal(size=(4096, 1)).astype("float32")

        def mlp(hidden: int):
            layers = [keras.layers.Dense(8, activation="relu") for _ in range(hidden)]
            return keras.Sequential([keras.Input((4,)), *layers, keras.layers.Dense(1)])

        with tempfile.TemporaryDirectory() as folder:
            def session(hidden: int, batch: int, spe: int, n: int = 4096) -> tuple[float, float, int]:
                """(first epoch s, fastest later epoch s, peak memory) of a 3-epoch run of the app's engine."""
                from studio.training.config import TrainingConfig
                from studio.training.session import TrainingSession

                model = mlp(hidden)
                model.compile(optimizer="adam", loss="mse", steps_per_execution=spe)
                config = TrainingConfig(epochs=3, batch_size=batch, loss="mean_squared_error", metrics=[],
                                        steps_per_execution=spe)
                result = TrainingSession(model, (x[:n], y[:n]), (x[:256], y[:256]), config, clear_session=False,
                                         runs_root=Path(folder) / f"h{hidden}b{batch}s{spe}n{n}.runs").run()
                measured = measured_of_run(result.run_dir) or {}
                seconds = measured.get("epoch_seconds") or [0.0, 0.0]
                return seconds[0], min(seconds[1:] or seconds), int(measured.get("peak_memory_bytes") or 0)

            steps, steps64 = (4096 + 256) // 16, (4096 + 256) // 128
            first1, t1, runtime = session(1, 16, 1)
            _, t64, _ = session(1, 128, 1)
            _, t8, _ = session(1, 16, 8)
            _, t_small, _ = session(1, 16, 1, 1024)
            first7, t7, grown7 = session(7, 16, 1)
        per_step = max((t1 - t64) / (steps - steps64), 1e-6)  # one call and one batch
        # per sample (shuffling, slicing the arrays) from the same batch size on a quarter of the data
        sample_s = max((t1 - t_small - (steps - (1024 + 256) // 16) * per_step) / 3072, 0.0)
        epoch_s = max(t1 - steps * per_step - 4352 * sample_s, 0.0)  # callbacks, history, status, checkpoint
        call_s = min(max((t1 - t8) / (steps * 7 / 8), 0.0), per_step)
        step_s = max(per_step - call_s, 1e-6)
        overhead = per_step
        trace_s = max(first1 - t1, 0.0)
        trace_layer_s = max((first7 - t7) - trace_s, 0.0) / 6
        # In this process the allocator reuses what the earlier fits freed: what 6 more layers add
        # is measured in a fresh process, as a run of `studio train` starts.
        fresh7 = _fresh_process_peak("mlp")
        layer_bytes = max((fresh7 if fresh7 is not None else grown7) - runtime, 0) // 6
        kind_bytes = {"dense": layer_bytes}
        # conv: 2 Conv2D + pooling + Dense (its activations, fwd+bwd, taken off); recurrent: GRU + Dense
        conv_act = int((2 * 16 * 16 * 32 + 32 + 1) * 32 * 4 * BACKWARD_FACTOR)
        # recurrent-masked: the Embedding in front counts as one dense-kind layer of its own
        for kind, fixed, count in (("conv", conv_act + layer_bytes, 2), ("recurrent", 0, 1),
                                   ("recurrent-masked", layer_bytes, 1)):
            fresh = _fresh_process_peak(kind)
            if fresh is not None:
                kind_bytes[kind] = max(fresh - runtime - fixed, 0) // count

        def rate(model: Any, xs: Any, flops_per_sample: float, batch: int) -> float:
            _, steady, _ = _timed_fit(model, xs, np.zeros((len(xs), 1), "float32"), batch, 1, gpu)
            busy = max(steady - (len(xs) // batch) * overhead, steady * 0.1)
            return 3.0 * flops_per_sample * len(xs) / busy

        n = 4096 if gpu else 1024
        dense = keras.Sequential([keras.Input((256,)), keras.layers.Dense(512, activation="relu"),
                                  keras.layers.Dense(512, activation="relu"), keras.layers.Dense(1)])
        dense_rate = rate(dense, rng.normal(size=(n, 256)).astype("float32"),
                          2.0 * (256 * 512 + 512 * 512 + 512), 64)
        conv = keras.Sequential([keras.Input((16, 16, 8)), keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
                                 keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
                                 keras.layers.GlobalMaxPooling2D(), keras.layers.Dense(1)])
        conv_rate = rate(conv, rng.normal(size=(n // 2, 16, 16, 8)).astype("float32"),
                         2.0 * 256 * (9 * 8 * 32 + 9 * 32 * 32), 32)
        rnn = keras.Sequential([keras.Input((32, 4)), keras.layers.GRU(32), keras.layers.Dense(1)])
        gru_weights = 3 * (4 * 32 + 32 * 32 + 2 * 32)
        rnn_rate = rate(rnn, rng.normal(size=(n // 2, 32, 4)).astype("float32"), 2.0 * gru_weights * 32, 32)
    calibration = Calibration(device=key, call_s=call_s, step_s=step_s,
                              flops_per_s={"dense": dense_rate, "conv": conv_rate, "recurrent": rnn_rate},
                              trace_s=trace_s, runtime_bytes=int(runtime), layer_bytes=int(layer_bytes),
                              trace_layer_s=trace_layer_s, kind_bytes=kind_bytes, epoch_s=epoch_s, sample_s=sample_s, measured_at=time.time())
    save_calibration(calibration)
    return calibration


# --- after a run --------------------------------------------------------------------------------
def measured_of_run(run_dir: Path) -> Optional[dict[str, Any]]:
    """The run's `measured` record (status.json): seconds per epoch and peak memory; None if absent."""
    try:
        status = json.loads((Path(run_dir) / "status.json").read_text())
    except (OSError, ValueError):
        return None
    measured = status.get("measured") if isinstance(status, dict) else None
    return measured if isinstance(measured, dict) else None


def comparison(est: Estimate, measured: dict[str, Any]) -> dict[str, Any]:
    """Estimate next to measurement: steady epoch (the last), first epoch, peak memory; ratios."""
    seconds = [float(s) for s in measured.get("epoch_seconds") or []]
    out: dict[str, Any] = {"memory_method": measured.get("memory_method")}
    if seconds:
        out["measured_epoch_seconds"] = seconds[-1] if len(seconds) > 1 else seconds[0]
        out["measured_first_epoch_seconds"] = seconds[0]
    out["estimated_epoch_seconds"] = est.epoch_seconds
    out["estimated_first_epoch_seconds"] = est.first_epoch_seconds
    out["measured_peak_bytes"] = measured.get("peak_memory_bytes")
    out["estimated_peak_bytes"] = est.total_bytes
    if est.epoch_seconds and seconds:
        out["time_ratio"] = est.epoch_seconds / out["measured_epoch_seconds"]
    if out["measured_peak_bytes"]:
        out["memory_ratio"] = est.total_bytes / out["measured_peak_bytes"]
    return out
