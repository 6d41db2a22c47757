"""Logging in, after the password (or the organisation's account): the second factor, or setting it up."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, session, url_for

from ..database import utcnow
from ..extensions import db
from . import bp
from .access import start_session
from .account_forms import CodeForm
from .models import Organiser
from .two_factor import WrongCode, check_code, tell_organiser, two_factor_required, unused_recovery_codes

#: the Flask session's key for a login whose password was right and that waits for its code
PENDING = "organiser_2fa_pending"
#: how long the code may take after the password
PENDING_TIME = timedelta(minutes=5)


def after_first_factor(organiser: Organiser, next_path: str):
    """Where a login goes once the password (or the organisation's account) was right."""
    if organiser.totp_enabled_at:
        session.clear()
        session[PENDING] = {"id": organiser.id, "version": organiser.session_version,
                            "at": utcnow().timestamp(), "next": next_path}
        db.session.commit()
        return redirect(url_for("organiser.login_code"))
    must_set_up = two_factor_required(organiser, current_app.config["ORGANISER_2FA_REQUIRED"])
    start_session(organiser, must_set_up=must_set_up)
    db.session.commit()
    if must_set_up:
        flash("Stel eerst tweestapsverificatie in; daarna kunt u verder.", "error")
        return redirect(url_for("organiser.two_factor_setup"))
    return redirect(next_path)


def _pending_organiser() -> Organiser | None:
    pending = session.get(PENDING)
    if not pending or utcnow().timestamp() - pending["at"] > PENDING_TIME.total_seconds():
        return None
    organiser = db.session.get(Organiser, pending["id"])
    if organiser is None or not organiser.active or organiser.session_version != pending["version"]:
        return None
    return organiser


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step of logging in: a code from the app, or a recovery code."""
    organiser = _pending_organiser()
    if organiser is None:
        session.pop(PENDING, None)
        flash("Log (opnieuw) in met uw e-mailadres en wachtwoord.", "error")
        return redirect(url_for(".login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            used = check_code(organiser, form.code.data)
        except WrongCode as error:
            db.session.commit()  # the attempt counts
            form.code.errors.append(str(error))
        else:
            if used == "herstelcode":
                left = unused_recovery_codes(organiser)
                tell_organiser(organiser, "account.2fa_recovery", f"ingelogd met een herstelcode; nog {left} over")
            next_path = session[PENDING]["next"]
            start_session(organiser)
            db.session.commit()
            return redirect(next_path)
    return render_template("organiser/login_code.html", form=form)
