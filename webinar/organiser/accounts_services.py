"""Managing organiser accounts: a role changed, an account switched off or on again.

One rule holds throughout: there is always an active beheerder, or nobody could
manage accounts any more. The active beheerders are locked before they are
counted, so two beheerders who switch each other off at the same moment cannot
both succeed (on SQLite the write transaction already runs alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..database import utcnow
from ..extensions import db
from .models import Invitation, Organiser
from .roles import ROLES, role_label
from .services import end_sessions

#: the role that manages accounts, of which one must stay active
MANAGER_ROLE = "beheerder"


class AccountRefused(ValueError):
    """A change to an account that is not allowed; the message says why, in Dutch."""


@dataclass(frozen=True)
class RoleChange:
    """What changed: the account's old and new role."""

    old: str
    new: str

    def text(self) -> str:
        return f"van {role_label(self.old).lower()} naar {role_label(self.new).lower()}"


def accounts() -> list[Organiser]:
    """Every account: the active ones first, then by name."""
    found = db.session.scalars(select(Organiser)).all()
    return sorted(found, key=lambda account: (not account.active, account.label.lower()))


def open_invitations(now: datetime | None = None) -> list[Invitation]:
    """Invitations not yet accepted and not expired, newest first."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Invitation).where(Invitation.accepted_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.id.desc())
    ))


def _keep_a_manager(leaving: Organiser) -> None:
    """Refuse when `leaving` is the last active beheerder."""
    managers = db.session.scalars(
        select(Organiser.id).where(Organiser.role == MANAGER_ROLE, Organiser.active.is_(True))
        .with_for_update()
    ).all()
    if not [manager for manager in managers if manager != leaving.id]:
        raise AccountRefused("Er moet altijd minstens één actieve beheerder zijn. "
                             "Maak eerst iemand anders beheerder.")


def _not_yourself(actor: Organiser, account: Organiser, what: str) -> None:
    if actor.id == account.id:
        raise AccountRefused(f"U kunt {what} niet zelf wijzigen. Vraag een andere beheerder.")


def change_role(actor: Organiser, account: Organiser, role: str) -> RoleChange | None:
    """Give the account another role (None when it already had it); it counts from its next page."""
    if role not in ROLES:
        raise AccountRefused("Kies een van de rollen.")
    _not_yourself(actor, account, "uw eigen rol")
    if account.role == role:
        return None
    if account.role == MANAGER_ROLE and account.active:
        _keep_a_manager(account)
    change = RoleChange(account.role, role)
    account.role = role
    db.session.flush()
    return change


def set_active(actor: Organiser, account: Organiser, active: bool) -> bool:
    """Switch an account off (its sessions end at once) or on again; False when nothing changed."""
    _not_yourself(actor, account, "of uw eigen account actief is")
    if account.active == active:
        return False
    if not active and account.role == MANAGER_ROLE:
        _keep_a_manager(account)
    account.active = active
    if not active:
        end_sessions(account)
    db.session.flush()
    return True
