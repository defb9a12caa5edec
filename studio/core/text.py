"""Keep user text short in messages and tables (pure).

A project file may hold a 10 MB title or a parameter string of a million
characters; every message, table cell and JSON diagnostic shows at most the
start of such text and says how long it was, so one bad value cannot turn one
line of output into megabytes.
"""

from __future__ import annotations

import json
import math
from typing import Any

# How many characters of user text a message shows.
LIMIT = 80
# Above this many digits an integer is shown in scientific form.
_MAX_DIGITS = 15


def shorten(text: str, limit: int = LIMIT) -> str:
    """`text` itself when short, else its first characters, '…' and its length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def show(value: Any, limit: int = LIMIT) -> str:
    """A short, one-line repr of any (JSON-like) value for a message:
    `'relu'`, `12`, `1e+308`, `{"class_name": ...}`, cut to about `limit` characters."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return show_int(value)
    if isinstance(value, float):
        return repr(value) if value == value else "NaN"
    if isinstance(value, str):
        return repr(shorten(value, limit)) if len(value) > limit else repr(value)
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True, default=_opaque)
    except (ValueError, TypeError, RecursionError):
        text = f"<{type(value).__name__}>"
    return shorten(text, limit)


def show_int(value: int) -> str:
    """`12`, `1.23e+20`, or `a 4,001-digit number` for an integer too long to
    print (Python refuses to turn an int of more than 4,300 digits into text)."""
    if -(10**_MAX_DIGITS) < value < 10**_MAX_DIGITS:
        return str(value)
    digits = _digits(value)
    sign = "negative " if value < 0 else ""
    return f"a {sign}{digits:,}-digit number" if digits > 308 else f"{float(value):.3g}"


def _digits(value: int) -> int:
    n = abs(value)
    # bit_length is exact and instant; refine the estimate without str(n).
    estimate = max(1, int(n.bit_length() * 0.30102999566398120))
    while 10**estimate <= n:
        estimate += 1
    while estimate > 1 and 10 ** (estimate - 1) > n:
        estimate -= 1
    return estimate


def _opaque(value: Any) -> str:
    return f"<{type(value).__name__}>"


def duration(seconds: Any, unknown: str = "--:--") -> str:
    """`0:07`, `12:34`, `1:02:03`: a duration or an ETA, the one way every view and
    command writes time; `unknown` for None, NaN or infinity."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        return unknown
    whole = int(max(0.0, seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
