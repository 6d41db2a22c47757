"""Rows written as CSV or XLSX so that no cell can ever run as a formula.

CSV has no cell types: Excel and LibreOffice decide what a cell is when they
open the file, and run anything that looks like a formula. So every CSV text
cell that could be read as one gets a leading apostrophe (see `csv_text`).
XLSX does have types: every cell is written as an explicit string or number,
so no value is ever a formula and text is kept exactly as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

#: control characters XML (and so XLSX) cannot hold; tab, LF and CR can stay
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: a cell that starts with a control character, or whose first visible character
#: starts a formula (= + - @, also in their full-width forms)
FORMULA_START = re.compile(r"[\x00-\x1f]|[\s\x00-\x1f]*[=+\-@\uff1d\uff0b\uff0d\uff20]")
#: Excel's limit for the text in one cell
MAX_CELL_TEXT = 32767
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


def write_csv(rows: Iterable[Sequence], delimiter: str = ";") -> bytes:
    """UTF-8 with a BOM (so Excel reads the accents), CRLF line ends, every cell escaped."""
    stream = io.BytesIO()
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    text.flush()
    text.detach()
    return stream.getvalue()


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


def _write_sheet(workbook: Workbook, sheet: Sheet) -> None:
    worksheet = workbook.create_sheet(sheet.title)
    for number, width in enumerate(sheet.widths, start=1):
        worksheet.column_dimensions[get_column_letter(number)].width = width
    worksheet.freeze_panes = "A2"
    worksheet.append([xlsx_cell(worksheet, value, BOLD) for value in sheet.header])
    for row in sheet.rows:
        worksheet.append([xlsx_cell(worksheet, value) for value in row])


def write_xlsx(sheets: Iterable[Sheet]) -> bytes:
    """A workbook written row by row (openpyxl's write-only mode), as bytes."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(workbook, sheet)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()
