"""One input -> the model's output, for the Predict tab (numpy/PIL inside functions).

`parse_input` turns what the user typed (comma- or space-separated numbers,
or text for a text model) or an image file into one sample shaped like the
model's input; `predict_one` runs it and describes the output: class
probabilities, best first, for classifiers, or the predicted values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional, Union

from studio.core.errors import TrainingError


def input_signature(model: Any) -> tuple[tuple, str]:
    """(per-sample shape, dtype name) of the model's first input."""
    tensor = model.inputs[0]
    shape = tuple(tensor.shape[1:])
    dtype = str(getattr(tensor, "dtype", "float32"))
    return shape, dtype


def parse_input(model: Any, value: Union[str, Path]) -> Any:
    """One sample (batch of 1) for `model` from typed text or an image path."""
    import numpy as np

    shape, dtype = input_signature(model)
    if isinstance(value, Path):
        return _image(value, shape)
    text = str(value).strip()
    if "string" in dtype:
        if not text:
            raise TrainingError("type a text to predict on")
        return np.array([text])
    if not text:
        raise TrainingError("type the input values, separated by commas")
    try:
        numbers = [float(v) for v in re.split(r"[,;\s]+", text) if v]
    except ValueError:
        raise TrainingError(
            f"{text[:60]!r}: not a list of numbers; type values such as 5.1, 3.5, 1.4, 0.2"
        ) from None
    size = 1
    for d in shape:
        size *= int(d) if d is not None else 1
    if None in shape and len(shape) == 1:
        size = len(numbers)
        shape = (size,)
    if len(numbers) != size:
        raise TrainingError(f"the model takes {size} value(s) {list(shape)}, you typed {len(numbers)}")
    return np.asarray(numbers, dtype="float32").reshape((1, *shape))


def _image(path: Path, shape: tuple) -> Any:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if len(shape) != 3 or shape[0] is None or shape[1] is None:
        raise TrainingError(f"the model takes inputs of shape {list(shape)}, not images")
    height, width, channels = shape
    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB").resize((int(width), int(height)))
            pixels = np.asarray(image, dtype="float32")
    except (OSError, UnidentifiedImageError) as exc:
        raise TrainingError(f"{path}: cannot read the image ({exc})") from None
    if channels == 1:
        pixels = pixels[..., None]
    return pixels[None]


def predict_one(
    model: Any, value: Union[str, Path], class_names: Optional[list[str]] = None
) -> dict[str, Any]:
    """{"kind": "classes", "classes": [(name, probability)...]} or {"kind": "values", "values": [...]}"""
    import numpy as np

    x = parse_input(model, value)
    out = model.predict_on_batch(x)
    if isinstance(out, (list, tuple)):
        out = out[0]
    y = np.asarray(out, dtype=np.float64)[0].ravel()
    if class_names and len(class_names) == y.size and y.size > 1:
        order = np.argsort(-y)
        return {"kind": "classes", "classes": [(class_names[i], float(y[i])) for i in order]}
    if class_names and len(class_names) == 2 and y.size == 1:
        p = float(y[0])
        pairs = [(class_names[1], p), (class_names[0], 1.0 - p)]
        return {"kind": "classes", "classes": sorted(pairs, key=lambda t: -t[1])}
    return {"kind": "values", "values": y.tolist()}
