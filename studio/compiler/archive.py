"""Checks on a `.keras` file (a zip archive) before anything in it is read,
extracted or handed to Keras; and a careful reader of its `config.json`.

    check_keras_archive(path)              # raises ModelImportError (or `error=`)
    config = read_keras_config(path)       # checked archive -> config.json as a dict

Keras unpacks a `.keras` file itself: it reads `model.weights.h5` whole into
memory when it thinks memory suffices, and extracts every member to a temporary
folder when the archive holds assets. A hostile archive (a "zip bomb", entries
named `../x` or `/tmp/x`, duplicate names) must be refused before that, with
one line naming the file and the entry. Only the archive's central directory
is read here (names and declared sizes); no member is decompressed, except
`config.json` by `read_keras_config`, with a size-limited read.

The limits, and why:

* `config.json` (and any other `.json` entry) unpacks to at most 64 MB. The
  config of a ResNet-152 is about 0.5 MB; 64 MB leaves room for models with
  many thousands of layers or a large vocabulary in a layer config.
* An entry may unpack to at most `MAX_RATIO` (20) times its stored size,
  unless it is small (under `ENTRY_FLOOR`, 64 MB). Keras stores members
  uncompressed (1:1); an archive recompressed by another tool shrinks float
  weights by 1.1-1.5x and JSON by about 10x, while deflate can reach ~1000x
  on zeros, so anything far over 20x is a bomb, not weights.
* All entries together unpack to at most max(256 MB, 20 x the file's size)
  and never more than 64 GB; this bounds a bomb split over many entries.
  The floor lets small archives be recompressed freely.
* At most 10,000 entries and an 8 MB central directory (a Keras file has
  three entries plus one per asset file); checked on the end-of-archive
  record before `zipfile` parses the directory.
* Every name is relative and stays inside the archive: no leading `/` or `\\`,
  no drive (`C:`), no `..` component, no NUL; no symbolic links, no
  encrypted entries, no two entries whose names differ only by case or slash
  style (the one Keras would read is not the one a tool shows).

Pure Python (zipfile, json): no Keras or TensorFlow.
"""

from __future__ import annotations

import json
import os
import re
import struct
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any, Optional, Union

from studio.compiler.from_config import ModelImportError
from studio.core.errors import StudioError

MB = 1_000_000
MiB = 1 << 20
GiB = 1 << 30

MAX_JSON_BYTES = 64 * MB
MAX_RATIO = 20
ENTRY_FLOOR = 64 * MiB
TOTAL_FLOOR = 256 * MiB
TOTAL_CAP = 64 * GiB
MAX_ENTRIES = 10_000
MAX_DIRECTORY_BYTES = 8 * MiB

CONFIG = "config.json"
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_DRIVE = re.compile(r"^[A-Za-z]:")

ErrorType = type[StudioError]
PathLike = Union[str, "os.PathLike[str]"]


def _size(n: int) -> str:
    if n >= GiB:
        return f"{n / GiB:.1f} GB"
    if n >= MiB:
        return f"{n / MiB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} kB"
    return f"{n} bytes"


def _directory_record(path: Path) -> tuple[int, int]:
    """(entries, central directory bytes) from the end-of-archive record, or
    raise BadZipFile; read before `zipfile` parses (and allocates) the directory."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        tail_start = max(0, size - (22 + 65535))
        fh.seek(tail_start)
        tail = fh.read()
        at = len(tail) - 22  # no archive comment: the record is the last 22 bytes
        if at < 0 or tail[at:at + 4] != b"PK\x05\x06":
            at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            raise zipfile.BadZipFile("no end of archive record")
        _, _, _, _, entries, cd_size, _, _ = struct.unpack("<4sHHHHIIH", tail[at:at + 22])
        if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # zip64: the real counts are elsewhere
            locator = tail[at - 20:at] if at >= 20 else b""
            if len(locator) == 20 and locator[:4] == b"PK\x06\x07":
                (offset,) = struct.unpack("<Q", locator[8:16])
                fh.seek(offset)
                record = fh.read(56)
                if len(record) == 56 and record[:4] == b"PK\x06\x06":
                    entries, cd_size = struct.unpack("<QQ", record[32:48])
    return entries, cd_size


def _bad_name(name: str) -> Optional[str]:
    """Why an entry name may not be in a model archive, or None."""
    if not name or "\x00" in name:
        return "has an empty or binary name"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "is an absolute path"
    if ".." in re.split(r"[\\/]", name):
        return "points outside the archive ('..')"
    return None


def check_keras_archive(path: PathLike, error: ErrorType = ModelImportError) -> list[zipfile.ZipInfo]:
    """Refuse a `.keras` archive that is hostile or damaged; return its entries.

    Reads only the archive's directory (names, declared sizes): no member is
    decompressed. Raises `error` (a StudioError class) with one line naming
    the file and the entry."""
    path = Path(path)
    not_keras = (f"{path}: not a Keras model file (a .keras file is a zip archive); "
                 "was it saved with model.save('model.keras')?")
    try:
        file_size = path.stat().st_size
        entries, cd_size = _directory_record(path)
    except zipfile.BadZipFile:
        raise error(not_keras) from None
    except OSError as exc:
        raise error(f"{path}: cannot read this file ({exc.strerror or exc})") from None
    if entries > MAX_ENTRIES:
        raise error(f"{path}: refused: the archive lists {entries:,} entries (a Keras model file has a few; "
                    f"at most {MAX_ENTRIES:,} are accepted)")
    if cd_size > MAX_DIRECTORY_BYTES:
        raise error(f"{path}: refused: the archive's directory is {_size(cd_size)} (at most "
                    f"{_size(MAX_DIRECTORY_BYTES)} is accepted); not a file Keras wrote")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error):
        raise error(not_keras) from None
    except OSError as exc:
        raise error(f"{path}: cannot read this file ({exc.strerror or exc})") from None
    if len(infos) > MAX_ENTRIES:
        raise error(f"{path}: refused: the archive holds {len(infos):,} entries (at most {MAX_ENTRIES:,} "
                    "are accepted)")

    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        name = info.filename
        shown = name.encode("unicode_escape").decode("ascii")[:200]
        why = _bad_name(name) or _bad_name(info.orig_filename)
        if why:
            raise error(f"{path}: refused: the archive entry '{shown}' {why}; nothing was extracted")
        key = name.replace("\\", "/").rstrip("/").casefold()
        if key in seen:
            other = seen[key].encode("unicode_escape").decode("ascii")[:200]
            same = "twice" if other == shown else f"twice ('{other}' and '{shown}')"
            raise error(f"{path}: refused: the archive holds the entry '{other}' {same}; "
                        "not a file Keras wrote")
        seen[key] = name
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise error(f"{path}: refused: the archive entry '{shown}' is a symbolic link")
        if info.flag_bits & 0x1:
            raise error(f"{path}: refused: the archive entry '{shown}' is encrypted; Keras cannot read it")
        if info.compress_type not in _METHODS:
            raise error(f"{path}: refused: the archive entry '{shown}' uses compression method "
                        f"{info.compress_type}, which Keras cannot read")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise error(f"{path}: refused: the archive entry '{shown}' declares {_size(info.file_size)} but "
                        f"stores {_size(info.compress_size)} uncompressed; the file is damaged")
        if name.lower().endswith(".json") and info.file_size > MAX_JSON_BYTES:
            raise error(f"{path}: refused: {shown} would unpack to {_size(info.file_size)} (a model config "
                        f"is at most {MAX_JSON_BYTES // MB} MB); nothing was extracted")
        if info.file_size > max(ENTRY_FLOOR, MAX_RATIO * info.compress_size):
            raise error(f"{path}: refused: the archive entry '{shown}' would unpack to {_size(info.file_size)} "
                        f"from {_size(info.compress_size)} stored (over {MAX_RATIO}x): a decompression bomb "
                        "or a damaged file; nothing was extracted")
        total += info.file_size
    allowed = min(TOTAL_CAP, max(TOTAL_FLOOR, MAX_RATIO * file_size))
    if total > allowed:
        raise error(f"{path}: refused: the archive would unpack to {_size(total)} from a {_size(file_size)} "
                    f"file (at most {_size(allowed)} is accepted); nothing was extracted")
    return infos


def read_keras_config(path: PathLike, error: ErrorType = ModelImportError) -> dict:
    """The checked archive's `config.json` as a dict, read with a size limit."""
    path = Path(path)
    infos = check_keras_archive(path, error)
    info = next((i for i in infos if i.filename == CONFIG), None)
    if info is None:
        raise error(f"{path}: a zip file without config.json; not a Keras model file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(path) as archive, archive.open(info) as member:
                data = member.read(MAX_JSON_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError):
        raise error(f"{path}: {CONFIG} cannot be unpacked; the file is damaged") from None
    except OSError as exc:
        raise error(f"{path}: cannot read this file ({exc.strerror or exc})") from None
    if len(data) > MAX_JSON_BYTES:
        raise error(f"{path}: refused: {CONFIG} is over {MAX_JSON_BYTES // MB} MB")
    return parse_model_json(data, path, CONFIG, error)


def parse_model_json(data: Union[bytes, str], path: PathLike, what: str = CONFIG,
                     error: ErrorType = ModelImportError) -> dict:
    """Parse a model config: one clear line for text that is not UTF-8, not
    JSON (with line and column), nested too deeply, or not an object."""
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise error(f"{path}: {what} is not UTF-8 text; the file is damaged or not a Keras model") from None
    else:
        text = data
        try:
            text.encode("utf-8")  # h5py hands undecodable bytes over as surrogates
        except UnicodeEncodeError:
            raise error(f"{path}: {what} is not UTF-8 text; the file is damaged or not a Keras model") from None
    try:
        value: Any = json.loads(text)
    except RecursionError:
        raise error(f"{path}: {what} nests lists or objects too deeply to be a model config; "
                    "the file is damaged or hostile") from None
    except json.JSONDecodeError as exc:
        raise error(f"{path}: {what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                    "the file may be damaged") from None
    except ValueError as exc:  # e.g. numbers with too many digits
        raise error(f"{path}: {what} is not valid JSON ({exc}); the file may be damaged") from None
    if not isinstance(value, dict):
        raise error(f"{path}: {what} is not a JSON object; not a Keras model config")
    return value
