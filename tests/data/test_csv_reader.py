"""The chunked CSV reader: sniffing, bad files named with their line, and a property test
against Python's csv module on random tables."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.core.errors import DataError
from studio.data import csvreader
from studio.data.info import CATEGORICAL, EMPTY, NUMERIC, TEXT
from tests.data.conftest import write


def read_all(path, **kw):
    fmt = csvreader.sniff(path, **kw)
    rows = []
    for chunk, _ in csvreader.read_chunks(fmt, chunk_rows=3):
        rows.extend(chunk)
    return fmt, rows


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_and_header_are_sniffed(tmp_path, delimiter):
    text = delimiter.join(["a", "b", "c"]) + "\n" + "\n".join(
        delimiter.join([str(i), str(i * 2.5), "x"]) for i in range(6)) + "\n"
    fmt, rows = read_all(write(tmp_path / "t.csv", text))
    assert fmt.delimiter == delimiter and fmt.header and fmt.names == ["a", "b", "c"]
    assert len(rows) == 6 and rows[1] == ["1", "2.5", "x"]


def test_utf8_bom_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffname,value\nä,1\nö,2\n".encode())
    fmt, rows = read_all(path)
    assert fmt.names == ["name", "value"] and rows[0] == ["ä", "1"]


def test_no_header_when_the_first_row_is_data(tmp_path):
    fmt, rows = read_all(write(tmp_path / "n.csv", "1,2,a\n3,4,b\n5,6,a\n"))
    assert not fmt.header and fmt.names == ["column_1", "column_2", "column_3"] and len(rows) == 3


def test_all_text_table_header_is_found_when_names_do_not_repeat(tmp_path):
    fmt, _ = read_all(write(tmp_path / "t.csv", "text,label\nhello there,a\nbye now,b\nhi,a\n"))
    assert fmt.header
    fmt, _ = read_all(write(tmp_path / "u.csv", "a,x\nb,x\nc,x\n"))
    assert not fmt.header


def test_quoted_fields_with_delimiters_and_newlines(tmp_path):
    fmt, rows = read_all(write(tmp_path / "q.csv", 'id,text\n1,"a, b"\n2,"two\nlines"\n3,"say ""hi"""\n'))
    assert [r[1] for r in rows] == ["a, b", "two\nlines", 'say "hi"']


def test_blank_and_duplicate_header_names_are_renamed(tmp_path):
    fmt, _ = read_all(write(tmp_path / "h.csv", "a,,a\n1,2,3\n4,5,6\n"))
    assert fmt.names == ["a", "column_2", "a_2"] and len(fmt.renamed) == 2


@pytest.mark.parametrize("content, words", [
    (b"", ["empty", "0 bytes"]),
    (b"\n\n  \n", ["no data"]),
    (b"a,b\n", ["header but no data rows"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", ["not a text file", "a PNG image"]),
    (b"PK\x03\x04rest-of-a-zip", ["spreadsheet", "CSV"]),
    (b"a,b\n1,2\n3,\xff\xfe\n", ["line 3", "UTF-8"]),
])
def test_bad_files_raise_one_clear_line(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        csvreader.scan(csvreader.sniff(path))
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    for word in words:
        assert word.replace("line ", ":") in message or word in message


def test_ragged_row_names_the_line(tmp_path):
    path = write(tmp_path / "r.csv", "a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n")
    with pytest.raises(DataError, match=r"r\.csv:4: the row has 2 fields but the header has 3"):
        csvreader.scan(csvreader.sniff(path))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        csvreader.sniff(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        csvreader.sniff(tmp_path)


def test_column_types_and_statistics(tmp_path):
    lines = ["num,int,cat,words,empty"]
    for i in range(40):
        lines.append(f"{i * 0.5},{i % 3},{'red' if i % 2 else 'blue'},the quick brown fox number {i},")
    lines.append("NA,1,red,short text here ok,")
    scan = csvreader.scan(csvreader.sniff(write(tmp_path / "c.csv", "\n".join(lines) + "\n")))
    stats = {s.name: s for s in scan.stats}
    assert stats["num"].type == NUMERIC and stats["num"].missing == 1 and stats["num"].missing_lines == [42]
    assert stats["num"].info().maximum == 19.5
    assert stats["int"].type == NUMERIC and stats["int"].integer and stats["int"].categories() == ["0", "1", "2"]
    assert stats["cat"].type == CATEGORICAL and stats["cat"].categories() == ["blue", "red"]
    assert stats["words"].type == TEXT
    assert stats["empty"].type == EMPTY


def test_non_numeric_cells_in_a_numeric_column_are_located(tmp_path):
    lines = ["x,y"] + [f"{i},{i}" for i in range(100)]
    lines[51] = "50,abc"
    scan = csvreader.scan(csvreader.sniff(write(tmp_path / "n.csv", "\n".join(lines) + "\n")))
    y = scan.stat("y")
    assert y.type == NUMERIC and y.bad == [(52, "abc")] and y.bad_count == 1


# --- property: the reader gives back exactly what csv.writer wrote --------------------------
cells = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12),
    st.sampled_from(["", "NA", "1.5", "-3", "é", "a,b", 'q"uote', "line\nbreak", "  spaced  "]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10**6, 10**6).map(str),
)


@given(
    table=st.integers(2, 6).flatmap(lambda w: st.lists(st.lists(cells, min_size=w, max_size=w), min_size=1,
                                                         max_size=25)),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    bom=st.booleans(),
)
def test_reader_round_trips_csv_module_tables(tmp_path, table, delimiter, quoting, bom):
    width = len(table[0])
    names = [f"col{i}" for i in range(width)]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(table)
    path = tmp_path / "p.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8"))
    fmt = csvreader.sniff(path, delimiter=delimiter, header=True)
    got, got_lines = [], []
    for chunk, lines in csvreader.read_chunks(fmt, chunk_rows=7):
        got.extend(chunk)
        got_lines.extend(lines)
    # Python's csv module read back the same text: the reference, with the line each record starts on
    # (what error messages name; a quoted field may span lines).
    reader = csv.reader(io.StringIO(buf.getvalue()), delimiter=delimiter)
    next(reader)
    reference, reference_lines = [], []
    start = reader.line_num + 1
    for r in reader:
        if r and not (len(r) == 1 and not r[0].strip()):
            reference.append(r)
            reference_lines.append(start)
        start = reader.line_num + 1
    assert fmt.names == names
    assert got == reference
    assert got_lines == reference_lines
    scan = csvreader.scan(fmt)
    assert scan.rows == len(reference)
    for j, stat in enumerate(scan.stats):
        column = [r[j] for r in reference]
        assert stat.missing == sum(v in csvreader.MISSING_TOKENS for v in column)


@given(table=st.lists(st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 4),
                                st.sampled_from(["x", "y", "zz"])), min_size=3, max_size=30),
       delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_delimiter_is_sniffed_on_numeric_tables(tmp_path, table, delimiter):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["value", "count", "group"])
    writer.writerows(table)
    path = tmp_path / "s.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    fmt = csvreader.sniff(path)
    assert fmt.delimiter == delimiter and fmt.header
    scan = csvreader.scan(fmt)
    assert scan.stat("value").type == NUMERIC
    assert abs(scan.stat("value").info().maximum - max(r[0] for r in table)) < 1e-6 * max(1, abs(max(r[0] for r in table)))


def test_numbers_near_the_float_limit_do_not_break_the_statistics(tmp_path):
    scan = csvreader.scan(csvreader.sniff(write(tmp_path / "big.csv", "a,b\n1.7e308,1\n1.7e308,2\n3e38,3\n")))
    info = scan.stat("a").info()
    # 1.7e308 is infinite once read as float32 (what a model trains on): counted as such, left out of
    # the statistics; 3e38 still fits.
    assert info.type == NUMERIC and info.non_finite == 2 and info.maximum == 3e38 and info.mean == 3e38
