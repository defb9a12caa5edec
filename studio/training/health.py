"""Training health: which layer is going wrong while the network trains.

Per layer with weights, measured INSIDE the compiled train step every `every` steps (no second
backward pass): the gradient norm, the weight norm and the update/weight ratio (the norm of
the step's change of the weights over their norm). The optimizer's `apply_gradients` is wrapped
on the instance for the run: the gradients it receives are the ones the step computed; two
`tf.cond`s around the update copy the weights and measure them only on the sampled steps, and
write one small `[layers, 3]` variable that the callback reads every `every` batches.

Activation statistics come from a probe model over the layers' outputs, run on a fixed small
batch of the training data at the same moments: the fraction of dead ReLU units (never positive
on the batch), the fraction of saturated sigmoid/tanh outputs, each layer's output scale and its
gain (output scale over input scale), and non-finite values.

`rules()` (pure) turns one sample into `Flag`s naming the node and the fix: exploding gradients,
vanishing gradients, dead units, saturation, NaN/inf first appearing at a layer. Every result is
keyed by graph node id: the compiler names each Keras layer after its node (`BuildPlan.calls`,
the session's `layers`). `first_non_finite_op()` runs TensorFlow's numerics check on demand to
name the first op that makes a NaN/inf.

The run folder keeps the history (`health.csv`, one row per layer per sample) and the flags
(`health.json`). TensorFlow is imported inside functions only.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

HEALTH_CSV = "health.csv"
HEALTH_JSON = "health.json"

# Rule thresholds (documented in the Health tab's tooltip).
EXPLODING_GRAD = 1e3  # a layer's gradient norm above this: exploding
EXPLODING_RELATIVE = 20.0  # or above this times the layer's weight norm (at least 1)
EXPLODING_RATIO = 1.0  # or a step that changes the weights by more than their own size
BLAME_GAIN = 10.0  # a layer that scales its input up by more than this is where an explosion starts
VANISHING_RELATIVE = 1e-4  # gradient norm below this times the largest layer's: vanishing
DEAD_FRACTION = 0.5  # half of a ReLU layer's units never positive on the probe batch
SATURATED_FRACTION = 0.5  # half of a sigmoid/tanh layer's outputs within 1% of its limits
PROBE_SAMPLES = 64
DEFAULT_EVERY = 50  # calls into TensorFlow between two measurements (at most)
BUDGET = 0.02  # measurements beyond each epoch's first stop while they cost more than this share of the time

KINDS = ("nan", "exploding", "dead", "vanishing", "saturated")


@dataclass
class LayerStats:
    """One layer's health at one sample; None where it does not apply."""

    node_id: str
    label: str
    grad_norm: Optional[float] = None
    weight_norm: Optional[float] = None
    update_ratio: Optional[float] = None  # |step's change of the weights| / |weights|
    act_rms: Optional[float] = None  # output scale on the probe batch
    gain: Optional[float] = None  # output scale / input scale
    dead: Optional[float] = None  # fraction of ReLU units never positive on the probe batch
    saturated: Optional[float] = None  # fraction of sigmoid/tanh outputs within 1% of the limits
    non_finite: bool = False  # NaN/inf in its output or weights (a NaN/inf gradient shows in grad_norm)
    starved: bool = False  # its input is all zeros on the probe batch (a dead layer before it)
    activation: str = ""  # "relu" | "sigmoid" | "tanh" | ""
    is_output: bool = False


@dataclass
class Flag:
    node_id: str
    label: str
    kind: str  # one of KINDS
    message: str  # names the problem and the fix

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class HealthReport:
    """One sample: every measured layer (in the network's order) and the flags it raises."""

    step: int  # global training step the weights were measured at
    epoch: float  # fractional epoch (1.5: half-way through the second)
    layers: list[LayerStats]
    flags: list[Flag] = field(default_factory=list)

    def flag_of(self, node_id: str) -> Optional[Flag]:
        return next((f for f in self.flags if f.node_id == node_id), None)


def _fmt(value: float) -> str:
    return f"{value:.3g}" if value is not None and math.isfinite(value) else str(value)


# --- rules (pure) -------------------------------------------------------------------------
def rules(layers: list[LayerStats], learning_rate: Optional[float] = None) -> list[Flag]:
    """The flags of one sample: at most one per node, the most serious kind first."""
    flags: dict[str, Flag] = {}

    def add(stats: LayerStats, kind: str, message: str) -> None:
        if stats.node_id not in flags:
            flags[stats.node_id] = Flag(stats.node_id, stats.label, kind, message)

    lr = f" (now {learning_rate:g}, e.g. {learning_rate / 10:g})" if learning_rate else ""
    # NaN/inf: the first layer (in the network's order) where it appears
    # (a forward NaN makes every gradient below it NaN too: outputs and weights first, gradients only then)
    first_bad = next((s for s in layers if s.non_finite), None) or next(
        (s for s in layers if s.grad_norm is not None and not math.isfinite(s.grad_norm)), None)
    weighted_all = [s for s in layers if s.weight_norm is not None]
    if weighted_all and len(weighted_all) > 1 and all(not math.isfinite(s.weight_norm) for s in weighted_all):
        # a NaN step already reached every weight: where it started cannot be told from this sample
        add(weighted_all[0], "nan", f"the weights of every layer became NaN/inf (a diverged update): lower the "
                                    f"learning rate{lr}, set Gradient clip (clipnorm 1.0) and normalise the inputs")
    elif first_bad is not None:
        add(first_bad, "nan", f"NaN/inf first appears at {first_bad.label}: lower the learning rate{lr}, set Gradient "
                              "clip (clipnorm 1.0) and check this layer's inputs (when the loss turns NaN the run names the first "
                              "TensorFlow op that makes it)")
    weighted = [s for s in layers if s.grad_norm is not None and math.isfinite(s.grad_norm)]
    exploding = [s for s in weighted if s.grad_norm > EXPLODING_GRAD
                 or s.grad_norm > EXPLODING_RELATIVE * max(1.0, s.weight_norm or 0.0)
                 or (s.update_ratio is not None and math.isfinite(s.update_ratio) and s.update_ratio > EXPLODING_RATIO)]
    if exploding:
        # the explosion starts where a layer scales its input up; else blame the largest gradient
        sources = [s for s in layers if s.gain is not None and math.isfinite(s.gain) and s.gain > BLAME_GAIN
                   and s.grad_norm is not None]
        blamed = sources or [max(exploding, key=lambda s: s.grad_norm)]
        largest = max(exploding, key=lambda s: s.grad_norm)
        fix = f"set Gradient clip (clipnorm 1.0) in the optimizer settings or lower the learning rate{lr}"
        for s in blamed:
            if s in sources:
                add(s, "exploding", f"exploding gradients start at {s.label}: it scales its input up {s.gain:.0f}x "
                                    f"and {largest.label} gets a gradient norm of {_fmt(largest.grad_norm)}; use a "
                                    f"smaller initializer for it (e.g. glorot_uniform), {fix}")
            else:
                add(s, "exploding", f"exploding gradients at {s.label}: gradient norm {_fmt(s.grad_norm)}; {fix}")
    for s in layers:
        if s.dead is not None and s.dead >= DEAD_FRACTION and not s.starved:  # not when a layer before it is
            add(s, "dead", f"{s.dead:.0%} of the ReLU units of {s.label} are dead (never positive on the probe batch): "
                           f"use LeakyReLU, lower the learning rate{lr} or check the bias initializer")
    dead = any(f.kind == "dead" for f in flags.values())  # dead units cut the gradient below them
    if weighted and not exploding and not dead:
        top = max(s.grad_norm for s in weighted)
        if top > 0:
            for s in weighted:
                if s.grad_norm < VANISHING_RELATIVE * top and s.node_id not in flags:
                    add(s, "vanishing", f"vanishing gradients at {s.label}: gradient norm {_fmt(s.grad_norm)}, "
                                        f"{top / max(s.grad_norm, 1e-30):.0e}x smaller than the largest layer's; use "
                                        "ReLU activations, add normalisation (BatchNormalization) or a residual "
                                        "connection around the layers above it")
    for s in layers:
        if s.saturated is not None and s.saturated >= SATURATED_FRACTION and not s.is_output:
            add(s, "saturated", f"{s.saturated:.0%} of the {s.activation} outputs of {s.label} are saturated (their "
                                "gradient is near zero): normalise the inputs, add BatchNormalization before it or "
                                "use ReLU")
    order = {node: i for i, node in enumerate(s.node_id for s in layers)}
    return sorted(flags.values(), key=lambda f: (KINDS.index(f.kind), order.get(f.node_id, 0)))


# --- history (pure) -----------------------------------------------------------------------
class HealthHistory:
    """Every sample of a run, and every (node, kind) flagged at any time in it."""

    COLUMNS = ("step", "epoch", "node", "label", "grad_norm", "weight_norm", "update_ratio", "act_rms", "gain",
               "dead", "saturated", "non_finite", "flag")

    def __init__(self) -> None:
        self.reports: list[HealthReport] = []
        self.flagged: dict[tuple[str, str], dict[str, Any]] = {}  # (node, kind) -> first/last seen, message
        self.first_op: Optional[str] = None  # the first op making a NaN/inf (TensorFlow's numerics check)

    def note_first_op(self, op: str) -> None:
        """Name the op TensorFlow's numerics check found in the NaN flags' messages."""
        self.first_op = op
        for flag in self.flagged.values():
            if flag["kind"] == "nan" and op not in flag["message"]:
                flag["message"] += f" (the first op that makes it: {op})"

    def add(self, report: HealthReport) -> None:
        self.reports.append(report)
        for flag in report.flags:
            key = (flag.node_id, flag.kind)
            seen = self.flagged.get(key)
            if seen is None:
                self.flagged[key] = {**flag.to_dict(), "first_epoch": report.epoch, "first_step": report.step,
                                     "last_epoch": report.epoch, "times": 1}
            else:
                seen.update(message=flag.message, last_epoch=report.epoch, times=seen["times"] + 1)

    def flags(self) -> list[dict[str, Any]]:
        """Every flag of the run, most serious kind first, then as first seen."""
        return sorted(self.flagged.values(), key=lambda f: (KINDS.index(f["kind"]), f["first_step"]))

    def series(self, node_id: str, key: str) -> tuple[list[float], list[float]]:
        """(epochs, values) of one statistic of one node over the run (NaN where not measured)."""
        xs, ys = [], []
        for report in self.reports:
            for s in report.layers:
                if s.node_id == node_id:
                    value = getattr(s, key)
                    xs.append(report.epoch)
                    ys.append(math.nan if value is None else float(value))
        return xs, ys

    def write(self, folder: Path) -> None:
        """health.csv (one row per layer per sample) and health.json (the flags), atomically."""
        from studio.core import files

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.COLUMNS)
        for report in self.reports:
            flags = {f.node_id: f.kind for f in report.flags}
            for s in report.layers:
                writer.writerow([report.step, f"{report.epoch:.4f}", s.node_id, s.label] + [
                    "" if v is None else f"{v:.6g}" for v in (s.grad_norm, s.weight_norm, s.update_ratio,
                                                              s.act_rms, s.gain, s.dead, s.saturated)
                ] + [int(s.non_finite), flags.get(s.node_id, "")])
        files.atomic_write_text(folder / HEALTH_CSV, out.getvalue())
        files.atomic_write_json(folder / HEALTH_JSON, {"samples": len(self.reports), "first_nan_op": self.first_op,
                                                       "flags": self.flags()})


def load_history(run_dir: Path) -> HealthHistory:
    """A run's health history as `write` saved it (empty when the run has none or it is unreadable)."""
    history = HealthHistory()
    messages = {(f.get("node_id"), f.get("kind")): f.get("message", "") for f in read_flags(run_dir)}
    reports: dict[int, HealthReport] = {}

    def number(text: str) -> Optional[float]:
        return float(text) if text not in ("", None) else None

    try:
        for row in read_history(run_dir):
            step = int(row["step"])
            report = reports.get(step)
            if report is None:
                report = reports[step] = HealthReport(step=step, epoch=float(row["epoch"]), layers=[])
            stats = LayerStats(node_id=row["node"], label=row["label"], non_finite=row["non_finite"] == "1")
            for key in ("grad_norm", "weight_norm", "update_ratio", "act_rms", "gain", "dead", "saturated"):
                setattr(stats, key, number(row[key]))
            report.layers.append(stats)
            if row["flag"] in KINDS:
                report.flags.append(Flag(row["node"], row["label"], row["flag"],
                                         messages.get((row["node"], row["flag"]), "")))
    except (KeyError, ValueError, TypeError):
        return HealthHistory()
    for step in sorted(reports):
        history.add(reports[step])
    return history


def read_flags(run_dir: Path) -> list[dict[str, Any]]:
    """The flags a run's health.json recorded (none when it has none)."""
    path = Path(run_dir) / HEALTH_JSON
    if not path.is_file():
        return []
    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("flags") or [])
    except (OSError, ValueError, AttributeError):
        return []


def read_history(run_dir: Path) -> list[dict[str, str]]:
    """health.csv's rows as dicts (empty when the run has none)."""
    path = Path(run_dir) / HEALTH_CSV
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- measuring (TensorFlow, training thread) ---------------------------------------------
_ACTIVATIONS = ("relu", "sigmoid", "tanh")


def _activation_of(layer: Any) -> str:
    """"relu", "sigmoid", "tanh" or "" from the layer's public config."""
    try:
        config = layer.get_config()
    except Exception:  # noqa: BLE001 - layers without a config measure no activation statistics
        return ""
    name = type(layer).__name__
    if name == "ReLU" and not config.get("negative_slope") and config.get("max_value") is None:
        return "relu"
    activation = config.get("activation")
    if isinstance(activation, dict):
        activation = activation.get("config", {}).get("name") or activation.get("class_name")
    return activation if activation in _ACTIVATIONS else ""


def _first_input(layer: Any) -> Any:
    """The symbolic tensor a layer was first called on (one input only, else None)."""
    import keras

    try:
        value = keras.Operation.input.fget(layer)
    except (AttributeError, ValueError, IndexError, TypeError):
        return None
    if isinstance(value, (list, tuple)):
        return value[0] if len(value) == 1 else None
    return value


class Monitor:
    """Measures one model's health during `fit`; hands each `HealthReport` to `on_report`.

    `layers`: the session's `(keras name, class, node id, label)` tuples; layers the model does
    not have (or that are not layers of the graph) are skipped. Without them (a Keras model
    trained directly) every layer is measured, keyed by its Keras name."""

    def __init__(self, layers: list[tuple[str, str, str, str]], on_report: Callable[[HealthReport], None],
                 every: Optional[int] = None, learning_rate: Optional[float] = None) -> None:
        self.refs = {name: (node, label) for name, _cls, node, label in layers}
        self.on_report = on_report
        self.every = every
        self.learning_rate = learning_rate
        self.history = HealthHistory()
        self.last: Optional[HealthReport] = None
        self.model: Any = None
        self.seconds = 0.0  # time spent reading and probing (not the in-step measuring)
        self._optimizer: Any = None

    # layers ----------------------------------------------------------------------------
    def _find(self, model: Any) -> tuple[Any, list[Any]]:
        """(the functional model that holds the graph's layers, those layers in order)."""
        if not self.refs:
            self.refs = {layer.name: (layer.name, layer.name) for layer in model.layers}
        own = [layer for layer in model.layers if layer.name in self.refs]
        if own:
            return model, own
        for layer in model.layers:  # the preprocessing wrapper (studio.data wrap_model) holds the network
            inner = [sub for sub in getattr(layer, "layers", []) if sub.name in self.refs]
            if inner:
                return layer, inner
        return model, []

    # in-step measuring -------------------------------------------------------------------
    def attach(self, model: Any, x: Any, steps_per_epoch: Optional[int]) -> Any:
        """Wrap `model`'s optimizer for the run and return the Keras callback to add to fit().

        Two train functions are traced: the plain one, and a measuring one whose update also
        writes the norms; the callback hands fit() the measuring one for one call now and then
        (each epoch's first, and every `every` calls while measuring costs under `BUDGET` of the
        time), so the other steps run exactly as without health."""
        import keras
        import tensorflow as tf

        self.model = model
        self.steps_per_epoch = steps_per_epoch or 0
        holder, found = self._find(model)
        self.weighted = [layer for layer in found if layer.trainable_weights]
        slot = {}
        for i, layer in enumerate(self.weighted):
            for variable in layer.trainable_weights:
                slot[id(variable)] = i
        count = max(1, len(self.weighted))
        self.stats = tf.Variable(tf.zeros([count, 3]), trainable=False, name="studio_health")
        self.measured_at = tf.Variable(-1, dtype=tf.int64, trainable=False, name="studio_health_step")
        optimizer = model.optimizer
        original = optimizer.apply_gradients
        self._tracing_measured = False

        def apply_gradients(grads_and_vars: Any) -> Any:
            pairs = [(g, v) for g, v in grads_and_vars]
            kept = [(g, v, slot[id(v)]) for g, v in pairs if id(v) in slot and g is not None]
            if not self._tracing_measured or not kept:  # the plain train function
                return original(pairs)
            # mixed precision: a LossScaleOptimizer gets the scaled loss' gradients (its scale exists once built)
            scale = getattr(optimizer, "dynamic_scale", None)
            before = [tf.identity(tf.convert_to_tensor(v)) for _g, v, _i in kept]
            result = original(pairs)
            sums = [[0.0, 0.0, 0.0] for _ in range(count)]
            for (g, v, i), old in zip(kept, before):
                new = tf.cast(tf.convert_to_tensor(v), tf.float32)
                g = tf.cast(tf.convert_to_tensor(g), tf.float32)
                if scale is not None:
                    g = g / tf.cast(tf.convert_to_tensor(scale), tf.float32)
                sums[i][0] += tf.reduce_sum(tf.square(g))
                sums[i][1] += tf.reduce_sum(tf.square(new))
                sums[i][2] += tf.reduce_sum(tf.square(new - tf.cast(old, tf.float32)))
            self.stats.assign(tf.stack([tf.sqrt(tf.stack([tf.cast(c, tf.float32) for c in row])) for row in sums]))
            self.measured_at.assign(tf.cast(optimizer.iterations, tf.int64))
            return result

        optimizer.apply_gradients = apply_gradients
        self._optimizer = optimizer
        model.make_train_function(force=True)
        self.plain_function = model.train_function
        model.make_train_function(force=True)
        measuring = model.train_function

        def measured_function(*args: Any) -> Any:
            self._tracing_measured = True  # read while TensorFlow traces it (its first call)
            try:
                return measuring(*args)
            finally:
                self._tracing_measured = False

        self.measured_function = measured_function
        model.train_function = self.plain_function
        self._build_probe(keras, holder, model, x)
        self._last_read = -1
        return _callback_class()(self)

    def detach(self) -> None:
        """Take the wrapper off the optimizer (the saved model and later fits are plain)."""
        if self._optimizer is not None:
            try:
                del self._optimizer.apply_gradients
            except AttributeError:
                pass
            self._optimizer = None
        if self.model is not None:
            self.model.train_function = None

    # activation probe -------------------------------------------------------------------
    def _build_probe(self, keras: Any, holder: Any, model: Any, x: Any) -> None:
        import tensorflow as tf

        self.probe = self.probe_outputs = None
        self.probe_x = _probe_batch(x)
        _, found = self._find(model)
        self.probed = []
        tensors = []
        outputs = {id(t) for t in tree_flatten(getattr(holder, "outputs", []))}
        for layer in found:
            try:
                out = layer.output
            except (AttributeError, ValueError):
                continue
            if isinstance(out, (list, tuple)):
                continue
            inp = _first_input(layer)
            self.probed.append((layer, _activation_of(layer), inp is not None, id(out) in outputs))
            tensors.append(out)
            tensors.append(inp if inp is not None else out)
        if not tensors or self.probe_x is None:
            return
        try:
            probe = keras.Model(holder.inputs, tensors)
            feed = None
            if holder is not model:
                # the network sits inside the preprocessing wrapper: feed it what the wrapper feeds it
                fed = keras.Operation.input.fget(holder)
                feed = keras.Model(model.inputs, fed)
        except Exception:  # noqa: BLE001 - a graph Keras cannot cut: no activation statistics
            self.probed = []
            return

        def outputs_of(batch: Any) -> Any:
            if feed is not None:
                batch = feed(batch, training=False)
            return probe(batch, training=False)

        def summary(batch: Any) -> Any:
            """Per probed layer: [finite, rms, input rms, saturated (sigmoid), saturated (tanh)] and
            each unit's largest value (dead ReLU units): small tensors, reduced on the device."""
            values = outputs_of(batch)
            rows, unit_max = [], []
            for k in range(len(self.probed)):
                out = tf.cast(values[2 * k], tf.float32)
                inp = tf.cast(values[2 * k + 1], tf.float32)
                rows.append(tf.stack([
                    tf.cast(tf.reduce_all(tf.math.is_finite(out)), tf.float32),
                    tf.sqrt(tf.reduce_mean(tf.square(out))),
                    tf.cast(tf.reduce_all(tf.math.is_finite(inp)), tf.float32) * tf.sqrt(tf.reduce_mean(tf.square(inp))),
                    tf.reduce_mean(tf.cast((out < 0.01) | (out > 0.99), tf.float32)),
                    tf.reduce_mean(tf.cast(tf.abs(out) > 0.99, tf.float32)),
                ]))
                units = tf.reshape(out, [-1, tf.shape(out)[-1]]) if out.shape.rank and out.shape.rank > 1 \
                    else tf.reshape(out, [-1, 1])
                unit_max.append(tf.reduce_max(units, axis=0))
            return tf.stack(rows), unit_max

        self.probe_outputs = outputs_of
        self.probe = tf.function(summary, reduce_retracing=True)
        try:
            self.probe(self.probe_x)  # traced now, before fit(): the samples' time budget counts runs only
        except Exception:  # noqa: BLE001 - a probe that cannot run leaves the gradient statistics
            self.probe = None

    def _activations(self) -> dict[str, dict[str, Any]]:
        import numpy as np

        if self.probe is None:
            return {}
        try:
            rows, unit_max = self.probe(self.probe_x)
        except Exception:  # noqa: BLE001 - a probe that fails leaves the gradient statistics
            self.probe = None
            return {}
        rows = rows.numpy()
        found: dict[str, dict[str, Any]] = {}
        for k, (layer, activation, has_input, is_output) in enumerate(self.probed):
            finite, rms, in_rms, sat_sigmoid, sat_tanh = (float(v) for v in rows[k])
            stats: dict[str, Any] = {"activation": activation, "is_output": is_output, "non_finite": finite < 1}
            if finite >= 1:
                stats["act_rms"] = rms
                if has_input and math.isfinite(in_rms):
                    stats["gain"] = rms / in_rms if in_rms > 0 else None
                    stats["starved"] = in_rms == 0
                if activation == "relu":
                    stats["dead"] = float(np.mean(unit_max[k].numpy() <= 0))
                elif activation == "sigmoid":
                    stats["saturated"] = sat_sigmoid
                elif activation == "tanh":
                    stats["saturated"] = sat_tanh
            found[layer.name] = stats
        return found

    # reading (callback) -----------------------------------------------------------------
    def sample(self, epoch: float, force: bool = False) -> Optional[HealthReport]:
        """Read the last in-step measurement and probe the activations; report it when new."""
        started = time.perf_counter()
        step = int(self.measured_at.numpy())
        if step < 0 or (step == self._last_read and not force):
            return None
        self._last_read = step
        norms = self.stats.numpy()
        acts = self._activations()
        stats: list[LayerStats] = []
        weighted = {layer.name: i for i, layer in enumerate(self.weighted)}
        names = [layer.name for layer, *_ in self.probed] or list(weighted)
        for name in names + [n for n in weighted if n not in names]:
            node, label = self.refs[name]
            s = LayerStats(node_id=node, label=label)
            if name in weighted:
                grad, weight, update = (float(v) for v in norms[weighted[name]])
                s.grad_norm, s.weight_norm = grad, weight
                s.update_ratio = update / weight if weight > 0 else None
                s.non_finite = not math.isfinite(weight)
            a = acts.get(name, {})
            s.activation = a.get("activation", "")
            s.is_output = bool(a.get("is_output"))
            s.act_rms, s.gain = a.get("act_rms"), a.get("gain")
            s.dead, s.saturated = a.get("dead"), a.get("saturated")
            s.non_finite = s.non_finite or bool(a.get("non_finite"))
            s.starved = bool(a.get("starved"))
            if s.grad_norm is None and s.act_rms is None and not s.non_finite:
                continue  # a layer with nothing measured (e.g. Flatten): not a row of its own
            stats.append(s)
        report = HealthReport(step=step, epoch=epoch, layers=stats, flags=rules(stats, self.learning_rate))
        self.history.add(report)
        self.last = report
        self.seconds += time.perf_counter() - started
        self.on_report(report)
        return report

    def first_non_finite_op(self) -> Optional[str]:
        """Where a NaN/inf first appears on the probe batch: "MatMul in dense_2's node label", found by
        running the first layer whose output is not finite (its input being finite) again under
        TensorFlow's numerics check; None when every output is finite. On demand only (after a NaN
        loss): the check slows every op while it is on."""
        import numpy as np
        import tensorflow as tf

        if self.probe_outputs is None:
            return None
        try:
            values = self.probe_outputs(self.probe_x)
        except Exception:  # noqa: BLE001 - nothing to check
            return None
        for k, (layer, _activation, has_input, _is_output) in enumerate(self.probed):
            if np.isfinite(np.asarray(values[2 * k])).all():
                continue
            label = self.refs.get(layer.name, (layer.name, layer.name))[1]
            inp = values[2 * k + 1]
            if not has_input or not np.isfinite(np.asarray(inp)).all():
                return label
            tf.debugging.enable_check_numerics()
            try:
                layer(inp, training=False)
            except (tf.errors.InvalidArgumentError, ValueError) as exc:
                return f"{_op_name(str(exc))} in {label}"
            finally:
                tf.debugging.disable_check_numerics()
            return label
        return None


def _op_name(text: str) -> str:
    """The op a numerics-check error names ("MatMul")."""
    import re

    found = re.search(r'output \d+ of (?:eagerly-executing|graph) op "([^"]+)"', text)
    return found.group(1) if found else "an op"


def _probe_batch(x: Any) -> Any:
    """The first `PROBE_SAMPLES` training inputs (arrays, a list/dict of them, or a dataset's first batch)."""
    import numpy as np

    if x is None:
        return None
    if hasattr(x, "element_spec"):  # a batched tf.data.Dataset of (x, y[, w])
        try:
            element = next(iter(x.take(1)))
        except Exception:  # noqa: BLE001 - a dataset that cannot be read twice: no probe
            return None
        x = element[0] if isinstance(element, tuple) else element
        return _cut(x, np)
    return _cut(x, np)


def _cut(x: Any, np: Any) -> Any:
    if isinstance(x, dict):
        return {k: _cut(v, np) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_cut(v, np) for v in x]
    return x[:PROBE_SAMPLES]


def tree_flatten(value: Any) -> list:
    if isinstance(value, dict):
        return [t for v in value.values() for t in tree_flatten(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in tree_flatten(v)]
    return [value]


def _callback_class() -> type:
    import keras

    global _CALLBACK
    if _CALLBACK is None:
        class HealthCallback(keras.callbacks.Callback):
            """Hands fit() the measuring train function for one call now and then, and reads
            what it measured (with the activation probe) at the end of that call."""

            async_safe = True  # sets an attribute and reads two small variables

            def __init__(self, monitor: Monitor) -> None:
                super().__init__()
                self.monitor = monitor
                self.epoch = 0
                self.calls = 0
                self.started = time.perf_counter()

            def on_train_begin(self, logs: Any = None) -> None:
                self.started = time.perf_counter()

            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self.epoch = epoch
                self.calls = 0
                self.monitor.model.train_function = self.monitor.measured_function  # each epoch's first call

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                monitor = self.monitor
                model = monitor.model
                self.calls += 1
                if model.train_function is monitor.measured_function:
                    model.train_function = monitor.plain_function
                    steps = monitor.steps_per_epoch or (batch + 1)
                    monitor.sample(self.epoch + min(1.0, (batch + 1) / steps))
                every = monitor.every or max(1, min(DEFAULT_EVERY, _calls_per_epoch(model, monitor) // 2))
                if self.calls % every == 0 and monitor.seconds <= BUDGET * (time.perf_counter() - self.started):
                    model.train_function = monitor.measured_function

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                self.monitor.model.train_function = self.monitor.plain_function

        _CALLBACK = HealthCallback
    return _CALLBACK


def _calls_per_epoch(model: Any, monitor: Monitor) -> int:
    per_call = getattr(model, "steps_per_execution", 1) or 1
    return max(1, -(-(monitor.steps_per_epoch or 2) // int(per_call)))


_CALLBACK: Optional[type] = None
