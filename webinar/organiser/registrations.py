"""An event's registrations for organisers: table, detail, edit, cancel, promote, add, import."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..audit import audit
from ..database import restart_as_write, utcnow, writes_late
from ..events.lookup import event_or_404
from ..events.models import Event
from ..extensions import db
from ..forms import EmptyForm, button_or_400
from ..registration.forms import DetailsForm
from ..registration.models import Registration, RegistrationStatus
from ..registration.notifications import mails_to
from ..registration.services import (
    EmailTaken,
    RegistrationClosed,
    cancel_registration,
    update_details,
    waiting_position,
)
from ..uploads import large_upload
from . import bp
from .forms import ImportForm
from .imports import write_in_groups
from .queries import Filters, event_registration_or_404, page_number, registrations_query
from .registrations_import import (
    HEADERS,
    NOT_STORED,
    CsvProblem,
    ImportReport,
    check_rows,
    read_rows,
    store_group,
)
from .registrations_services import (
    add_registration,
    attendance_of,
    changes_allowed,
    joined_ids,
    places_over,
    promote,
    roles_in_use,
    who,
)
from .roles import EVENTS_VIEW, REGISTRATIONS_EDIT, requires

PER_PAGE = 50
_TAKEN = "Dit e-mailadres is al aangemeld voor deze bijeenkomst."
_FINISHED = "Deze bijeenkomst is voorbij of geannuleerd; aanmeldingen veranderen kan niet meer."


@bp.get("/events/<slug>/aanmeldingen")
@requires(EVENTS_VIEW)
def registrations(slug: str):
    """The registrations, searched, filtered, by last name and fifty to a page."""
    event = event_or_404(slug)
    filters = Filters.from_args(request.args)
    query = registrations_query(event, filters)
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    if page.pages and page.page > page.pages:  # a bookmarked page beyond the end shows the last one
        page = db.paginate(query, page=page.pages, per_page=PER_PAGE, error_out=False)
    return render_template(
        "organiser/registrations.html",
        event=event,
        filters=filters,
        page=page,
        joined=joined_ids([registration.id for registration in page.items]),
        roles=roles_in_use(event),
    )


@bp.get("/events/<slug>/aanmeldingen/<int:registration_id>")
@requires(EVENTS_VIEW)
def registration_detail(slug: str, registration_id: int):
    """One registration: details, status, attendance and the e-mails sent."""
    event, registration = _registration_or_404(slug, registration_id)
    return render_template(
        "organiser/registration_detail.html",
        event=event,
        registration=registration,
        position=waiting_position(registration),
        attendance=attendance_of(registration),
        mails=mails_to(registration),
        changeable=changes_allowed(event),
        form=EmptyForm(),
    )


@bp.route("/events/<slug>/aanmeldingen/<int:registration_id>/bewerken", methods=["GET", "POST"])
@requires(EVENTS_VIEW, REGISTRATIONS_EDIT)
def registration_edit(slug: str, registration_id: int):
    """Change a registrant's details; no e-mail goes out."""
    event, registration = _registration_or_404(slug, registration_id)
    form = DetailsForm(event, obj=registration)
    if form.validate_on_submit():
        details = form.details()
        old = {name: getattr(registration, name) for name in details.__dataclass_fields__}
        try:
            update_details(registration, details)
        except EmailTaken:
            form.email.errors.append(_TAKEN)
        else:
            changed = [HEADERS[name] for name, value in old.items() if getattr(registration, name) != value]
            audit(current_user, "registration.edit",
                  f"Gegevens van {who(registration)} gewijzigd: " + (", ".join(changed) or "niets"), event)
            db.session.commit()
            flash(f"De gegevens van {registration.full_name} zijn opgeslagen.", "success")
            return redirect(url_for(".registration_detail", slug=slug, registration_id=registration.id))
    status = 422 if form.errors else 200
    return render_template("organiser/registration_form.html", event=event, form=form,
                           registration=registration), status


def _registration_or_404(slug: str, registration_id: int) -> tuple[Event, Registration]:
    """The event and its registration named in the URL, or the 404 page."""
    event = event_or_404(slug)
    return event, event_registration_or_404(event, registration_id)


def _change_request(slug: str, registration_id: int):
    """A POST that changes one registration: (event, registration, the redirect back to its page)."""
    event, registration = _registration_or_404(slug, registration_id)
    button_or_400()
    return event, registration, redirect(url_for(".registration_detail", slug=slug, registration_id=registration.id))


@bp.post("/events/<slug>/aanmeldingen/<int:registration_id>/annuleren")
@requires(EVENTS_VIEW, REGISTRATIONS_EDIT)
def registration_cancel(slug: str, registration_id: int):
    """Cancel for the registrant; waiting people move up into the free place."""
    event, registration, back = _change_request(slug, registration_id)
    if not changes_allowed(event):
        flash(_FINISHED, "error")
        return back
    if registration.status == RegistrationStatus.cancelled:
        flash(f"{registration.full_name} was al afgemeld.", "error")
        return back
    promoted = cancel_registration(registration)
    audit(current_user, "registration.cancel", f"Aanmelding van {who(registration)} geannuleerd"
          + "".join(f"; {who(person)} kreeg de plaats van de wachtlijst" for person in promoted), event)
    db.session.commit()
    message = f"{registration.full_name} is afgemeld en krijgt daarvan een e-mail."
    if promoted:
        names = ", ".join(person.full_name for person in promoted)
        message += f" Van de wachtlijst kreeg {names} de vrijgekomen plaats."
    flash(message, "success")
    return back


@bp.post("/events/<slug>/aanmeldingen/<int:registration_id>/plaats-geven")
@requires(EVENTS_VIEW, REGISTRATIONS_EDIT)
def registration_promote(slug: str, registration_id: int):
    """Give a waiting person a place now, even past the limit: the organiser's call."""
    event, registration, back = _change_request(slug, registration_id)
    if not changes_allowed(event):
        flash(_FINISHED, "error")
        return back
    if not promote(registration):
        flash(f"{registration.full_name} staat niet op de wachtlijst.", "error")
        return back
    over = places_over(event)
    audit(current_user, "registration.promote",
          f"{who(registration)} van de wachtlijst gehaald" + (f"; {over} boven het maximum" if over else ""), event)
    db.session.commit()
    message = f"{registration.full_name} heeft een plaats gekregen en krijgt daarvan een e-mail."
    if over:
        places = "plaats" if event.capacity == 1 else "plaatsen"
        message += f" Let op: er zijn nu {event.capacity + over} aanmeldingen voor {event.capacity} {places}."
    flash(message, "success")
    return back


@bp.route("/events/<slug>/aanmeldingen/nieuw", methods=["GET", "POST"])
@requires(EVENTS_VIEW, REGISTRATIONS_EDIT)
def registration_add(slug: str):
    """Add a person by hand; they get the usual confirmation or waiting-list e-mail."""
    event = event_or_404(slug)
    form = DetailsForm(event)
    if form.validate_on_submit():
        try:
            registration = add_registration(event, form.details())
        except EmailTaken:
            form.email.errors.append(_TAKEN)
        except RegistrationClosed:
            form.form_errors.append(_FINISHED)
        else:
            audit(current_user, "registration.add",
                  f"{who(registration)} aangemeld door de organisatie: {registration.status_label.lower()}", event)
            db.session.commit()
            flash(_added_message(registration), "success")
            return redirect(url_for(".registration_detail", slug=slug, registration_id=registration.id))
    status = 422 if form.errors else 200
    return render_template("organiser/registration_form.html", event=event, form=form, registration=None), status


def _added_message(registration: Registration) -> str:
    if registration.status == RegistrationStatus.waitlisted:
        return (f"De bijeenkomst is vol: {registration.full_name} staat op de wachtlijst "
                "en krijgt daarover een e-mail.")
    return f"{registration.full_name} is aangemeld en krijgt een bevestiging per e-mail."


@bp.route("/events/<slug>/aanmeldingen/importeren", methods=["GET", "POST"])
@requires(EVENTS_VIEW, REGISTRATIONS_EDIT)
@writes_late
@large_upload
def registrations_import(slug: str):
    """Import a CSV list; the answer is the report of rows taken and refused."""
    event = event_or_404(slug)
    form = ImportForm()
    if form.validate_on_submit():
        try:
            rows, ignored = read_rows(form.file.data.read())
            if not changes_allowed(event):
                raise RegistrationClosed()
        except CsvProblem as problem:
            form.file.errors.append(str(problem))
        except RegistrationClosed:
            form.file.errors.append(_FINISHED)
        else:
            report = _import(event, rows)
            report.ignored_columns = ignored
            restart_as_write()
            audit(current_user, "registration.import", _import_summary(form.file.data.filename, report), event)
            db.session.commit()
            flash(f"Import klaar: {len(report.taken)} overgenomen, {len(report.refused)} geweigerd.", "success")
            # The report is the answer itself: refused rows are stored nowhere to show after a redirect.
            return render_template("organiser/registrations_import.html", event=event, form=ImportForm(),
                                   report=report)
    status = 422 if form.errors else 200
    return render_template("organiser/registrations_import.html", event=event, form=form, report=None), status


def _import(event: Event, rows: list) -> ImportReport:
    """Check every row without a lock, then store the good ones in groups (see organiser/imports.py)."""
    now = utcnow()
    candidates, report = check_rows(event, rows)
    written = write_in_groups(candidates, lambda group: store_group(event, group, now=now))
    for taken, refused in written.results:
        report.taken += taken
        report.refused += refused
    report.refused += [(candidate.number, candidate.name, [NOT_STORED]) for candidate in written.failed]
    report.taken.sort(key=lambda row: row[0])
    report.refused.sort(key=lambda row: row[0])
    report.interrupted = written.retried
    return report


def _import_summary(filename: str | None, report: ImportReport) -> str:
    summary = f"Lijst {filename or 'zonder naam'} ingelezen: {len(report.taken)} overgenomen, {len(report.refused)} geweigerd"
    return summary + (" (opslaan deels mislukt)" if report.interrupted else "")
