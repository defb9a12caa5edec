"""Upgrading project files written by older versions.

Each migration takes the plain dict of one format version and returns the
dict of the next version (`version` is set by `migrate`, not by the step).
Steps get a deep copy, so they may change it in place. Register a step with

    @register_migration(1)
    def _v1_to_v2(data: dict) -> dict:
        data["graph"]["groups"] = []
        return data

and bump `studio.project.model.VERSION`. A step that meets data it cannot
understand raises `MigrationError` with the JSON path; any other exception
from a step is reported as a problem of the file too, never as a crash.
"""

from __future__ import annotations

import copy
from typing import Callable

from studio.core.errors import ProjectError
from studio.project.model import VERSION

Migration = Callable[[dict], dict]

# version -> step upgrading a dict of that version to version + 1.
MIGRATIONS: dict[int, Migration] = {}


class MigrationError(ValueError):
    """Raised by a migration step: `path` is the JSON path of the bad value."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def register_migration(from_version: int) -> Callable[[Migration], Migration]:
    """Decorator: register the step from `from_version` to `from_version + 1`."""

    def decorate(step: Migration) -> Migration:
        if from_version in MIGRATIONS:
            raise ValueError(f"a migration from version {from_version} is registered twice")
        MIGRATIONS[from_version] = step
        return step

    return decorate


def oldest_readable_version() -> int:
    """The oldest version with an unbroken chain of steps up to VERSION."""
    version = VERSION
    while version - 1 in MIGRATIONS:
        version -= 1
    return version


def migrate(data: dict, source: str = "project") -> dict:
    """Return `data` upgraded to the current VERSION (a new dict if it changed).

    Raises ProjectError for a missing, future or unreadably old version."""
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        shown = "missing" if version is None else f"{version!r}"
        message = f"the format version must be a whole number, got {shown}"
        raise ProjectError(f"{source}: $.version: {message}", [("$.version", message)])
    if version > VERSION:
        message = (
            f"written by a newer Network Studio (format version {version}; this one reads "
            f"versions up to {VERSION}); update Network Studio to open it"
        )
        raise ProjectError(f"{source}: $.version: {message}", [("$.version", message)])
    oldest = oldest_readable_version()
    if version < oldest:
        message = f"format version {version} is older than any this Network Studio reads ({oldest} to {VERSION})"
        raise ProjectError(f"{source}: $.version: {message}", [("$.version", message)])
    if version == VERSION:
        return data
    data = copy.deepcopy(data)
    while version < VERSION:
        try:
            upgraded = MIGRATIONS[version](data)
        except MigrationError as exc:
            message = f"cannot upgrade from format version {version}: {exc}"
            raise ProjectError(f"{source}: {exc.path}: {message}", [(exc.path, message)]) from None
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            message = (
                f"cannot upgrade from format version {version}: the file does not have the layout "
                f"of that version ({type(exc).__name__}: {exc})"
            )
            raise ProjectError(f"{source}: $: {message}", [("$", message)]) from None
        if not isinstance(upgraded, dict):
            raise TypeError(f"migration from version {version} returned {type(upgraded).__name__}, not a dict")
        data = upgraded
        version += 1
        data["version"] = version
    return data
