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

`status.json` is written first with "running" and replaced atomically at the
end, so a half-written run never looks complete; a "running" run whose
process is gone is listed as "interrupted". No TensorFlow here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

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
STATUSES = ("running", *FINISHED, "interrupted")


def new_run_id(now: Optional[float] = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
    return f"{stamp}-{short_id()}"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temp file beside `path`, fsync, rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, allow_nan=True, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read_json(path: Path) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
        return (self.path / FINAL_MODEL).is_file()

    @property
    def has_best(self) -> bool:
        return (self.path / BEST_MODEL).is_file()

    @property
    def model_path(self) -> Optional[Path]:
        """The best checkpoint if there is one, else the final model."""
        for name in (BEST_MODEL, FINAL_MODEL):
            if (self.path / name).is_file():
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
            raise TrainingError(f"{self.path}: cannot create the run folder ({exc.strerror})") from None
        self.started = time.time()
        self.status: dict[str, Any] = {
            "status": "running",
            "started": self.started,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "epochs_done": 0,
        }
        self._write_status()

    def file(self, name: str) -> Path:
        return self.path / name

    def write_config(self, config: dict[str, Any]) -> None:
        write_json_atomic(self.file(CONFIG_FILE), config)

    def update(self, **fields: Any) -> None:
        self.status.update(fields)
        self._write_status()

    def write_history(self, history: MetricsHistory) -> None:
        tmp = self.file(HISTORY_FILE + ".tmp")
        history.to_csv(tmp)
        os.replace(tmp, self.file(HISTORY_FILE))

    def write_evaluation(self, evaluation: dict[str, Any]) -> None:
        write_json_atomic(self.file(EVALUATION_FILE), evaluation)

    def finish(self, status: str, message: str = "", **fields: Any) -> None:
        if status not in FINISHED:
            raise ValueError(f"finish status must be one of {FINISHED}")
        now = time.time()
        self.status.update(fields)
        self.status.update(status=status, message=message, finished=now, duration_s=now - self.started)
        self._write_status()

    def _write_status(self) -> None:
        write_json_atomic(self.file(STATUS_FILE), self.status)


# --- reading runs --------------------------------------------------------------------
def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def read_run(path: Path) -> Optional[RunInfo]:
    """The RunInfo of one folder, or None when it is not a run folder."""
    path = Path(path)
    status = _read_json(path / STATUS_FILE)
    if status is None:
        if not (path / CONFIG_FILE).is_file():
            return None
        status = {"status": "interrupted", "message": "status.json is missing"}
    state = status.get("status")
    if state not in STATUSES:
        state = "interrupted"
    if state == "running":
        same_host = status.get("host") in (None, socket.gethostname())
        if same_host and not _pid_alive(status.get("pid")):
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
