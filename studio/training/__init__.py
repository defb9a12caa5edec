"""Training: a pure config and metrics history, and a session around `model.fit`.

`config` and `history` import neither TensorFlow nor numpy; `session`,
`evaluation` and `runs` (model files) import TensorFlow inside functions.
This package never imports `studio.compiler`, `studio.data` or
`studio.project` (sibling layers): callers hand it a built model, data and
plain dicts.
"""
