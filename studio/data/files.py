"""What a dataset path may be, checked before any byte of it is read; safe excerpts (pure).

A project names its data file, and a project can come from anyone: its
dataset path may be ``/etc/shadow``, ``/dev/zero``, a FIFO that blocks the
first ``open()`` forever, or ``/proc/self/environ``. `check_data_path`
refuses all of those with one line naming the path and what is expected,
before anything opens it:

* the path must exist and be a regular file (an image or text folder: a
  folder), not a device, pipe or socket, and not under /proc, /sys or /dev;
* a file must have a name of the kind's type: ``.csv .tsv .tab .txt .dat
  .data`` for tables (csv, tsv, text, timeseries), ``.npy`` / ``.npz`` for
  arrays.

Messages about data quote the file's contents only as `excerpt` of the cell
(or column name) at fault: at most `EXCERPT_CHARS` characters, in Python's
repr form, so control characters (terminal escapes, line breaks, right-to-
left overrides) are shown escaped and one message stays one line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from studio.core.errors import DataError

TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".dat", ".data")
SUFFIXES = {
    "csv": TABLE_SUFFIXES,
    "tsv": TABLE_SUFFIXES,
    "timeseries": TABLE_SUFFIXES,
    "text": TABLE_SUFFIXES,  # or a folder of .txt files per class
    "npy": (".npy",),
    "npz": (".npz",),
}
FOLDER_KINDS = ("images", "text")
# Pseudo-file systems: their "files" are the kernel's state, never data.
SYSTEM_ROOTS = ("/proc", "/sys", "/dev")
EXCERPT_CHARS = 40

_WHAT = {
    "csv": "a table (.csv, .tsv or .txt)",
    "tsv": "a table (.csv, .tsv or .txt)",
    "timeseries": "a table (.csv, .tsv or .txt) of the series",
    "text": "a table (.csv, .tsv or .txt) with a text column, or a folder with one subfolder of .txt files per "
            "class",
    "npy": "a NumPy .npy file",
    "npz": "a NumPy .npz file",
    "images": "a folder with one subfolder of images per class",
}


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """`value` quoted as repr() does (``'a\\x1b[2J'``), cut to `limit` characters ('…' marks the cut)."""
    text = str(value)
    if len(text) > limit:
        text = text[: max(1, limit - 1)] + "\u2026"
    return repr(text)


def names_list(names: list[str], limit: int = 8) -> str:
    """'a', 'b', 'c' and 5 more: column names from a file, each an `excerpt`."""
    shown = ", ".join(excerpt(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def system_path(path: Path) -> bool:
    """True for a path that resolves into /proc, /sys or /dev."""
    if os.name != "posix":
        return False
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return False
    return any(real == root or real.startswith(root + "/") for root in SYSTEM_ROOTS)


def refuse_system_path(path: Path, kind: str = "") -> None:
    if system_path(path):
        what = _WHAT.get(kind, "a data file or folder")
        raise DataError(f"{path}: is a system file, not a data file; choose {what}")


def check_data_path(path: Path, kind: str) -> None:
    """Raise DataError unless `path` is a regular file (or folder) of the type `kind` reads.

    Only the file's metadata is looked at (stat), never its contents; a FIFO is
    refused without being opened. Kinds without a file (keras, sample) pass.
    """
    if kind not in SUFFIXES and kind not in FOLDER_KINDS:
        return
    path = Path(path)
    what = _WHAT.get(kind, "a data file")
    refuse_system_path(path, kind)
    st = _stat(path, "folder" if kind == "images" else "file")
    if stat.S_ISDIR(st.st_mode):
        if kind in FOLDER_KINDS:
            return
        raise DataError(f"{path}: is a folder; choose {what}")
    if kind == "images":
        raise DataError(f"{path}: is a file; an image dataset is a folder with one subfolder per class")
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{path}: is not a regular file ({_file_type(st.st_mode)}); choose {what}")
    suffixes = SUFFIXES[kind]
    expected = f"the name must end in {', '.join(suffixes)}; choose such a file (or rename it if it is one)"
    if path.suffix.lower() not in suffixes:
        raise DataError(f"{path}: is not {what}: {expected}")
    if os.path.islink(path):  # a link named data.csv to a file of another kind (a password file...)
        real = Path(os.path.realpath(path))
        if real.suffix.lower() not in suffixes:
            raise DataError(f"{path}: links to {real}, which is not {what}: {expected}")


def check_regular_file(path: Path) -> os.stat_result:
    """stat() of `path`, raising DataError unless it is a regular file outside /proc, /sys, /dev."""
    refuse_system_path(path)
    st = _stat(path, "file")
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"{path}: is a folder; choose a data file")
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{path}: is not a regular file ({_file_type(st.st_mode)}); choose a data file")
    return st


def _file_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a plain file"


# Magic numbers of binary formats people rename or mistake for a table.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program"),
    (b"\x89HDF\r\n", "an HDF5 file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (.xls) or Office file"),
)


def binary_kind(head: bytes) -> str | None:
    """None if the first bytes of a file may be text; else what it looks like ('a PNG image', or ''
    when unknown): a known binary format's magic number, or a NUL byte (outside UTF-16 text)."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[:3] == b"BZh" and head[4:10] == b"1AY&SY":
        return "a bzip2 archive"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 text (the caller says how to save it)
    if b"\x00" in head:
        return ""
    return None


def _stat(path: Path, noun: str) -> os.stat_result:
    """os.stat(path), or a DataError in one line ("no such file", "permission denied"...)."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such {noun}") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or type(exc).__name__})") from None
