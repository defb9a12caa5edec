"""Python source for values and calls, laid out like black would (pure).

`Expr` values are rendered on one line when they fit in the line width, and
otherwise one element per line with a trailing comma, so generated code is
PEP 8 and reads as if written by hand.

`literal` is the one writer of values in generated code (DESIGN.md 3): it
writes only JSON-like scalars (str, int, float, bool, None) and refuses
anything else, so text from a project becomes a string literal and never
code. A `Call`'s name must be a dotted identifier and its keyword names
identifiers; whoever builds one from project data checks the name against
`studio.graph.keras_names` first (see `studio.export.script_safety`).
"""

from __future__ import annotations

import keyword
import math
from dataclasses import dataclass
from typing import Any, Sequence, Union

LINE_WIDTH = 88
INDENT = "    "


@dataclass(frozen=True)
class Raw:
    """Source text used as is (a variable name, `keras.Model`...)."""

    text: str


@dataclass(frozen=True)
class Call:
    """`func(arg, ..., key=value, ...)`.

    `func` is a dotted name (`layers.Dense`) or '' (a call suffix), each keyword
    an identifier: anything else is a ValueError, never written.
    """

    func: str
    args: tuple = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.func and not all(is_name(part) for part in self.func.split(".")):
            raise ValueError(f"not a dotted name: {self.func[:80]!r}")
        for key, _ in self.kwargs:
            if not is_name(key):
                raise ValueError(f"not a keyword name: {str(key)[:80]!r}")


def is_name(text: object) -> bool:
    """An ASCII identifier that is not a keyword nor a dunder name: what generated
    code may use as a keyword argument or a part of a dotted name."""
    return (isinstance(text, str) and text.isascii() and text.isidentifier() and not keyword.iskeyword(text)
            and not (text.startswith("__") and text.endswith("__")))


@dataclass(frozen=True)
class Seq:
    """A list or tuple literal of expressions (rendered with the right brackets)."""

    items: tuple
    kind: str = "list"  # "list" | "tuple"


Expr = Union[Raw, Call, Seq, str, int, float, bool, None, list, tuple, dict]


def literal(value: Any) -> str:
    """A Python literal for a JSON-like scalar; TypeError for anything else."""
    if value is None or isinstance(value, bool):
        return "True" if value is True else "False" if value is False else "None"
    if isinstance(value, float):
        if math.isnan(value):
            return 'float("nan")'
        if math.isinf(value):
            return 'float("inf")' if value > 0 else '-float("inf")'
        return float.__repr__(value)
    if isinstance(value, int):
        return int.__repr__(value)  # ValueError above Python's digit limit
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"no Python literal for a {type(value).__name__}")


def _string(text: str) -> str:
    """A double-quoted string literal (black's preference)."""
    text = str.__str__(text)
    quoted = str.__repr__(text)
    if '"' in text and "'" not in text:
        return quoted
    body = quoted[1:-1]
    if quoted[0] == "'":
        body = body.replace('"', '\\"').replace("\\'", "'")
    return f'"{body}"'


def _parts(expr: Any) -> tuple[str, str, list[Any], bool]:
    """(opening, closing, elements, is_bracketed) of a composite expression.

    Elements are expressions or (key, expr) pairs for keyword/dict items.
    """
    if isinstance(expr, Call):
        items: list[Any] = list(expr.args) + [("kw", k, v) for k, v in expr.kwargs]
        return expr.func + "(", ")", items, True
    if isinstance(expr, Seq):
        if expr.kind == "tuple":
            return "(", ")", list(expr.items), True
        return "[", "]", list(expr.items), True
    if isinstance(expr, tuple):
        return "(", ")", list(expr), True
    if isinstance(expr, list):
        return "[", "]", list(expr), True
    if isinstance(expr, dict):
        return "{", "}", [("dict", k, v) for k, v in expr.items()], True
    return "", "", [], False


def _is_tuple(expr: Any) -> bool:
    return isinstance(expr, tuple) or (isinstance(expr, Seq) and expr.kind == "tuple")


def flat(expr: Any) -> str:
    """The expression on one line."""
    if isinstance(expr, Raw):
        return expr.text
    opening, closing, items, bracketed = _parts(expr)
    if not bracketed:
        return literal(expr)
    texts = [_flat_item(item) for item in items]
    body = ", ".join(texts)
    if _is_tuple(expr) and len(items) == 1:
        body += ","
    return opening + body + closing


def _flat_item(item: Any) -> str:
    if isinstance(item, tuple) and len(item) == 3 and item[0] in ("kw", "dict"):
        kind, key, value = item
        if kind == "kw":
            return f"{key}={flat(value)}"
        return f"{literal(key)}: {flat(value)}"
    return flat(item)


def render(expr: Any, indent: int = 0, prefix_len: int = 0, suffix_len: int = 0) -> str:
    """The expression, broken over lines when it does not fit.

    `indent` is the indentation level of the line the expression starts on,
    `prefix_len` the characters before it on that line (e.g. `x = `), and
    `suffix_len` those after it (e.g. `(inputs)`).
    """
    text = flat(expr)
    if len(INDENT) * indent + prefix_len + len(text) + suffix_len <= LINE_WIDTH:
        return text
    opening, closing, items, bracketed = _parts(expr)
    if not bracketed or not items:
        return text
    inner = INDENT * (indent + 1)
    lines = [opening]
    for item in items:
        if isinstance(item, tuple) and len(item) == 3 and item[0] in ("kw", "dict"):
            kind, key, value = item
            head = f"{key}=" if kind == "kw" else f"{literal(key)}: "
            lines.append(inner + head + render(value, indent + 1, len(head), 1) + ",")
        else:
            lines.append(inner + render(item, indent + 1, 0, 1) + ",")
    lines.append(INDENT * indent + closing)
    return "\n".join(lines)


def statement(target: str, expr: Any, indent: int = 1, tail: str = "") -> str:
    """`target = expr` + tail (e.g. a call's `(x)`), indented and wrapped."""
    prefix = f"{target} = " if target else ""
    if isinstance(expr, Call) and tail:
        # Wrap the layer's own arguments; the call on the inputs follows `)`.
        body = render(expr, indent, len(prefix), len(tail))
        first = INDENT * indent + prefix + body + tail
        if all(len(line) <= LINE_WIDTH for line in first.splitlines()):
            return first
        tail_expr = _tail_call(tail)
        if tail_expr is not None:
            return INDENT * indent + prefix + body + render(tail_expr, indent, 0, 0)
        return first
    return INDENT * indent + prefix + render(expr, indent, len(prefix), len(tail)) + tail


def _tail_call(tail: str) -> Call | None:
    """A call suffix like `([a, b])` as a wrappable Call with an empty name."""
    if not (tail.startswith("(") and tail.endswith(")")):
        return None
    return Call("", (Raw(tail[1:-1]),))


def join_lines(blocks: Sequence[str]) -> str:
    return "\n".join(blocks)
