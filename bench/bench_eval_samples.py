"""How fast the Evaluation tab shows the samples behind a number, next to baselines measured here.

    .venv/bin/python bench/bench_eval_samples.py [--rows 500000] [--images 48]

* CSV rows: `workflows.evaluate.read_samples` for 500 test rows spread over a file of `--rows`
  rows (one pass, stopping after the last row wanted), beside reading the whole file once with
  `csvreader.read_chunks` (what any pass over the file costs).
* Thumbnails: `samples_view.load_chunk`'s decoding of `--images` 1600x1200 JPEGs into 40x40
  thumbnails (QImageReader decodes at a reduced scale), beside decoding them whole and scaling.
* evaluation.json: bytes per test sample kept for an image folder (file name, classes and
  probabilities), beside the pixels the samples would take.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def csv_rows(folder: Path, rows: int) -> None:
    from studio.data import csvreader
    from studio.workflows.evaluate import read_samples

    path = folder / "big.csv"
    rng = np.random.default_rng(0)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("a,b,c,d,label\n")
        for start in range(0, rows, 100_000):
            block = rng.random((min(100_000, rows - start), 4))
            fh.write("".join(f"{a:.5f},{b:.5f},{c:.5f},{d:.5f},{'x' if a > b else 'y'}\n" for a, b, c, d in block))
    fmt = csvreader.sniff(path)
    t0 = time.perf_counter()
    n = sum(len(r) for r, _lines in csvreader.read_chunks(fmt))
    whole = time.perf_counter() - t0
    refs = sorted(rng.choice(rows, size=500, replace=False).tolist())
    evaluation = {"sample_source": {"kind": "table", "path": str(path), "format": fmt.settings()},
                  "sample_refs": refs}
    t0 = time.perf_counter()
    shown = read_samples(evaluation, list(range(500)))
    took = time.perf_counter() - t0
    assert n == rows and all(s["columns"] for s in shown)
    print(f"CSV of {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB): 500 spread rows read back in {took:.2f} s; "
          f"baseline, reading the whole file once: {whole:.2f} s")


def thumbnails(folder: Path, count: int) -> None:
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    from studio.ui.training.samples_view import THUMB, load_chunk

    rng = np.random.default_rng(0)
    root = folder / "photos"
    (root / "a").mkdir(parents=True)
    refs = []
    for i in range(count):
        pixels = (rng.random((1200, 1600, 3)) * 255).astype("uint8")
        Image.fromarray(pixels).save(root / "a" / f"{i}.jpg", quality=90)
        refs.append(f"a/{i}.jpg")
    evaluation = {"sample_source": {"kind": "images", "path": str(root)}, "sample_refs": refs}
    t0 = time.perf_counter()
    _g, samples, images = load_chunk(evaluation, list(range(count)), 0)
    ours = time.perf_counter() - t0
    assert len(images) == count and all(max(i.width(), i.height()) == THUMB for i in images.values())
    t0 = time.perf_counter()
    for s in samples:
        QImage(s["path"]).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
    whole = time.perf_counter() - t0
    print(f"{count} JPEGs of 1600x1200: thumbnails in {ours * 1000 / count:.1f} ms each (reduced-scale decode); "
          f"baseline, full decode then scale: {whole * 1000 / count:.1f} ms each")


def json_bytes() -> None:
    n = 10_000
    rng = np.random.default_rng(0)
    probs = np.sort(rng.dirichlet(np.ones(10), size=n), axis=1)[:, ::-1][:, :3]
    kept = {"sample_refs": [f"class_{i % 10}/IMG_{i:06d}.jpg" for i in range(n)],
            "top_classes": rng.integers(0, 10, size=(n, 3)).tolist(), "top_probs": np.round(probs, 4).tolist(),
            "y_true": rng.integers(0, 10, size=n).tolist(), "y_pred": rng.integers(0, 10, size=n).tolist()}
    per_sample = len(json.dumps(kept)) / n
    print(f"evaluation.json: {per_sample:.0f} bytes per test sample of an image folder (file, classes, "
          f"probabilities); baseline, the pixels of one 224x224 RGB image: {224 * 224 * 3:,} bytes")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--images", type=int, default=48)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        csv_rows(Path(tmp), args.rows)
        thumbnails(Path(tmp), args.images)
    json_bytes()


if __name__ == "__main__":
    main()
