"""The JSON Schema of the project file (`schema.json`, shipped as package data).

The loader does its own checks (`studio.project.records`) because they give
one plain-language line per problem and check what a schema cannot (unique
ids, wires naming existing nodes). The schema is for other tools and editors;
tests keep the two in agreement. `jsonschema` is imported only when
`schema_problems` is called, so importing this module stays cheap.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


def schema_text() -> str:
    return resources.files("studio.project").joinpath("schema.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The schema as a dict (parsed once)."""
    return json.loads(schema_text())


def schema_problems(data: Any) -> list[tuple[str, str]]:
    """`(json_path, message)` for every way `data` breaks the schema (empty if valid)."""
    import jsonschema

    validator_cls = jsonschema.validators.validator_for(load_schema())
    validator = validator_cls(load_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [(error.json_path, error.message) for error in errors]
