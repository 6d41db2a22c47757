"""Organiser accounts: creating, logging in, invitations."""

from __future__ import annotations

from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from ..database import utcnow
from ..extensions import db
from ..mailing.services import queue_mail
from ..tokens import hash_token, new_token
from .models import Invitation, LoginAttempt, Organiser, PasswordReset
from .passwords import check_password
from .roles import DEFAULT_ROLE, ROLES
from .sessions import end_all_sessions

#: failed logins in a row before an account is locked, and for how long
MAX_FAILED_LOGINS = 5
LOCK_TIME = timedelta(minutes=15)
#: failed logins from one address within LOCK_TIME before it is refused
MAX_FAILED_PER_ADDRESS = 20
INVITATION_VALID = timedelta(days=3)


class LoginRefused(Exception):
    """Wrong address or password, or too many attempts: one answer for all."""


class WrongPassword(ValueError):
    """The current password, asked before a change, does not match."""


def normalize_address(email: str) -> str:
    """A valid address in lower case. Raises ValueError with a Dutch message."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError("Dat is geen geldig e-mailadres.") from error


def find_organiser(email: str) -> Organiser | None:
    return db.session.scalar(select(Organiser).where(Organiser.email == email.strip().lower()))


def create_organiser(email: str, password: str, name: str = "", role: str = DEFAULT_ROLE) -> Organiser:
    """Add an organiser. Raises ValueError with a Dutch message on bad input."""
    address = normalize_address(email)
    if find_organiser(address):
        raise ValueError(f"Er is al een organisator met het adres {address}.")
    if role not in ROLES:
        raise ValueError(f"Onbekende rol: {role}.")
    organiser = Organiser(email=address, name=name.strip(), role=role)
    organiser.set_password(password)
    db.session.add(organiser)
    db.session.flush()
    return organiser


def authenticate(email: str, password: str, address: str, now: datetime | None = None) -> Organiser:
    """The organiser for these credentials, or LoginRefused. Counts every attempt.

    Every attempt costs one password check, also for an unknown, inactive or
    locked account or a refused address, so the time taken tells nothing.
    """
    now = now or utcnow()
    recent_failures = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.address == address,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at > now - LOCK_TIME,
        )
    )
    organiser = find_organiser(email)
    matches = check_password(organiser.password_hash if organiser else None, password)
    attempt = LoginAttempt(address=address, created_at=now)
    db.session.add(attempt)
    if organiser is None or not organiser.active or recent_failures >= MAX_FAILED_PER_ADDRESS:
        raise LoginRefused()
    if organiser.locked_until and organiser.locked_until > now:
        raise LoginRefused()
    if not matches:
        organiser.failed_logins += 1
        if organiser.failed_logins >= MAX_FAILED_LOGINS:
            organiser.locked_until = now + LOCK_TIME
            organiser.failed_logins = 0
        raise LoginRefused()
    organiser.failed_logins = 0
    organiser.locked_until = None
    organiser.last_login_at = now
    attempt.succeeded = True
    db.session.flush()
    return organiser


def end_sessions(organiser: Organiser) -> None:
    """Every session of this organiser stops working (logout, password change or reset)."""
    organiser.session_version += 1
    end_all_sessions(organiser)
    db.session.flush()


def change_password(organiser: Organiser, current: str, new: str) -> None:
    """Set a new password and end all sessions.

    Raises ValueError in Dutch: WrongPassword for the current one, WeakPassword for the new one.
    """
    if not organiser.check_password(current):
        raise WrongPassword("Uw huidige wachtwoord klopt niet.")
    organiser.set_password(new)
    end_sessions(organiser)


def invite(inviter: Organiser, email: str, now: datetime | None = None, role: str = DEFAULT_ROLE) -> Invitation:
    """Invite a new organiser by e-mail, in a role; the link works once and for three days."""
    now = now or utcnow()
    address = normalize_address(email)
    if find_organiser(address):
        raise ValueError(f"{address} heeft al een account.")
    if role not in ROLES:
        raise ValueError(f"Onbekende rol: {role}.")
    invitation = Invitation(
        email=address, invited_by_id=inviter.id, role=role, created_at=now, expires_at=now + INVITATION_VALID
    )
    db.session.add(invitation)
    db.session.flush()
    queue_mail("invitation", recipient=address, dedupe_key=f"invitation:{invitation.id}",
               invitation_id=invitation.id)
    return invitation


def mint_link_token(row: Invitation | PasswordReset) -> str:
    """A new token for a single-use link (an invitation, a password reset); earlier links of it stop working."""
    token = new_token()
    row.token_hash = hash_token(token)
    return token


mint_invitation_token = mint_link_token


def find_by_token(model: type[Invitation] | type[PasswordReset], token: str):
    """The row of a single-use link's token, or None (also for a token that cannot be one)."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(model).where(model.token_hash == hash_token(token)))


def open_invitation(token: str, now: datetime | None = None) -> Invitation | None:
    """The invitation for a link, if it is unused and not expired."""
    now = now or utcnow()
    invitation = find_by_token(Invitation, token)
    if invitation is None or invitation.accepted_at or invitation.expires_at <= now:
        return None
    return invitation


def accept_invitation(invitation: Invitation, name: str, password: str, now: datetime | None = None) -> Organiser:
    """Create the invited organiser, in the invitation's role; the link is used up."""
    organiser = create_organiser(invitation.email, password, name=name, role=invitation.role)
    invitation.accepted_at = now or utcnow()
    db.session.flush()
    return organiser
