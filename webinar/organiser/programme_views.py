"""The programme overview page (/organiser/programma) and its exports as XLSX (a sheet per view) and CSV.

The CSV is one long table that files of several periods stack into: each row
is one figure, `Van;Tot;Overzicht;Waarde;Telling;Aantal` (e.g. "rol;
Schoolleider;deelgenomen;12"), ready for a pivot table. Both are written by
the formula-safe writers of `spreadsheets`, with numbers as numbers, and
audited before they leave.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import render_template, request
from flask_login import current_user

from ..audit import audit
from ..database import utcnow
from ..dutch import local
from ..extensions import db
from ..registration.models import SECTORS, UNKNOWN_SECTOR
from . import bp
from .charts import bars
from .exports import DELIMITERS, attachment
from .programme import MEASURES, PeriodError, Programme, period_from_args, programme
from .spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, Sheet, csv_chunks, write_xlsx
from .roles import EXPORT, PROGRAMME_VIEW, requires

MEASURE_HEADINGS = [heading for _, heading in MEASURES]
CSV_COLUMNS = ["Van", "Tot", "Overzicht", "Waarde", "Telling", "Aantal"]
ORGANISATION_COLUMNS = ["Organisatie", "Sleutel", "BRIN", "Soort organisatie", "Sector"]


def _figures():
    """The period of the request's arguments and its figures, or the page with the Dutch message (422)."""
    try:
        period = period_from_args(request.args, local(utcnow()).date())
    except PeriodError as error:
        page = render_template("organiser/programme.html", error=str(error), args=request.args, figures=None)
        return None, (page, 422)
    return programme(period), None


@bp.get("/programma")
@requires(PROGRAMME_VIEW)
def programme_overview():
    """Figures across the meetings of a period: by role, organisation type, sector and organisation."""
    figures, refused = _figures()
    if refused:
        return refused
    charts = {name: bars([(label, counts["aangemeld"]) for label, counts in rows])
              for name, rows in (("role", figures.by_role), ("type", figures.by_type), ("sector", figures.by_sector))}
    return render_template("organiser/programme.html", figures=figures, charts=charts, error=None,
                           args=figures.period.as_args(), measures=MEASURE_HEADINGS,
                           sector_label=lambda key: SECTORS.get(key, UNKNOWN_SECTOR))


def organisation_cells(group) -> list[str]:
    """Name, key, BRIN, type and sector of an organisation, as in ORGANISATION_COLUMNS."""
    return [group.name, group.key, group.brin, group.type_label, SECTORS.get(group.sector, UNKNOWN_SECTOR)]


def sheets(figures: Programme) -> list[Sheet]:
    """One sheet per view of the overview."""
    period = figures.period
    count_widths = [12] * len(MEASURES)
    events = [[f.event.title, local(f.event.starts_at).replace(tzinfo=None), *f.counts.row(), f.minimum,
               "ja" if f.event.personal_data_purged_at else "nee"] for f in figures.events]
    return [
        Sheet("Totalen", ["Van", "Tot", "Bijeenkomsten", *MEASURE_HEADINGS, "Ondersteuningsaanvragen",
                          "Bijeenkomsten zonder persoonsgegevens"],
              [[period.start, period.end, len(figures.events), *figures.totals.row(), figures.support_requests,
                len(figures.purged)]], [11, 11, 14, *count_widths, 24, 36]),
        Sheet("Bijeenkomsten", ["Bijeenkomst", "Datum", *MEASURE_HEADINGS, "Minimum (minuten)",
                                "Persoonsgegevens verwijderd"], events, [36, 17, *count_widths, 18, 26]),
        *(Sheet(title, [heading, *MEASURE_HEADINGS], [[label, *counts.row()] for label, counts in rows],
                [28, *count_widths])
          for title, heading, rows in (("Per rol", "Rol", figures.by_role),
                                       ("Per soort organisatie", "Soort organisatie", figures.by_type),
                                       ("Per sector", "Sector", figures.by_sector))),
        Sheet("Per organisatie", [*ORGANISATION_COLUMNS, *MEASURE_HEADINGS, "Ondersteuningsaanvragen"],
              [[*organisation_cells(group), *counts.row(), len(group.support_request_ids)]
               for group, counts in figures.by_organisation], [32, 28, 8, 20, 24, *count_widths, 24]),
        Sheet("Terugkerend", ["Bijeenkomsten bijgewoond", "Personen"],
              [[meetings, people] for meetings, people in figures.repeat], [26, 10]),
        Sheet("Ook ondersteuning", [*ORGANISATION_COLUMNS, "Deelgenomen", "Ondersteuningsaanvragen"],
              [[*organisation_cells(group), counts["deelgenomen"], len(group.support_request_ids)]
               for group, counts in figures.both], [32, 28, 8, 20, 24, 12, 24]),
        Sheet("Geannuleerd", ["Bijeenkomst", "Datum", "Aanmeldingen"],
              [[event.title, local(event.starts_at).replace(tzinfo=None), count]
               for event, count in figures.cancelled], [36, 17, 13]),
    ]


def csv_rows(figures: Programme) -> Iterator[list]:
    """Each figure of the overview as (from, to, view, label, measure, count)."""
    head = [f"{figures.period.start:%d-%m-%Y}", f"{figures.period.end:%d-%m-%Y}"]
    yield from ([*head, "totaal", "alle bijeenkomsten", key, value]
                for (key, _), value in zip(MEASURES, figures.totals.row()))
    yield [*head, "totaal", "alle bijeenkomsten", "ondersteuningsaanvragen", figures.support_requests]
    for f in figures.events:
        label = f"{f.event.title} ({local(f.event.starts_at):%d-%m-%Y})"
        yield from ([*head, "bijeenkomst", label, key, value] for (key, _), value in zip(MEASURES, f.counts.row()))
    for view, rows in (("rol", figures.by_role), ("soort organisatie", figures.by_type),
                       ("sector", figures.by_sector),
                       ("organisatie", [(group.name, counts) for group, counts in figures.by_organisation])):
        for label, counts in rows:
            yield from ([*head, view, label, key, value] for (key, _), value in zip(MEASURES, counts.row()))
    for group, _ in figures.by_organisation:
        if group.support_request_ids:
            yield [*head, "organisatie", group.name, "ondersteuningsaanvragen", len(group.support_request_ids)]
    for meetings, people in figures.repeat:
        yield [*head, "terugkerend", f"{meetings} bijeenkomsten", "personen", people]
    for group, counts in figures.both:
        yield [*head, "ook ondersteuning", group.name, "deelgenomen", counts["deelgenomen"]]
    for event, count in figures.cancelled:
        yield [*head, "geannuleerd", f"{event.title} ({local(event.starts_at):%d-%m-%Y})", "aanmeldingen", count]


def _send(extension: str):
    """The overview as a download, audited first; bad dates get the page with the message."""
    figures, refused = _figures()
    if refused:
        return refused
    if extension == "csv":
        rows = [CSV_COLUMNS, *csv_rows(figures)]
        delimiter = DELIMITERS.get(request.args.get("scheidingsteken", ""), ";")
        body, mimetype, count = b"".join(csv_chunks(rows, delimiter)), CSV_MIMETYPE, len(rows) - 1
    else:
        workbook = sheets(figures)
        body, mimetype, count = write_xlsx(workbook), XLSX_MIMETYPE, sum(len(sheet.rows) for sheet in workbook)
    period = figures.period
    audit(current_user, f"export.{extension}",
          f"Programma-overzicht {period.text()} geëxporteerd ({extension.upper()}, {count} {'rij' if count == 1 else 'rijen'})")
    db.session.commit()
    return attachment(body, mimetype, f"programma-{period.start.isoformat()}-{period.end.isoformat()}.{extension}")


@bp.get("/programma.xlsx")
@requires(PROGRAMME_VIEW, EXPORT)
def programme_xlsx():
    """The overview as XLSX, a sheet per view."""
    return _send("xlsx")


@bp.get("/programma.csv")
@requires(PROGRAMME_VIEW, EXPORT)
def programme_csv():
    """The overview as one CSV of figures."""
    return _send("csv")
