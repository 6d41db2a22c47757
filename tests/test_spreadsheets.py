"""The spreadsheet writers on their own: the fast CSV path against escaping every cell, XLSX cell types, times."""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from webinar.organiser import spreadsheets
from webinar.organiser.exports import MomentText, moment_text
from webinar.organiser.spreadsheets import (
    RISKY_STARTS, byte_classes, csv_cell, csv_chunks, may_hold_risky_cell, write_csv, xlsx_value,
)

#: characters that matter to CSV quoting and escaping, and some plain ones
TRICKY = "=+-@;,\"'\t\r\n \x00\x07\x0b\x1f\x85\xa0\u2003\u3000\uff1d\uff20aZ1é€"


def escaped_every_cell(rows, delimiter=";") -> bytes:
    """The CSV the exports promise: the csv module with `csv_cell` on every cell, with a BOM."""
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(
        [csv_cell(value) for value in row] for row in rows)
    return "\ufeff".encode() + text.getvalue().encode()


cells = st.one_of(st.text(alphabet=TRICKY, max_size=6), st.sampled_from(["Anna", "OBS De Linde", "", "=1+1"]),
                  st.none(), st.integers(-5, 5), st.floats(-2, 2, allow_nan=False))
texts = st.one_of(st.text(alphabet=TRICKY, max_size=6), st.sampled_from(["Anna", "van den", "", "01-05-2027 12:00"]))


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.lists(cells, min_size=1, max_size=4), max_size=8), delimiter=st.sampled_from([";", ","]))
@example(rows=[[""]], delimiter=";")
@example(rows=[["a", " =1"], ["\r=1", "b"]], delimiter=";")
def test_csv_is_every_cell_escaped_whatever_the_cells(rows, delimiter):
    assert write_csv(rows, delimiter) == escaped_every_cell(rows, delimiter)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(texts, min_size=2, max_size=2).map(lambda pair: ["Anna", *pair]), max_size=12),
       delimiter=st.sampled_from([";", ","]))
def test_csv_of_text_only_rows_in_small_chunks_is_every_cell_escaped(monkeypatch, rows, delimiter):
    # Text-only rows of equal length take the joined-lines path; small chunks mix it with the csv module's.
    monkeypatch.setattr(spreadsheets, "CSV_CHUNK_ROWS", 3)
    assert write_csv(rows, delimiter) == escaped_every_cell(rows, delimiter)


def test_a_risky_cell_deep_in_a_long_file_is_escaped_and_the_rest_left_alone():
    rows = [["Voornaam", "Achternaam"]] + [[f"Anna {n}", f"Berg {n}"] for n in range(1, 2001)]
    rows[1234][1] = "=HYPERLINK(\"http://x.example\")"
    rows[1999][0] = "\t-1"
    data = write_csv(rows)
    lines = data.decode("utf-8-sig").split("\r\n")
    assert len(lines) == 2002 and lines[-1] == ""
    assert lines[1234] == "Anna 1234;\"'=HYPERLINK(\"\"http://x.example\"\")\""
    assert lines[1999] == "'\t-1;Berg 1999"
    assert lines[1998] == "Anna 1998;Berg 1998"
    assert data == escaped_every_cell(rows)


def test_csv_comes_in_pieces_that_start_with_the_bom():
    rows = [["a", "b"]] * (2 * spreadsheets.CSV_CHUNK_ROWS + 1)
    pieces = list(csv_chunks(rows))
    assert pieces[0] == b"\xef\xbb\xbf"
    assert [piece.count(b"\r\n") for piece in pieces[1:]] == [spreadsheets.CSV_CHUNK_ROWS] * 2 + [1]


def test_every_character_that_may_start_a_formula_is_a_risky_start():
    # FORMULA_START allows any white space before a formula sign: every such character must be
    # listed, or a cell such as '\u2003=1' could pass the check on the written bytes.
    white = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace() and code >= 32}
    assert white | set("=+-@\uff1d\uff0b\uff0d\uff20") == set(RISKY_STARTS)
    classes = byte_classes(";")
    for character in RISKY_STARTS + "\t":
        assert classes[character.encode()[0]] == ord("R"), repr(character)


@pytest.mark.parametrize("line, risky", [
    ("Anna;Berg\r\n", False),
    ("Anna;;\r\n", False),  # empty last cells
    ("Anna;a=b;x-y@z\r\n", False),
    ("=1;Berg\r\n", True),
    ("Anna;+31 6\r\n", True),
    ("Anna;\t=1\r\n", True),
    ("Anna; =1\r\n", True),  # a false alarm at worst: ' Berg' would be flagged too
    ("Anna;\u2003=1\r\n", True),
    ("Anna;\uff1d1\r\n", True),
    ("Anna;B\x00rg\r\n", True),
    ("Anna;Berg\r\nBram;@x\r\n", True),
])
def test_the_check_on_plain_lines(line, risky):
    assert may_hold_risky_cell(line.encode(), byte_classes(";")) is risky


def test_xlsx_values_that_openpyxl_would_type_wrongly_become_text_cells():
    sheet = Workbook(write_only=True).create_sheet("Blad")
    assert xlsx_value(sheet, "Anna") == "Anna"
    assert xlsx_value(sheet, 70) == 70
    assert xlsx_value(sheet, 1.5) == 1.5
    assert xlsx_value(sheet, "") is None
    assert xlsx_value(sheet, None) is None
    for value, text in [("=1+1", "=1+1"), ("#N/A", "#N/A"), ("a\rb", "a\nb"), ("\x00", "\ufffd"), (True, "True")]:
        cell = xlsx_value(sheet, value)
        assert (cell.value, cell.data_type) == (text, "s")


def test_moment_text_from_utc_text_is_moment_text_around_the_clock_changes():
    moment = MomentText()
    for start in (datetime(2027, 3, 28, 0, 0), datetime(2027, 10, 31, 0, 0), datetime(2026, 12, 31, 22, 0)):
        for minutes in range(0, 180, 7):
            utc = start + timedelta(minutes=minutes)
            expected = moment_text(utc.replace(tzinfo=timezone.utc))
            assert moment(utc.strftime("%Y-%m-%d %H:%M")) == expected
            assert moment(utc.strftime("%Y-%m-%d %H:%M:%S.%f")) == expected  # as SQLite keeps it
    assert moment(None) == moment("") == ""


def test_moment_text_is_exact_when_the_offset_was_no_whole_hour():
    # Until 1937 Amsterdam's winter time was 19 minutes 32 seconds ahead of UTC.
    moment = MomentText()
    assert moment("1930-01-15 12:34") == moment_text(datetime(1930, 1, 15, 12, 34, tzinfo=timezone.utc)) == (
        "15-01-1930 12:53")
