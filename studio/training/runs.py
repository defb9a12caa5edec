"""Run folders: `NAME.runs/<timestamp>-<shortid>/` (DESIGN.md section 4).

A run folder holds:

    status.json      "running" | "completed" | "stopped" | "failed", times, device, final metrics
    config.json      training settings, graph snapshot, dataset spec, parent run
    history.csv      one row per epoch (rewritten after every epoch)
    best.keras       best weights by the checkpoint monitor (when enabled)
    final.keras      the model at the end of the run
    logs/            TensorBoard event files
    evaluation.json  metrics on the test split (when evaluated)
    error.txt        the traceback of a failed run
    health.csv       training health per layer per sample, health.json its flags (with health on;
                     studio/training/health.py)

Every file is written atomically (temp file beside it, fsync, rename; see
`studio.core.files`): a kill mid-save leaves the previous file or none, never
a truncated one, and the temp files a killed save leaves behind
(`NAME.<pid>-<random>.tmp[.keras]`) are removed the next time the run is
read or saved. `status.json` is written first with "running" and replaced at
the end, so a half-written run never looks complete. It records the writer's
PID with the process's start time (and the boot id): a "running" run whose
process is gone, or whose PID now belongs to another process, is listed as
"interrupted". A write that fails because the disk is full says which file
and how much to free (`disk_full_message`). No TensorFlow here.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from studio.core import files
from studio.core.errors import TrainingError
from studio.core.ids import short_id
from studio.training.history import MetricsHistory

STATUS_FILE = "status.json"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
BEST_MODEL = "best.keras"
FINAL_MODEL = "final.keras"
LOGS_DIR = "logs"
EVALUATION_FILE = "evaluation.json"
ERROR_FILE = "error.txt"

FINISHED = ("completed", "stopped", "failed")
# Runs of this process whose final status.json could not be written: not "running" any more.
_UNFINISHED: set[str] = set()
STATUSES = ("running", *FINISHED, "interrupted")


def new_run_id(now: Optional[float] = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
    return f"{stamp}-{short_id()}"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temp file beside `path`, fsync, rename.

    Raises `files.FileWriteError` (a StudioError naming `path`) when it cannot."""
    files.atomic_write_json(path, data)


def save_model(model: Any, path: Path) -> None:
    """`model.save` to a temp `.keras` file beside `path`, fsync, rename over `path`.

    A save that raises (a full disk, a layer that cannot be serialised) leaves
    the previous `path` as it was and no temp file; OSErrors come out as
    `files.FileWriteError` naming `path`."""
    files.atomic_write(path, lambda tmp: model.save(str(tmp)), suffix=".keras")


def disk_full_message(path: Path, model_mb: Optional[float] = None) -> str:
    """One line for a write that failed because the disk is full."""
    path = Path(path)
    if model_mb:
        # a run keeps best.keras and final.keras, and each save needs room for its temp copy
        need = max(1, math.ceil(2 * model_mb))
        size = f"{model_mb:.1f}" if model_mb >= 0.1 else "0.1"
        free = f"free at least {need} MB there (best.keras and final.keras are about {size} MB each)"
    else:
        free = "free some space there"
    return (
        f"no space left on device while writing {path}; {free} "
        f"or save the runs on another disk (studio train --run-dir DIR)"
    )


def remove_stray_temps(path: Path) -> list[Path]:
    """Delete the temp files that killed saves left in the run folder `path`."""
    return files.remove_stray_temps(path, is_alive=_pid_alive)


def _read_json(path: Path) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _usable(path: Path) -> bool:
    """A model file that is there and not empty (a 0-byte file is a save cut off by an older version)."""
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


@dataclass
class RunInfo:
    """What the runs list shows about one run folder."""

    id: str
    path: Path
    status: str
    started: Optional[float] = None
    finished: Optional[float] = None
    duration_s: Optional[float] = None
    epochs_done: int = 0
    device: str = ""
    message: str = ""
    final_metrics: dict[str, float] = field(default_factory=dict)
    best: Optional[dict[str, Any]] = None
    parent: Optional[str] = None

    @property
    def has_final(self) -> bool:
        return _usable(self.path / FINAL_MODEL)

    @property
    def has_best(self) -> bool:
        return _usable(self.path / BEST_MODEL)

    @property
    def model_path(self) -> Optional[Path]:
        """The best checkpoint if there is one, else the final model (empty files are skipped)."""
        for name in (BEST_MODEL, FINAL_MODEL):
            if _usable(self.path / name):
                return self.path / name
        return None

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class RunWriter:
    """Creates one run folder and keeps its `status.json` truthful."""

    def __init__(self, runs_root: Path, run_id: Optional[str] = None) -> None:
        self.root = Path(runs_root)
        self.id = run_id or new_run_id()
        self.path = self.root / self.id
        try:
            self.path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise TrainingError(f"{self.path}: a run with this id already exists; try again") from None
        except OSError as exc:
            if files.is_disk_full(exc):
                raise TrainingError(disk_full_message(self.path)) from None
            raise TrainingError(f"{self.path}: cannot create the run folder ({exc.strerror})") from None
        self.started = time.time()
        self.status: dict[str, Any] = {
            "status": "running",
            "started": self.started,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "epochs_done": 0,
        }
        start = process_start(os.getpid())
        if start is not None:
            self.status["pid_start"] = start
        boot = boot_id()
        if boot is not None:
            self.status["boot_id"] = boot
        self._write_status()

    def file(self, name: str) -> Path:
        return self.path / name

    def write_config(self, config: dict[str, Any]) -> None:
        write_json_atomic(self.file(CONFIG_FILE), config)

    def update(self, **fields: Any) -> None:
        self.status.update(fields)
        self._write_status()

    def write_history(self, history: MetricsHistory) -> None:
        files.atomic_write(self.file(HISTORY_FILE), history.to_csv)

    def save_model(self, model: Any, name: str) -> Path:
        """Save `model` as `name` (best.keras, final.keras) in the run, atomically."""
        remove_stray_temps(self.path)
        path = self.file(name)
        save_model(model, path)
        return path

    def write_error(self, text: str) -> None:
        files.atomic_write_text(self.file(ERROR_FILE), text)

    def write_evaluation(self, evaluation: dict[str, Any]) -> None:
        write_json_atomic(self.file(EVALUATION_FILE), evaluation)

    def finish(self, status: str, message: str = "", **fields: Any) -> None:
        if status not in FINISHED:
            raise ValueError(f"finish status must be one of {FINISHED}")
        now = time.time()
        self.status.update(fields)
        self.status.update(status=status, message=message, finished=now, duration_s=now - self.started)
        try:
            self._write_status()
        except files.FileWriteError:
            # status.json still says "running" (a full disk?): this process knows better
            _UNFINISHED.add(str(self.path.resolve()))
            raise
        remove_stray_temps(self.path)

    def _write_status(self) -> None:
        write_json_atomic(self.file(STATUS_FILE), self.status)


# --- reading runs --------------------------------------------------------------------
def _pid_alive(pid: Any) -> bool:
    return files.pid_alive(pid)


def process_start(pid: int) -> Optional[str]:
    """When process `pid` started, as an opaque token; None when unknown.

    Two processes that ever had the same PID differ in it, so a status file
    naming a PID that was reused is told apart from the live writer. Linux:
    field 22 of /proc/PID/stat (clock ticks since boot); Windows: the
    creation time; elsewhere None (then only the PID is checked)."""
    if not isinstance(pid, int) or pid <= 0:
        return None
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
        except OSError:
            return None
        fields = stat[stat.rfind(")") + 2 :].split()  # the name in (...) may hold spaces
        return fields[19] if len(fields) > 19 else None  # field 22 counts from pid, comm, state
    if os.name == "nt":  # pragma: no cover - Windows only
        return _windows_process_start(pid)
    return None


def _windows_process_start(pid: int) -> Optional[str]:  # pragma: no cover - Windows only
    try:
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return None
        try:
            times = [ctypes.c_ulonglong() for _ in range(4)]
            if not kernel32.GetProcessTimes(handle, *(ctypes.byref(t) for t in times)):
                return None
            return str(times[0].value)
        finally:
            kernel32.CloseHandle(handle)
    except (OSError, AttributeError, ValueError):
        return None


def boot_id() -> Optional[str]:
    """This boot of the machine (Linux), so PIDs of an earlier boot never match."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def _writer_alive(status: dict[str, Any]) -> bool:
    """Whether the process that wrote a "running" status.json is still that process."""
    pid = status.get("pid")
    if not _pid_alive(pid):
        return False
    recorded_boot = status.get("boot_id")
    if recorded_boot is not None:
        current = boot_id()
        if current is not None and current != recorded_boot:
            return False  # a PID of an earlier boot
    recorded = status.get("pid_start")
    if recorded is None:
        return True  # written before start times were recorded: the PID is all we have
    current_start = process_start(pid)
    return current_start is None or str(current_start) == str(recorded)


def read_run(path: Path) -> Optional[RunInfo]:
    """The RunInfo of one folder, or None when it is not a run folder."""
    path = Path(path)
    status = _read_json(path / STATUS_FILE)
    if status is None and not (path / CONFIG_FILE).is_file():
        return None
    remove_stray_temps(path)
    if status is None:
        status = {"status": "interrupted", "message": "status.json is missing"}
    state = status.get("status")
    if state not in STATUSES:
        state = "interrupted"
    if state == "running":
        same_host = status.get("host") in (None, socket.gethostname())
        if same_host and not _writer_alive(status):
            state = "interrupted"
        elif status.get("pid") == os.getpid() and str(path.resolve()) in _UNFINISHED:
            state = "interrupted"
    config = _read_json(path / CONFIG_FILE) or {}
    metrics = status.get("final_metrics")
    return RunInfo(
        id=path.name,
        path=path,
        status=state,
        started=status.get("started"),
        finished=status.get("finished"),
        duration_s=status.get("duration_s"),
        epochs_done=int(status.get("epochs_done") or 0),
        device=str(status.get("device") or ""),
        message=str(status.get("message") or ""),
        final_metrics={k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float))},
        best=status.get("best") if isinstance(status.get("best"), dict) else None,
        parent=config.get("parent_run"),
    )


def list_runs(runs_root: Optional[Path]) -> list[RunInfo]:
    """Every run folder under `runs_root`, oldest first."""
    if runs_root is None or not Path(runs_root).is_dir():
        return []
    runs = []
    for child in sorted(Path(runs_root).iterdir()):
        if child.is_dir():
            info = read_run(child)
            if info is not None:
                runs.append(info)
    runs.sort(key=lambda r: (r.started or 0.0, r.id))
    return runs


def latest_run(runs_root: Optional[Path], with_model: bool = True) -> Optional[RunInfo]:
    """The newest finished run (with a saved model when `with_model`)."""
    for info in reversed(list_runs(runs_root)):
        if info.is_finished and (not with_model or info.model_path is not None):
            return info
    return None


def find_run(runs_root: Optional[Path], run: Union[str, Path, None]) -> RunInfo:
    """Resolve `--run`: a folder path, a run id, a unique id prefix or suffix; None: the latest."""
    if run is None or run == "" or run == "latest":
        info = latest_run(runs_root)
        if info is None:
            where = runs_root if runs_root is not None else "this project"
            raise TrainingError(
                f"{where}: no finished run with a saved model; train first (studio train PROJECT)"
            )
        return info
    candidate = Path(run)
    if candidate.is_dir():
        info = read_run(candidate)
        if info is None:
            raise TrainingError(f"{candidate}: not a run folder (no status.json or config.json)")
        return info
    runs = list_runs(runs_root)
    exact = [r for r in runs if r.id == str(run)]
    matches = exact or [r for r in runs if r.id.startswith(str(run)) or r.id.endswith(str(run))]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise TrainingError(
            f"run {run!r} not found in {runs_root}; list runs in the GUI or pass a run folder"
        )
    raise TrainingError(f"run {run!r} matches {len(matches)} runs in {runs_root}; give more of its id")


def load_history(run: Union[RunInfo, Path]) -> MetricsHistory:
    path = run.path if isinstance(run, RunInfo) else Path(run)
    csv_path = path / HISTORY_FILE
    return MetricsHistory.from_csv(csv_path) if csv_path.is_file() else MetricsHistory()


def load_config(run: Union[RunInfo, Path]) -> dict[str, Any]:
    path = run.path if isinstance(run, RunInfo) else Path(run)
    return _read_json(path / CONFIG_FILE) or {}


def load_evaluation(run: Union[RunInfo, Path]) -> Optional[dict[str, Any]]:
    path = run.path if isinstance(run, RunInfo) else Path(run)
    return _read_json(path / EVALUATION_FILE)


def delete_run(run: Union[RunInfo, Path]) -> None:
    """Remove a run folder; refuses folders that are not runs or still running."""
    path = run.path if isinstance(run, RunInfo) else Path(run)
    info = read_run(path)
    if info is None:
        raise TrainingError(f"{path}: not a run folder; nothing deleted")
    if info.status == "running":
        raise TrainingError(f"{path}: this run is still training; stop it before deleting")
    try:
        shutil.rmtree(path)
    except OSError as exc:
        raise TrainingError(f"{path}: cannot delete ({exc.strerror})") from None
