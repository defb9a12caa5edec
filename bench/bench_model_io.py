"""Time and peak memory of `studio import`, `check` and `export` on Keras applications.

    .venv/bin/python bench/bench_model_io.py [--models MobileNetV2,ResNet50,EfficientNetB0] [--big]

For each model (keras.applications, weights=None, saved to a temporary .keras first) four steps
run as the user runs them, each in a fresh process (`python -m studio ...`):

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

`--big` adds EfficientNetB7's export-python (66 M weights, 256 MB as float32), which once peaked
above 17 GB: target under 3x (weights + TensorFlow's own), i.e. under 4 GB; its peak is printed
next to the baseline's. A step is stopped when its processes pass `--limit-gb` (default 12).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "tree_mb": tree_peak / 1024,
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


def bench_model(name: str, folder: Path, steps: list[str], limit_mb: float) -> dict:
    model = folder / f"{name}.keras"
    made = subprocess.run([sys.executable, "-c", MAKE, name, str(model)], capture_output=True, text=True,
                          env=_env())
    if made.returncode != 0:
        raise SystemExit(made.stderr[-2000:])
    params = int(made.stdout.split()[-1])
    project = folder / f"{name}.studio.json"
    commands = {
        "baseline": [sys.executable, "-c", BASELINE, str(model), str(folder / f"{name}.base.keras")],
        "import": studio("import", str(model), "-o", str(project), "--force"),
        "check": studio("check", str(project)),
        "export-keras": studio("export", str(project), "--format", "keras", "-o", str(folder / f"{name}.out.keras")),
        "export-python": studio("export", str(project), "--format", "python", "-o", str(folder / f"{name}_out.py")),
    }
    results = {"params": params, "file_mb": model.stat().st_size / 2**20}
    for step in ["baseline", *steps]:
        if step != "baseline" and step != "import" and not project.exists():
            results["import"] = results.get("import") or {"rc": -1}
            commands["import"] = studio("import", str(model), "-o", str(project), "--force")
            subprocess.run(commands["import"], capture_output=True, env=_env())
        results[step] = measure(commands[step], limit_mb)
    return results


def _row(name: str, step: str, r: dict, base: dict, ratio_target: bool = True) -> str:
    if r.get("rc") != 0:
        why = "killed at the memory limit" if r.get("killed") else r.get("stderr", "").strip().splitlines()[-1:]
        return f"{name:16} {step:14} FAILED ({why})"
    t, m = r["seconds"] / base["seconds"], r["peak_mb"] / base["peak_mb"]
    verdict = "ok" if step == "baseline" or (t <= TARGET_RATIO and m <= TARGET_RATIO) else "OVER TARGET"
    if not ratio_target:
        verdict = ""  # judged by its own target below
    return (f"{name:16} {step:14} {r['seconds']:7.1f} s {r['peak_mb']:8.0f} MB "
            f"(all processes {r['tree_mb']:6.0f} MB)   x{t:4.2f} time  x{m:4.2f} memory  {verdict}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--measure":
        measure_child(argv[3:], float(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="MobileNetV2,ResNet50,EfficientNetB0")
    parser.add_argument("--steps", default="import,check,export-keras,export-python")
    parser.add_argument("--big", action="store_true", help="also EfficientNetB7's export-python (needs ~8 GB)")
    parser.add_argument("--limit-gb", type=float, default=12.0)
    args = parser.parse_args(argv)
    limit_mb = args.limit_gb * 1024
    print(f"target: each step at most {TARGET_RATIO}x the baseline (load_model + save, same run); "
          f"time includes TensorFlow's import; peak = largest resident set of the step's processes")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench_model_io_") as tmp:
        folder = Path(tmp)
        models = [m for m in args.models.split(",") if m]
        for name in models:
            r = bench_model(name, folder, args.steps.split(","), limit_mb)
            base = r["baseline"]
            print(f"\n{name}: {r['params']:,} parameters, {r['file_mb']:.0f} MB .keras")
            for step in ["baseline", *args.steps.split(",")]:
                line = _row(name, step, r[step], base)
                failed |= "FAILED" in line or "OVER" in line
                print(line, flush=True)
        if args.big:
            r = bench_model("EfficientNetB7", folder, ["import", "export-python"], limit_mb)
            base, big = r["baseline"], r["export-python"]
            print(f"\nEfficientNetB7: {r['params']:,} parameters, {r['file_mb']:.0f} MB .keras")
            for step in ("baseline", "import", "export-python"):
                print(_row("EfficientNetB7", step, r[step], base, ratio_target=False), flush=True)
            ok = big.get("rc") == 0 and big["peak_mb"] < BIG_LIMIT_MB and big["tree_mb"] < BIG_LIMIT_MB
            failed |= not ok
            print(f"EfficientNetB7 export-python peak {big.get('peak_mb', float('nan')):.0f} MB, all processes "
                  f"{big.get('tree_mb', float('nan')):.0f} MB (target < {BIG_LIMIT_MB} MB): "
                  f"{'ok' if ok else 'OVER TARGET'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
