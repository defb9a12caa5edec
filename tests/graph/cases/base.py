"""How the catalog harness exercises one layer spec.

Each family module in this folder defines `CASES: dict[str, Case]`, keyed by
spec id. tests/graph/test_catalog_vs_keras.py draws parameters from the
spec's ParamSpecs (overridden by `Case.params`) and input shapes from
`Case.inputs` (sometimes resized or re-ranked at random), builds the same
layer in Keras, and requires both sides to agree: same output shapes and
parameter counts, or both refusing.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    # Example input-shape lists, one shape per input port, batch included:
    # [[(None, 8, 8, 3)], [(None, 5, 7, 1)]] for a one-input layer.
    inputs: list
    # Values to sample per param key, overriding what the ParamSpec implies.
    params: dict = field(default_factory=dict)
    # Params always set to this value.
    fixed: dict = field(default_factory=dict)
    # dtype of the Input tensors fed to the layer ("int32" for Embedding).
    dtype: str = "float32"
    # Allow random resizing/re-ranking of the inputs (turn off for layers
    # whose Keras errors surface only at run time).
    mutate: bool = True
    # Keys to leave at their default (e.g. seeds, initializers).
    keep_default: tuple = ()
    # Max random dimension size when resizing.
    max_dim: int = 12
