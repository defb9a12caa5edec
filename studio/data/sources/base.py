"""What every source shares: the resolved path, the spec, problem collection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core.errors import DataError
from studio.data import files
from studio.data.files import excerpt
from studio.data.info import ERROR, INFO, WARNING, DatasetInfo, Problem
from studio.data.registry import resolve_path
from studio.data.spec import DatasetSpec

if TYPE_CHECKING:
    from studio.data.csvreader import CsvFormat

# Names of a target column/array, in order of preference, when the spec names none.
TARGET_NAMES = ("label", "labels", "target", "targets", "class", "y", "species", "category", "outcome")


class Source:
    """A dataset source. Subclasses implement `_describe` and `prepare`."""

    kind = ""
    reads_path = True  # False for a source of arrays already in memory (its path is only a name)

    def __init__(self, spec: DatasetSpec, base_dir: str | Path | None = None, title: str = "") -> None:
        self.spec = spec
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.path = resolve_path(spec.path, base_dir)
        self.title = title
        self.problems: list[Problem] = []
        self._info: DatasetInfo | None = None

    # -- problems -------------------------------------------------------------
    def error(self, message: str) -> None:
        self.problems.append(Problem(ERROR, message))

    def warn(self, message: str) -> None:
        self.problems.append(Problem(WARNING, message))

    def note(self, message: str) -> None:
        self.problems.append(Problem(INFO, message))

    # -- describe -------------------------------------------------------------
    def describe(self) -> DatasetInfo:
        """What is in the data (cached); raises DataError when it cannot be read at all."""
        if self._info is None:
            self.problems = []
            if self.reads_path:
                files.check_data_path(self.path, self.spec.kind)  # before anything opens it
            info = self._describe()
            info.problems = list(self.problems)
            info.title = info.title or self.title
            self._info = info
        return self._info

    def _describe(self) -> DatasetInfo:  # pragma: no cover - interface
        raise NotImplementedError

    def prepare(self, batch_size: int, seed: int | None = None) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def require_ok(self) -> DatasetInfo:
        """describe(), raising the first error problem as a DataError (before training)."""
        info = self.describe()
        if info.errors:
            more = len(info.errors) - 1
            suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
            raise DataError(info.errors[0].message + suffix)
        return info

    def seed(self, seed: int | None) -> int:
        """The shuffling seed: `seed`, else the split's. The split itself always uses the
        spec's split seed, so runs with different training seeds share one test set."""
        return self.spec.split.seed if seed is None else int(seed)


def class_balance_problems(source: Source, where: str, names: list[str], counts: list[int]) -> None:
    """Report a single class, classes too small to split, and strong imbalance."""
    if len(names) == 0:
        source.error(f"{where}: no labelled samples; a classifier needs at least two classes")
        return
    if len(names) == 1:
        source.error(f"{where}: every sample has the same class {excerpt(names[0])}; a classifier needs at least "
                     "two classes (is the target right? for numbers, set the task to regression)")
        return
    tiny = [n for n, c in zip(names, counts) if c < 2]
    if tiny:
        source.warn(f"{where}: class{'es' if len(tiny) > 1 else ''} {', '.join(excerpt(t) for t in tiny[:5])} "
                    "ha" + ("ve" if len(tiny) > 1 else "s") + " a single sample; it stays in the training split")
    if min(counts) > 0 and max(counts) / min(counts) > 10:
        big = names[counts.index(max(counts))]
        small = names[counts.index(min(counts))]
        source.warn(f"{where}: the classes are unbalanced ({excerpt(big)}: {max(counts)} samples, {excerpt(small)}: "
                    f"{min(counts)}); accuracy alone can mislead")


def pick_target(names: list[str]) -> str:
    lower = {n.lower(): n for n in names}
    for candidate in TARGET_NAMES:
        if candidate in lower:
            return lower[candidate]
    return names[-1]


def decimal_note(source: Source, fmt: CsvFormat) -> None:
    """Tell the user when numbers are read with a decimal comma, and how to change it."""
    if fmt.decimal != ",":
        return
    if source.spec.decimal is None:
        source.note(f"{source.path}: numbers are written with a decimal comma (5,1 is read as 5.1); if that is "
                    "wrong, set the decimal mark to point")
    else:
        source.note(f"{source.path}: numbers are read with a decimal comma (5,1 is 5.1), as the dataset's "
                    "decimal mark says")


def thousands_hint(value: str, decimal: str) -> str:
    """'; ...' advice for a cell with a '.' in a file read with decimal commas ('' otherwise)."""
    if decimal != "," or "." not in value:
        return ""
    return ("; this file is read with decimal commas, and '.' thousands separators are not read "
            "(write 1234,5, not 1.234,5; or set the decimal mark to point)")
