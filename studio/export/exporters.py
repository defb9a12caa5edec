"""Model-file exporters, each verified before anything is written.

    result = export_model(model, "tflite", "out/model.tflite")

Every format is written to a hidden staging folder beside the target,
reloaded by its own runtime (Keras, TensorFlow, the TFLite interpreter,
onnxruntime, a fresh Python process), run on a batch of sample inputs and
compared with the Keras model. The largest absolute difference is stored in
`<target>.verify.json`. Only when it is within tolerance are the files moved
into place; otherwise `ExportError` and nothing is left behind.

TensorFlow is imported inside the functions.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from studio.core.errors import ExportError
from studio.export.staging import Staging
from studio.export.verify import chunk_size, max_abs_diff, on_cpu, predict, sample_inputs

FORMATS = ("keras", "savedmodel", "tflite", "onnx", "python")

# Largest accepted |exported - keras| relative to max(1, |keras output|).
TOLERANCE = {"keras": 1e-6, "savedmodel": 1e-5, "python": 1e-5, "tflite": 1e-4, "onnx": 1e-4}

SUFFIX = {"keras": ".keras", "tflite": ".tflite", "onnx": ".onnx", "python": ".py"}

REPORT_SUFFIX = ".verify.json"
ONNX_OPSET = 17


@dataclass
class ExportResult:
    format: str
    path: Path
    files: list[Path]
    max_abs_diff: float
    tolerance: float
    report_path: Path
    notes: list[str] = field(default_factory=list)


@dataclass
class Staged:
    """What a format writer staged: the main output, extra files, notes, and
    a function producing the reloaded model's outputs for sample inputs."""

    main: Path
    extra: list[tuple[Path, str]] = field(default_factory=list)  # (staged path, final file name)
    notes: list[str] = field(default_factory=list)
    run: Callable[[list], list] | None = None
    batch: int | None = None  # a fixed batch size the file needs (e.g. 1 for TFLite RNNs)
    start: Callable[[list], None] | None = None  # hands the samples to a runtime in another process early


def export_model(
    model: Any,
    fmt: str,
    path: str | Path,
    *,
    plan: Any = None,
    script_settings: Any = None,
    graph_model: Any = None,
    tolerance: float | None = None,
    samples: int = 4,
    seed: int = 0,
    step: Callable[[str], None] | None = None,
    runner: ScriptRunner | None = None,
    script: StagedScript | None = None,
) -> ExportResult:
    """Export `model` as `fmt` to `path`, verified (see the module docstring).

    The python format needs `plan` (the `BuildPlan` the model was built
    from) and optionally `script_settings` (`codegen.ScriptSettings`); it
    writes the script and `<stem>.weights.h5` beside it. When the script
    puts the data's scaling in front of the network (`add_preprocessing`),
    `model` is the raw-input model the script's must equal and
    `graph_model` the bare network whose weights the script loads.

    `runner`: the python check's process, started early (`ScriptRunner`); default: one
    started when the script is written. `script`: the python format's script, staged
    before the model was built (`stage_script`, which took `plan`'s and the settings'
    part); its check process is building the script's model meanwhile.

    `step(text)` is called as each step starts ("converting to tflite",
    "verifying ...", "writing ..."); when it raises (a cancel), the export
    stops there and the staged files are removed: nothing is written.
    """
    step = step or _no_step
    target = check_target(fmt, path)
    from studio.export.script_transfer import format_refusal

    refusal = format_refusal(model, fmt)  # e.g. a Hub module taking strings has no TFLite/ONNX form
    if refusal is not None:
        raise ExportError(f"{target}: {refusal}; nothing was written")
    if fmt == "python" and plan is None:
        raise ExportError("python export needs the graph's build plan")
    tol = TOLERANCE[fmt] if tolerance is None else tolerance
    writers = {"keras": _keras, "savedmodel": _savedmodel, "tflite": _tflite, "onnx": _onnx,
               "python": _python}
    with script.staging if script is not None else Staging(target) as staging:
        step(f"converting to {fmt}" if fmt != "python" else
             "writing the Python script's weights" if script is not None else "writing the Python script and its weights")
        staged = writers[fmt](model, staging, target, plan=plan, settings=script_settings, bare=graph_model,
                                runner=runner, script=script)
        step(f"verifying the {fmt} file in its own runtime")
        x = sample_inputs(model, batch=samples, seed=seed)
        if staged.start is not None:
            staged.start(x)  # the file's own runtime (another process) starts on them meanwhile
        with on_cpu():
            expected = predict(model, x)
            try:
                got = _run_in_batches(staged, x)
            except ExportError:
                raise
            except Exception as exc:  # the written file loads but its runtime cannot run it
                from studio.compiler.keras_build import keras_reason

                raise ExportError(f"{target}: the exported {fmt} model does not run in its own runtime "
                                  f"({keras_reason(exc)}); nothing was written") from exc
        diff = max_abs_diff(expected, got)
        scale = max([1.0] + [float(abs(e).max()) for e in expected if e.size])
        if not diff <= tol * scale:
            raise ExportError(
                f"{target}: the exported {fmt} model does not give the same answers as the Keras model "
                f"(max abs difference {diff:.3g} > {tol * scale:.3g}); nothing was written"
            )
        step(f"writing {target.name}")
        report_name = target.name + REPORT_SUFFIX
        report = {
            "format": fmt,
            "file": target.name,
            "max_abs_diff": diff,
            "tolerance": tol * scale,
            "samples": samples,
            "fixed_batch_size": staged.batch,
            "notes": staged.notes,
            "passed": True,
            "versions": _versions(),
        }
        report_staged = staging.path(report_name)
        report_staged.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        parent = target.parent
        moves = [(staged.main, target)] + [(p, parent / name) for p, name in staged.extra]
        moves.append((report_staged, parent / report_name))
        staging.commit(moves)
    return ExportResult(fmt, target, [m[1] for m in moves], diff, tol * scale, parent / report_name, staged.notes)


def _no_step(_text: str) -> None:
    pass


def check_target(fmt: str, path: str | Path) -> Path:
    """Refuse an unknown format, a wrong suffix or a path that cannot be written."""
    from studio.export.staging import check_writable

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    target = Path(path)
    suffix = SUFFIX.get(fmt)
    if suffix and target.suffix.lower() != suffix:
        raise ExportError(f"{target}: a {fmt} export must end in {suffix}; e.g. -o {target.stem}{suffix}")
    if fmt == "savedmodel" and target.exists() and not target.is_dir():
        raise ExportError(f"{target}: a SavedModel is a folder, but a file with this name exists; "
                          "choose another path")
    if fmt != "savedmodel" and target.is_dir():
        raise ExportError(f"{target}: is a folder; give a file name such as {target / ('model' + (suffix or ''))}")
    check_writable(target)
    return target


def _run_in_batches(staged: Staged, x: list) -> list:
    import numpy as np

    assert staged.run is not None
    if staged.batch is None:
        return staged.run(x)
    n = len(x[0])
    parts = [staged.run([a[i:i + staged.batch] for a in x]) for i in range(0, n, staged.batch)]
    return [np.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))]


def _versions() -> dict:
    out = {}
    for name in ("keras", "tensorflow"):
        module = sys.modules.get(name)
        if module is not None:
            out[name] = getattr(module, "__version__", "?")
    return out


def _fail(target: Path, fmt: str, exc: BaseException, native: list[str] | None = None) -> ExportError:
    from studio.compiler.keras_build import keras_reason

    reason = keras_reason(exc)
    errors = [line.strip() for line in (native or []) if "error:" in line]
    if errors:
        reason = errors[-1].split("error:", 1)[1].strip()[:300]
    return ExportError(f"{target}: could not convert the model to {fmt}: {reason}")


# --- keras ------------------------------------------------------------------------------
def _keras(model: Any, staging: Staging, target: Path, **_: Any) -> Staged:
    import keras

    from studio.compiler.archive import check_keras_archive

    main = staging.path("model.keras")
    try:
        model.save(main)
        check_keras_archive(main, ExportError)  # the same archive checks as every .keras we load
        reloaded = keras.saving.load_model(main, safe_mode=True, compile=False)
    except Exception as exc:
        raise _fail(target, "keras", exc) from exc
    return Staged(main, run=lambda x: predict(reloaded, x))


# --- savedmodel -------------------------------------------------------------------------
def _savedmodel(model: Any, staging: Staging, target: Path, **_: Any) -> Staged:
    import tensorflow as tf

    from studio.export.staging import captured_native_stderr
    from studio.export.verify import as_list

    main = staging.path("savedmodel")
    native: list[str] = []
    try:
        with captured_native_stderr() as native:
            model.export(str(main), format="tf_saved_model", verbose=False)
        loaded = tf.saved_model.load(str(main))
    except Exception as exc:
        raise _fail(target, "savedmodel", exc, native) from exc

    def run(x: list) -> list:
        return as_list(loaded.serve(x[0] if len(x) == 1 else x))

    return Staged(main, run=run,
                  notes=["call it with tf.saved_model.load(path).serve(inputs) or serve it with TF Serving"])


# --- tflite and onnx share a tf.function with named inputs and outputs ------------------
def _input_names(model: Any) -> list[str]:
    names: list[str] = []
    for i, tensor in enumerate(model.inputs):
        name = re.sub(r"[^A-Za-z0-9_]", "_", str(getattr(tensor, "name", "") or f"input_{i}")).strip("_")
        name = name or f"input_{i}"
        if name[0].isdigit():
            name = "input_" + name
        while name in names:
            name += "_"
        names.append(name)
    return names


def _serving_function(model: Any, batch: int | None) -> tuple[Any, list]:
    import tensorflow as tf

    names = _input_names(model)
    specs = [tf.TensorSpec((batch, *tuple(t.shape)[1:]), t.dtype, name=n) for t, n in zip(model.inputs, names)]
    count = len(specs)

    def serve(*xs: Any) -> dict:
        out = model(xs[0] if count == 1 else list(xs), training=False)
        outs = out if isinstance(out, (list, tuple)) else [out]
        return {f"output_{i}": o for i, o in enumerate(outs)}

    return tf.function(serve, input_signature=specs), names


def has_recurrent_layer(model: Any) -> bool:
    """True when the model holds an RNN layer (also inside wrappers)."""
    import keras

    def recurrent(layer: Any) -> bool:
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
            return True
        if isinstance(layer, keras.Model):
            return any(recurrent(inner) for inner in layer.layers)
        inner = getattr(layer, "layer", None)
        return isinstance(inner, keras.layers.Layer) and recurrent(inner)

    return any(recurrent(layer) for layer in model.layers)


def _tflite(model: Any, staging: Staging, target: Path, **_: Any) -> Staged:
    import warnings

    import keras
    import tensorflow as tf

    from studio.export.staging import captured_native_stderr

    notes: list[str] = []
    batch = None
    if has_recurrent_layer(model):
        batch = 1
        notes.append("the model has recurrent layers, so the TFLite file takes a fixed batch size of 1 "
                     "(feed one sample at a time)")
    fn, names = _serving_function(model, batch)
    saved = staging.path("tflite_savedmodel")
    main = staging.path("model.tflite")
    native: list[str] = []
    try:
        with captured_native_stderr() as native:
            archive = keras.export.ExportArchive()
            archive.track(model)
            archive.add_endpoint("serving_default", fn)
            archive.write_out(str(saved), verbose=False)
            converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
            main.write_bytes(converter.convert())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
            interpreter = tf.lite.Interpreter(model_path=str(main))
        runner = interpreter.get_signature_runner("serving_default")
    except Exception as exc:
        raise _fail(target, "tflite", exc, native) from exc
    finally:
        import shutil

        shutil.rmtree(saved, ignore_errors=True)
    outputs = len(model.outputs)

    def run(x: list) -> list:
        with captured_native_stderr():  # the interpreter announces its CPU delegate
            result = runner(**dict(zip(names, x)))
        return [result[f"output_{i}"] for i in range(outputs)]

    return Staged(main, run=run, notes=notes, batch=batch)


def _onnx(model: Any, staging: Staging, target: Path, **_: Any) -> Staged:
    try:
        import onnxruntime as ort
        import tf2onnx
    except ImportError:
        raise ExportError("ONNX export needs tf2onnx and onnxruntime, which are not installed: "
                          "pip install network-studio[onnx]") from None
    import logging

    from studio.export.staging import captured_native_stderr

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    fn, names = _serving_function(model, None)
    main = staging.path("model.onnx")
    native: list[str] = []
    try:
        with captured_native_stderr() as native:
            graph_def, inputs, outputs, rename = _frozen_graph(fn, names, len(model.outputs))
            tf2onnx.convert.from_graph_def(graph_def, name=str(model.name), input_names=inputs,
                                           output_names=outputs, opset=ONNX_OPSET, tensors_to_rename=rename,
                                           output_path=str(main))
        session = ort.InferenceSession(str(main), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise _fail(target, "onnx", exc, native) from exc
    out_names = [f"output_{i}" for i in range(len(model.outputs))]

    def run(x: list) -> list:
        return list(session.run(out_names, dict(zip(names, x))))

    return Staged(main, run=run, notes=[f"ONNX opset {ONNX_OPSET}; inputs {', '.join(names)}"])


def _frozen_graph(fn: Any, names: list[str], outputs: int) -> tuple[Any, list[str], list[str], dict]:
    """The serving function as a GraphDef with every captured value inlined.

    `tf2onnx.convert.from_function` would keep captured constants that are
    not variables (the mean and variance of a Normalization layer built from
    fitted statistics, as the app's models are) as extra ONNX inputs; freezing
    first leaves only the real inputs. Tensors are renamed to the input names
    and `output_{i}`.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = fn.get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete, lower_control_flow=False)
    inputs = [t.name for t in frozen.inputs]
    if len(inputs) != len(names):
        raise ValueError(f"the frozen graph has {len(inputs)} inputs instead of {len(names)}")
    keys = tf.nest.flatten({key: key for key in concrete.structured_outputs})  # the order of frozen.outputs
    results = [frozen.outputs[keys.index(f"output_{i}")].name for i in range(outputs)]
    rename = {**dict(zip(inputs, names)), **{r: f"output_{i}" for i, r in enumerate(results)}}
    return frozen.graph.as_graph_def(), inputs, results, rename


# --- python -------------------------------------------------------------------------------
# Run in a fresh interpreter, as a user would use the script: import it (a copy
# named exported_script.py in its own folder), build its model, load the
# weights, describe the layers, put the data's scaling in front (if any),
# compile it and make its callbacks as main() would, and run the samples.
# It loads Keras first and then reads two JSON lines on stdin (an empty one: it
# ends): the script's folder, then the weights, samples and output paths. So it
# starts before any file exists and builds the script's model while the exporter
# is still building its own (`ScriptRunner`, `stage_script`).
_DRIVER = '''
import importlib, json, os, sys
import numpy as np
import keras
line = sys.stdin.readline()
if not line.strip():
    sys.exit(0)
sys.path.insert(0, json.loads(line))
module = importlib.import_module("exported_script")
model = module.build_model()
line = sys.stdin.readline()
if not line.strip():
    sys.exit(0)
weights, samples, out, chunk = json.loads(line)
model.load_weights(weights)
layers = [[type(layer).__name__, layer.name, layer.count_params()] for layer in model.layers]
if hasattr(module, "add_preprocessing"):
    model = module.add_preprocessing(model)
module.compile_model(model)
if hasattr(module, "make_callbacks"):
    module.make_callbacks(True), module.make_callbacks(False)
data = np.load(samples)
xs = [data[f"x{i}"] for i in range(len(data.files))]
import tensorflow as tf
def outputs(part):
    result = model(part[0] if len(part) == 1 else part, training=False)
    if isinstance(result, dict):
        result = [result[k] for k in result]
    return list(result) if isinstance(result, (list, tuple)) else [result]
# as studio.export.verify.predict runs the app's side: traced (chunk 0: a big model), else eagerly in chunks
try:
    if chunk:
        raise TypeError
    outs = tf.function(outputs, autograph=False, jit_compile=False)([tf.convert_to_tensor(a) for a in xs])
except Exception:
    chunk = chunk or 1
    parts = [outputs([a[k:k + chunk] for a in xs]) for k in range(0, len(xs[0]), chunk)]
    outs = [np.concatenate([np.asarray(p[i]) for p in parts]) for i in range(len(parts[0]))]
np.savez(out, **{f"y{i}": np.asarray(o) for i, o in enumerate(outs)})
print(json.dumps(layers), flush=True)
os._exit(0)  # done: TensorFlow's teardown (seconds on a busy machine) would only delay the exporter
'''


class ScriptRunner:
    """The fresh Python process that checks an exported script (`_DRIVER`), started early.

    Importing TensorFlow is most of a fresh process's cost; started before the
    exporter loads and builds its own model, the check process does that at the
    same time, builds the script's model as soon as the script is written
    (`build`), and runs it once the weights and samples are (`send`, `run`).
    `close` ends it if unused.
    """

    def __init__(self) -> None:
        import os

        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        env["CUDA_VISIBLE_DEVICES"] = ""  # compare on the CPU, like the reference outputs
        self.proc = subprocess.Popen([sys.executable, "-c", _DRIVER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.built = self.sent = self.closed = False

    def _write(self, value: Any) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(value) + "\n")
            self.proc.stdin.flush()
        except OSError:  # it ended already (e.g. the script failed to build): `run` reports how
            pass

    def build(self, folder: str) -> None:
        """Import `folder`/exported_script.py and build its model (the check's first half)."""
        if not self.built:
            self._write(folder)
            self.built = True

    def send(self, args: list) -> None:
        """Start the check of the files `args` names ([folder, weights, samples, outputs,
        chunk]); `run` waits for it."""
        self.build(args[0])
        if not self.sent:
            self._write(args[1:])
            self.sent = True

    def run(self, args: list, timeout: float = 600) -> tuple[int, str, str]:
        """(exit status, stdout, stderr) of the check of the files `args` names."""
        self.send(args)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            return -9, "", f"the check took more than {timeout:.0f} s"
        return self.proc.returncode, out, err

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()

    def __enter__(self) -> ScriptRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class StagedScript:
    """A Python export's script, staged before the model exists (`stage_script`).

    Its check process imports it and builds its model meanwhile; `export_model(...,
    script=...)` adds the weights and the check. Leaving the `with` block removes
    whatever was not exported."""

    staging: Staging
    target: Path
    main: Path
    settings: Any
    runner: ScriptRunner
    check: Path  # the folder holding the check process's copy, exported_script.py
    extra: list[tuple[Path, str]] = field(default_factory=list)

    def __enter__(self) -> StagedScript:
        return self

    def __exit__(self, *exc: object) -> None:
        self.staging.cleanup()


def stage_script(path: str | Path, plan: Any, settings: Any = None, runner: ScriptRunner | None = None,
                 staging: Staging | None = None) -> StagedScript:
    """Write the script `plan` and `settings` make into a staging folder beside `path`
    and have `runner` (default: a new check process) build its model right away.

    Needs no model and no TensorFlow: an exporter calls it before building its own
    model, so that the check process's TensorFlow import and model build happen
    meanwhile instead of after."""
    from studio.export.codegen import ScriptSettings, generate_script

    target = check_target("python", path) if staging is None else Path(path)
    staging = Staging(target) if staging is None else staging
    try:
        stem = target.name[: -len(".py")]
        if settings is None:
            settings = ScriptSettings(name=stem)
        settings.weights_file = f"{stem}.weights.h5"
        settings.save_file = settings.save_file or f"{stem}.keras"
        if settings.script_dir is None:  # data below the export folder: found relative to the script
            settings.script_dir = str(target.parent.resolve())
        extra = _copy_sample(settings, staging, stem)
        main = staging.path(target.name)
        text = generate_script(plan, settings)
        main.write_text(text, encoding="utf-8")
        check = staging.path("_check")
        check.mkdir()
        (check / "exported_script.py").write_text(text, encoding="utf-8")
        if runner is None or runner.proc.poll() is not None:
            runner = ScriptRunner()
            staging.on_cleanup(runner.close)
        runner.build(str(check))
    except BaseException:
        staging.cleanup()
        raise
    return StagedScript(staging, target, main, settings, runner, check, extra)


def _python(model: Any, staging: Staging, target: Path, *, plan: Any, settings: Any, bare: Any = None,
            runner: ScriptRunner | None = None, script: StagedScript | None = None, **_: Any) -> Staged:
    import numpy as np

    if script is None:
        script = stage_script(target, plan, settings, runner, staging)
    runner, main, weights_name = script.runner, script.main, script.settings.weights_file
    bare = model if bare is None else bare
    weights = staging.path(weights_name)
    try:
        bare.save_weights(weights)
    except Exception as exc:
        raise _fail(target, "python", exc) from exc
    expected_layers = [[type(layer).__name__, layer.name, layer.count_params()] for layer in bare.layers]

    samples = staging.path("_samples.npz")
    out = staging.path("_outputs.npz")
    args = [str(script.check), str(weights), str(samples), str(out), None]

    def start(x: list) -> None:
        np.savez(samples, **{f"x{i}": a for i, a in enumerate(x)})
        args[-1] = chunk_size(model, len(x[0]))  # run as the exporter's side runs (`verify.predict`)
        runner.send(args)

    def run(x: list) -> list:
        if not runner.sent:
            start(x)
        code, stdout, stderr = runner.run(args)
        if code != 0:
            lines = [line for line in stderr.strip().splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit status {code}"
            raise ExportError(f"{target}: the exported script does not run: {reason}; nothing was written")
        got_layers = json.loads(stdout.strip().splitlines()[-1])
        if got_layers != expected_layers:
            raise ExportError(f"{target}: the exported script builds a different model than the app "
                              "(layer classes, names or parameter counts differ); nothing was written")
        with np.load(out) as data:
            return [data[f"y{i}"] for i in range(len(data.files))]

    notes = [f"weights in {weights_name}; run `python {target.name}` to build, train and save"]
    if "def add_preprocessing(" in main.read_text(encoding="utf-8"):
        notes.append("the saved model takes raw inputs, like the app's: add_preprocessing() puts the data's "
                     "fitted scaling in front of build_model()")
    if script.extra:
        notes.append(f"the sample data was copied to {script.extra[0][1]}/ beside the script; give another data "
                     f"path as its argument: python {target.name} PATH")
    return Staged(main, extra=[(weights, weights_name), *script.extra], run=run, notes=notes, start=start)


def _copy_sample(settings: Any, staging: Staging, stem: str) -> list[tuple[Path, str]]:
    """Stage a copy of Network Studio's sample data the script reads in `<stem>_data/` (the script's
    default data path then), so the script runs where Network Studio is not installed."""
    import shutil

    from studio.export.codegen import sample_copy

    found = sample_copy(settings)
    if found is None or settings.data_copies:
        return []
    source, name = found
    folder = f"{stem}_data"
    staged = staging.path(folder)
    staged.mkdir()
    if Path(source).is_dir():
        shutil.copytree(source, staged / name)
    else:
        shutil.copy2(source, staged / name)
    settings.data_copies = {source: f"{folder}/{name}"}
    return [(staged, folder)]
