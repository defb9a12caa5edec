"""Harness cases for studio/graph/layers/preprocessing.py.

Keras checks the rank of image layers only when the model runs (symbolically it
even returns shapes for non-images), and we refuse non-images up front, so the
image cases list batches of images only and are not re-ranked (mutate=False).
"""

from tests.graph.cases.base import Case

_IMAGES = [[(None, 8, 8, 3)], [(None, 3, 10, 6)], [(None, None, None, 3)], [(4, 5, 7, 1)], [(None, 32, 32, 3)]]
_FACTORS = [0.0, 0.1, -0.3, 1.0, 1.5, -1.0, -1.5, [-0.2, 0.3], [0.3, -0.2], [-2.0, 0.5], [0.1], None, [], "x"]
_MEAN = [None, 0.5, [0.1, 0.2, 0.3], [1.0, 2.0], [[0.1, 0.2, 0.3]], [[1.0, 2.0], [3.0]]]
_VAR = [None, 1.0, [1.0, 1.0, 1.0], [1.0, 1.0], [[1.0, 1.0, 1.0]]]

CASES = {
    "Rescaling": Case(inputs=[[(None, 4)], [(None, 8, 8, 3)], [(None, 5, 6)]]),
    "Normalization": Case(
        inputs=[[(None, 3)], [(None, 5, 3)], [(None, 2, 3)], [(None, None, 3)], [(None, 8, 8, 3)], [(6, 3)]],
        params={"mean": _MEAN, "variance": _VAR},
    ),
    "Resizing": Case(inputs=_IMAGES, mutate=False),
    "CenterCrop": Case(inputs=_IMAGES, mutate=False),
    "RandomCrop": Case(inputs=_IMAGES, fixed={"seed": None}, mutate=False),
    "RandomFlip": Case(inputs=_IMAGES, mutate=False),
    "RandomRotation": Case(inputs=_IMAGES, params={"factor": _FACTORS}, mutate=False),
    "RandomZoom": Case(inputs=_IMAGES, params={"height_factor": _FACTORS, "width_factor": [None, 0.2, [-0.5, 0.5], -1.0, 2.0]},
                       mutate=False),
    "RandomTranslation": Case(inputs=_IMAGES, params={"height_factor": _FACTORS, "width_factor": [0.2, [-1.0, 1.0], 1.5]},
                              mutate=False),
    "RandomContrast": Case(inputs=_IMAGES, params={"factor": _FACTORS, "value_range": [[0, 255], [0.0, 1.0]]},
                           mutate=False),
    "RandomBrightness": Case(inputs=_IMAGES, params={"factor": _FACTORS, "value_range": [[0, 255], [0.0, 1.0], [1.0], 5]},
                             mutate=False),
}
