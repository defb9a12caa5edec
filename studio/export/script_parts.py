"""The training half of the exported script (pure): input scaling, learning-rate
schedule, callbacks, `fit_model` and `main`.

Each function returns the source of one top-level block. They write plain
Keras code equivalent to what the app's training session does with the same
`TrainingConfig` (`studio.training.session` / `callbacks`):

* epochs, batch size, optimizer and its rate (`EPOCHS`, `BATCH_SIZE`,
  `LEARNING_RATE`);
* step / exponential / cosine schedules as a `learning_rate(epoch, current)`
  function under `keras.callbacks.LearningRateScheduler` (the session sets
  the same per-epoch rate, `TrainingConfig.learning_rate_at`);
  `reduce_on_plateau` as `keras.callbacks.ReduceLROnPlateau`;
* early stopping (patience, min_delta, restore-best) as
  `keras.callbacks.EarlyStopping`;
* validation: the dataset's own validation split, and a `val_*` metric
  falls back to the training metric when there is none, as in the app;
* the best epoch's model saved beside the final one
  (`keras.callbacks.ModelCheckpoint`, `checkpoint_best`), as the session
  saves a run's best.keras;
* the training device: `tf.device("/CPU:0")` or `tf.device("/GPU:N")`, a GPU
  TensorFlow does not see falling back to the CPU with a message, as
  `studio.training.devices.place` does (`device: "auto"` adds nothing);
* mixed precision (float16 compute) on a GPU, as the session sets it;
* the data's fitted scaling as the model's first layers (`add_preprocessing`,
  the same layers as `studio.data.pipeline.wrap_model`), so the saved model
  takes raw inputs like the app's.

Imports neither TensorFlow nor numpy; the text is never executed here.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from studio.export.pyformat import INDENT, Call, Raw, Seq, literal, render
from studio.training.config import TrainingConfig

# Keras' own defaults of the callbacks' arguments: only other values are written.
_EARLY_STOPPING_DEFAULTS = {"min_delta": 0.0, "patience": 0, "restore_best_weights": False}
_PLATEAU_DEFAULTS = {"factor": 0.1, "patience": 10, "min_lr": 0.0}


# --- input scaling ------------------------------------------------------------------
def scaling(preprocessing: Optional[dict]) -> dict:
    """The parts of fitted preprocessing that become layers: rescale and normalize."""
    pre = preprocessing or {}
    out: dict[str, Any] = {}
    if pre.get("rescale"):
        out["rescale"] = float(pre["rescale"])
    norm = pre.get("normalize")
    if isinstance(norm, dict) and norm.get("mean") is not None:
        out["normalize"] = {"mean": [float(v) for v in norm["mean"]],
                            "variance": [float(v) for v in norm["variance"]]}
    return out


def _number(value: float) -> Any:
    """1/255 reads better as `1 / 255`."""
    return Raw("1 / 255") if math.isclose(value, 1.0 / 255.0, rel_tol=0, abs_tol=1e-15) else value


def scaling_constants(preprocessing: dict) -> str:
    lines = ["# The input scaling fitted on the training split: the model takes raw inputs."]
    if "rescale" in preprocessing:
        lines.append(f"RESCALE = {render(_number(preprocessing['rescale']), 0, len('RESCALE = '))}")
    if "normalize" in preprocessing:
        norm = preprocessing["normalize"]
        for name, key in (("NORMALIZE_MEAN", "mean"), ("NORMALIZE_VARIANCE", "variance")):
            lines.append(f"{name} = " + render(Seq(tuple(norm[key]), "list"), 0, len(name) + 3))
    return "\n".join(lines)


def add_preprocessing_source(preprocessing: dict) -> str:
    lines = [
        "def add_preprocessing(model: keras.Model) -> keras.Model:",
        f'{INDENT}"""The model taking raw inputs: the data\'s scaling, then the network.',
        "",
        f"{INDENT}These are the layers Network Studio puts in front of the model it trains.",
        f'{INDENT}"""',
    ]
    raw = Call("keras.Input", kwargs=(("shape", Raw("inputs.shape[1:]")), ("dtype", Raw("inputs.dtype")),
                                      ("name", "raw_input")))
    lines.append(f"{INDENT}(inputs,) = model.inputs")
    lines.append(INDENT + "raw = " + render(raw, 1, len("raw = ")))
    current = "raw"
    if "rescale" in preprocessing:
        call = Call("layers.Rescaling", (Raw("RESCALE"),), (("name", "rescale"),))
        lines.append(f"{INDENT}x = {render(call, 1, 4, len(current) + 2)}({current})")
        current = "x"
    if "normalize" in preprocessing:
        call = Call("layers.Normalization", kwargs=(("mean", Raw("NORMALIZE_MEAN")),
                                                    ("variance", Raw("NORMALIZE_VARIANCE")),
                                                    ("name", "normalize")))
        lines.append(f"{INDENT}x = {render(call, 1, 4, len(current) + 2)}({current})")
        current = "x"
    lines.append(f'{INDENT}return keras.Model(raw, model({current}), name=f"{{model.name}}_raw_inputs")')
    return "\n".join(lines)


# --- learning rate and callbacks ------------------------------------------------------
def schedule_source(config: TrainingConfig) -> str:
    """`learning_rate(epoch, current)` for the per-epoch schedules; '' otherwise."""
    if not config.uses_epoch_schedule:
        return ""
    p = config.lr_schedule_params
    head = [
        "def learning_rate(epoch: int, current: float) -> float:",
    ]
    if config.lr_schedule == "step":
        factor, step = float(p["factor"]), int(p["step_epochs"])
        body = [f'"""The rate of each epoch (from 0): times {factor:g} every {step} epochs."""',
                f"return LEARNING_RATE * {literal(factor)} ** (epoch // {literal(step)})"]
    elif config.lr_schedule == "exponential":
        rate = float(p["decay_rate"])
        body = [f'"""The rate of each epoch (from 0): times {rate:g} per epoch."""',
                f"return LEARNING_RATE * {literal(rate)}**epoch"]
    else:  # cosine
        warm, low = int(p["warmup_epochs"]), p["min_lr"]
        what = f"{warm} warm-up epochs, then h" if warm else "H"
        body = [f'"""{what}alf a cosine from LEARNING_RATE to min_lr."""',
                f"warmup, min_lr = {literal(warm)}, {literal(float(low))}",
                "if epoch < warmup:",
                f"{INDENT}return LEARNING_RATE * (epoch + 1) / (warmup + 1)",
                "span = max(1, EPOCHS - warmup - 1)",
                "t = min(1.0, (epoch - warmup) / span)",
                "return min_lr + (LEARNING_RATE - min_lr) * 0.5 * (1.0 + math.cos(math.pi * t))"]
    return "\n".join(head + [INDENT + line if line else line for line in body])


def _kwargs(values: dict, defaults: dict) -> tuple:
    return tuple((k, v) for k, v in values.items() if k not in defaults or v != defaults[k])


def callback_calls(config: TrainingConfig) -> list[Call]:
    calls: list[Call] = []
    if config.uses_epoch_schedule:
        calls.append(Call("keras.callbacks.LearningRateScheduler", (Raw("learning_rate"),)))
    if config.lr_schedule == "reduce_on_plateau":
        p = config.lr_schedule_params
        watched = Call("watch", (p["monitor"],))
        values = {"factor": p["factor"], "patience": p["patience"], "min_lr": p["min_lr"]}
        calls.append(Call("keras.callbacks.ReduceLROnPlateau",
                          kwargs=(("monitor", watched),) + _kwargs(values, _PLATEAU_DEFAULTS)))
    es = config.early_stopping
    if es.enabled:
        values = {"patience": es.patience, "min_delta": es.min_delta,
                  "restore_best_weights": es.restore_best_weights}
        calls.append(Call("keras.callbacks.EarlyStopping",
                          kwargs=(("monitor", Call("watch", (es.monitor,))),)
                          + _kwargs(values, _EARLY_STOPPING_DEFAULTS)))
    if config.checkpoint_best:
        calls.append(Call("keras.callbacks.ModelCheckpoint", (Raw("BEST_PATH"),),
                          (("monitor", Call("watch", (config.checkpoint_monitor,))),
                           ("save_best_only", True))))
    return calls


def _callbacks_summary(calls: list[Call]) -> str:
    """The docstring of `make_callbacks`, naming what it makes."""
    kinds = {c.func.rsplit(".", 1)[-1] for c in calls}
    what = []
    if kinds & {"LearningRateScheduler", "ReduceLROnPlateau"}:
        what.append("learning-rate schedule")
    if "EarlyStopping" in kinds:
        what.append("early stopping")
    if "ModelCheckpoint" in kinds:
        what.append("best-model checkpoint")
    text = " and ".join(what) if len(what) < 3 else f"{what[0]}, {what[1]} and {what[2]}"
    return f"The project's {text}."


def best_file(save_file: str) -> str:
    """Where the best epoch's model goes: `net.keras` -> `net.best.keras`."""
    stem = save_file[: -len(".keras")] if save_file.endswith(".keras") else save_file
    return f"{stem}.best.keras"


def callbacks_source(config: TrainingConfig) -> str:
    """`make_callbacks(has_validation)`; '' when the settings need no callback."""
    calls = callback_calls(config)
    if not calls:
        return ""
    watches = any(c.func != "keras.callbacks.LearningRateScheduler" for c in calls)
    summary = _callbacks_summary(calls)
    lines = [
        "def make_callbacks(has_validation: bool) -> list:",
        f'{INDENT}"""{summary}"""',
    ]
    if watches:
        lines[-1:] = [
            f'{INDENT}"""{summary}',
            "",
            f"{INDENT}Without validation data the training metric is watched instead of val_*.",
            f'{INDENT}"""',
            "",
            f"{INDENT}def watch(metric: str) -> str:",
            f'{INDENT * 2}if has_validation or not metric.startswith("val_"):',
            f"{INDENT * 3}return metric",
            f"{INDENT * 2}return metric[4:]",
            "",
        ]
    lines.append(INDENT + "return " + render(Seq(tuple(calls), "list"), 1, len("return ")))
    return "\n".join(lines)


# --- fit and main ---------------------------------------------------------------------------
def fit_source(config: TrainingConfig) -> str:
    # load_data() shuffles the training split itself (Keras warns that it ignores shuffle=True).
    kwargs: list[tuple[str, Any]] = [("validation_data", Raw("validation")), ("epochs", Raw("EPOCHS")),
                                     ("shuffle", False)]
    if callback_calls(config):
        kwargs.append(("callbacks", Raw("make_callbacks(validation is not None)")))
    fit = Call("model.fit", (Raw("train"),), tuple(kwargs))
    return "\n".join([
        "def fit_model(model: keras.Model, data: tuple) -> keras.callbacks.History:",
        f'{INDENT}"""Train with the project\'s settings, then evaluate on the test split."""',
        f"{INDENT}train, validation, test = data",
        INDENT + "history = " + render(fit, 1, len("history = ")),
        f"{INDENT}if test is not None:",
        f"{INDENT * 2}model.evaluate(test)",
        f"{INDENT}return history",
    ])


def device_constant(config: TrainingConfig) -> str:
    """`DEVICE = "/GPU:1"` for a chosen device; '' for "auto"."""
    if config.device == "auto":
        return ""
    device = "/CPU:0" if config.device == "cpu" else "/GPU:" + config.device.split(":", 1)[1]
    return f"DEVICE = {literal(device)}  # the project's training device"


def device_source(config: TrainingConfig) -> str:
    """`training_device()` for a "gpu:N" setting: that GPU, or the CPU with a message
    when TensorFlow does not see it (as the app does); '' otherwise."""
    if not config.device.startswith("gpu:"):
        return ""
    return "\n".join([
        "def training_device() -> str:",
        f'{INDENT}"""DEVICE, or the CPU when TensorFlow does not see that GPU."""',
        f'{INDENT}gpus = tf.config.list_logical_devices("GPU")',
        f'{INDENT}if int(DEVICE.rsplit(":", 1)[1]) < len(gpus):',
        f"{INDENT * 2}return DEVICE",
        f'{INDENT}seen = f"TensorFlow sees {{len(gpus)}} GPU(s)" if gpus else "TensorFlow sees no GPU"',
        f"{INDENT}print(",
        f'{INDENT * 2}f"Device {{DEVICE}} is not available ({{seen}}); training on the CPU. "',
        f'{INDENT * 2}"Set DEVICE above, or check the GPU driver and CUDA install."',
        f"{INDENT})",
        f'{INDENT}return "/CPU:0"',
    ])


def mixed_precision_source(config: TrainingConfig) -> str:
    """`use_mixed_precision()` when the settings ask for it and may train on a GPU; '' otherwise.

    With a "gpu:N" device it takes the device `training_device()` chose.
    """
    if not config.mixed_precision or config.device == "cpu":
        return ""
    doc = f'{INDENT}"""float16 compute on a GPU, as the project\'s settings ask (float32 on the CPU)."""'
    if config.device.startswith("gpu:"):
        return "\n".join([
            "def use_mixed_precision(device: str) -> None:",
            doc,
            f'{INDENT}if device.startswith("/GPU"):',
            f'{INDENT * 2}keras.mixed_precision.set_global_policy("mixed_float16")',
        ])
    return "\n".join([
        "def use_mixed_precision() -> None:",
        doc,
        f"{INDENT}import tensorflow as tf",
        "",
        f'{INDENT}if tf.config.list_physical_devices("GPU"):',
        f'{INDENT * 2}keras.mixed_precision.set_global_policy("mixed_float16")',
    ])


def main_source(weights: bool, preprocessing: bool, config: Optional[TrainingConfig] = None,
                adapt: bool = False, data_argument: bool = False) -> str:
    """`main(argv)`: command line, strategy, seed, device, data, build, load weights, compile,
    train (or summary), save.

    With `data_argument` the data's path comes from the command line and goes to
    `load_data`. The options and `make_strategy` are `studio.export.script_strategy`'s.

    The data is loaded first, then the model built, compiled and trained inside the
    strategy's scope, or with a chosen device and the default strategy inside
    `with tf.device(...)`, as the app does. With `adapt`, `adapt_normalization`
    fits the network's unset Normalization layers on the training split
    (`studio.export.script_adapt`). Only the chief of a multi-worker run saves.
    """
    config = config or TrainingConfig()
    device = config.device
    lines = [
        "def main(argv: list | None = None) -> None:",
        f"{INDENT}args = parse_arguments(argv)",
        f"{INDENT}strategy = make_strategy(args)",
        f'{INDENT}if args.strategy != "default":',
        f'{INDENT * 2}print(f"--strategy {{args.strategy}}: {{strategy.num_replicas_in_sync}} replica(s)")',
        f"{INDENT}if SEED is not None:",
        f"{INDENT * 2}keras.utils.set_random_seed(SEED)",
    ]
    if device.startswith("gpu:"):
        lines.append(f"{INDENT}device = training_device()")
    if config.mixed_precision:
        if device == "cpu":
            lines.append(f"{INDENT}# No mixed precision: it needs a GPU and this project trains on the CPU.")
        else:
            lines.append(f"{INDENT}use_mixed_precision(device)" if device.startswith("gpu:")
                         else f"{INDENT}use_mixed_precision()")
    lines.append(INDENT + ("data = load_data(data_path=args.data)" if data_argument else "data = load_data()"))
    if device == "auto":
        lines.append(f"{INDENT}with strategy.scope():")
    else:
        where = "device" if device.startswith("gpu:") else "DEVICE"
        lines += [f"{INDENT}# the project's device, unless --strategy chose others",
                  f'{INDENT}scope = tf.device({where}) if args.strategy == "default" else strategy.scope()',
                  f"{INDENT}with scope:"]
    body = ["model = build_model()"]
    if weights:
        body += [
            "if WEIGHTS_PATH.exists():",
            f"{INDENT}model.load_weights(WEIGHTS_PATH)",
        ]
    if adapt:
        body += ["if data is not None:", f"{INDENT}adapt_normalization(model, data[0])  # the training split"]
    body.append("model = compile_model(add_preprocessing(model))" if preprocessing
                else "model = compile_model(model)")
    body += [
        "if data is None:",
        f"{INDENT}model.summary()",
        'elif args.strategy in ("mirrored", "multiworker"):',
        f"{INDENT}fit_distributed(model, data, strategy)",
        "else:",
        f"{INDENT}fit_model(model, data)",
    ]
    lines += [INDENT * 2 + line for line in body]
    lines += [
        f"{INDENT}if not is_chief(strategy):",
        f"{INDENT * 2}return  # worker 0 saves the model",
    ]
    if config.checkpoint_best:
        lines += [f"{INDENT}if data is not None:",
                  f'{INDENT * 2}print(f"Saved the best epoch\'s model to {{BEST_PATH}}")']
    lines += [
        f"{INDENT}model.save(SAVE_PATH)",
        f'{INDENT}print(f"Saved {{SAVE_PATH}}")',
        "",
        "",
        'if __name__ == "__main__":',
        f"{INDENT}main()",
    ]
    return "\n".join(lines)
