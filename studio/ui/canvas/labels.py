"""The key-parameter line a node shows, in a long and a compact form.

A node is narrow, so "32 filters · kernel size 3×3 · relu" would be cut off
("32 filters · kernel…"). `key_labels` gives the same facts twice, e.g.
("32 filters · 3×3 · relu", "32 · 3×3 · relu"); the node draws the longest
that fits. Values equal to what Keras does anyway (strides of 1, a pooling
stride equal to its pool size, a linear activation, False flags) are left out.
"""

from __future__ import annotations

from typing import Any

from studio.graph.spec import LayerSpec


def _dims(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "×".join("?" if v is None else str(v) for v in value)
    return str(value)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _all_ones(value: Any) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return all(v == 1 for v in values)


def _same_dims(a: Any, b: Any) -> bool:
    as_list = lambda v: list(v) if isinstance(v, (list, tuple)) else [v]  # noqa: E731
    la, lb = as_list(a), as_list(b)
    if len(la) == 1 and len(lb) > 1:
        la = la * len(lb)
    if len(lb) == 1 and len(la) > 1:
        lb = lb * len(la)
    return la == lb


def _stride(value: Any) -> str:
    values = value if isinstance(value, (list, tuple)) else [value]
    return f"stride {values[0]}" if len(set(values)) == 1 else f"stride {_dims(values)}"


def _inner_layer(value: Any) -> str:
    """'LSTM(64)' for a wrapped layer config."""
    if not isinstance(value, dict):
        return str(value)
    name = str(value.get("class_name", "…"))
    config = value.get("config") if isinstance(value.get("config"), dict) else {}
    size = config.get("units", config.get("filters"))
    return f"{name}({size})" if isinstance(size, int) else name


def _part(key: str, value: Any, resolved: dict) -> tuple[str, str] | None:
    """(long, short) text for one key parameter, or None to leave it out."""
    if value is None or value is False:
        return None
    if key == "activation":
        if isinstance(value, dict):
            value = value.get("class_name", "…")
        return None if value == "linear" else (str(value), str(value))
    if value is True:
        words = {"return_sequences": ("sequences", "seq"), "return_state": ("+ states", "+ states")}
        long, short = words.get(key, (key.replace("_", " "), key.replace("_", " ")))
        return long, short
    if key == "units":
        return f"{value} units", str(value)
    if key == "filters":
        return f"{value} filters", str(value)
    if key in ("kernel_size", "pool_size", "size"):
        word = {"kernel_size": "kernel", "pool_size": "pool", "size": "size"}[key]
        text = _dims(value)
        if not isinstance(value, (list, tuple)) or len(value) == 1:
            return f"{word} {text}", f"{word} {text}"  # a bare "3" would say nothing
        return (text if key == "kernel_size" else f"{word} {text}"), text
    if key == "strides":
        if _all_ones(value) or ("pool_size" in resolved and _same_dims(value, resolved["pool_size"])):
            return None
        return _stride(value), _stride(value)
    if key == "depth_multiplier":
        return (None if value == 1 else (f"depth ×{value}", f"×{value}"))
    if key == "num_heads":
        return f"{value} heads", f"{value} heads"
    if key == "key_dim":  # compact: the head count alone (MultiHeadAttention is a long class name)
        return f"key dim {value}", ""
    if key == "rate":
        return f"rate {_number(value)}", _number(value)
    if key == "layer":
        return _inner_layer(value), _inner_layer(value)
    if key == "target_shape":
        return f"to {_dims(value)}", f"to {_dims(value)}"
    if key in ("merge_mode", "mode", "score_mode", "interpolation", "padding"):
        return str(value), str(value)
    text = _dims(value) if isinstance(value, (list, tuple)) else _number(value)
    text = f"{key.replace('_', ' ')} {text}"  # a bare number would not say what it is
    return text, text


def key_labels(spec: LayerSpec, params: dict) -> tuple[str, str]:
    """(long, short) key-parameter lines of a node; both may be ''."""
    resolved = spec.resolve(params)
    keys = spec.key_params
    longs: list[str] = []
    shorts: list[str] = []
    for key in keys:
        if (key == "width" and "height" in keys) or (key == "output_dim" and "input_dim" in keys):
            continue
        part: tuple[str, str] | None
        if key == "height" and "width" in keys:  # Resizing, crops: one size
            part = (f"{_dims(resolved.get('height'))}×{_dims(resolved.get('width'))}",) * 2
        elif key == "input_dim" and "output_dim" in keys:  # Embedding: ids in, vectors out
            vocab, dims = resolved.get("input_dim"), resolved.get("output_dim")
            part = (f"vocab {vocab} → {dims} dims", f"{vocab} → {dims}")
        else:
            part = _part(key, resolved.get(key), resolved)
        if part is not None:
            longs.append(part[0])
            if part[1]:
                shorts.append(part[1])
    return " · ".join(longs), " · ".join(shorts)
