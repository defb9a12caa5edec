"""A 1,000,000-row CSV streams: describe(), prepare() and a training epoch in bounded memory.

Each size runs in a fresh process that reports its peak resident memory; the
million-row file must cost about what a 100,000-row one does (the rows are read
in chunks and encoded into a disk-backed scratch file, never held as Python
objects). Slow: it writes about 40 MB and reads it several times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, resource, sys
from studio.data.api import open_source
import tensorflow  # counted in the baseline of both sizes

path = sys.argv[1]
source = open_source(path)
info = source.describe()
prepared = source.prepare(batch_size=4096, seed=0, in_memory_bytes=0)  # the disk-backed path
rows = sum(int(x.shape[0]) for x, _ in prepared.train)
print(json.dumps({"rows": info.num_samples, "classes": info.class_counts, "width": list(info.feature_shape),
                  "train": prepared.counts["train"], "epoch_rows": rows,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_table(path: Path, rows: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("f1,f2,f3,colour,label\n")
        block = []
        for i in range(rows):
            block.append(f"{(i * 37) % 1000 / 7:.4f},{i % 97},{(i * 7) % 13}.25,{'rgb'[i % 3]},{'xy'[i % 2]}\n")
            if len(block) == 50_000:
                fh.writelines(block)
                block = []
        fh.writelines(block)
    return path


def measure(path: Path, cache: Path) -> dict:
    env = {**os.environ, "STUDIO_CACHE_DIR": str(cache), "STUDIO_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_million_row_csv_streams_in_bounded_memory(tmp_path):
    small = measure(write_table(tmp_path / "small.csv", 100_000), tmp_path)
    big = measure(write_table(tmp_path / "big.csv", 1_000_000), tmp_path)
    assert big["rows"] == 1_000_000 and big["classes"] == [500_000, 500_000] and big["width"] == [6]
    assert big["epoch_rows"] == big["train"] == 700_000  # 70% train, every row seen once per epoch
    # Ten times the rows: per-row state (split byte, target, masks) is ~10 bytes a row, so a few
    # tens of MB more at most, where holding the rows as Python strings would take gigabytes.
    grown = big["peak_mb"] - small["peak_mb"]
    assert grown < 120, f"peak {big['peak_mb']:.0f} MB vs {small['peak_mb']:.0f} MB"
