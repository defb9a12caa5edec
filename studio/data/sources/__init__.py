"""Dataset sources, one small class per kind: `describe()` (no TensorFlow) and `prepare()`.

`source_for(spec, base_dir)` picks the class for the spec's kind; samples are
resolved to their concrete file first.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from studio.data.spec import DatasetSpec

# kind -> (module, class)
SOURCES = {
    "csv": ("tabular", "CsvSource"),
    "tsv": ("tabular", "CsvSource"),
    "npy": ("arrays", "NpySource"),
    "npz": ("arrays", "NpzSource"),
    "images": ("images", "ImageFolderSource"),
    "text": ("text", "TextSource"),
    "timeseries": ("series", "SeriesSource"),
    "keras": ("keras_sets", "KerasSource"),
}


def source_for(spec: DatasetSpec, base_dir: str | Path | None = None, title: str = ""):
    module_name, class_name = SOURCES[spec.kind]
    module = importlib.import_module(f"studio.data.sources.{module_name}")
    return getattr(module, class_name)(spec, base_dir, title=title)
