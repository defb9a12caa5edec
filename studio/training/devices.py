"""Choosing where to train: the devices there are, a `tf.device` scope or a
distribution strategy, and the settings TensorFlow takes only at start-up.

`tf.device` applies only to the thread that enters it (DESIGN.md section 7),
so the session enters the scope returned here inside its own thread. A GPU
that is not there falls back to the CPU with a clear message in the GUI; the
command line's `--device` is checked first (`check_device`) and fails with a
line naming the devices that exist.

Start-time settings (visible GPUs, memory growth, splitting the CPU or each
GPU into logical devices) are saved in the app's config folder
(`startup_settings_path()`) and applied once, by `apply_startup_settings()`,
before TensorFlow sets its devices up: `list_devices`, `place`,
`environment_report` and `studio train` call it first. TensorFlow fixes its
devices when it first uses them, so a changed setting takes effect at the
next start of the app or command.

TensorFlow is imported inside functions; this module imports without it.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from studio.core.errors import TrainingError

STRATEGIES = ("auto", "default", "mirrored", "multiworker")
#: The file of start-time device settings, in the app's config folder.
STARTUP_FILE = "startup-devices.json"
#: The note shown beside the start-time settings wherever they can be changed.
RESTART_NOTE = (
    "TensorFlow reads these settings when it starts: changes apply at the next start of Network Studio"
)
#: The most logical devices one CPU or GPU may be split into.
MAX_SPLIT = 16


# --- the app's config folder, without Qt ------------------------------------------------------
def config_dir() -> Path:
    """The app's config folder: `STUDIO_CONFIG_DIR`, else the platform's (the folder
    studio/ui/settings.py finds through Qt's GenericConfigLocation).

    Not created here: reading the settings never writes.
    """
    env = os.environ.get("STUDIO_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Preferences"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "network-studio"


def startup_settings_path() -> Path:
    return config_dir() / STARTUP_FILE


# --- start-time settings ----------------------------------------------------------------------
@dataclass
class StartupSettings:
    """Device settings TensorFlow takes only before it first uses its devices."""

    visible_gpus: Optional[list[int]] = None  # physical GPU indices to use; None: all of them
    memory_growth: bool = False  # allocate GPU memory as needed instead of nearly all at once
    cpu_split: int = 1  # logical CPU devices made from the CPU (2+: try a mirrored strategy without GPUs)
    gpu_split: int = 1  # logical devices made from each visible GPU
    gpu_split_memory_mb: int = 2048  # memory of each logical GPU device when gpu_split > 1

    def is_default(self) -> bool:
        return self == StartupSettings()

    def validate(self) -> StartupSettings:
        """Checked values; raises TrainingError naming the setting."""
        if self.visible_gpus is not None:
            if not isinstance(self.visible_gpus, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in self.visible_gpus
            ):
                raise TrainingError(
                    f"start-time setting 'visible_gpus': {self.visible_gpus!r} is not a list of GPU "
                    "numbers (e.g. [0, 2]); use null for all GPUs"
                )
            self.visible_gpus = sorted(set(self.visible_gpus))
        if not isinstance(self.memory_growth, bool):
            raise TrainingError(
                f"start-time setting 'memory_growth': {self.memory_growth!r} is not true or false"
            )
        for name in ("cpu_split", "gpu_split"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SPLIT:
                raise TrainingError(
                    f"start-time setting '{name}': {value!r} is not a number of devices from 1 to {MAX_SPLIT}"
                )
        mb = self.gpu_split_memory_mb
        if not isinstance(mb, int) or isinstance(mb, bool) or mb < 64:
            raise TrainingError(
                f"start-time setting 'gpu_split_memory_mb': {mb!r} is not a memory size in MB (64 or more)"
            )
        return self

    def describe(self) -> str:
        """One line for people, e.g. "GPUs 0, 2; memory growth; CPU split into 2"."""
        parts = []
        if self.visible_gpus is not None:
            parts.append("GPUs " + (", ".join(map(str, self.visible_gpus)) if self.visible_gpus else "none"))
        if self.memory_growth:
            parts.append("memory growth")
        if self.cpu_split > 1:
            parts.append(f"CPU split into {self.cpu_split}")
        if self.gpu_split > 1:
            parts.append(f"each GPU split into {self.gpu_split} of {self.gpu_split_memory_mb} MB")
        return "; ".join(parts) if parts else "defaults (all GPUs, no memory growth, no splitting)"


def load_startup_settings(path: Optional[Path] = None) -> StartupSettings:
    """The saved settings, or the defaults when there is no file.

    Raises TrainingError for a file that cannot be read or holds bad values.
    """
    path = path or startup_settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return StartupSettings()
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingError(
            f"{path}: cannot read the start-time device settings ({exc}); delete the file"
        ) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TrainingError(f"{path}: not JSON ({exc}); delete the file to use the defaults") from exc
    if not isinstance(data, dict):
        raise TrainingError(f"{path}: not a JSON object; delete the file to use the defaults")
    known = StartupSettings.__dataclass_fields__
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise TrainingError(
            f"{path}: unknown start-time setting {unknown[0]!r}; the settings are {', '.join(known)}"
        )
    return StartupSettings(**data).validate()


def save_startup_settings(settings: StartupSettings, path: Optional[Path] = None) -> Path:
    """Save (atomically) for the next start; returns the file."""
    settings.validate()
    path = path or startup_settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(asdict(settings), indent=2) + "\n", encoding="utf-8")
    os.replace(temp, path)
    return path


_APPLY_LOCK = threading.Lock()
_APPLIED: Optional[list[str]] = None  # the notes of the one application, once done


def apply_startup_settings() -> list[str]:
    """Apply the saved start-time settings to TensorFlow, once per process.

    Call it before anything uses TensorFlow's devices (it imports TensorFlow).
    Returns notes for the user: settings that could not be applied (a file with
    bad values, GPUs that are not there, TensorFlow already started). Later
    calls return the same notes and change nothing.
    """
    global _APPLIED
    with _APPLY_LOCK:
        if _APPLIED is not None:
            return list(_APPLIED)
        notes: list[str] = []
        try:
            settings = load_startup_settings()
        except TrainingError as exc:
            settings = StartupSettings()
            notes.append(f"start-time device settings not applied: {exc}")
        if not settings.is_default():
            notes.extend(_apply(settings))
        _APPLIED = notes
        return list(notes)


def _apply(settings: StartupSettings) -> list[str]:
    import tensorflow as tf

    notes: list[str] = []
    try:
        gpus = tf.config.list_physical_devices("GPU")
        visible = gpus
        if settings.visible_gpus is not None:
            visible = [g for i, g in enumerate(gpus) if i in settings.visible_gpus]
            missing = [i for i in settings.visible_gpus if i >= len(gpus)]
            if missing:
                notes.append(
                    f"start-time setting 'visible_gpus': there is no GPU {', '.join(map(str, missing))} "
                    f"(TensorFlow sees {len(gpus)} GPU(s))"
                )
            if gpus:
                tf.config.set_visible_devices(visible, "GPU")
        if settings.gpu_split > 1:
            config = tf.config.LogicalDeviceConfiguration(memory_limit=settings.gpu_split_memory_mb)
            for gpu in visible:
                tf.config.set_logical_device_configuration(gpu, [config] * settings.gpu_split)
            if settings.memory_growth and visible:
                notes.append(
                    "memory growth is not used with GPUs split into logical devices (each has its own limit)"
                )
        elif settings.memory_growth:
            for gpu in visible:
                tf.config.experimental.set_memory_growth(gpu, True)
        if settings.cpu_split > 1:
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * settings.cpu_split
            )
    except (RuntimeError, ValueError) as exc:
        notes.append(
            f"start-time device settings not applied: TensorFlow had already set up its devices ({exc}); "
            "they apply at the next start"
        )
    return notes


# --- the devices there are --------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceInfo:
    """One device TensorFlow can place work on."""

    name: str  # what --device and the GUI call it: "cpu", "cpu:1", "gpu:0"
    kind: str  # "CPU" or "GPU"
    description: str  # "NVIDIA H100 80GB HBM3", "the CPU, 16 cores"
    memory_bytes: Optional[int]  # the device's memory where known (a GPU: what TensorFlow may use)
    logical: bool  # one of several logical devices made from one physical device
    tf_name: str  # TensorFlow's name, "/device:GPU:0"

    def label(self) -> str:
        """ "gpu:0 (NVIDIA H100 80GB HBM3, 79.1 GB)" """
        extra = [self.description] if self.description else []
        if self.memory_bytes:
            extra.append(_gb(self.memory_bytes))
        if self.logical:
            extra.append("logical")
        return f"{self.name} ({', '.join(extra)})" if extra else self.name


def _gb(size: int) -> str:
    return f"{size / 1e9:.1f} GB"


def _system_memory() -> Optional[int]:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def _gpu_memory_limits() -> dict[str, int]:
    """TensorFlow's memory limit of each GPU device, by "/device:GPU:N" (empty when unknown).

    Through device_lib, TensorFlow's own device listing (not a public API: any
    failure just leaves the memory unknown).
    """
    try:
        from tensorflow.python.client import device_lib

        return {
            d.name: int(d.memory_limit)
            for d in device_lib.list_local_devices()
            if d.device_type == "GPU" and d.memory_limit
        }
    except Exception:  # noqa: BLE001 - the memory is extra information
        return {}


def list_devices() -> list[DeviceInfo]:
    """The devices TensorFlow sees, CPUs first: plain records (see DeviceInfo).

    Applies the start-time settings first, and so sets TensorFlow's devices up.
    Call it off the GUI thread (it imports TensorFlow).
    """
    apply_startup_settings()
    import tensorflow as tf

    physical_gpus = tf.config.list_physical_devices("GPU")
    gpu_names = []
    for device in physical_gpus:
        try:
            details = tf.config.experimental.get_device_details(device)
        except (ValueError, RuntimeError):
            details = {}
        gpu_names.append(str(details.get("device_name") or ""))
    visible = tf.config.get_visible_devices("GPU")
    visible_names = [gpu_names[physical_gpus.index(g)] if g in physical_gpus else "" for g in visible]

    cpus = tf.config.list_logical_devices("CPU")
    gpus = tf.config.list_logical_devices("GPU")
    records: list[DeviceInfo] = []
    cores = os.cpu_count()
    memory = _system_memory()
    for index, device in enumerate(cpus):
        records.append(
            DeviceInfo(
                name="cpu" if index == 0 else f"cpu:{index}",
                kind="CPU",
                description="the CPU" + (f", {cores} cores" if cores else ""),
                memory_bytes=memory if len(cpus) == 1 else None,
                logical=len(cpus) > 1,
                tf_name=device.name,
            )
        )
    limits = _gpu_memory_limits() if gpus else {}
    split = len(gpus) > len(visible) and len(visible) > 0
    per_physical = len(gpus) // len(visible) if split else 1
    for index, device in enumerate(gpus):
        physical = index // per_physical
        description = visible_names[physical] if physical < len(visible_names) else ""
        records.append(
            DeviceInfo(
                name=f"gpu:{index}",
                kind="GPU",
                description=description or "a GPU",
                memory_bytes=limits.get(device.name),
                logical=split,
                tf_name=device.name,
            )
        )
    return records


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


def no_gpu_reason() -> Optional[str]:
    """Why TensorFlow sees no GPU, as far as can be told cheaply; None when it sees one."""
    apply_startup_settings()
    import tensorflow as tf

    if tf.config.list_logical_devices("GPU"):
        return None
    if tf.config.list_physical_devices("GPU"):
        return f"the start-time settings hide every GPU (visible_gpus in {startup_settings_path()})"
    if not tf.test.is_built_with_cuda():
        return "this TensorFlow build has no CUDA support (tensorflow-cpu, or a macOS build)"
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
    if hidden is not None and hidden.strip() in ("", "-1"):
        return f"CUDA_VISIBLE_DEVICES={hidden!r} hides them; unset it to use the GPUs"
    if not _driver_loads():
        return "no NVIDIA driver found: libcuda.so.1 cannot be loaded; install the NVIDIA driver, or train on the CPU"
    if importlib.util.find_spec("nvidia.cudnn") is None and sys.platform.startswith("linux"):
        return (
            "the NVIDIA driver is there but TensorFlow's CUDA libraries are not "
            "(pip install 'tensorflow[and-cuda]' in this environment)"
        )
    if hidden:
        return f"CUDA_VISIBLE_DEVICES={hidden!r} may name GPUs that are not there"
    return (
        "the NVIDIA driver and CUDA libraries are there but TensorFlow found no usable GPU; "
        "check nvidia-smi and that the driver supports CUDA "
        + str(tf.sysconfig.get_build_info().get("cuda_version", ""))
    ).strip()


def _driver_loads() -> bool:
    """Whether the NVIDIA driver's CUDA library can be loaded (without starting CUDA)."""
    names = ("nvcuda.dll",) if sys.platform == "win32" else ("libcuda.so.1", "libcuda.so")
    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


# --- the environment report -------------------------------------------------------------------
def environment_report() -> dict[str, str]:
    """What TensorFlow was built with and what it sees, one readable value per item:
    for Help > About and `studio --version --verbose`. Imports TensorFlow."""
    import platform

    from studio import __version__

    report: dict[str, str] = {
        "Network Studio": __version__,
        "Python": f"{platform.python_version()} ({sys.executable})",
        "Platform": platform.platform(),
    }
    notes = apply_startup_settings()
    try:
        import tensorflow as tf
    except Exception as exc:  # noqa: BLE001 - a missing or broken TensorFlow is what to report
        report["TensorFlow"] = f"cannot be imported: {type(exc).__name__}: {exc}"
        return report
    report["TensorFlow"] = tf.__version__
    try:
        import keras

        report["Keras"] = f"{keras.__version__} (backend {keras.backend.backend()})"
    except Exception as exc:  # noqa: BLE001
        report["Keras"] = f"cannot be imported: {exc}"
    info = dict(tf.sysconfig.get_build_info())
    if tf.test.is_built_with_cuda():
        report["Built with CUDA"] = (
            f"yes, CUDA {info.get('cuda_version', '?')}, cuDNN {info.get('cudnn_version', '?')}"
        )
        capabilities = info.get("cuda_compute_capabilities")
        if capabilities:
            report["GPU architectures"] = ", ".join(map(str, capabilities))
    elif info.get("is_rocm_build"):
        report["Built with CUDA"] = "no (a ROCm build)"
    else:
        report["Built with CUDA"] = "no"
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        report["CUDA_VISIBLE_DEVICES"] = repr(os.environ["CUDA_VISIBLE_DEVICES"])
    try:
        devices = list_devices()
        report["Devices"] = "; ".join(d.label() for d in devices) or "none"
        reason = no_gpu_reason()
    except Exception as exc:  # noqa: BLE001 - the report still says what it could find
        report["Devices"] = f"cannot be listed: {type(exc).__name__}: {exc}"
        reason = None
    if reason:
        report["No GPU because"] = reason
    try:
        settings = load_startup_settings()
        report["Start-time settings"] = (
            f"{settings.describe()} ({startup_settings_path()}; changes apply at the next start)"
        )
    except TrainingError as exc:
        report["Start-time settings"] = str(exc)
    if notes:
        report["Start-time notes"] = "; ".join(notes)
    return report


def format_report(report: dict[str, str]) -> str:
    """The report as lines "Item: value", values aligned."""
    width = max((len(k) for k in report), default=0)
    return "\n".join(f"{key + ':':<{width + 1}} {value}" for key, value in report.items())


# --- choosing a device ------------------------------------------------------------------------
@dataclass
class Placement:
    """The scope to build and train in, and what to tell the user about it."""

    scope: Any  # a context manager: tf.device(...) or strategy.scope()
    description: str  # "CPU", "GPU:0 (NVIDIA H100)", "MirroredStrategy on 2 GPUs"
    is_gpu: bool
    warnings: list[str] = field(default_factory=list)
    strategy: Any = None


def check_device(device: str, option: str = "--device") -> None:
    """Raise TrainingError when `device` ("gpu:N") is not on this machine, naming
    the devices that are. "auto" and "cpu" always exist. Imports TensorFlow."""
    device = device.strip().lower().replace(" ", "")
    if device in ("auto", "cpu", "mirrored") or not device.startswith("gpu:"):
        return
    devices = list_devices()
    missing = [name for name in device.split(",") if not any(d.name == name for d in devices)]
    if not missing:
        return
    device = missing[0]
    cpus = [d for d in devices if d.kind == "CPU"]
    gpus = [d for d in devices if d.kind == "GPU"]
    has = [cpus[0].label()] if cpus else []
    has += [d.label() for d in gpus]
    if not gpus:
        reason = no_gpu_reason()
        has.append("no GPU" + (f" ({reason.split('; ')[0]})" if reason else ""))
    listed = has[0] if len(has) == 1 else f"{', '.join(has[:-1])} and {has[-1]}"
    use = "cpu or auto"
    if gpus:
        use = "cpu, auto or " + ("gpu:0" if len(gpus) == 1 else f"gpu:0 to gpu:{len(gpus) - 1}")
    raise TrainingError(
        f"{option} {device}: there is no {device}; this machine has {listed}; use {option} {use}"
    )


def place(device: str = "auto", strategy: str = "default") -> Placement:
    """Resolve a TrainingConfig device ("auto" | "cpu" | "gpu:N") and a strategy name."""
    notes = apply_startup_settings()  # settings that could not be applied: told with the warnings
    import tensorflow as tf

    if strategy not in STRATEGIES:
        raise TrainingError(f"--strategy {strategy!r} is not known; use one of {', '.join(STRATEGIES)}")
    if strategy == "multiworker":  # made before anything sets TensorFlow's devices up
        from studio.training import multiworker

        return multiworker.placement(notes)
    gpus = tf.config.list_logical_devices("GPU")
    names = gpu_names()
    warnings: list[str] = list(notes)

    chosen = [name for name in device.split(",")] if "," in device else []  # "gpu:0,gpu:2": mirrored
    if device == "mirrored" or chosen:
        strategy = "mirrored"
    if strategy == "mirrored" or (strategy == "auto" and len(gpus) > 1):
        if device not in ("auto", "mirrored") and not chosen and strategy == "mirrored":
            warnings.append(f"device {device!r} is ignored with the mirrored strategy, which uses every GPU")
        there = [int(name.split(":", 1)[1]) for name in chosen if name.startswith("gpu:")]
        absent = [index for index in there if index >= len(gpus)]
        if absent:
            warnings.append(
                f"there is no gpu:{absent[0]} (TensorFlow sees {len(gpus)} GPU(s)); mirroring over the GPUs there are"
            )
        picked = [f"/GPU:{index}" for index in there if index < len(gpus)]
        mirrored = tf.distribute.MirroredStrategy(picked or None)
        replicas = mirrored.num_replicas_in_sync
        where = f"{len(picked or gpus)} GPU(s)" if gpus else "the CPU"
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


def uneven_batch_problem(strategy: Any, batch_size: int) -> Optional[str]:
    """Why a mirrored run cannot train at this global batch size (None: it can). Keras' fit under
    MirroredStrategy fails inside TensorFlow ("AddN ... [8,4] != [7,4]") when a full batch does
    not split evenly over the replicas."""
    if strategy is None or type(strategy).__name__ != "MirroredStrategy":
        return None
    replicas = int(strategy.num_replicas_in_sync)
    if replicas <= 1 or not batch_size or batch_size % replicas == 0:
        return None
    lower = batch_size - batch_size % replicas
    choices = f"{lower} or {lower + replicas}" if lower else str(replicas)
    return (f"batch size {batch_size} does not split evenly over the {replicas} replicas of the mirrored "
            f"strategy (each replica takes an equal share); set the batch size to {choices}")


def null_placement() -> Placement:
    return Placement(contextlib.nullcontext(), "default", False)


def single_device_copy(model: Any, strategy: Any = None) -> Any:
    """`model`, or where it was trained under a strategy of several replicas or workers, a
    copy with the same weights made outside the strategy's scope, compiled the same way:
    Keras' `evaluate` fails under MirroredStrategy when the last batch does not split evenly,
    and under MultiWorkerMirroredStrategy it would wait for the other workers.
    Call it outside the strategy's scope."""
    if strategy is None:
        return model
    multi = type(strategy).__name__.startswith(("MultiWorker", "CollectiveAllReduce"))
    if not multi and strategy.num_replicas_in_sync <= 1:
        return model
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    config = model.get_compile_config()
    if config:
        copy.compile_from_config(config)
    return copy
