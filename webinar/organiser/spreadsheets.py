"""Rows written as CSV or XLSX so that no cell can ever run as a formula.

CSV has no cell types: Excel and LibreOffice decide what a cell is when they
open the file, and run anything that looks like a formula. So every CSV text
cell that could be read as one gets a leading apostrophe (see `csv_text`).
Checking 100,000 cells one by one would cost more than writing them, so the
CSV is written a chunk of rows at a time (`csv_chunks`): plain text is joined
into lines at once and the lines checked at once (`may_hold_risky_cell`);
only a chunk that may hold a risky cell, or anything but plain text, goes
through the csv module with every cell escaped.

XLSX does have types: a datetime or date is written as a real Excel date
(openpyxl gives it a date format), and a text cell that openpyxl would take
for a formula or an error code is written as an explicit string (`xlsx_value`), so no value is ever
a formula and text is kept exactly as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

#: control characters XML (and so XLSX) cannot hold; tab, LF and CR can stay
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: a cell that starts with a control character, or whose first visible character
#: starts a formula (= + - @, also in their full-width forms)
FORMULA_START = re.compile(r"[\x00-\x1f]|[\s\x00-\x1f]*[=+\-@\uff1d\uff0b\uff0d\uff20]")
#: the characters but control characters that FORMULA_START can begin with: the
#: formula signs and every character that str.isspace() takes for white space
RISKY_STARTS = (
    "=+-@\uff1d\uff0b\uff0d\uff20 \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: the bytes of the control characters that `clean_text` replaces
CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 13})
#: rows per piece of a CSV file
CSV_CHUNK_ROWS = 500
#: Excel's limit for the text in one cell
MAX_CELL_TEXT = 32767
#: first characters of the text that openpyxl would store as a formula (=) or an error code (#N/A)
XLSX_TYPED_STARTS = ("=", "#")
BOLD = Font(bold=True)

#: werkzeug adds "; charset=utf-8" to text types itself
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def clean_text(value: str) -> str:
    """The text with each control character but tab, LF and CR replaced by U+FFFD."""
    return CONTROL_CHARACTERS.sub("\ufffd", value)


def xlsx_text(value: str) -> str:
    """The text as XLSX can hold it: controls replaced, CR as LF (XML would do so anyway)."""
    if value.isprintable():
        return value[:MAX_CELL_TEXT]
    return clean_text(value.replace("\r\n", "\n").replace("\r", "\n"))[:MAX_CELL_TEXT]


def csv_text(value: str) -> str:
    """A CSV cell that no spreadsheet runs: a quote (') goes before a risky start.

    The rule (OWASP's, a little wider): the apostrophe is added when the text
    starts with a control character (tab, CR, LF, NUL, ...) or when its first
    character after any whitespace and control characters is =, +, - or @ (or
    a full-width ＝ ＋ － ＠). Control characters other than tab, LF and CR are
    then replaced by U+FFFD, as in XLSX, so a NUL never reaches the file.
    """
    if value[:1].isalnum() and value.isprintable():
        return value  # the common case, and safe: no risky start, no control character
    prefix = "'" if FORMULA_START.match(value) else ""
    return prefix + clean_text(value)


def csv_cell(value) -> str | int:
    """A value for the csv module: numbers as they are, None empty, text escaped."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return csv_text(str(value))


def byte_classes(delimiter: str) -> bytes:
    """A `bytes.translate` table that gives each byte of UTF-8 CSV its class, for `may_hold_risky_cell`.

    S: the delimiter and LF (a cell starts after them); Z: a control character
    that `clean_text` replaces; R: tab and the first byte of each character in
    RISKY_STARTS (other characters that start with the same byte get R too: a
    false alarm at worst); '.': any other byte.
    """
    table = bytearray(b"." * 256)
    for byte in {character.encode()[0] for character in RISKY_STARTS + "\t"}:
        table[byte] = ord("R")
    for byte in CONTROL_BYTES:
        table[byte] = ord("Z")
    table[ord(delimiter)] = table[ord("\n")] = ord("S")
    return bytes(table)


def may_hold_risky_cell(lines: bytes, classes: bytes) -> bool:
    """Whether `plain_lines` (no quotes, no CR or LF in a cell) may hold a cell that `csv_cell` would change.

    A cell starts at the beginning or after S, so one that starts with tab,
    white space or a formula sign shows as SR (or R first), and a control
    character anywhere as Z. Each test is one pass through the bytes, far
    cheaper than a look at every cell.
    """
    kinds = lines.translate(classes)
    return b"Z" in kinds or b"SR" in kinds or kinds.startswith(b"R")


def plain_lines(rows: Sequence[Sequence], delimiter: str) -> str | None:
    """The rows as CSV lines, if every cell is text that needs no quotes; else None.

    Text without the delimiter, a quote, CR or LF is written by the csv module
    as it is, so such a line is its cells joined by the delimiter. Joining is
    many times faster than the csv module's look at every character, and the
    counts of delimiters and line ends show whether a cell held one.
    """
    try:
        text = "\r\n".join(map(delimiter.join, rows)) + "\r\n"
    except TypeError:  # a number or None: for the csv module
        return None
    lengths = list(map(len, rows))
    if (min(lengths) < 2  # the csv module writes a lone empty cell as ""
            or text.count(delimiter) != sum(lengths) - len(rows)
            or text.count("\n") != len(rows) or text.count("\r") != len(rows) or '"' in text):
        return None
    return text


def csv_chunks(rows: Iterable[Sequence], delimiter: str = ";") -> Iterator[bytes]:
    """The CSV file in pieces: UTF-8 with a BOM (so Excel reads the accents), CRLF line ends, every cell escaped.

    Each chunk of CSV_CHUNK_ROWS rows is written as `plain_lines` when it
    can be and `may_hold_risky_cell` finds no cell that needs escaping; any
    other chunk is written by the csv module with `csv_cell` on every cell.
    Either way the file is what the csv module writes with `csv_cell` on
    every cell.
    """
    classes = byte_classes(delimiter)
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    yield "\ufeff".encode()
    rows = iter(rows)
    while chunk := list(islice(rows, CSV_CHUNK_ROWS)):
        lines = plain_lines(chunk, delimiter)
        if lines is not None:
            data = lines.encode()
            if not may_hold_risky_cell(data, classes):
                yield data
                continue
        text.seek(0)
        text.truncate()
        writer.writerows([csv_cell(value) for value in row] for row in chunk)
        yield text.getvalue().encode()


def write_csv(rows: Iterable[Sequence], delimiter: str = ";") -> bytes:
    """The whole CSV file of `csv_chunks` as bytes."""
    return b"".join(csv_chunks(rows, delimiter))


@dataclass
class Sheet:
    """One worksheet: a title, a header row, the rows and column widths."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence]
    #: in characters, per column from the first
    widths: Sequence[int] = field(default_factory=tuple)


def xlsx_cell(sheet, value, font: Font | None = None) -> WriteOnlyCell | None:
    """A cell typed as number or string, whatever the text: never a formula or error."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "n"
    else:
        # openpyxl would type "=..." as a formula and "#N/A" as an error: force text.
        cell = WriteOnlyCell(sheet, xlsx_text(str(value)))
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def xlsx_value(sheet, value):
    """What to append for a value: as it is where openpyxl types it right, else `xlsx_cell`.

    openpyxl writes a number as a number and plain text as text by itself,
    faster than through a cell of ours; text that could read as a formula or
    error code, or holds a control character, gets an explicit text cell.
    """
    if value.__class__ is str:
        if value.isprintable() and not value.startswith(XLSX_TYPED_STARTS):
            return value or None
    elif value is None or value.__class__ in (int, float, datetime, date):
        return value  # a datetime (naive, local time) or date becomes an Excel date
    return xlsx_cell(sheet, value)


def _write_sheet(workbook: Workbook, sheet: Sheet) -> None:
    """The sheet with its widths, the header frozen, and an autofilter over the header and every row."""
    worksheet = workbook.create_sheet(sheet.title)
    rows = sheet.rows if isinstance(sheet.rows, Sequence) else list(sheet.rows)
    columns = max([len(sheet.header), *map(len, rows)])
    worksheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{len(rows) + 1}"
    for number, width in enumerate(sheet.widths, start=1):
        worksheet.column_dimensions[get_column_letter(number)].width = width
    worksheet.freeze_panes = "A2"
    worksheet.append([xlsx_cell(worksheet, value, BOLD) for value in sheet.header])
    for row in rows:
        worksheet.append([xlsx_value(worksheet, value) for value in row])


def write_xlsx(sheets: Iterable[Sheet]) -> bytes:
    """A workbook written row by row (openpyxl's write-only mode), as bytes."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(workbook, sheet)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()
