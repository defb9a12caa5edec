"""Start-up time of the GUI: `python -m studio` until the default example is shown.

    .venv/bin/python bench/bench_startup.py [--repeat 5]

Each run starts `python -m studio` on Qt's offscreen platform in screenshot mode
(STUDIO_SCREENSHOT): the app prints one line once the window has painted the
bundled Iris example, and quits. The figure is the time from the start of the
process to that line. The baseline, in the same run and alternating with it, is a
bare process that creates a QApplication and shows an empty QMainWindow, printing
once it has painted (what Qt alone costs here). The median of `--repeat` runs of
each is printed. Target (formerly a test's limit): the window is shown within 3.0 s
on a quiet machine; the test suite only checks that it comes up before TensorFlow
is imported, since a wall-clock limit fails on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 3.0

BASELINE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1280, 800)
window.show()
def done():
    window.grab()
    print("shown", flush=True)
    window.close()
QTimer.singleShot(50, done)
app.exec()
"""


def _env(folder: Path, **extra: str) -> dict:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", STUDIO_CONFIG_DIR=str(folder / "cfg"), STUDIO_PRELOAD_TF="0",
               PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", **extra)
    return env


def time_to_first_line(cmd: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    """Seconds from starting `cmd` to its first line of output, and that line."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    seconds = time.perf_counter() - start
    _out, err = proc.communicate(timeout=300)
    if proc.returncode != 0 or not line:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-2000:]}")
    return seconds, line.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    studio_times, baseline_times = [], []
    line = ""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        studio_env = _env(folder, STUDIO_SCREENSHOT=str(folder / "shot.png"), STUDIO_SCREENSHOT_DELAY_MS="50")
        # one unmeasured start of each: the first one reads the files from disk
        time_to_first_line([sys.executable, "-c", BASELINE], _env(folder), folder)
        time_to_first_line([sys.executable, "-m", "studio"], studio_env, folder)
        for _ in range(args.repeat):
            seconds, _ = time_to_first_line([sys.executable, "-c", BASELINE], _env(folder), folder)
            baseline_times.append(seconds)
            seconds, line = time_to_first_line([sys.executable, "-m", "studio"], studio_env, folder)
            studio_times.append(seconds)
    baseline, studio = statistics.median(baseline_times), statistics.median(studio_times)
    print(f"studio says: {line}")
    print(f"empty QMainWindow shown (baseline): {baseline:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in baseline_times)})")
    print(f"studio shows the example:           {studio:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in studio_times)})")
    print(f"studio - baseline: {studio - baseline:.2f} s; target: shown within {TARGET_S:.1f} s "
          f"({'met' if studio <= TARGET_S else 'NOT met'})")


if __name__ == "__main__":
    main()
