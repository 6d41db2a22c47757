"""Reading a Teams or Zoom report into an event's attendance, and linking its unmatched lines.

A report whose date is not the meeting's is not read at once: a page says so
and carries the file (base64, in a hidden field) to a "read it anyway" button,
so nothing is stored before the organiser decides. Reports themselves are never
stored; their unmatched lines are, as walk-ins (attendance/walk_ins.py).
"""

from __future__ import annotations

import binascii
from base64 import b64decode, b64encode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..attendance.models import WalkIn
from ..attendance.report_files import parse_report
from ..attendance.services import ImportResult, match_report, other_day, record_report_rows
from ..attendance.walk_ins import link_walk_in, record_walk_ins, suggestions
from ..audit import audit
from ..database import restart_as_write, writes_late
from ..dutch import local
from ..events.lookup import event_or_404
from ..events.models import Event
from ..extensions import db
from ..forms import EmptyForm, button_or_400, search_words
from ..registration.models import RegistrationStatus
from ..uploads import large_upload
from . import bp
from .attendance import attendance_page
from .forms import ReportAgainForm, ReportForm
from .imports import write_in_groups
from .queries import Filters, event_registration_or_404, registrations_query
from .registrations_services import who
from .roles import ATTENDANCE_EDIT, EVENTS_VIEW, requires

#: when the file carried by the date warning's button does not come back whole
FILE_LOST = "Het rapport kwam niet goed mee. Kies het bestand opnieuw."


def _report_data(form: ReportForm) -> tuple[bytes | None, bool]:
    """The report's bytes (None after an error on the form) and whether its date was confirmed."""
    if "inhoud" not in request.form:
        return (form.report.data.read() if form.validate_on_submit() else None), False
    again = ReportAgainForm()
    if not again.validate_on_submit():
        form.report.errors = [FILE_LOST]
        return None, False
    try:
        return b64decode(again.inhoud.data, validate=True), True
    except (binascii.Error, ValueError):
        form.report.errors = [FILE_LOST]
        return None, False


@bp.post("/events/<slug>/aanwezigheid/rapport")
@requires(EVENTS_VIEW, ATTENDANCE_EDIT)
@writes_late
@large_upload
def import_attendance_report(slug: str):
    """Read a Teams or Zoom report: record registrants, keep the rest as walk-ins with suggestions."""
    event = event_or_404(slug)
    form = ReportForm()
    # The upload is at most IMPORT_MAX_BYTES: Werkzeug refuses anything larger (413).
    data, day_confirmed = _report_data(form)
    if data is None:
        return attendance_page(event, form)
    report = parse_report(data, meeting_date=local(event.starts_at).date())
    if report.error:
        form.report.errors.append(report.error)
        return attendance_page(event, form)
    day = other_day(event, report)
    if day and not day_confirmed:
        return render_template("organiser/attendance_date.html", event=event, report=report, day=day,
                               again=ReportAgainForm(inhoud=b64encode(data).decode("ascii")))
    result, walk_ins = store_report(event, report, current_user, day)
    for walk_in in walk_ins:  # detached with what they hold: the page shows them after the commit
        db.session.expunge(walk_in)
    db.session.commit()
    # Shown straight away rather than after a redirect, with the rows matched and not.
    # Sending the same report again changes nothing (see record_report_rows, record_walk_ins).
    return render_template("organiser/attendance_import.html", event=event, report=report, result=result,
                           day=day, walk_ins=walk_ins, suggested=suggestions(event, walk_ins), button=EmptyForm())


def store_report(event: Event, report, organiser, day) -> tuple[ImportResult, list[WalkIn]]:
    """Record a parsed report (the matched lines, then the walk-ins) and audit it; the caller commits.

    Shared by the page and the API; the read part runs before the write transaction (restart_as_write).
    """
    result = match_report(event, report)
    _record(event, result)
    restart_as_write()
    walk_ins = record_walk_ins(event, result.unknown, result.matched)
    audit(organiser, "attendance.import",
          f"Rapport ingelezen: {len(result.matched)} gekoppeld, {result.unmatched_count} niet gekoppeld"
          + (f", {len(walk_ins)} niet aangemeld" if walk_ins else "")
          + (f", {len(result.failed)} niet vastgelegd door een storing" if result.failed else "")
          + (", datum wijkt af" if day else ""), event)
    return result, walk_ins


def _record(event: Event, result: ImportResult) -> None:
    """Record the matched lines in groups (see organiser/imports.py); lines that fail move to `failed`."""
    for registration, _ in result.matched:
        # Detached, so that the report page shows them without reading each again after the commits.
        db.session.expunge(registration)
    written = write_in_groups(result.matched, lambda group: record_report_rows(event, group))
    failed = {id(line) for line in written.failed}
    result.failed = written.failed
    result.matched = [line for line in result.matched if id(line) not in failed]


#: registrants the walk-in picker shows for one search
PICKER_RESULTS = 20


@bp.get("/events/<slug>/aanwezigheid/niet-aangemeld/<int:walk_in_id>/koppelen")
@requires(EVENTS_VIEW, ATTENDANCE_EDIT)
def pick_registrant(slug: str, walk_in_id: int):
    """Find any confirmed registrant by name, address or organisation (?zoek=) to link a report line to."""
    event = event_or_404(slug)
    walk_in = _walk_in_or_404(event, walk_in_id)
    words = search_words(request.args.get("zoek"))
    found, more = [], False
    if words:
        query = registrations_query(event, Filters(q=words, status="aangemeld")).limit(PICKER_RESULTS + 1)
        found = list(db.session.scalars(query))
        found, more = found[:PICKER_RESULTS], len(found) > PICKER_RESULTS
    return render_template("organiser/walk_in_pick.html", event=event, walk_in=walk_in, words=words, found=found,
                           more=more, limit=PICKER_RESULTS, button=EmptyForm())


def _walk_in_or_404(event: Event, walk_in_id: int) -> WalkIn:
    return db.first_or_404(select(WalkIn).where(WalkIn.id == walk_in_id, WalkIn.event_id == event.id))


@bp.post("/events/<slug>/aanwezigheid/niet-aangemeld/<int:walk_in_id>")
@requires(EVENTS_VIEW, ATTENDANCE_EDIT)
def link_walk_in_view(slug: str, walk_in_id: int):
    """Link a report line that matched nobody to a registrant (form field aanmelding=<id>), keeping its minutes."""
    event = event_or_404(slug)
    button_or_400()
    walk_in = _walk_in_or_404(event, walk_in_id)
    registration_id = request.form.get("aanmelding", "")
    if not registration_id.isdigit():
        abort(400)
    registration = event_registration_or_404(event, int(registration_id))
    back = url_for(".attendance", slug=slug, _anchor=f"aanmelding-{registration.id}")
    if walk_in.registration_id is not None:
        flash("Deze regel uit het rapport is al gekoppeld.", "error")
        return redirect(back)
    if registration.status != RegistrationStatus.confirmed:
        flash(f"{registration.full_name} is {registration.status_label.lower()}; "
              "alleen bevestigde aanmeldingen kunt u koppelen.", "error")
        return redirect(url_for(".attendance", slug=slug, _anchor="niet-aangemeld"))
    link_walk_in(walk_in, registration)
    # The line's own name and address stay out of the log: a purge knows only the registrant's.
    audit(current_user, "attendance.link", f"Regel {walk_in.id} uit het rapport gekoppeld aan {who(registration)}"
          + (f", met {walk_in.minutes_present} minuten" if walk_in.minutes_present is not None else ""), event)
    db.session.commit()
    minutes = walk_in.minutes_present
    flash(f"{registration.full_name} staat op aanwezig"
          + (f", met {minutes} {'minuut' if minutes == 1 else 'minuten'} uit het rapport." if minutes is not None
             else "."), "success")
    return redirect(back)
