"""Time and peak memory of `studio import`, `check` and `export` on Keras applications.

    .venv/bin/python bench/bench_model_io.py [--models MobileNetV2,ResNet50,EfficientNetB0]
        [--steps import,check,export-keras,export-python] [--rounds 3] [--big] [--compare-with DIR]

For each model (keras.applications, weights=None, saved to a temporary .keras and imported once
first) four steps run as the user runs them, each in a fresh process (`python -m studio ...`):

    import         studio import MODEL.keras -o P.studio.json
    check          studio check P.studio.json
    export-keras   studio export P.studio.json --format keras -o OUT.keras
    export-python  studio export P.studio.json --format python -o OUT.py  (verified in a subprocess)

The baseline, measured in the same run on the same file, is a fresh process doing plain
`keras.saving.load_model(MODEL.keras)` + `model.save(OUT.keras)`: loading TensorFlow and the
model, which every step needs at least. Time is the wall clock of the step's process (TensorFlow's
import included); peak memory is the largest resident set of any of its processes
(`getrusage(RUSAGE_CHILDREN).ru_maxrss` in a fresh measuring process, so the export's
verification subprocess counts too). Target: each step at most 1.5x the baseline's time and peak.
Each row also prints the CPU time of all its processes (user + system) and its ratio: on a machine
whose cores are all busy, wall time follows CPU time, so a step that runs two processes side by side
(the Python export's check) gains from the overlap only where cores are free.

The machine may be busy (other work, tests): the steps run in `--rounds` rounds, interleaved with
the baseline (each round in another order), and each step's ratio is taken against the baseline
of its own round; the median over the rounds is judged, and every round's time ratio is printed
in brackets with the load average at each round. `--compare-with DIR` also runs each step from
another checkout (e.g. `git worktree add DIR COMMIT`) right after this one's: a before/after
under the same load, printed as "STEP (other)".

`--big` adds EfficientNetB7's export-python (66 M weights, 256 MB as float32), which once peaked
above 17 GB: target under 3x (weights + TensorFlow's own), i.e. under 4 GB; its peak is printed
next to the baseline's. A step is stopped when its processes pass `--limit-gb` (default 12).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5
BIG_LIMIT_MB = 4096

MAKE = """
import sys, keras
model = getattr(keras.applications, sys.argv[1])(weights=None)
model.save(sys.argv[2])
print(model.count_params())
"""

BASELINE = """
import sys, keras
model = keras.saving.load_model(sys.argv[1])
model.save(sys.argv[2])
"""


def _env() -> dict:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               STUDIO_OFFLINE="1")
    return env


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of `pid` and its descendants now (Linux /proc), in kB."""
    total = 0
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    todo = [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def measure_child(cmd: list[str], limit_mb: float) -> None:
    """(in the fresh measuring process) run `cmd`, print {seconds, peak_mb, rc, tree_mb}."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                            start_new_session=True)
    tree_peak = 0
    killed = False
    while proc.poll() is None:
        tree_peak = max(tree_peak, _tree_rss_kb(proc.pid))
        if tree_peak > limit_mb * 1024:
            os.killpg(proc.pid, 9)
            killed = True
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # its processes and theirs, all waited for
    peak_kb, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "tree_mb": tree_peak / 1024, "cpu": cpu,
                      "rc": proc.returncode, "killed": killed, "stderr": err[-800:]}))


def measure(cmd: list[str], limit_mb: float) -> dict:
    """Time and peak memory of `cmd`, measured by a fresh process (so no earlier child counts)."""
    run = subprocess.run([sys.executable, __file__, "--measure", str(limit_mb), "--", *cmd],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(run.stderr)
    return json.loads(run.stdout.strip().splitlines()[-1])


def studio(*args: str) -> list[str]:
    return [sys.executable, "-m", "studio", *args]


def load_average() -> str:
    """The machine's load averages (1, 5, 15 minutes), as `uptime` prints them."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def prepare(name: str, folder: Path) -> dict:
    """Save `name` (weights=None) as a .keras and import it once, untimed, so every step has its input."""
    model = folder / f"{name}.keras"
    made = subprocess.run([sys.executable, "-c", MAKE, name, str(model)], capture_output=True, text=True,
                          env=_env())
    if made.returncode != 0:
        raise SystemExit(made.stderr[-2000:])
    project = folder / f"{name}.studio.json"
    imported = subprocess.run(studio("import", str(model), "-o", str(project), "--force"), capture_output=True,
                              text=True, env=_env())
    if imported.returncode != 0:
        raise SystemExit(imported.stderr[-2000:])
    return {"params": int(made.stdout.split()[-1]), "file_mb": model.stat().st_size / 2**20,
            "commands": commands(name, folder)}


def commands(name: str, folder: Path, root: Path | None = None) -> dict:
    """Each step's command line; `root`: another checkout whose `studio` runs them (`--compare-with`)."""
    model, project = folder / f"{name}.keras", folder / f"{name}.studio.json"
    tag = "" if root is None else ".other"
    run = studio if root is None else (lambda *args: [sys.executable, "-c", OTHER, str(root), *args])
    return {
        "baseline": [sys.executable, "-c", BASELINE, str(model), str(folder / f"{name}.base.keras")],
        "import": run("import", str(model), "-o", str(folder / f"{name}{tag}.import.studio.json"), "--force"),
        "check": run("check", str(project)),
        "export-keras": run("export", str(project), "--format", "keras", "-o", str(folder / f"{name}{tag}.out.keras")),
        "export-python": run("export", str(project), "--format", "python", "-o",
                             str(folder / f"{name}{tag.replace('.', '_')}_out.py")),
    }


# `--compare-with DIR`: run `studio` from another checkout (its folder first on sys.path).
OTHER = """
import runpy, sys
sys.path.insert(0, sys.argv[1])
sys.argv = ["studio", *sys.argv[2:]]
runpy.run_module("studio", run_name="__main__", alter_sys=True)
"""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summary(step: str, rounds: list[dict], base: list[dict]) -> dict:
    """Medians over the rounds; the ratios are each round's step over that round's baseline,
    then their median (a step and its baseline ran minutes apart at most, under the same load)."""
    ok = [(r, b) for r, b in zip(rounds, base) if r.get("rc") == 0 and b.get("rc") == 0]
    if len(ok) < len(rounds):
        bad = next(r for r in rounds if r.get("rc") != 0)
        why = "killed at the memory limit" if bad.get("killed") else \
            (bad.get("stderr", "").strip().splitlines() or ["?"])[-1]
        return {"failed": why}
    return {"seconds": median([r["seconds"] for r, _ in ok]), "peak_mb": median([r["peak_mb"] for r, _ in ok]),
            "tree_mb": median([r["tree_mb"] for r, _ in ok]), "cpu": median([r["cpu"] for r, _ in ok]),
            "cpu_ratios": [r["cpu"] / b["cpu"] for r, b in ok],
            "time_ratios": [r["seconds"] / b["seconds"] for r, b in ok],
            "memory_ratios": [r["peak_mb"] / b["peak_mb"] for r, b in ok]}


def _row(name: str, step: str, s: dict, judged: bool = True) -> tuple[str, bool]:
    """One printed line and whether it misses the target."""
    if "failed" in s:
        return f"{name:16} {step:20} FAILED ({s['failed']})", True
    t, m = median(s["time_ratios"]), median(s["memory_ratios"])
    over = step != "baseline" and judged and not (t <= TARGET_RATIO and m <= TARGET_RATIO)
    verdict = "" if step == "baseline" or not judged else ("OVER TARGET" if over else "ok")
    rounds = " ".join(f"{x:.2f}" for x in s["time_ratios"])
    return (f"{name:16} {step:20} {s['seconds']:6.1f} s {s['peak_mb']:6.0f} MB (all processes {s['tree_mb']:5.0f} MB)"
            f"  x{t:4.2f} time [{rounds}]  x{m:4.2f} memory  {verdict}  "
            f"(CPU {s['cpu']:5.1f} s, x{median(s['cpu_ratios']):4.2f})").rstrip(), over


def run_rounds(models: dict, steps: list[str], rounds: int, limit_mb: float, other: Path | None,
               folder: Path) -> dict:
    """Every step of every model once per round, interleaved, each round in another order.

    Returns {model: {step: [result per round]}}. With `other`, each step also runs from that
    checkout right after this one's (as "STEP (other)")."""
    results: dict = {name: {} for name in models}
    order = ["baseline", *steps]
    for k in range(rounds):
        print(f"round {k + 1}/{rounds}: load average {load_average()}", flush=True)
        turn = order[k % len(order):] + order[:k % len(order)]
        for name, info in models.items():
            others = commands(name, folder, other) if other is not None else {}
            runs = [(step, info["commands"][step]) for step in turn]
            runs += [(f"{step} (other)", others[step]) for step in turn if step in others and step != "baseline"]
            for step, command in sorted(runs, key=lambda r: turn.index(r[0].split(" (")[0])):
                r = measure(command, limit_mb)
                results[name].setdefault(step, []).append(r)
                print(f"  {name:16} {step:20} {r['seconds']:6.1f} s {r['peak_mb']:6.0f} MB CPU {r['cpu']:5.1f} s "
                      f"rc {r['rc']} (load {load_average()})", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--measure":
        measure_child(argv[3:], float(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="MobileNetV2,ResNet50,EfficientNetB0")
    parser.add_argument("--steps", default="import,check,export-keras,export-python")
    parser.add_argument("--rounds", type=int, default=3, help="times each step runs (medians are printed)")
    parser.add_argument("--big", action="store_true", help="also EfficientNetB7's export-python (needs ~8 GB)")
    parser.add_argument("--limit-gb", type=float, default=12.0)
    parser.add_argument("--compare-with", type=Path, metavar="DIR",
                        help="another checkout of Network Studio (e.g. an earlier commit's): its steps run "
                             "interleaved with this one's, for a before/after under the same load")
    args = parser.parse_args(argv)
    limit_mb = args.limit_gb * 1024
    steps = [s for s in args.steps.split(",") if s]
    print(f"target: each step at most {TARGET_RATIO}x the baseline (load_model + save, same run); "
          f"time includes TensorFlow's import; peak = largest resident set of the step's processes; "
          f"medians of {args.rounds} interleaved rounds, each ratio against its own round's baseline")
    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)", flush=True)
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench_model_io_") as tmp:
        folder = Path(tmp)
        models = {m: prepare(m, folder) for m in args.models.split(",") if m}
        results = run_rounds(models, steps, args.rounds, limit_mb, args.compare_with, folder)
        for name, info in models.items():
            print(f"\n{name}: {info['params']:,} parameters, {info['file_mb']:.0f} MB .keras")
            base = results[name]["baseline"]
            for step, rounds in results[name].items():
                line, over = _row(name, step, summary(step, rounds, base), judged="(other)" not in step)
                failed |= over
                print(line, flush=True)
        if args.big:
            big = {"EfficientNetB7": prepare("EfficientNetB7", folder)}
            r = run_rounds(big, ["export-python"], 1, limit_mb, None, folder)["EfficientNetB7"]
            print(f"\nEfficientNetB7: {big['EfficientNetB7']['params']:,} parameters, "
                  f"{big['EfficientNetB7']['file_mb']:.0f} MB .keras")
            for step in ("baseline", "export-python"):
                print(_row("EfficientNetB7", step, summary(step, r[step], r["baseline"]), judged=False)[0])
            b = r["export-python"][0]
            ok = b.get("rc") == 0 and b["peak_mb"] < BIG_LIMIT_MB and b["tree_mb"] < BIG_LIMIT_MB
            failed |= not ok
            print(f"EfficientNetB7 export-python peak {b.get('peak_mb', float('nan')):.0f} MB, all processes "
                  f"{b.get('tree_mb', float('nan')):.0f} MB (target < {BIG_LIMIT_MB} MB): "
                  f"{'ok' if ok else 'OVER TARGET'}")
    print(f"load average at end: {load_average()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
