"""Rows written as CSV or XLSX so that no cell can ever run as a formula.

CSV has no cell types: Excel and LibreOffice decide what a cell is when they
open the file, and run anything that looks like a formula. So every CSV text
cell that could be read as one gets a leading apostrophe (see `csv_text`).
Checking 100,000 cells one by one would cost more than writing them, so the
CSV is written a chunk of rows at a time and the written text is checked
(`csv_chunks`); only a chunk that may hold a risky cell is written again with
every cell escaped.

XLSX does have types: a text cell that openpyxl would take for a formula or an
error code is written as an explicit string (`xlsx_value`), so no value is ever
a formula and text is kept exactly as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
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
#: in CSV as written: a cell (after `^` or a delimiter or LF, maybe quoted) that
#: starts like FORMULA_START, given that no control but tab, LF and CR is in the text
RISKY_CELL = r'(?:"?\s*[=+\-@\uff1d\uff0b\uff0d\uff20]|"?\t|"[\r\n])'
#: the bytes of the control characters that `clean_text` replaces
CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 13})
#: rows per piece of a CSV file
CSV_CHUNK_ROWS = 1000
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


def _risky_cell_patterns(delimiter: str) -> tuple[re.Pattern, re.Pattern]:
    """RISKY_CELL at the start of a text, and after a delimiter or LF."""
    return re.compile(RISKY_CELL), re.compile(f"[{re.escape(delimiter)}\n]{RISKY_CELL}")


def csv_chunks(rows: Iterable[Sequence], delimiter: str = ";") -> Iterator[bytes]:
    """The CSV file in pieces: UTF-8 with a BOM (so Excel reads the accents), CRLF line ends, every cell escaped.

    Each chunk of rows is first written as it is. The written text is safe
    when it holds no control character but tab, LF and CR, and no cell start
    matches RISKY_CELL: every cell then reads as `csv_text` would leave it.
    A chunk that fails the check (a hit may also be a false alarm, such as
    '=' after a delimiter inside a quoted cell) is written again with every
    cell escaped, so the file is always what `csv_cell` on each cell gives.
    """
    first, after = _risky_cell_patterns(delimiter)
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    yield "\ufeff".encode()
    rows = iter(rows)
    while chunk := list(islice(rows, CSV_CHUNK_ROWS)):
        text.seek(0)
        text.truncate()
        writer.writerows(chunk)
        written = text.getvalue()
        data = written.encode()
        if len(data.translate(None, CONTROL_BYTES)) < len(data) or first.match(written) or after.search(written):
            text.seek(0)
            text.truncate()
            writer.writerows([csv_cell(value) for value in row] for row in chunk)
            data = text.getvalue().encode()
        yield data


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
    elif value is None or value.__class__ in (int, float):
        return value
    return xlsx_cell(sheet, value)


def _write_sheet(workbook: Workbook, sheet: Sheet) -> None:
    worksheet = workbook.create_sheet(sheet.title)
    for number, width in enumerate(sheet.widths, start=1):
        worksheet.column_dimensions[get_column_letter(number)].width = width
    worksheet.freeze_panes = "A2"
    worksheet.append([xlsx_cell(worksheet, value, BOLD) for value in sheet.header])
    for row in sheet.rows:
        worksheet.append([xlsx_value(worksheet, value) for value in row])


def write_xlsx(sheets: Iterable[Sheet]) -> bytes:
    """A workbook written row by row (openpyxl's write-only mode), as bytes."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(workbook, sheet)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()
