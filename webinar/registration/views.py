"""Registering on the event page, and managing a registration through /r/<token>."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from ..attendance.services import join_opens_at
from ..database import restart_as_write, utcnow, writes_late
from ..events.services import Phase, registration_phase
from ..events.lookup import event_or_404
from ..events.views import render_event_page
from ..extensions import db
from ..forms import EmptyForm
from ..privacy.services import erase_own_registration
from .forms import DetailsForm, LostLinkForm, RegistrationForm
from .models import Registration, RegistrationStatus, TokenPurpose
from .services import (
    EmailTaken,
    RegistrationClosed,
    cancel_registration,
    personal_data,
    register,
    registration_for_token,
    send_links_again,
    update_details,
    waiting_position,
)

bp = Blueprint("registration", __name__)


@bp.post("/events/<slug>")
@writes_late
def submit(slug: str):
    """Register for the event: form, service, commit, redirect."""
    event = event_or_404(slug)
    form = RegistrationForm(event)
    if not form.validate():
        return render_event_page(event, form, status=422)
    if form.is_bot():
        return redirect(url_for(".registered", slug=slug))
    restart_as_write(lock=current_app.config["REGISTRATION_LOCK"])
    try:
        outcome = register(
            event,
            form.details(),
            lock=current_app.config["REGISTRATION_LOCK"],
            hold_seconds=current_app.config["REGISTRATION_HOLD_SECONDS"],
        )
    except RegistrationClosed:
        db.session.rollback()
        flash("Aanmelden is voor deze bijeenkomst niet (meer) mogelijk.", "error")
        return render_event_page(event_or_404(slug), status=409)
    db.session.commit()
    waiting = outcome.status == RegistrationStatus.waitlisted
    return redirect(url_for(".registered", slug=slug, wachtlijst=1 if waiting else None))


@bp.get("/events/<slug>/aangemeld")
def registered(slug: str):
    """'Check your mail': the same page for new and repeated registrations."""
    event = event_or_404(slug)
    waiting = request.args.get("wachtlijst") == "1"
    return render_template("registration/registered.html", event=event, waiting=waiting)


@bp.post("/events/<slug>/link-kwijt")
def lost_link(slug: str):
    """Mail the personal links again; the same answer whether or not the address is known."""
    event = event_or_404(slug)
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
    return render_template("registration/lost_link.html", event=event_or_404(slug))


def _registration_or_404(token: str) -> Registration:
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
    registration = _registration_or_404(token)
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
        join_opens_at=join_opens_at(registration.event),
    ), status


@bp.route("/r/<token>/afmelden", methods=["GET", "POST"])
def cancel(token: str):
    """Ask to confirm, then cancel (a GET never changes anything)."""
    registration = _registration_or_404(token)
    form = EmptyForm()
    if registration.status == RegistrationStatus.cancelled or not _can_change(registration):
        return redirect(url_for(".manage", token=token))
    if request.method == "POST" and form.validate():
        cancel_registration(registration, lock=current_app.config["REGISTRATION_LOCK"])
        db.session.commit()
        flash("U bent afgemeld. U ontvangt hiervan een bevestiging per e-mail.", "success")
        return redirect(url_for(".manage", token=token))
    return render_template(
        "registration/cancel.html", registration=registration, event=registration.event, form=form
    )


@bp.route("/r/<token>/verwijderen", methods=["GET", "POST"])
def erase(token: str):
    """Ask to confirm, then remove the registration and everything stored about it."""
    registration = _registration_or_404(token)
    form = EmptyForm()
    if request.method == "POST" and form.validate():
        slug = registration.event.slug
        erase_own_registration(registration, lock=current_app.config["REGISTRATION_LOCK"])
        db.session.commit()
        flash("Uw aanmelding en al uw gegevens zijn verwijderd. Uw persoonlijke links werken niet meer.",
              "success")
        return redirect(url_for("events.show", slug=slug))
    return render_template(
        "registration/erase.html", registration=registration, event=registration.event, form=form,
        token=token,
    )


@bp.get("/r/<token>/gegevens.json")
def download(token: str):
    """Everything stored about the registrant, as JSON."""
    registration = _registration_or_404(token)
    body = json.dumps(personal_data(registration), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="mijn-gegevens.json"'},
    )
