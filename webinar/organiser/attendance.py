"""An event's attendance: who joined, a search, the walk-ins, and entries by hand.

Reading a Teams or Zoom report and linking its lines is in attendance_import.py.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..attendance.models import Attendance
from ..attendance.presence import minutes_present
from ..attendance.services import has_report_data, set_attendance_by_hand
from ..attendance.walk_ins import count_walk_ins, suggestions, walk_ins_of
from ..audit import audit
from ..events.lookup import event_or_404
from ..events.models import Event
from ..extensions import db
from ..forms import EmptyForm, button_or_400, search_words
from ..registration.models import Registration, RegistrationStatus
from . import bp
from .forms import ReportForm
from .queries import Filters, event_registration_or_404, page_number, registrations_query
from .registrations_services import attendance_of, who
from .roles import ATTENDANCE_EDIT, EVENTS_VIEW, requires


#: registrants on one page of the attendance table, as on the registrations page
PER_PAGE = 50


def attendance_page_rows(event: Event, words: str = "", number: int = 1):
    """One page of the confirmed registrants (and anyone else recorded as present), by last name, each with
    their attendance: (the page, [(registration, attendance or None)]). `words` searches name, address and
    organisation as on the registrations page; a page beyond the end shows the last one."""
    query = (registrations_query(event, Filters(q=words.strip()[:200]))
             .outerjoin(Attendance, Attendance.registration_id == Registration.id)
             .where(or_(Registration.status == RegistrationStatus.confirmed, Attendance.id.is_not(None))))
    page = db.paginate(query, page=number, per_page=PER_PAGE, error_out=False)
    if page.pages and page.page > page.pages:
        page = db.paginate(query, page=page.pages, per_page=PER_PAGE, error_out=False)
    ids = [registration.id for registration in page.items]
    found = {row.registration_id: row for row in db.session.scalars(
        select(Attendance).where(Attendance.registration_id.in_(ids)))} if ids else {}
    return page, [(registration, found.get(registration.id)) for registration in page.items]


def _counts(event: Event) -> tuple[int, int]:
    """How many registrants are confirmed, and how many of them joined (whatever the search)."""
    confirmed, present = db.session.execute(
        select(func.count(Registration.id), func.count(Attendance.id))
        .outerjoin(Attendance, Attendance.registration_id == Registration.id)
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.confirmed)
    ).one()
    return confirmed, present


def attendance_page(event: Event, form: ReportForm):
    """The attendance page, with the report form as given (and its errors)."""
    words = search_words(request.args.get("q"))
    page, rows = attendance_page_rows(event, words, page_number())
    confirmed, present = _counts(event)
    walk_ins = walk_ins_of(event, words)
    return render_template(
        "organiser/attendance.html", event=event, rows=rows, page=page, form=form, button=EmptyForm(), q=words,
        confirmed=confirmed, present=present,
        walk_ins=walk_ins, walk_in_count=count_walk_ins(event), suggested=suggestions(event, walk_ins),
        has_report_data=has_report_data,
        counted_minutes=lambda attendance: minutes_present(attendance, event),
    )


@bp.get("/events/<slug>/aanwezigheid")
@requires(EVENTS_VIEW)
def attendance(slug: str):
    """Who joined, how we know, the walk-ins, and the forms to change it (?q= searches)."""
    return attendance_page(event_or_404(slug), ReportForm())


@bp.get("/events/<slug>/aanwezigheid/<int:registration_id>/niet-aanwezig")
@requires(EVENTS_VIEW, ATTENDANCE_EDIT)
def confirm_absent(slug: str, registration_id: int):
    """Ask before forgetting what a report or the join link told us about someone."""
    event = event_or_404(slug)
    registration = event_registration_or_404(event, registration_id)
    attendance = attendance_of(registration)
    if attendance is None:
        return redirect(url_for(".attendance", slug=slug, _anchor=f"aanmelding-{registration.id}"))
    return render_template("organiser/attendance_absent.html", event=event, registration=registration,
                           attendance=attendance, counted=minutes_present(attendance, event), button=EmptyForm())


@bp.post("/events/<slug>/aanwezigheid/<int:registration_id>")
@requires(EVENTS_VIEW, ATTENDANCE_EDIT)
def set_attendance(slug: str, registration_id: int):
    """Mark one registrant present or absent by hand (form field aanwezig=ja|nee).

    Absent for someone with a report's data or link clicks needs bevestigd=ja
    (from the confirmation page); without it, that page is shown.
    """
    event = event_or_404(slug)
    present = {"ja": True, "nee": False}.get(request.form.get("aanwezig", ""))
    button_or_400()
    if present is None:
        abort(400)
    registration = event_registration_or_404(event, registration_id)
    if present and registration.status != RegistrationStatus.confirmed:
        abort(409)
    if not present and request.form.get("bevestigd") != "ja" and has_report_data(attendance_of(registration)):
        return redirect(url_for(".confirm_absent", slug=slug, registration_id=registration.id))
    state = "aanwezig" if present else "niet aanwezig"
    if set_attendance_by_hand(registration, present):
        audit(current_user, "attendance.manual", f"{who(registration)} met de hand op {state} gezet", event)
        db.session.commit()
    flash(f"{registration.full_name} staat op {state}.", "success")
    # Back to the page of the table the button was on (its page and search come along in the form's address).
    return redirect(url_for(".attendance", slug=slug, pagina=request.args.get("pagina", type=int),
                            q=request.args.get("q") or None, _anchor=f"aanmelding-{registration.id}"))
