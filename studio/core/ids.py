"""Stable identifiers for nodes and runs."""

from __future__ import annotations

import uuid


def new_id() -> str:
    """A fresh node id: a uuid4 as 32 hex characters."""
    return uuid.uuid4().hex


def short_id(length: int = 6) -> str:
    return uuid.uuid4().hex[:length]
