"""The event page with its form (GET shows, POST registers), and managing a registration through /r/<token>."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)

from ..database import begin_reads, restart_as_write, utcnow, writes_late
from ..events.ics import google_calendar_url, office_calendar_url, outlook_calendar_url
from ..events.lookup import event_id_and_roles_or_404, published_event_or_404
from ..events.models import Event
from ..events.preview import event_for_preview
from ..extensions import db
from ..forms import EmptyForm
from .capacity import Phase, places_left, registration_phase
from .event_page import keep_pages, kept_event_page, places_left_text
from .forms import DetailsForm, LostLinkForm, RegistrationForm
from .models import Registration, RegistrationStatus, TokenPurpose
from .services import (
    EmailTaken,
    RegistrationClosed,
    cancel_registration,
    personal_data,
    register,
    send_links_again,
    update_details,
    waiting_position,
)
from .tokens import registration_for_token

bp = Blueprint("registration", __name__)
bp.record_once(keep_pages)


def render_event_page(
    event: Event,
    form: RegistrationForm | None = None,
    status: int = 200,
    lost_form: LostLinkForm | None = None,
):
    """The event page with its registration form (or why there is none), rendered afresh."""
    free = places_left(event)
    phase = registration_phase(event, utcnow(), free)
    return _render_event_page(event, phase, free, form, lost_form, places_left_text(free or 0)), status


def _render_event_page(event, phase, free, form=None, lost_form=None, places_text=""):
    if form is None and phase in (Phase.open, Phase.full):
        form = RegistrationForm(event)
    if lost_form is None and phase not in (Phase.ended, Phase.cancelled, Phase.draft):
        lost_form = LostLinkForm()
    return render_template(
        "events/show.html",
        event=event,
        phase=phase,
        Phase=Phase,
        places_left=free,
        places_text=places_text,
        form=form,
        lost_form=lost_form,
        google_url=google_calendar_url(event),
        outlook_url=outlook_calendar_url(event),
        office_url=office_calendar_url(event),
    )


@bp.get("/events/<slug>")
def show(slug: str):
    """One event: what, when, for whom, and the form.

    The page is the same for every visitor but for their token and the places
    left, so it is kept (see event_page); one with a notice for this visitor is
    rendered afresh.
    """
    if get_flashed_messages():
        return render_event_page(published_event_or_404(slug))
    return kept_event_page(slug, _render_event_page)


@bp.post("/events/<slug>")
@writes_late
def submit(slug: str):
    """Register for the event: form, service, commit, redirect."""
    begin_reads()
    event = event_id_and_roles_or_404(slug)  # the object only when the page is shown again
    form = RegistrationForm(event)
    if not form.validate():
        return render_event_page(published_event_or_404(slug), form, status=422)
    if form.is_bot():
        return redirect(url_for(".registered", slug=slug))
    restart_as_write()
    try:
        outcome = register(event, form.details(), commit=True)  # the commit below, earlier where possible
    except RegistrationClosed:
        db.session.rollback()
        flash("Aanmelden is voor deze bijeenkomst niet (meer) mogelijk.", "error")
        return render_event_page(published_event_or_404(slug), status=409)
    db.session.commit()
    waiting = outcome.status == RegistrationStatus.waitlisted
    return redirect(url_for(".registered", slug=slug, wachtlijst=1 if waiting else None))


@bp.get("/voorbeeld/<token>")
def preview(token: str):
    """A draft's page as it will be, for whoever has the organiser's preview link; no form, not indexed."""
    event = event_for_preview(token)
    if event is None:
        abort(404, description="token")
    if not event.is_draft():
        return redirect(url_for(".show", slug=event.slug))
    return render_event_page(event)  # noindex, no-store: security.PERSONAL_LINKS


@bp.get("/events/<slug>/aangemeld")
def registered(slug: str):
    """'Check your mail': the same page for new and repeated registrations."""
    event = published_event_or_404(slug)
    waiting = request.args.get("wachtlijst") == "1"
    return render_template("registration/registered.html", event=event, waiting=waiting)


@bp.post("/events/<slug>/link-kwijt")
def lost_link(slug: str):
    """Mail the personal links again; the same answer whether or not the address is known."""
    event = published_event_or_404(slug)
    form = LostLinkForm()
    if not form.validate():
        return render_event_page(event, lost_form=form, status=422)
    if registration_phase(event, utcnow()) not in (Phase.ended, Phase.cancelled):
        send_links_again(event, form.lost_email.data)
        db.session.commit()
    return redirect(url_for(".lost_link_sent", slug=slug))


@bp.get("/events/<slug>/link-kwijt")
def lost_link_sent(slug: str):
    """What happens next, without saying whether the address is registered."""
    return render_template("registration/lost_link.html", event=published_event_or_404(slug))


def registration_or_404(token: str) -> Registration:
    """The registration a manage link points to, or the 404 page for tokens."""
    registration = registration_for_token(token, TokenPurpose.manage)
    if registration is None:
        abort(404, description="token")
    return registration


def _can_change(registration: Registration) -> bool:
    phase = registration_phase(registration.event, utcnow())
    return phase not in (Phase.ended, Phase.cancelled) and utcnow() < registration.event.starts_at


@bp.route("/r/<token>", methods=["GET", "POST"])
def manage(token: str):
    """Show a registration and let the registrant change their details."""
    registration = registration_or_404(token)
    changeable = _can_change(registration) and registration.status != RegistrationStatus.cancelled
    form = DetailsForm(registration.event, obj=registration)
    status = 200
    if request.method == "POST":
        if not changeable:
            abort(409)
        if form.validate():
            try:
                update_details(registration, form.details())
            except EmailTaken:
                db.session.rollback()
                form.email.errors.append("Dit e-mailadres is al aangemeld voor deze bijeenkomst.")
            else:
                db.session.commit()
                flash("Uw gegevens zijn opgeslagen.", "success")
                return redirect(url_for(".manage", token=token))
        status = 422
    return render_template(
        "registration/manage.html",
        registration=registration,
        event=registration.event,
        form=form,
        token=token,
        changeable=changeable,
        position=waiting_position(registration),
        join_opens_at=registration.event.join_opens_at(),
    ), status


@bp.route("/r/<token>/afmelden", methods=["GET", "POST"])
def cancel(token: str):
    """Ask to confirm, then cancel (a GET never changes anything)."""
    registration = registration_or_404(token)
    form = EmptyForm()
    if registration.status == RegistrationStatus.cancelled or not _can_change(registration):
        return redirect(url_for(".manage", token=token))
    if request.method == "POST" and form.validate():
        cancel_registration(registration)
        db.session.commit()
        flash("U bent afgemeld. U ontvangt hiervan een bevestiging per e-mail.", "success")
        return redirect(url_for(".manage", token=token))
    return render_template(
        "registration/cancel.html", registration=registration, event=registration.event, form=form
    )


@bp.get("/r/<token>/gegevens.json")
def download(token: str):
    """Everything stored about the registrant, as JSON."""
    registration = registration_or_404(token)
    body = json.dumps(personal_data(registration), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="mijn-gegevens.json"'},
    )
