"""Built-in layer specs, one module per palette family.

Each module defines `SPECS: list[LayerSpec]`. Keep `infer_shape` and
`count_params` exact: tests/graph/test_catalog_vs_keras.py checks them against
Keras' own `compute_output_shape` / `count_params` over generated params.
"""

from __future__ import annotations

import importlib

from studio.graph.spec import LayerSpec

MODULES = (
    "core",
    "convolution",
    "pooling",
    "reshaping",
    "recurrent",
    "attention",
    "merge",
    "normalization",
    "regularization",
    "activation",
    "preprocessing",
    "operations",
    "builtins",
    "transfer",
    "presets",
)


def all_specs() -> list[LayerSpec]:
    specs: list[LayerSpec] = []
    for name in MODULES:
        specs.extend(importlib.import_module(f"studio.graph.layers.{name}").SPECS)
    return specs
