"""The organiser's own account: a forgotten password, two-factor authentication, sessions and recent actions."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user
from sqlalchemy import select

from ..audit import AuditEntry, audit
from ..extensions import db
from ..forms import EmptyForm
from . import bp
from .access import MUST_SET_UP, current_session
from .account_forms import CodeForm, ConfirmPasswordForm, ForgotPasswordForm, ResetPasswordForm
from .models import Organiser
from .password_reset import open_reset, request_reset, send_reset, use_reset
from .passwords import WeakPassword
from .roles import ACCOUNTS_MANAGE, requires
from .sessions import active_sessions, end_all_sessions
from .two_factor import (
    WrongCode,
    disable,
    enable,
    new_recovery_codes,
    new_secret,
    qr_svg,
    setup_uri,
    tell_organiser,
    two_factor_required,
    unused_recovery_codes,
)

#: the Flask session's key for the secret shown while setting up, until a code confirms it
SETUP_SECRET = "organiser_2fa_secret"
#: the answer to every request for a reset link, whether or not the address is known
RESET_SENT = ("Als er een organisatorsaccount bij dit e-mailadres hoort, ontvangt u binnen enkele minuten een "
              "e-mail met een link om een nieuw wachtwoord te kiezen. De link werkt een half uur.")


def _reset_valid() -> timedelta:
    return timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])


@bp.route("/wachtwoord-vergeten", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link. The same answer, after the same work, for every address."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_reset(form.email.data, _reset_valid())
        db.session.commit()
        flash(RESET_SENT, "success")
        return redirect(url_for(".login"))
    return render_template("organiser/forgot_password.html", form=form)


@bp.route("/wachtwoord-herstellen/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password through a reset link; every session of the account ends."""
    reset = open_reset(token)
    if reset is None:
        abort(404, description="token")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            organiser = use_reset(reset, form.new.data)
        except WeakPassword as error:
            form.new.errors.append(str(error))
        else:
            by = f" (link van {reset.requested_by.email})" if reset.requested_by else ""
            audit(organiser, "account.password_reset", f"nieuw wachtwoord via een herstellink{by}")
            db.session.commit()
            session.clear()
            flash("Uw nieuwe wachtwoord is ingesteld; u bent overal uitgelogd. Log in.", "success")
            return redirect(url_for(".login"))
    return render_template("organiser/reset_password.html", form=form, organiser=reset.organiser)


@bp.post("/accounts/<int:organiser_id>/wachtwoord-link")
@requires(ACCOUNTS_MANAGE)
def send_reset_link(organiser_id: int):
    """An administrator sends another organiser a reset link."""
    organiser = db.get_or_404(Organiser, organiser_id)
    if EmptyForm().validate():
        try:
            send_reset(current_user, organiser, _reset_valid())
        except ValueError as error:
            flash(str(error), "error")
        else:
            audit(current_user, "account.reset_link", f"herstellink gestuurd aan {organiser.email}")
            db.session.commit()
            flash(f"Een link om een nieuw wachtwoord te kiezen is gestuurd aan {organiser.email}.", "success")
    return redirect(url_for("organiser.accounts"))


@bp.get("/account")
def account():
    """The organiser's sessions, two-factor state and recent actions."""
    config = current_app.config
    sessions = active_sessions(current_user, timedelta(minutes=config["ORGANISER_IDLE_MINUTES"]),
                               timedelta(hours=config["ORGANISER_SESSION_HOURS"]))
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.organiser_id == current_user.id)
                                 .order_by(AuditEntry.id.desc()).limit(20)).all()
    return render_template(
        "organiser/account.html", sessions=sessions, this_session=current_session(), entries=entries,
        recovery_left=unused_recovery_codes(current_user), form=EmptyForm(), disable_form=ConfirmPasswordForm(),
        required=two_factor_required(current_user, config["ORGANISER_2FA_REQUIRED"]))


@bp.post("/account/elders-uitloggen")
def log_out_elsewhere():
    """End every other session of this organiser; this one stays."""
    if EmptyForm().validate():
        ended = end_all_sessions(current_user, keep=current_session())
        audit(current_user, "account.sessions", f"uitgelogd op {ended} andere apparaten")
        db.session.commit()
        flash(f"U bent uitgelogd op {ended} andere apparaten.", "success")
    return redirect(url_for(".account"))


@bp.route("/account/tweestaps", methods=["GET", "POST"])
def two_factor_setup():
    """Set up two-factor authentication: scan the QR code, confirm with a code, keep the recovery codes."""
    if current_user.totp_enabled_at:
        return redirect(url_for(".account"))
    secret = session.get(SETUP_SECRET) or new_secret()
    session[SETUP_SECRET] = secret
    form = CodeForm()
    form.code.description = "De zes cijfers die uw authenticator-app nu toont."
    if form.validate_on_submit():
        try:
            codes = enable(current_user, secret, form.code.data)
        except WrongCode as error:
            form.code.errors.append(str(error))
        else:
            audit(current_user, "account.2fa_on", "tweestapsverificatie aangezet")
            db.session.commit()
            session.pop(SETUP_SECRET, None)
            session.pop(MUST_SET_UP, None)
            return render_template("organiser/recovery_codes.html", codes=codes)
    uri = setup_uri(current_user, secret)
    return render_template("organiser/two_factor_setup.html", form=form, qr=qr_svg(uri), secret=secret,
                           must=bool(session.get(MUST_SET_UP)))


def _password_confirmed() -> bool:
    form = ConfirmPasswordForm()
    return form.validate_on_submit() and current_user.check_password(form.password.data)


@bp.post("/account/herstelcodes")
def new_recovery_codes_page():
    """Ten new recovery codes (with the password); the old ones stop working."""
    if not current_user.totp_enabled_at or not _password_confirmed():
        flash("Uw wachtwoord klopt niet; uw herstelcodes zijn niet veranderd.", "error")
        return redirect(url_for(".account"))
    codes = new_recovery_codes(current_user)
    audit(current_user, "account.2fa_codes", "nieuwe herstelcodes gemaakt")
    db.session.commit()
    return render_template("organiser/recovery_codes.html", codes=codes)


@bp.post("/account/tweestaps/uit")
def two_factor_disable():
    """Turn two-factor authentication off (with the password); where it is required, set it up anew."""
    if not _password_confirmed():
        flash("Uw wachtwoord klopt niet; tweestapsverificatie staat nog aan.", "error")
        return redirect(url_for(".account"))
    disable(current_user)
    tell_organiser(current_user, "account.2fa_off", "tweestapsverificatie uitgezet")
    db.session.commit()
    if two_factor_required(current_user, current_app.config["ORGANISER_2FA_REQUIRED"]):
        session[MUST_SET_UP] = True
        flash("Tweestapsverificatie is uitgezet. Ze is verplicht: koppel nu uw (nieuwe) app.", "success")
        return redirect(url_for(".two_factor_setup"))
    flash("Tweestapsverificatie is uitgezet.", "success")
    return redirect(url_for(".account"))
