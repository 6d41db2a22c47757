"""Support requests in the organiser area: the list with filters, one request, the exports."""

from __future__ import annotations

from collections import Counter
from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice
from sqlalchemy.orm import selectinload

from ..audit import audit
from ..database import utcnow
from ..dutch import local
from ..extensions import db
from ..mailing.models import OutgoingMail
from ..organiser.exports import DELIMITERS, moment_text
from ..organiser.roles import EXPORT, SUPPORT_EDIT, SUPPORT_VIEW, requires
from ..organiser.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, Sheet, write_csv, write_xlsx
from . import organiser_bp as bp
from .forms import SupportUpdateForm
from .models import REASONS, SECTORS, STATUS_LABELS, SupportRequest, SupportStatus
from .services import SupportFilters, requests_query, update_request

PER_PAGE = 50
EXPORT_COLUMNS = [
    "Aanvraag", "Ontvangen op", "Status", "Nog beoordelen", "Adviseur", "Aanvrager", "Functie",
    "E-mailadres", "Telefoon", "Bestuur", "School", "BRIN", "Sector", "Doelgroep", "Datum oordeel",
    "Risico", "Dagdelen", "Eigen bijdrage excl. btw", "Btw", "Eigen bijdrage incl. btw", "Hulp bij",
    "Vraag", "Notities",
]
EXPORT_WIDTHS = [10, 17, 18, 14, 20, 24, 20, 30, 14, 28, 28, 8, 10, 30, 13, 40, 9, 14, 10, 14, 50, 50, 40]


def _page_number() -> int:
    value = request.args.get("pagina", "1")
    return max(int(value), 1) if value.isdigit() else 1


@bp.get("/ondersteuning")
@requires(SUPPORT_VIEW)
def support_requests():
    """Support requests, newest first, filtered by status, sector and target-group reason."""
    filters = SupportFilters.from_args(request.args)
    query = requests_query(filters).options(selectinload(SupportRequest.schools))
    page = db.paginate(query, page=_page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("support/organiser_list.html", page=page, filters=filters,
                           statuses=STATUS_LABELS, sectors=SECTORS, reasons=REASONS)


def _update_form(found: SupportRequest) -> SupportUpdateForm:
    form = SupportUpdateForm(obj=None if request.method == "POST" else found)
    form.status.choices = [SelectChoice(status.value, label) for status, label in STATUS_LABELS.items()]
    form.current_status = found.status.value
    if request.method == "GET":
        form.status.data = found.status.value
        form.status_note.data = ""  # a note goes with one status e-mail, never again
    return form


@bp.get("/ondersteuning/<int:request_id>")
@requires(SUPPORT_VIEW)
def support_detail(request_id: int):
    """One request: everything filled in, the estimate, the e-mails, and the form to handle it."""
    found = db.get_or_404(SupportRequest, request_id)
    return _detail_page(found, _update_form(found))


@bp.post("/ondersteuning/<int:request_id>")
@requires(SUPPORT_VIEW, SUPPORT_EDIT)
def support_update(request_id: int):
    """Change a request's status, adviser or notes; the requester is told when the form says so."""
    found = db.get_or_404(SupportRequest, request_id)
    form = _update_form(found)
    if not form.validate_on_submit():
        return _detail_page(found, form)
    if form.status.data not in {status.value for status in SupportStatus}:
        abort(400)
    changes = update_request(found, SupportStatus(form.status.data), form.adviser.data or "",
                             form.notes.data or "", form.inform.data, utcnow(), form.status_note.data or "")
    if changes:
        audit(current_user, "support.update", f"Aanvraag {found.id} van {found.organisation}: " + "; ".join(changes))
    db.session.commit()
    flash("De wijzigingen zijn opgeslagen." if changes else "Er was niets gewijzigd.", "success")
    return redirect(url_for(".support_detail", request_id=found.id))


def _detail_page(found: SupportRequest, form: SupportUpdateForm):
    mails = db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.support_request_id == found.id).order_by(OutgoingMail.id)
    ).all()
    status = 422 if form.errors else 200
    return render_template("support/organiser_detail.html", item=found, form=form, mails=mails), status


def export_rows(found: list[SupportRequest], money, xlsx: bool = False) -> list[list]:
    """One row per school; `money` writes an amount in cents for the file type. In XLSX the moments
    are Excel dates (Amsterdam time), in CSV text."""
    rows = []
    for item in found:
        costs = item.estimate
        received = local(item.created_at).replace(tzinfo=None) if xlsx else moment_text(item.created_at)
        for school, cost in zip(item.schools, costs.schools):
            judged = school.judgement_date
            rows.append([
                item.id, received, item.status_label, "ja" if item.needs_review else "nee",
                item.adviser, item.requester_name, item.requester_position, item.requester_email,
                item.requester_phone, item.board_name, school.name, school.brin, school.sector.replace("_", "/"),
                school.reason_label, (judged if xlsx else judged.strftime("%d-%m-%Y")) if judged else "",
                school.risk_description, school.half_days, money(cost.school_cents),
                money(cost.school_vat_cents), money(cost.school_incl_cents), "; ".join(item.help_labels),
                item.help_text, item.notes,
            ])
    return rows


def export_summary(found: list[SupportRequest], described: str) -> Sheet:
    """The XLSX's second sheet: requests, schools, half-days and contributions per status, and the
    schools per sector and per target-group reason, each split by status."""
    labels = list(STATUS_LABELS.values())
    requests, schools, half_days, cents = Counter(), Counter(), Counter(), Counter()
    sectors, reasons = Counter(), Counter()
    for item in found:
        status = item.status_label
        requests[status] += 1
        for school, cost in zip(item.schools, item.estimate.schools):
            schools[status] += 1
            half_days[status] += school.half_days or 0
            cents[status] += cost.school_incl_cents
            sectors[school.sector.replace("_", "/"), status] += 1
            reasons[school.reason_label, status] += 1
    lines = [["Filters", described], ["Aantal aanvragen", len(found)], ["Aantal scholen", sum(schools.values())],
             [], ["Status", "Aanvragen", "Scholen", "Dagdelen", "Eigen bijdrage incl. btw"]]
    lines += [[label, requests[label], schools[label], half_days[label], cents[label] / 100] for label in labels]
    for title, counts in (("Sector", sectors), ("Doelgroep", reasons)):
        names = sorted({name for name, _ in counts}, key=lambda name: (-sum(counts[name, s] for s in labels), name))
        lines += [[], [title, "Scholen", *labels]]
        lines += [[name or "Onbekend", sum(counts[name, s] for s in labels), *(counts[name, s] for s in labels)]
                  for name in names]
    return Sheet("Samenvatting", ["Ondersteuningsaanvragen", local(utcnow()).replace(tzinfo=None)], lines,
                 widths=[40, 12, 12, 12, 12, 12, 12, 12])


def _export(extension: str):
    filters = SupportFilters.from_args(request.args)
    found = db.session.scalars(requests_query(filters).options(selectinload(SupportRequest.schools))).all()
    described = ", ".join(f"{name}={value}" for name, value in filters.as_args().items()) or "geen"
    if extension == "csv":
        rows = export_rows(found, lambda cents: f"{cents // 100},{cents % 100:02d}")
        delimiter = DELIMITERS.get(request.args.get("scheidingsteken", ""), ";")
        data, mimetype = write_csv([EXPORT_COLUMNS, *rows], delimiter=delimiter), CSV_MIMETYPE
    else:
        rows = export_rows(found, lambda cents: cents / 100, xlsx=True)
        sheets = [Sheet("Aanvragen", EXPORT_COLUMNS, rows, EXPORT_WIDTHS), export_summary(found, described)]
        data, mimetype = write_xlsx(sheets), XLSX_MIMETYPE
    audit(current_user, f"export.{extension}",
          f"Ondersteuningsaanvragen geëxporteerd ({extension.upper()}, {len(found)} aanvragen, {len(rows)} rijen), "
          f"filters: {described}")
    db.session.commit()
    day = local(utcnow()).date().isoformat()
    response = send_file(BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=f"ondersteuningsaanvragen-{day}.{extension}")
    response.headers["Cache-Control"] = "no-store"  # personal data: no copies in caches
    return response


@bp.get("/ondersteuning.csv")
@requires(SUPPORT_VIEW, EXPORT)
def support_export_csv():
    """The requests matching the filters as CSV, one row per school."""
    return _export("csv")


@bp.get("/ondersteuning.xlsx")
@requires(SUPPORT_VIEW, EXPORT)
def support_export_xlsx():
    """The requests matching the filters as XLSX, one row per school."""
    return _export("xlsx")
