"""The organiser's mail kinds: invitations to new organisers, and messages to a group of registrants."""

from __future__ import annotations

from datetime import datetime

from ..links import external_url
from ..mailing.kinds import Batch, register_kind
from ..mailing.message import Obsolete, compose
from ..mailing.mime import Email, named
from ..mailing.models import OutgoingMail
from ..registration.models import RegistrationStatus, TokenPurpose
from ..registration.notifications import event_reply_to
from ..registration.tokens import issue_batch_token
from .broadcast_services import broadcast_mail, placeholder_values, sample_mail, uses_placeholder
from ..audit import AuditEntry
from ..extensions import db
from .models import PasswordReset
from .services import mint_link_token
from .roles import ROLE_DESCRIPTIONS, role_label


def invitation_still_useful(row: OutgoingMail, now: datetime, batch: Batch) -> None:
    """Obsolete once the invitation is used, expired or gone."""
    invitation = row.invitation
    if invitation is None or invitation.accepted_at or invitation.expires_at <= now:
        raise Obsolete("de uitnodiging is gebruikt of verlopen")


def render_invitation(row: OutgoingMail, now: datetime, batch: Batch) -> Email:
    """An invitation to become an organiser, with a fresh single-use link."""
    invitation = row.invitation
    url = external_url("organiser.accept_invitation", token=mint_link_token(invitation))
    by = invitation.invited_by
    role = role_label(invitation.role).lower()
    description = ROLE_DESCRIPTIONS.get(invitation.role, "")
    return compose(
        f"Uitnodiging: account als {role} voor de bijeenkomsten", invitation.email, "invitation",
        reply_to=named(by.email, by.name) if by else "",  # questions go to the colleague who invited
        url=url, inviter=by.label if by else "Een organisator", expires_at=invitation.expires_at, role=role,
        can_do=description[:1].lower() + description[1:],
    )


def _referred(row: OutgoingMail, model):
    """The row a kind's dedupe key names ("password_reset:42"), or None when it is gone."""
    return db.session.get(model, int(row.dedupe_key.rsplit(":", 1)[1]))


def reset_still_useful(row: OutgoingMail, now: datetime, batch: Batch) -> None:
    """Obsolete once the link is used or expired, or the account is gone."""
    reset = _referred(row, PasswordReset)
    if reset is None or reset.used_at or reset.expires_at <= now:
        raise Obsolete("de herstellink is gebruikt of verlopen")


def render_password_reset(row: OutgoingMail, now: datetime, batch: Batch) -> Email:
    """A link to choose a new password, minted now."""
    reset = _referred(row, PasswordReset)
    url = external_url("organiser.reset_password", token=mint_link_token(reset))
    return compose("Een nieuw wachtwoord kiezen", reset.organiser.email, "password_reset", url=url,
                   expires_at=reset.expires_at, requested_by=reset.requested_by)


def render_account_notice(row: OutgoingMail, now: datetime, batch: Batch) -> Email:
    """What changed in the organiser's sign-in (two-factor off, a recovery code used), from the audit log."""
    entry = _referred(row, AuditEntry)
    return compose("Wijziging in uw inloggegevens", row.recipient, "account_notice", entry=entry)


def broadcast_still_useful(row: OutgoingMail, now: datetime, batch: Batch) -> None:
    """Obsolete when the message is gone, the registrant's status left its selection, or the event was
    cancelled since."""
    if row.broadcast is None:
        raise Obsolete("het bericht bestaat niet meer")
    if row.registration_id is None:
        return  # a test message
    registration = row.registration
    if registration is None or registration.status.value not in row.broadcast.statuses:
        raise Obsolete("de aanmelding heeft een andere status")
    event = registration.event
    if event.cancelled_at is not None and event.cancelled_at > row.created_at:
        raise Obsolete("de bijeenkomst gaat niet door")


def render_broadcast(row: OutgoingMail, now: datetime, batch: Batch) -> Email:
    """An organiser's message to one registrant; a test (no registration) is the fictional registrant's."""
    broadcast = row.broadcast
    if row.registration_id is None:
        subject, context = sample_mail(broadcast, row.event, test=True)
        return compose(subject, row.recipient, "broadcast", reply_to=event_reply_to(row.event), **context)
    registration, event = row.registration, row.registration.event
    join_url = ""
    if uses_placeholder("deelnamelink", broadcast.subject, broadcast.body):
        join_url = external_url("attendance.join", token=issue_batch_token(batch, registration, TokenPurpose.join))
    manage_url = external_url("registration.manage",
                              token=issue_batch_token(batch, registration, TokenPurpose.manage))
    values = placeholder_values(event, registration.first_name, join_url=join_url, manage_url=manage_url)
    subject, context = broadcast_mail(broadcast, event, values,
                                      waitlisted=registration.status == RegistrationStatus.waitlisted)
    return compose(subject, registration.email, "broadcast", reply_to=event_reply_to(event), **context)


register_kind("invitation", label="Uitnodiging voor een organisator", recipient="nieuwe organisator",
              render=render_invitation, still_useful=invitation_still_useful, personal_links=True)
register_kind("broadcast", label="Bericht van de organisatie", recipient="aangemelde", render=render_broadcast,
              still_useful=broadcast_still_useful, personal_links=True, bulk=True)
register_kind("password_reset", label="Link voor een nieuw wachtwoord", recipient="organisator",
              render=render_password_reset, still_useful=reset_still_useful, personal_links=True)
register_kind("account_notice", label="Melding over het inloggen", recipient="organisator",
              render=render_account_notice)
