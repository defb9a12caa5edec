"""Reading delimited text files in bounded memory: sniffing, chunks, column statistics.

Built on the standard `csv` module (pandas is not a dependency). Files are
read in chunks of rows, so describing or streaming a file of a million rows
holds one chunk at a time. Every problem raises `DataError` naming the file
and the line (1-based, the header is line 1) and, for a cell, the column.

Decimal commas: Excel in Germany, France, Brazil... saves ``5,1;3,5;setosa``
(semicolons between cells, a comma as the decimal mark). `sniff` reads a
file's cells that way (``CsvFormat.decimal == ","``) when its delimiter is
not a comma and the first lines hold more decimal-comma numbers than
decimal-point ones; a spec's ``decimal`` forces either mark. With a decimal
comma a '.' is not read at all: thousands separators (``1.234,5``) are not
numbers, so such cells are reported instead of read as 1.2345.

Files as they come: a file whose values are separated by spaces (``5 162 60``,
as scikit-learn's ``diabetes_data_raw.csv`` and ``linnerud_*.csv``) is read with
the delimiter ``" "``, which means *any run of spaces or tabs* (like pandas'
``sep=r"\\s+"``; quotes are not read in such a file). ``skip_rows`` lines at
the top (notes, counts, a title) are skipped before the header; line numbers
in messages stay the file's own. A first line that does not match the body
(another number of fields: ``178,13,class_0,class_1,class_2`` above rows of
14 numbers; or numbers and words above columns of numbers, as scikit-learn's
``iris.csv`` begins) is named with its likely cause and the fix (skip it).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from studio.core.errors import DataError
from studio.data import files
from studio.data.files import excerpt
from studio.data.info import CATEGORICAL, EMPTY, NUMERIC, TEXT, ColumnInfo

# Cells read as missing values (compared exactly, after the csv module has unquoted them).
MISSING_TOKENS = frozenset({"", " ", "NA", "N/A", "n/a", "na", "NaN", "nan", "NAN", "null", "NULL", "Null",
                            "None", "none", "?", "#N/A"})
DELIMITERS = (",", ";", "\t", "|")
# The delimiter meaning "any run of spaces or tabs" (sniffed when no other delimiter splits the lines).
WHITESPACE = " "
SNIFF_BYTES = 64 * 1024
CHUNK_ROWS = 8192
# Distinct values counted per column before it is called "many" (bounded memory).
DISTINCT_CAP = 1000
# A column is numeric if at least this fraction of its non-missing cells are numbers;
# the other cells are then reported as errors ("non-numeric text in a numeric column").
NUMERIC_FRACTION = 0.95
# Numbers beyond this are infinite once read as float32 (what a model trains on): 1e39 is as bad as inf.
FLOAT32_MAX = float(np.finfo(np.float32).max)

csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))


@dataclass
class CsvFormat:
    """How a file is laid out: found by `sniff`, or given in the spec."""

    path: Path
    delimiter: str
    header: bool
    encoding: str
    names: list[str]
    renamed: list[str] = field(default_factory=list)  # messages about blank/duplicate header names
    decimal: str = "."  # the decimal mark of the numbers: "." or ","
    skip_rows: int = 0  # lines skipped at the top, before the header
    # The first line read looks like notes, not data nor a header: the message naming it and the fix.
    first_line_note: str = ""

    def settings(self) -> dict:
        """The arguments of `sniff` that read the file this way again (JSON-friendly)."""
        return {"delimiter": self.delimiter, "header": self.header, "encoding": self.encoding,
                "decimal": self.decimal, "skip_rows": self.skip_rows}

    @property
    def header_line(self) -> int:
        """The file's line number of the header (or of the first data row without one)."""
        return self.skip_rows + 1

    @property
    def first_data_line(self) -> int:
        return self.skip_rows + (2 if self.header else 1)


def check_file(path: Path, what: str = "data file") -> int:
    """Raise DataError for a missing, folder, special (device, pipe, /proc), empty or binary file;
    return its size. Only metadata and the first 8 KiB are read; nothing of them is echoed."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder; choose a {what}")
    size = files.check_regular_file(path).st_size
    if size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes)")
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
    if head.startswith(b"PK\x03\x04"):
        raise DataError(f"{path}: this is a zip or spreadsheet (.xlsx) file, not CSV; save it as CSV first")
    binary = files.binary_kind(head)
    if binary is not None:
        looks = f"it looks binary: {binary}" if binary else "it looks binary"
        raise DataError(f"{path}: is not a text file ({looks}); save the table as CSV (comma-separated "
                        "text) first")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"{path}: the file is UTF-16 text; save it as UTF-8 CSV")
    return size


def python_encoding(encoding: str) -> str:
    """utf-8 reads with the BOM stripped (files saved by Excel start with one)."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _decode_error(path: Path, raw: bytes, exc: UnicodeDecodeError, encoding: str) -> DataError:
    line = raw[: exc.start].count(b"\n") + 1
    return DataError(f"{path}:{line}: the text is not valid {encoding} (byte 0x{raw[exc.start]:02x}); "
                     "save the file as UTF-8 or set the dataset's encoding (e.g. 'latin-1')")


def _read_sample(path: Path, encoding: str, skip_rows: int = 0) -> str:
    with open(path, "rb") as fh:
        for skipped in range(skip_rows):
            if not fh.readline():
                raise DataError(f"{path}: the file has {skipped} line{'s' if skipped != 1 else ''}, and "
                                f"{skip_rows} are to be skipped; lower the rows to skip (--skip-rows)")
        raw = fh.read(SNIFF_BYTES)
    try:
        text = raw.decode(python_encoding(encoding))
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 4 and len(raw) == SNIFF_BYTES:  # a character cut at the sample's end
            text = raw[: exc.start].decode(python_encoding(encoding))
        else:
            error = _decode_error(path, raw, exc, encoding)
            if skip_rows:  # the line numbers of the file, not of the part after the skipped lines
                line = raw[: exc.start].count(b"\n") + 1
                error = DataError(str(error).replace(f"{path}:{line}:", f"{path}:{line + skip_rows}:", 1))
            raise error from None
    if len(raw) == SNIFF_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # whole lines only
    return text


def to_number(value: str, decimal: str = ".") -> float:
    """float() of a cell written with `decimal` as the decimal mark; ValueError if it is not one.

    With a decimal comma a cell holding a '.' is not a number (thousands separators are not read).
    """
    if decimal != ".":
        if "." in value:
            raise ValueError(f"could not convert string to float: {value!r}")
        value = value.replace(decimal, ".")
    return float(value)


def is_number(value: str, decimal: str = ".") -> bool:
    try:
        to_number(value, decimal)
    except ValueError:
        return False
    return True


def point_form(values: list[str], decimal: str = ".") -> list[str]:
    """The cells as float() reads them: with decimal ',' '5,1' becomes '5.1'; a cell holding a
    '.' is made unreadable (it is not a number in such a file). `values` itself when decimal is '.'."""
    if decimal == "." or not values:
        return values
    joined = "\x00".join(values)  # the csv reader refuses NUL bytes, so no cell holds one
    if "." not in joined:
        return joined.replace(decimal, ".").split("\x00")
    return [v.replace(decimal, ".") if "." not in v else "?" + v for v in values]


# A number written with a decimal comma: 5,1  -0,25  ,5  1,5e3 (no '.' anywhere).
_COMMA_NUMBER = re.compile(r"[+-]?(?:\d+,\d*|,\d+)(?:[eE][+-]?\d+)?")
# Digits grouped by '.' in threes (1.234 or 1.234.567): thousands, not decimals, in such a file.
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+")


def sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    """',' if the cells of `rows` use decimal commas (never when the delimiter is a comma), else '.'.

    Counts cells that are numbers with a decimal comma against cells that are numbers with a
    decimal point (digits grouped in threes by '.' count for neither); commas must be more.
    """
    if delimiter == ",":
        return "."
    comma = point = 0
    for row in rows:
        for cell in row:
            cell = cell.strip()
            if "," in cell:
                comma += _COMMA_NUMBER.fullmatch(cell) is not None
            elif "." in cell and not _GROUPED.fullmatch(cell) and any(c.isdigit() for c in cell) \
                    and is_number(cell):
                point += 1
    return "," if comma > point else "."


def _number_likeness(rows: list[list[str]], delimiter: str) -> float:
    """The fraction of cells that are numbers (with either decimal mark when it can be a comma)."""
    cells = [c.strip() for r in rows for c in r if c.strip()]
    if not cells:
        return 0.0
    comma_ok = delimiter != ","
    return sum(is_number(c) or (comma_ok and _COMMA_NUMBER.fullmatch(c) is not None) for c in cells) / len(cells)


def _parse_lines(text: str, delimiter: str, limit: int = 60) -> list[list[str]]:
    return _parse_numbered(text, delimiter, limit)[0]


def _lines(text: str) -> io.StringIO:
    """The sample's lines as the file reader sees them: ended by \\n, \\r or \\r\\n only (not by
    the other characters `str.splitlines` ends lines at, such as \\x1e)."""
    return io.StringIO(text, newline="")


def _parse_numbered(text: str, delimiter: str, limit: int = 60) -> tuple[list[list[str]], list[int]]:
    """The first non-blank rows of the sample, with the line (1-based, in the sample) each starts on."""
    rows: list[list[str]] = []
    lines: list[int] = []
    if delimiter == WHITESPACE:
        for number, line in enumerate(_lines(text), 1):
            row = line.split()
            if row:
                rows.append(row)
                lines.append(number)
                if len(rows) >= limit:
                    break
        return rows, lines
    try:
        reader = csv.reader(_lines(text), delimiter=delimiter)
        start = 1
        for row in reader:
            if row and (len(row) > 1 or row[0].strip()):  # a line of spaces is blank, as the reader says
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
            if len(rows) >= limit:
                break
    except csv.Error:
        return [], []
    return rows, lines


def sniff_delimiter(text: str) -> str:
    """The candidate delimiter that splits the sample into the most consistent columns (>1); runs
    of spaces (`WHITESPACE`) when none of them splits every line alike, spaces split more lines
    alike (at least 90 %), and the values between spaces are mostly numbers.

    On a tie, the one whose cells are more often numbers wins: a headerless ``5,1;3,5;a`` splits
    into three cells on ',' and on ';', but only ';' gives numbers (with decimal commas).
    """
    best, best_score = ",", (0.0, 0, 0.0)
    for delim in DELIMITERS:
        rows = _parse_lines(text, delim)
        if not rows:
            continue
        counts = Counter(len(r) for r in rows)
        width, freq = counts.most_common(1)[0]
        if width < 2:
            continue
        score = (freq / len(rows), width, _number_likeness(rows, delim))
        if score > best_score:
            best, best_score = delim, score
    if best_score[0] == 1.0:
        return best
    # Spaces separate the values only when no real delimiter splits every line alike and they
    # split more lines alike (a comma file's text cells hold spaces too), and the values are
    # mostly numbers (lines of words are texts, not a table).
    rows = _parse_lines(text, WHITESPACE)
    if rows:
        width, freq = Counter(len(r) for r in rows).most_common(1)[0]
        share = freq / len(rows)
        if width >= 2 and share >= 0.9 and share > best_score[0] and _number_likeness(rows[1:] or rows, ",") >= 0.5:
            return WHITESPACE
    return best


def _leading_odd_rows(rows: list[list[str]]) -> int:
    """How many rows at the top have another number of fields than the body below them (0 when
    the body is not regular enough to tell: then the reader names the first bad line as usual)."""
    if len(rows) < 3:
        return 0
    width = Counter(len(r) for r in rows[1:]).most_common(1)[0][0]
    if width < 2 or len(rows[0]) == width:
        return 0
    k = 0
    while k < len(rows) and len(rows[k]) != width and k < 20:
        k += 1
    body = rows[k:]
    if len(body) < 2 or sum(len(r) == width for r in body) < 0.9 * len(body):
        return 0
    return k


def _mixed_first_row(rows: list[list[str]], decimal: str) -> bool:
    """The first row holds numbers and, above columns of numbers, words: not data (a word in a
    column of numbers) and not a header (names are not numbers), but notes such as
    ``150,4,setosa,versicolor,virginica`` (the counts and class names of scikit-learn's iris.csv)."""
    if len(rows) < 3:
        return False
    first, rest = rows[0], rows[1:]
    cells = [c.strip() for c in first]
    if not any(c and c not in MISSING_TOKENS and is_number(c, decimal) for c in cells):
        return False
    for i, cell in enumerate(cells):
        if not cell or cell in MISSING_TOKENS or is_number(cell, decimal):
            continue
        column = [r[i].strip() for r in rest if i < len(r) and r[i].strip() and r[i].strip() not in MISSING_TOKENS]
        if len(column) >= 2 and sum(is_number(v, decimal) for v in column) >= 0.9 * len(column):
            return True
    return False


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def sniff_header(rows: list[list[str]], decimal: str = ".") -> bool:
    """True if the first row looks like column names rather than data."""
    if len(rows) < 2:
        return bool(rows) and not any(is_number(c, decimal) for c in rows[0] if c.strip())
    first, rest = rows[0], rows[1:]
    if any(is_number(c, decimal) for c in first if c.strip()):
        return False
    for i in range(len(first)):
        column = [r[i] for r in rest if i < len(r) and r[i].strip() and r[i] not in MISSING_TOKENS]
        if column and sum(is_number(v, decimal) for v in column) >= 0.9 * len(column):
            return True  # a text cell on top of a numeric column
    # All text: a header if its cells are distinct names that do not recur in their columns.
    if len(set(first)) != len(first) or any(not c.strip() or len(c) > 60 for c in first):
        return False
    for i, name in enumerate(first):
        if any(i < len(r) and r[i] == name for r in rest):
            return False
    return True


def sniff(path: Path, delimiter: str | None = None, header: bool | None = None,
          encoding: str = "utf-8", decimal: str | None = None, skip_rows: int = 0) -> CsvFormat:
    """Find the delimiter, the decimal mark, whether there is a header, and the column names.

    The first `skip_rows` lines are skipped. Lines at the top with another number of fields
    than the rest are a DataError naming them and the fix; a first line of numbers and words
    above columns of numbers is kept in ``first_line_note`` (the source reports it).
    """
    path = Path(path)
    check_file(path)
    text = _read_sample(path, encoding, skip_rows)
    if not text.strip():
        if skip_rows:
            raise DataError(f"{path}: nothing but blank lines is left after skipping {_plural(skip_rows, 'line')}; "
                            "lower the rows to skip (--skip-rows)")
        raise DataError(f"{path}: the file holds no data (only blank lines)")
    if delimiter is None:
        if path.suffix.lower() in (".tsv", ".tab"):
            delimiter = "\t"
        else:
            delimiter = sniff_delimiter(text)
    rows, row_lines = _parse_numbered(text, delimiter)
    if not rows:
        raise DataError(f"{path}: cannot read the first lines as delimited text; check the quotes")
    odd = _leading_odd_rows(rows)
    if odd:
        raise DataError(_odd_rows_message(path, rows, row_lines, odd, skip_rows, delimiter))
    if decimal is None:
        decimal = sniff_decimal(rows, delimiter)
    note = ""
    if header is None:
        header = sniff_header(rows, decimal)
        if not header and _mixed_first_row(rows, decimal):
            line = skip_rows + row_lines[0]
            first = list(islice(_lines(text), row_lines[0]))[-1].rstrip("\r\n")
            note = (f"{path}:{line}: line {line} ({excerpt(first)}) holds numbers, "
                    "and words above columns of numbers: it is neither data nor a header of names; if it is "
                    f"notes (counts, class names...), skip it with --skip-rows {line} (the Data panel's "
                    "'Skip rows'); if it is the header, set the header row to yes (--header)")
    width = Counter(len(r) for r in rows[1:] or rows).most_common(1)[0][0] if not header else len(rows[0])
    renamed: list[str] = []
    if header:
        names = []
        seen: set[str] = set()
        for i, raw_name in enumerate(rows[0]):
            name = raw_name.strip() or f"column_{i + 1}"
            if not raw_name.strip():
                renamed.append(f"column {i + 1} has no name in the header; it is called {excerpt(name)}")
            base, n = name, 2
            while name in seen:
                name, n = f"{base}_{n}", n + 1
            if name != (raw_name.strip() or name):
                renamed.append(f"the header names {excerpt(base)} twice; the second is called {excerpt(name)}")
            seen.add(name)
            names.append(name)
    else:
        names = [f"column_{i + 1}" for i in range(width)]
    return CsvFormat(path=path, delimiter=delimiter, header=header, encoding=encoding, names=names,
                     renamed=renamed, decimal=decimal, skip_rows=skip_rows, first_line_note=note)


def _odd_rows_message(path: Path, rows: list[list[str]], row_lines: list[int], odd: int, skip_rows: int,
                      delimiter: str) -> str:
    """'line 1 has 5 fields, the rest 14: is it a header or notes? ...' for lines atop the body."""
    width = len(rows[odd])
    lines = [skip_rows + n for n in row_lines[:odd]]
    skip = skip_rows + row_lines[odd] - 1  # every line above the first regular one
    by = delimiter_name(delimiter)
    if odd == 1:
        n = len(rows[0])
        return (f"{path}:{lines[0]}: line {lines[0]} has {_plural(n, 'field')} ({by}-separated), the rest "
                f"{width}: is it a header or notes? if it is notes, skip it with --skip-rows {skip} (the Data "
                f"panel's 'Skip rows'); a header needs one name per column")
    counts = ", ".join(str(len(r)) for r in rows[:odd - 1]) + f" and {len(rows[odd - 1])}"
    return (f"{path}:{lines[0]}: lines {lines[0]} to {lines[-1]} have {counts} fields ({by}-separated), the "
            f"rest {width}: are they notes? skip them with --skip-rows {skip} (the Data panel's 'Skip rows')")


def read_chunks(fmt: CsvFormat, chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[list[list[str]], Sequence[int]]]:
    """Yield (rows, line numbers) chunks of data rows; blank lines are skipped.

    Raises DataError for a row with the wrong number of fields, bad bytes or
    broken quoting, naming the line. A chunk whose rows are one line each
    (the usual case) is checked with C-level calls only; otherwise each
    row's lines are counted from the line breaks inside its quoted fields.
    """
    path, width = fmt.path, len(fmt.names)
    skip = fmt.skip_rows
    with open(path, encoding=python_encoding(fmt.encoding), newline="") as fh:
        try:
            for _ in range(skip):
                fh.readline()
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: the skipped lines at the top are not valid {fmt.encoding} ({exc.reason}); "
                            "save the file as UTF-8 or set the dataset's encoding") from None
        if fmt.delimiter == WHITESPACE:
            yield from _whitespace_chunks(fh, fmt, chunk_rows)
            return
        reader = csv.reader(fh, delimiter=fmt.delimiter)
        try:
            if fmt.header:
                next(reader, None)
            line = reader.line_num + skip
            while True:
                raw = list(islice(reader, chunk_rows))
                if not raw:
                    break
                end = reader.line_num + skip
                if end - line == len(raw) and set(map(len, raw)) == {width}:
                    yield raw, range(line + 1, end + 1)
                else:
                    yield _checked(raw, line, fmt)
                line = end
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}:{reader.line_num + skip + 1}: the text is not valid {fmt.encoding} "
                            f"({exc.reason}); save the file as UTF-8 or set the dataset's encoding") from None
        except csv.Error as exc:
            message = str(exc)
            if "NUL" in message:
                message = "binary data (a NUL byte) in the text"
            raise DataError(f"{path}:{reader.line_num + skip}: cannot read the row ({message}); check the "
                            "quotes") from None


def _whitespace_chunks(fh, fmt: CsvFormat, chunk_rows: int) -> Iterator[tuple[list[list[str]], Sequence[int]]]:
    """Rows of a file whose values are separated by runs of spaces or tabs: one row per line."""
    width = len(fmt.names)
    rows = map(str.split, fh)  # C speed; a blank line is [] (skipped by _checked)
    line = fmt.skip_rows
    try:
        if fmt.header:
            next(rows, None)
            line += 1
        while True:
            raw = list(islice(rows, chunk_rows))
            if not raw:
                break
            end = line + len(raw)
            if set(map(len, raw)) == {width}:
                yield raw, range(line + 1, end + 1)
            else:
                yield _checked(raw, line, fmt)
            line = end
    except UnicodeDecodeError as exc:
        raise DataError(f"{fmt.path}: after line {line}: the text is not valid {fmt.encoding} ({exc.reason}); "
                        "save the file as UTF-8 or set the dataset's encoding") from None


def _line_breaks(row: list[str]) -> int:
    return sum(f.count("\n") + f.count("\r") - f.count("\r\n") for f in row)


def _checked(raw: list[list[str]], line: int, fmt: CsvFormat) -> tuple[list[list[str]], list[int]]:
    """The slow path: blank lines dropped, multi-line records counted, widths checked."""
    width = len(fmt.names)
    rows: list[list[str]] = []
    lines: list[int] = []
    for row in raw:
        first = line + 1
        line += 1 + _line_breaks(row)
        if len(row) == width:
            rows.append(row)
            lines.append(first)
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        raise DataError(
            f"{fmt.path}:{first}: the row has {len(row)} field{'s' if len(row) != 1 else ''} but "
            f"{'the header has' if fmt.header else 'the first rows have'} {width}; check the "
            f"delimiter ({delimiter_name(fmt.delimiter)}) and the quotes on that line"
        )
    return rows, lines


def delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar", WHITESPACE: "space"}.get(delimiter,
                                                                                               repr(delimiter))


def to_float(values: list[str], decimal: str = ".") -> np.ndarray:
    """float64 array of the cells, missing cells as NaN; ValueError on a non-number."""
    values = point_form(values, decimal)
    try:
        return np.array(values, dtype=np.float64)  # no missing cells: numpy parses in C
    except ValueError:
        missing = MISSING_TOKENS
        return np.array([v if v not in missing else "nan" for v in values], dtype=np.float64)


def first_non_number(values: list[str], decimal: str = ".") -> int:
    """Index of the first cell that is neither missing nor a number, or -1."""
    for i, v in enumerate(values):
        if v not in MISSING_TOKENS and not is_number(v, decimal):
            return i
    return -1


@dataclass
class ColumnStats:
    """Running statistics of one column, updated one chunk at a time."""

    name: str
    count: int = 0
    missing: int = 0
    numeric: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)  # first non-numeric cells (line, value)
    bad_count: int = 0
    missing_lines: list[int] = field(default_factory=list)
    total: float = 0.0
    finite: int = 0  # the numbers the total, minimum and maximum are over
    minimum: float = math.inf
    maximum: float = -math.inf
    integer: bool = True
    counter: Counter | None = field(default_factory=Counter)
    text_cells: int = 0
    text_chars: int = 0
    text_spaces: int = 0
    examples: list[str] = field(default_factory=list)
    numeric_possible: bool = True
    decimal: str = "."  # the file's decimal mark
    # Numbers that are infinite (inf, -inf, 1e309) or beyond float32 (1e39): count, first lines, first cell.
    nonfinite: int = 0
    nonfinite_lines: list[int] = field(default_factory=list)
    nonfinite_first: str = ""

    def update(self, values: list[str], lines: Sequence[int]) -> None:
        self.count += len(values)
        numbers = None
        if self.numeric_possible:
            try:  # every cell a number (or "nan"): C speed
                numbers = np.array(point_form(values, self.decimal), dtype=np.float64)
            except ValueError:
                numbers = None
        if numbers is not None:
            nan = np.isnan(numbers)
            mask = nan.tolist() if nan.any() else None
            with np.errstate(invalid="ignore"):
                huge = np.abs(numbers) > FLOAT32_MAX  # inf and 1e39 (NaN compares False: missing)
            if huge.any():
                at = np.flatnonzero(huge)
                self._add_nonfinite(len(at), [lines[i] for i in at[:5]], values[at[0]])
        else:
            mask = [v in MISSING_TOKENS for v in values]
            if not any(mask):
                mask = None
        if mask is not None:
            self.missing += sum(mask)
            if len(self.missing_lines) < 5:
                self.missing_lines.extend(ln for ln, m in zip(lines, mask) if m)
                del self.missing_lines[5:]
            present = [v for v, m in zip(values, mask) if not m]
        else:
            present = values
        if not present:
            return
        if len(self.examples) < 3:
            for v in present:
                if v not in self.examples:
                    self.examples.append(v)
                if len(self.examples) >= 3:
                    break
        if self.counter is not None:
            self.counter.update(present)
            if len(self.counter) > DISTINCT_CAP:
                self.counter = None
        if numbers is not None:
            self._add_numbers(numbers[~nan] if mask is not None else numbers)
            return
        if self.numeric_possible:
            self._some_numbers(values, lines)
        joined = "\x00".join(present)  # text statistics, for chunks that are not all numbers
        self.text_cells += len(present)
        self.text_chars += len(joined) - (len(present) - 1)
        self.text_spaces += joined.count(" ")

    def _some_numbers(self, values: list[str], lines: Sequence[int]) -> None:
        """A chunk with non-numeric cells: count them (with their lines) and keep the numbers."""
        ok = []
        for v, ln in zip(values, lines):
            if v in MISSING_TOKENS:
                continue
            try:
                number = to_number(v, self.decimal)
            except ValueError:
                self.bad_count += 1
                if len(self.bad) < 5:
                    self.bad.append((ln, v))
                continue
            if number != number:  # '-nan', 'NaN ' ...: missing, as in a chunk of numbers only
                self.missing += 1
                if len(self.missing_lines) < 5:
                    self.missing_lines.append(ln)
                continue
            if not abs(number) <= FLOAT32_MAX:
                self._add_nonfinite(1, [ln], v)
            ok.append(number)
        if self.bad_count > max(5, (1 - NUMERIC_FRACTION) * (self.count - self.missing)):
            self.numeric_possible = False  # text: stop converting
        self._add_numbers(np.array(ok, dtype=np.float64))

    def _add_nonfinite(self, count: int, lines: list[int], first: str) -> None:
        if not self.nonfinite:
            self.nonfinite_first = first
        self.nonfinite += count
        self.nonfinite_lines.extend(lines[: 5 - len(self.nonfinite_lines)])

    def nonfinite_text(self) -> str:
        """"'inf' on line 3 and 2 more on lines 7, 9" for the infinite cells (the first quoted)."""
        first = f"{excerpt(self.nonfinite_first)} on line {self.nonfinite_lines[0]}"
        if self.nonfinite == 1:
            return first
        lines = ", ".join(str(n) for n in self.nonfinite_lines[1:])
        etc = ", ..." if self.nonfinite > len(self.nonfinite_lines) else ""
        return f"{first} and {self.nonfinite - 1} more on lines {lines}{etc}"

    def _add_numbers(self, numbers: np.ndarray) -> None:
        with np.errstate(invalid="ignore"):
            finite = numbers[np.abs(numbers) <= FLOAT32_MAX]  # not NaN, inf, or inf as float32 (1e39)
        self.numeric += len(numbers)
        self.finite += len(finite)
        if len(finite):
            with np.errstate(over="ignore"):  # numbers near 1e308: the mean is then unknown, not an error
                self.total += float(finite.sum())
            self.minimum = min(self.minimum, float(finite.min()))
            self.maximum = max(self.maximum, float(finite.max()))
            if self.integer and not np.all(finite == np.round(finite)):
                self.integer = False

    # -- the verdict --------------------------------------------------------
    @property
    def present(self) -> int:
        return self.count - self.missing

    @property
    def type(self) -> str:
        if self.present == 0:
            return EMPTY
        if self.numeric_possible and self.numeric >= NUMERIC_FRACTION * self.present:
            return NUMERIC
        non_numeric = max(self.text_cells, 1)
        avg_len = self.text_chars / non_numeric
        avg_words = self.text_spaces / non_numeric + 1
        if avg_len >= 25 or avg_words >= 3:
            return TEXT
        if self.counter is not None:
            return CATEGORICAL
        return TEXT

    @property
    def mostly_numbers(self) -> bool:
        """Not numeric, yet more of its cells are numbers than not: a typo in a numeric column?"""
        return self.type != NUMERIC and bool(self.bad) and self.numeric > self.bad_count

    def bad_cell_text(self) -> str:
        """'\'x\' on line 7 (and 3 more such cells)' for the first non-numeric cell."""
        line, value = self.bad[0]
        more = self.bad_count - 1
        return f"{excerpt(value)} on line {line}" + (
            f" (and {more} more such cell{'s' if more > 1 else ''})" if more else "")

    def numeric_keys(self) -> dict[str, str]:
        """For a numeric column: raw cell -> canonical class name ('1.0' and '1' -> '1')."""
        out = {}
        for key in self.counter or {}:
            try:
                value = to_number(key, self.decimal)
            except ValueError:
                continue
            out[key] = _number_name(value)
        return out

    def categories(self) -> list[str]:
        """Distinct values, sorted (numerically for numeric columns); [] if too many."""
        if self.counter is None:
            return []
        if self.type == NUMERIC:
            names = {_number_name(to_number(k, self.decimal)) for k in self.counter if is_number(k, self.decimal)}
            return sorted(names, key=float)
        return sorted(self.counter)

    def category_counts(self) -> dict[str, int]:
        counts: Counter = Counter()
        if self.counter is None:
            return {}
        if self.type == NUMERIC:
            for key, n in self.counter.items():
                if is_number(key, self.decimal):
                    counts[_number_name(to_number(key, self.decimal))] += n
        else:
            counts.update(self.counter)
        return dict(counts)

    def info(self) -> ColumnInfo:
        kind = self.type
        numeric = kind == NUMERIC and self.numeric > 0 and self.minimum <= self.maximum
        return ColumnInfo(
            name=self.name,
            type=kind,
            missing=self.missing,
            distinct=len(self.category_counts()) if self.counter is not None else None,
            integer=kind == NUMERIC and self.integer,
            minimum=self.minimum if numeric else None,
            maximum=self.maximum if numeric else None,
            mean=self.total / self.finite if numeric and self.finite and math.isfinite(self.total) else None,
            categories=self.categories() if kind == CATEGORICAL else [],
            examples=list(self.examples),
            non_finite=self.nonfinite if kind == NUMERIC else 0,
        )


def _number_name(value: float) -> str:
    if math.isfinite(value) and value == round(value):
        return str(int(value))
    return repr(value)


@dataclass
class Scan:
    """The result of one pass over a file."""

    fmt: CsvFormat
    rows: int
    stats: list[ColumnStats]
    preview: list[list[str]]
    preview_lines: list[int]

    def stat(self, name: str) -> ColumnStats:
        return self.stats[self.fmt.names.index(name)]


def scan(fmt: CsvFormat, preview_rows: int = 50, chunk_rows: int = CHUNK_ROWS) -> Scan:
    """Read the whole file once, in chunks, collecting per-column statistics."""
    stats = [ColumnStats(name, decimal=fmt.decimal) for name in fmt.names]
    preview: list[list[str]] = []
    preview_lines: list[int] = []
    n_rows = 0
    for rows, lines in read_chunks(fmt, chunk_rows):
        n_rows += len(rows)
        if len(preview) < preview_rows:
            take = preview_rows - len(preview)
            preview.extend(rows[:take])
            preview_lines.extend(lines[:take])
        columns = list(zip(*rows))
        for stat, column in zip(stats, columns):
            stat.update(list(column), lines)
    if n_rows == 0:
        if fmt.header:
            raise DataError(f"{fmt.path}: the file has a header but no data rows")
        raise DataError(f"{fmt.path}: the file holds no data rows")
    return Scan(fmt=fmt, rows=n_rows, stats=stats, preview=preview, preview_lines=preview_lines)


def file_size(path: Path) -> int:
    return os.path.getsize(path)
