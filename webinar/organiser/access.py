"""Who may enter the organiser area: every page needs a logged-in organiser, whose session ends in time."""

from __future__ import annotations

import posixpath
import re
from datetime import timedelta
from urllib.parse import quote, unquote, urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..database import begin_write, utcnow
from ..extensions import db, login
from . import bp
from .models import Organiser
from .sessions import end_session, find_session, needs_touch, open_session, touch

#: pages that work without logging in
PUBLIC_ENDPOINTS = {"organiser.login", "organiser.accept_invitation", "organiser.login_code",
                    "organiser.forgot_password", "organiser.reset_password", "organiser.oidc_login",
                    "organiser.oidc_callback"}
#: the pages an organiser who must still set up two-factor authentication may reach
SETUP_ENDPOINTS = {"organiser.two_factor_setup", "organiser.logout"}
#: the Flask session's keys: the server-side session, and a login that must still set up two-factor
SESSION_KEY, MUST_SET_UP = "organiser_session", "organiser_2fa_setup"


@login.user_loader
def load_organiser(user_id: str) -> Organiser | None:
    """The session's organiser, if the session is still current (see session_version)."""
    try:
        organiser_id, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    organiser = db.session.get(Organiser, organiser_id)
    if organiser is None or not organiser.active or organiser.session_version != version:
        return None
    return organiser


def in_organiser_area(path: str) -> bool:
    """Whether a URL path lies under /organiser, whichever blueprint serves it."""
    return path == bp.url_prefix or path.startswith(bp.url_prefix + "/")


@bp.before_app_request
def require_login():
    """Refuse every page under /organiser to anyone not logged in; end idle and old sessions.

    It runs for the whole app and decides by path, not by blueprint, so a page
    another package adds under /organiser is guarded as well.
    """
    if not in_organiser_area(request.path) or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        end_expired_session()
    if current_user.is_authenticated:
        end_ended_session()
    if not current_user.is_authenticated:
        if not session.get("_flashes"):
            flash("Log in om verder te gaan.", "error")
        return redirect(url_for("organiser.login", next=request.path))
    session["organiser_seen"] = utcnow().timestamp()
    if session.get(MUST_SET_UP) and request.endpoint not in SETUP_ENDPOINTS:
        return redirect(url_for("organiser.two_factor_setup"))
    return None


def start_session(organiser: Organiser, must_set_up: bool = False) -> None:
    """Log the organiser in on a fresh session that remembers when it began, kept as a row on the server.

    With `must_set_up`, every page leads to setting up two-factor authentication until it is done.
    """
    session.clear()
    login_user(organiser)
    session["organiser_since"] = session["organiser_seen"] = utcnow().timestamp()
    session[SESSION_KEY] = open_session(organiser, request.user_agent.string, request.remote_addr or "")
    if must_set_up:
        session[MUST_SET_UP] = True


def stop_session() -> None:
    """Log out this browser: its server-side session ends (the caller commits)."""
    end_session(session.get(SESSION_KEY))
    logout_user()
    session.clear()


def current_session():
    """This browser's session row, or None."""
    return find_session(current_user, session.get(SESSION_KEY)) if current_user.is_authenticated else None


def end_ended_session() -> None:
    """Log out a browser whose session was ended elsewhere ("log out elsewhere"); note when it was last seen."""
    row = current_session()
    if row is None:
        logout_user()
        flash("U bent op dit apparaat uitgelogd. Log opnieuw in.", "error")
        return
    now = utcnow()
    if not needs_touch(row, now):
        return
    view = current_app.view_functions.get(request.endpoint)
    if request.method == "POST":
        if not getattr(view, "writes_late", False):  # such a view must not write before its own lock
            touch(row.id, now)
        return
    # A page view reads only: write "last seen" in a short write transaction of its own.
    db.session.rollback()
    begin_write()
    touch(row.id, now)
    db.session.commit()


def end_expired_session() -> None:
    """Log out a session that was idle too long or has lasted its maximum, with a notice why."""
    now = utcnow().timestamp()
    hours = current_app.config["ORGANISER_SESSION_HOURS"]
    idle = timedelta(minutes=current_app.config["ORGANISER_IDLE_MINUTES"]).total_seconds()
    # A session from before its start was recorded counts as expired: better one
    # extra login than a session without an end.
    if now - session.get("organiser_since", 0) > timedelta(hours=hours).total_seconds():
        logout_user()
        flash(f"U was langer dan {hours} uur ingelogd en bent daarom uitgelogd. Log opnieuw in.", "error")
    elif now - session.get("organiser_seen", 0) > idle:
        logout_user()
        flash("U was een tijd niet actief en bent uitgelogd.", "error")


def safe_next(target: str | None) -> str:
    """The normalised path of `target` if it lies inside the organiser area, else the start page.

    Never an open redirect: escapes are undone first (also twice-encoded ones),
    dot segments resolved, and anything with a scheme, a host, a backslash or a
    control character is refused, since browsers read those as another site.
    """
    start = url_for("organiser.events")
    path = _unescaped(target or "")
    if path is None or _LOOKS_ELSEWHERE.search(path):
        return start
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return start
    normal = posixpath.normpath(parts.path)
    if parts.path.endswith("/") and normal != "/":
        normal += "/"
    if normal.startswith("//") or not in_organiser_area(normal):
        return start
    return quote(normal) if normal != bp.url_prefix else start


#: a backslash, whitespace or a control character: browsers drop or reinterpret them
_LOOKS_ELSEWHERE = re.compile(r"[\\\s\x00-\x1f\x7f]")


def _unescaped(target: str, rounds: int = 3) -> str | None:
    """`target` with its %-escapes undone until none are left; None if they never end."""
    for _ in range(rounds):
        if "%" not in target:
            return target
        target = unquote(target)
    return None if "%" in target else target
