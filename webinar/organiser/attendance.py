"""An event's attendance: who joined, a Teams or Zoom report to read in, and entries by hand."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..attendance.models import Attendance
from ..attendance.presence import minutes_present
from ..attendance.report_files import parse_report
from ..attendance.services import (
    ImportResult,
    ReportForOtherDay,
    match_report,
    record_report_rows,
    set_attendance_by_hand,
)
from ..audit import audit
from ..database import restart_as_write, writes_late
from ..dutch import local
from ..events.lookup import event_or_404
from ..events.models import Event
from ..extensions import db
from ..forms import EmptyForm, button_or_400
from ..registration.models import Registration, RegistrationStatus
from ..uploads import large_upload
from . import bp
from .forms import ReportForm
from .imports import write_in_groups
from .queries import event_registration_or_404


def attendance_rows(event: Event) -> list[tuple[Registration, Attendance | None]]:
    """Confirmed registrants (and anyone else recorded as present), by last name."""
    return db.session.execute(
        select(Registration, Attendance)
        .outerjoin(Attendance, Attendance.registration_id == Registration.id)
        .where(
            Registration.event_id == event.id,
            or_(Registration.status == RegistrationStatus.confirmed, Attendance.id.is_not(None)),
        )
        .order_by(func.lower(Registration.last_name), func.lower(Registration.first_name), Registration.id)
    ).all()


def _page(event: Event, form: ReportForm):
    rows = attendance_rows(event)
    confirmed = [a for r, a in rows if r.status == RegistrationStatus.confirmed]
    return render_template(
        "organiser/attendance.html", event=event, rows=rows, form=form, button=EmptyForm(),
        confirmed=len(confirmed), present=sum(1 for a in confirmed if a is not None),
        counted_minutes=lambda attendance: minutes_present(attendance, event),
    )


@bp.get("/events/<slug>/aanwezigheid")
def attendance(slug: str):
    """Who joined, how we know, and the forms to change it."""
    return _page(event_or_404(slug), ReportForm())


@bp.post("/events/<slug>/aanwezigheid/rapport")
@writes_late
@large_upload
def import_attendance_report(slug: str):
    """Read a Teams or Zoom report: record who is registered, list who is not."""
    event = event_or_404(slug)
    form = ReportForm()
    if not form.validate_on_submit():
        return _page(event, form)
    # The upload is at most IMPORT_MAX_BYTES: Werkzeug refuses anything larger (413).
    report = parse_report(form.report.data.read(), meeting_date=local(event.starts_at).date())
    error, result = report.error, None
    if not error:
        try:
            result = match_report(event, report)
        except ReportForOtherDay as refused:
            error = str(refused)
    if error:
        form.report.errors.append(error)
        return _page(event, form)
    _record(event, result)
    restart_as_write()
    audit(current_user, "attendance.import",
          f"{len(result.matched)} gekoppeld, {result.unmatched_count} niet gekoppeld"
          + (f", {len(result.failed)} niet vastgelegd door een storing" if result.failed else ""), event)
    db.session.commit()
    # Shown straight away rather than after a redirect: the unmatched rows are kept nowhere.
    # Sending the same report again changes nothing (see record_report_rows).
    return render_template("organiser/attendance_import.html", event=event, report=report, result=result)


def _record(event: Event, result: ImportResult) -> None:
    """Record the matched lines in groups (see organiser/imports.py); lines that fail move to `failed`."""
    for registration, _ in result.matched:
        # Detached, so that the report page shows them without reading each again after the commits.
        db.session.expunge(registration)
    written = write_in_groups(result.matched, lambda group: record_report_rows(event, group))
    failed = {id(line) for line in written.failed}
    result.failed = written.failed
    result.matched = [line for line in result.matched if id(line) not in failed]


@bp.post("/events/<slug>/aanwezigheid/<int:registration_id>")
def set_attendance(slug: str, registration_id: int):
    """Mark one registrant present or absent by hand (form field aanwezig=ja|nee)."""
    event = event_or_404(slug)
    present = {"ja": True, "nee": False}.get(request.form.get("aanwezig", ""))
    button_or_400()
    if present is None:
        abort(400)
    registration = event_registration_or_404(event, registration_id)
    if present and registration.status != RegistrationStatus.confirmed:
        abort(409)
    state = "aanwezig" if present else "niet aanwezig"
    if set_attendance_by_hand(registration, present):
        audit(current_user, "attendance.manual", f"aanmelding {registration.id}: {state}", event)
        db.session.commit()
    flash(f"{registration.full_name} staat op {state}.", "success")
    return redirect(url_for(".attendance", slug=slug, _anchor=f"aanmelding-{registration.id}"))
