"""Organiser area: logging in, one's own account, invitations and events."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from ..audit import audit
from ..dutch import AMSTERDAM, local
from ..events.editing import update_event
from ..events.lookup import event_or_404
from ..events.models import DEFAULT_CERTIFICATE_PERCENT, OTHER_ROLE, Event
from ..events.services import cancel_event, create_event
from ..events.slugs import rename, unique_slug
from ..extensions import db
from ..forms import EmptyForm
from . import bp
from .access import safe_next, stop_session
from .forms import AcceptInvitationForm, EventForm, InviteForm, LoginForm, PasswordForm
from .passwords import WeakPassword
from .roles import ACCOUNTS_MANAGE, EVENTS_EDIT, EVENTS_VIEW, requires, role_label
from .services import (
    LoginRefused,
    WrongPassword,
    accept_invitation,
    authenticate,
    change_password,
    end_sessions,
    invite,
    open_invitation,
)
from .signin import after_first_factor


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in. One answer for every failure, so accounts cannot be guessed."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            organiser = authenticate(form.email.data, form.password.data, request.remote_addr or "")
        except LoginRefused:
            db.session.commit()  # the attempt counts
            form.password.errors.append(
                "Inloggen lukt niet met dit e-mailadres en wachtwoord. Na te veel pogingen "
                "moet u een kwartier wachten."
            )
        else:
            db.session.commit()
            return after_first_factor(organiser, safe_next(request.args.get("next")))
    return render_template("organiser/login.html", form=form, oidc=bool(current_app.config["OIDC_ISSUER"]))


@bp.post("/logout")
def logout():
    """Log out everywhere: every session of this organiser ends."""
    if EmptyForm().validate():
        end_sessions(current_user)
    stop_session()
    db.session.commit()
    flash("U bent uitgelogd.", "success")
    return redirect(url_for(".login"))


@bp.route("/wachtwoord", methods=["GET", "POST"])
def password():
    """Change the password; all sessions end, including this one."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current.data, form.new.data)
        except WrongPassword as error:
            form.current.errors.append(str(error))
        except WeakPassword as error:
            form.new.errors.append(str(error))
        else:
            audit(current_user, "account.password", "Eigen wachtwoord gewijzigd")
            db.session.commit()
            logout_user()
            session.clear()
            flash("Uw wachtwoord is gewijzigd. Log opnieuw in.", "success")
            return redirect(url_for(".login"))
    return render_template("organiser/password.html", form=form)


@bp.route("/uitnodigen", methods=["GET", "POST"])
@requires(ACCOUNTS_MANAGE)
def invite_organiser():
    """Invite a colleague by e-mail."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = invite(current_user, form.email.data, role=form.role.data)
        except ValueError as error:
            form.email.errors.append(str(error))
        else:
            role = role_label(invitation.role).lower()
            audit(current_user, "account.invite", f"Uitnodiging aan {invitation.email} als {role}")
            db.session.commit()
            flash(f"Uitnodiging verstuurd naar {invitation.email}, als {role}.", "success")
            return redirect(url_for(".accounts"))
    return render_template("organiser/invite.html", form=form)


@bp.route("/uitnodiging/<token>", methods=["GET", "POST"], endpoint="accept_invitation")
def accept(token: str):
    """Accept an invitation: choose a name and password."""
    invitation = open_invitation(token)
    if invitation is None:
        abort(404, description="token")
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            organiser = accept_invitation(invitation, form.name.data, form.password.data)
        except ValueError as error:
            form.password.errors.append(str(error))
        else:
            audit(organiser, "account.accept",
                  f"Uitnodiging aanvaard door {organiser.label} ({organiser.email}), als {role_label(organiser.role).lower()}")
            db.session.commit()
            flash("Uw account is klaar. Log in.", "success")
            return redirect(url_for(".login"))
    return render_template("organiser/accept.html", form=form, invitation=invitation)


def _form_values(form: EventForm) -> dict:
    values = {name: field.data for name, field in form._fields.items() if name not in ("csrf_token", "slug")}
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        if values[name] is not None:
            values[name] = values[name].replace(tzinfo=AMSTERDAM)
    roles = [line.strip() for line in (values["roles"] or "").splitlines() if line.strip()]
    values["roles"] = [role for role in roles if role != OTHER_ROLE]
    for name in ("meeting_url", "recording_url"):
        values[name] = values[name] or None
    if values["certificate_min_percent"] is None:
        values["certificate_min_percent"] = DEFAULT_CERTIFICATE_PERCENT
    for name in ("summary", "body", "audience", "practical", "contact_name", "contact_email",
                 "contact_phone", "followup_joined_text", "followup_missed_text"):
        values[name] = (values[name] or "").strip()
    return values


def _fill(form: EventForm, event: Event) -> None:
    for name, field in form._fields.items():
        if name == "csrf_token":
            continue
        value = getattr(event, name)
        if name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at") and value:
            value = local(value).replace(tzinfo=None)
        if name == "roles":
            value = "\n".join(value)
        field.data = value


def _fill_defaults(form: EventForm) -> None:
    """A new event's form as the settings suggest: mail schedule, roles and contact person."""
    config = current_app.config
    form.reminder_days_before.data = config["REMINDER_DAYS_BEFORE"]
    form.reminder_local_time.data = config["REMINDER_LOCAL_TIME"]
    form.join_link_minutes_before.data = config["JOIN_LINK_MINUTES_BEFORE"]
    form.followup_minutes_after.data = config["FOLLOWUP_MINUTES_AFTER"]
    form.certificate_min_percent.data = DEFAULT_CERTIFICATE_PERCENT
    form.roles.data = "\n".join(config["EVENT_DEFAULT_ROLES"])
    form.contact_name.data = config["EVENT_CONTACT_NAME"]
    form.contact_email.data = config["EVENT_CONTACT_EMAIL"]
    form.contact_phone.data = config["EVENT_CONTACT_PHONE"]


@bp.route("/events/nieuw", methods=["GET", "POST"])
@requires(EVENTS_VIEW, EVENTS_EDIT)
def new_event():
    """Create an event: a draft (concept) until an organiser publishes it."""
    form = EventForm()
    if request.method == "GET":
        _fill_defaults(form)
    if form.validate_on_submit():
        values = _form_values(form)
        try:
            event = create_event(slug=form.slug.data or unique_slug(values["title"]), draft=True, **values)
        except ValueError as error:
            form.slug.errors.append(str(error))
        else:
            audit(current_user, "event.create", f"{event.title} aangemaakt als concept", event)
            db.session.commit()
            flash("De bijeenkomst is aangemaakt als concept: nog niet zichtbaar voor bezoekers. "
                  "Publiceer haar als alles klopt.", "success")
            return redirect(url_for(".dashboard", slug=event.slug))
    return render_template("organiser/event_form.html", form=form, event=None)


@bp.route("/events/<slug>/bewerken", methods=["GET", "POST"])
@requires(EVENTS_VIEW, EVENTS_EDIT)
def edit_event(slug: str):
    """Change an event; a new time moves planned mail and tells registrants."""
    event = event_or_404(slug)
    form = EventForm()
    if request.method == "GET":
        _fill(form, event)
    if form.validate_on_submit():
        try:
            old_slug = rename(event, form.slug.data or unique_slug(form.title.data, event))
        except ValueError as error:
            form.slug.errors.append(str(error))
            return render_template("organiser/event_form.html", form=form, event=event)
        try:
            changed = update_event(event, _form_values(form))
        except ValueError as error:
            db.session.rollback()  # the new link name too: nothing is saved
            form.starts_at.errors.append(str(error))
        else:
            if old_slug is not None:
                audit(current_user, "event.slug", f"link gewijzigd van /events/{old_slug} naar /events/{event.slug}",
                      event)
            if changed:
                audit(current_user, "event.edit", "gewijzigd: " + ", ".join(changed), event)
            db.session.commit()
            flash("De wijzigingen zijn opgeslagen.", "success")
            return redirect(url_for(".dashboard", slug=event.slug))
    return render_template("organiser/event_form.html", form=form, event=event)


@bp.route("/events/<slug>/annuleren", methods=["GET", "POST"])
@requires(EVENTS_VIEW, EVENTS_EDIT)
def cancel(slug: str):
    """Cancel an event after confirming; everyone registered is told."""
    event = event_or_404(slug)
    form = EmptyForm()
    if request.method == "POST" and form.validate():
        told = cancel_event(event)
        audit(current_user, "event.cancel", f"Geannuleerd; {told} aangemelden krijgen bericht", event)
        db.session.commit()
        flash(f"De bijeenkomst is geannuleerd; {told} aangemelden krijgen bericht.", "success")
        return redirect(url_for(".dashboard", slug=slug))
    return render_template("organiser/cancel_event.html", event=event, form=form)
