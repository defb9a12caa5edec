"""Deterministic generators for the bundled samples (numpy + Pillow, no TensorFlow).

Every generator takes a seed and gives the same data for the same seed and
library versions. The small CSVs are committed in ``resources/datasets``
(`write_bundled` rewrites them); the digits and shapes sets are written on
first use into the cache folder by `ensure`. The Iris file is real data and
is not generated. Run ``python -m studio.data.samples`` to rewrite the
committed files.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from studio.core.errors import DataError
from studio.data import registry


# --- tables ----------------------------------------------------------------------
def spirals(n: int = 800, seed: int = 0, noise: float = 0.25) -> list[tuple[float, float, int]]:
    """Two interleaved spirals: (x, y, label) with label 0 or 1, n // 2 each."""
    rng = np.random.default_rng(seed)
    rows = []
    per = n // 2
    for label in (0, 1):
        t = np.sqrt(rng.random(per)) * 3.0 * math.pi + 0.5
        angle = t + label * math.pi
        x = t * np.cos(angle) + rng.normal(0, noise, per)
        y = t * np.sin(angle) + rng.normal(0, noise, per)
        rows.extend((round(float(a), 4), round(float(b), 4), label) for a, b in zip(x, y))
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def moons(n: int = 600, seed: int = 0, noise: float = 0.15) -> list[tuple[float, float, int]]:
    """Two interleaving half circles: (x, y, label)."""
    rng = np.random.default_rng(seed)
    per = n // 2
    t0 = rng.random(per) * math.pi
    t1 = rng.random(per) * math.pi
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    points = np.concatenate([upper, lower]) + rng.normal(0, noise, (2 * per, 2))
    labels = [0] * per + [1] * per
    order = rng.permutation(2 * per)
    return [(round(float(points[i, 0]), 4), round(float(points[i, 1]), 4), labels[i]) for i in order]


def sine(n: int = 2000, seed: int = 0) -> list[tuple[int, float]]:
    """A noisy sine (period 50) on a slower seasonal wave (period 400) and a small trend."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    value = (np.sin(2 * math.pi * t / 50) + 0.5 * np.sin(2 * math.pi * t / 400) + 0.0005 * t
             + rng.normal(0, 0.1, n))
    return [(int(i), round(float(v), 5)) for i, v in zip(t, value)]


_TOPICS = {
    "sport": (["the striker", "our team", "the goalkeeper", "the coach", "the runner", "the referee",
               "the captain", "the champion"],
              ["scored", "won", "lost", "trained for", "played", "defended", "celebrated", "missed"],
              ["the final", "a penalty", "the match", "the league title", "a late goal", "the marathon",
               "the derby", "the tournament"]),
    "weather": (["the forecast", "a cold front", "the storm", "the morning fog", "heavy rain", "the wind",
                 "a heatwave", "the sunshine"],
                ["brought", "promised", "caused", "cleared", "flooded", "cooled", "warmed", "delayed"],
                ["the coast", "the valley", "snow showers", "clear skies", "the harbour", "thunder",
                 "the weekend", "the northern hills"]),
    "food": (["the chef", "my grandmother", "the bakery", "the new cafe", "our kitchen", "the waiter",
              "the recipe", "the market"],
             ["baked", "served", "seasoned", "roasted", "cooked", "tasted", "grilled", "sliced"],
             ["fresh bread", "a spicy curry", "the pasta", "ripe tomatoes", "a lemon tart", "garlic soup",
              "the roast chicken", "warm pancakes"]),
}
_FILLERS = ["today", "again", "yesterday", "this year", "at last", "as usual", "on sunday", "quietly"]


def short_text(n: int = 900, seed: int = 0) -> list[tuple[str, str]]:
    """One-line texts about sport, weather or food: (text, topic), n // 3 per topic."""
    rng = np.random.default_rng(seed)
    rows = []
    for topic, (subjects, verbs, objects) in _TOPICS.items():
        for _ in range(n // len(_TOPICS)):
            words = [subjects[rng.integers(len(subjects))], verbs[rng.integers(len(verbs))],
                     objects[rng.integers(len(objects))]]
            if rng.random() < 0.5:
                words.append(_FILLERS[rng.integers(len(_FILLERS))])
            rows.append((" ".join(words), topic))
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(tmp, path)


BUNDLED_TABLES = {
    "spirals": (["x", "y", "label"], spirals),
    "moons": (["x", "y", "label"], moons),
    "sine": (["step", "value"], sine),
    "short-text": (["text", "topic"], short_text),
}


def write_bundled(folder: Path | None = None) -> list[Path]:
    """(Re)write the committed generated CSVs; returns their paths."""
    folder = Path(folder) if folder is not None else registry.resources_dir()
    written = []
    for name, (header, make) in BUNDLED_TABLES.items():
        path = folder / registry.SAMPLES[name].file
        write_csv(path, header, make())
        written.append(path)
    return written


# --- digits ---------------------------------------------------------------------------
# Each digit as strokes of points on a 0..1 grid (x right, y down).
_DIGIT_STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [[(0.5, 0.05), (0.2, 0.2), (0.15, 0.5), (0.2, 0.8), (0.5, 0.95), (0.8, 0.8), (0.85, 0.5), (0.8, 0.2),
         (0.5, 0.05)]],
    1: [[(0.3, 0.25), (0.55, 0.05), (0.55, 0.95)], [(0.35, 0.95), (0.75, 0.95)]],
    2: [[(0.2, 0.25), (0.45, 0.05), (0.75, 0.15), (0.75, 0.4), (0.2, 0.95), (0.85, 0.95)]],
    3: [[(0.2, 0.1), (0.75, 0.1), (0.45, 0.45), (0.8, 0.65), (0.65, 0.92), (0.2, 0.88)]],
    4: [[(0.65, 0.95), (0.65, 0.05), (0.15, 0.65), (0.85, 0.65)]],
    5: [[(0.8, 0.05), (0.25, 0.05), (0.2, 0.45), (0.65, 0.4), (0.8, 0.7), (0.6, 0.95), (0.2, 0.88)]],
    6: [[(0.7, 0.05), (0.3, 0.35), (0.2, 0.7), (0.45, 0.95), (0.75, 0.8), (0.7, 0.55), (0.4, 0.5),
         (0.22, 0.65)]],
    7: [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)], [(0.35, 0.5), (0.7, 0.5)]],
    8: [[(0.5, 0.5), (0.25, 0.3), (0.5, 0.05), (0.75, 0.3), (0.5, 0.5), (0.2, 0.72), (0.5, 0.95),
         (0.8, 0.72), (0.5, 0.5)]],
    9: [[(0.78, 0.45), (0.5, 0.55), (0.25, 0.35), (0.45, 0.05), (0.78, 0.2), (0.78, 0.45), (0.6, 0.95)]],
}


def digits(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic 8x8 digit-like images, values 0..16 (uint8), shape (n, 8, 8, 1), and labels (n,).

    Strokes are jittered (scale, rotation, shear, shift, thickness, point
    noise), drawn at 32x32, and each 4x4 block's count of inked pixels gives
    one 8x8 value, the same reduction the UCI optdigits data used. These are
    NOT the UCI digits.
    """
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    x = np.zeros((n, 8, 8, 1), dtype=np.uint8)
    y = np.arange(n, dtype=np.int64) % 10
    rng.shuffle(y)
    for i in range(n):
        label = int(y[i])
        angle = rng.normal(0, 0.15)
        scale = rng.uniform(0.7, 0.95)
        shear = rng.normal(0, 0.15)
        dx, dy = rng.normal(0, 1.2, 2)
        cos, sin = math.cos(angle), math.sin(angle)
        img = Image.new("1", (32, 32), 0)
        draw = ImageDraw.Draw(img)
        width = int(rng.integers(2, 4))
        for stroke in _DIGIT_STROKES[label]:
            pts = []
            for px, py in stroke:
                px, py = px - 0.5 + rng.normal(0, 0.03), py - 0.5 + rng.normal(0, 0.03)
                px = px + shear * py
                qx, qy = cos * px - sin * py, sin * px + cos * py
                pts.append((16 + qx * 28 * scale + dx, 16 + qy * 30 * scale + dy))
            draw.line(pts, fill=1, width=width, joint="curve")
        bits = np.asarray(img, dtype=np.uint8)
        x[i, :, :, 0] = bits.reshape(8, 4, 8, 4).sum(axis=(1, 3))
    return x, y


# --- shapes -----------------------------------------------------------------------------
SHAPES = ("circle", "square", "triangle")


def shape_image(kind: str, rng: np.random.Generator, size: int = 32):
    """One RGB image of a circle, square or triangle on a noisy background."""
    from PIL import Image, ImageDraw

    background = rng.integers(0, 90, (size, size, 3), dtype=np.uint8) + rng.integers(0, 60, 3, dtype=np.uint8)
    img = Image.fromarray(background.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    color = tuple(int(c) for c in rng.integers(140, 256, 3))
    r = rng.uniform(0.22, 0.38) * size
    cx, cy = rng.uniform(r, size - r, 2)
    if kind == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=color)
    elif kind == "square":
        a = rng.uniform(0, math.pi / 2)
        pts = [(cx + r * math.cos(a + k * math.pi / 2), cy + r * math.sin(a + k * math.pi / 2)) for k in range(4)]
        draw.polygon(pts, fill=color)
    else:
        a = rng.uniform(0, 2 * math.pi)
        pts = [(cx + r * math.cos(a + k * 2 * math.pi / 3), cy + r * math.sin(a + k * 2 * math.pi / 3))
               for k in range(3)]
        draw.polygon(pts, fill=color)
    return img


def write_shapes(folder: Path, per_class: int = 200, seed: int = 0, size: int = 32) -> None:
    rng = np.random.default_rng(seed)
    for kind in SHAPES:
        (folder / kind).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shape_image(kind, rng, size).save(folder / kind / f"{kind}_{i:04d}.png")


# --- first use ---------------------------------------------------------------------------
def ensure(name: str) -> Path:
    """The sample's file or folder, generating it into the cache on first use."""
    sample = registry.sample(name)
    path = registry.sample_path(sample)
    if path.exists() or sample.origin != "generated":
        if not path.exists() and sample.origin == "bundled":
            raise DataError(f"{path}: the bundled sample file is missing; reinstall Network Studio or run "
                            "`python -m studio.data.samples`")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=path.parent))
    try:
        if name == "digits":
            x, y = digits()
            target = tmp / path.name
            with open(target, "wb") as fh:
                np.savez_compressed(fh, x=x, y=y)
            os.replace(target, path)
        elif name == "shapes":
            write_shapes(tmp / "shapes")
            try:
                os.replace(tmp / "shapes", path)
            except OSError:
                if not path.exists():  # another process won the race: fine
                    raise
        else:  # pragma: no cover - every generated sample is listed above
            raise DataError(f"no generator for the sample {name!r}")
    except OSError as exc:
        raise DataError(f"{path}: cannot write the generated sample ({exc.strerror}); set STUDIO_CACHE_DIR "
                        "to a writable folder") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


if __name__ == "__main__":
    for p in write_bundled():
        print(f"wrote {p}")
    sys.exit(0)
