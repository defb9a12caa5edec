"""CSV throughput and memory: describe() and one streamed epoch of prepare() on a large file.

    .venv/bin/python bench/bench_csv.py [--rows 1000000]

Prints rows/s for Network Studio's reader next to baselines measured in the
same run on the same file: a bare `csv.reader` loop (the floor of any
stdlib-based reader), `numpy.loadtxt`, and `pandas.read_csv` when pandas is
installed. Peak memory is traced with tracemalloc (numpy reports its buffers
to it), to show that the file is never held whole.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def write_file(path: Path, rows: int) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    with open(path, "w", newline="") as fh:
        fh.write("f1,f2,f3,f4,f5,colour,label\n")
        block = 100_000
        for start in range(0, rows, block):
            n = min(block, rows - start)
            values = rng.normal(size=(n, 5))
            colours = rng.choice(["red", "green", "blue"], n)
            labels = (values[:, 0] + values[:, 1] > 0).astype(int)
            lines = [
                f"{a:.5f},{b:.5f},{c:.5f},{d:.5f},{e:.5f},{col},{lab}\n"
                for (a, b, c, d, e), col, lab in zip(values.tolist(), colours.tolist(), labels.tolist())
            ]
            fh.writelines(lines)


def timed(fn, trace: bool = True):
    """Run `fn` untraced for the time, then (if `trace`) again under tracemalloc for the peak."""
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    peak = None
    if trace:
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, seconds, peak


def report(name: str, rows: int, seconds: float, peak: int | None) -> None:
    mem = f"{peak / 1e6:8.1f} MB peak" if peak is not None else ""
    print(f"{name:<44} {rows / seconds:>12,.0f} rows/s  {seconds:7.2f} s  {mem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-epoch", action="store_true", help="skip the streamed prepare() epoch")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-csv-"))
    path = folder / "big.csv"
    write_file(path, args.rows)
    size = path.stat().st_size
    print(f"{args.rows:,} rows, {size / 1e6:.0f} MB: {path}")

    def bare_csv():
        with open(path, newline="") as fh:
            return sum(1 for _ in csv.reader(fh)) - 1

    n, s, peak = timed(bare_csv)
    report("baseline: csv.reader loop (no parsing)", n, s, peak)

    import numpy as np

    def loadtxt():
        return len(np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2, 3, 4)))

    n, s, peak = timed(loadtxt)
    report("baseline: numpy.loadtxt, numbers only", n, s, peak)
    try:
        import pandas as pd
    except ImportError:
        print(f"{'baseline: pandas.read_csv':<44} skipped: pandas is not installed "
              "(it is not a dependency; `.venv/bin/pip install pandas` to compare)")
    else:
        n, s, peak = timed(lambda: len(pd.read_csv(path)))
        report("baseline: pandas.read_csv (whole file)", n, s, peak)

    from studio import data

    info, s, peak = timed(lambda: data.describe(str(path)))
    report("studio.data.describe (types, classes, stats)", info.num_samples, s, peak)

    if not args.no_epoch:
        import tensorflow  # noqa: F401 - imported before timing

        from studio.data.api import open_source

        source = open_source(str(path))
        source.describe()

        prepared, s, peak = timed(lambda: source.prepare(batch_size=1024, seed=0, in_memory_bytes=0),
                                  trace=args.rows <= 200_000)  # in_memory_bytes=0: the disk-backed path
        report("prepare(): encode to disk, split, fit stats", info.num_samples, s, peak)

        def epoch():
            return sum(int(x.shape[0]) for x, _ in prepared.train)

        count, s, peak = timed(epoch, trace=args.rows <= 200_000)
        report("one shuffled training epoch (disk-backed)", count, s, peak)
        memory = source.prepare(batch_size=1024, seed=0)
        count, s, _ = timed(lambda: sum(int(x.shape[0]) for x, _ in memory.train), trace=False)
        report("one training epoch, rows held in memory", count, s, None)
    print(
        f"file size {size / 1e6:.0f} MB (peaks are Python/numpy allocations traced by tracemalloc; "
        "the streamed epoch is traced only up to 200,000 rows because tracing is slow)"
    )
    path.unlink()
    folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
