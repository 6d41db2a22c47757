"""The audit log: who did what in the organiser area, and when. Every domain writes to it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .database import UTCDateTime, utcnow
from .extensions import db


class AuditEntry(db.Model):
    """Who did what in the organiser area, and when."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    #: kept when the account is gone
    organiser_email: Mapped[str] = mapped_column(String(254))
    #: e.g. "event.edit", "export.xlsx", "message.send": a key of ACTION_LABELS
    action: Mapped[str] = mapped_column(String(60))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"), index=True)
    #: what changed, in words
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


#: every action code, as the log shows it; the codes are stored, the labels only shown
#: (tests/test_audit_log.py checks that every audit() call's code is here)
ACTION_LABELS: dict[str, str] = {
    "account.invite": "Collega uitgenodigd",
    "account.accept": "Uitnodiging aanvaard",
    "account.password": "Wachtwoord gewijzigd",
    "account.role": "Rol gewijzigd",
    "account.deactivate": "Account uitgezet",
    "account.reactivate": "Account weer aangezet",
    "account.password_reset": "Nieuw wachtwoord via een herstellink",
    "account.reset_link": "Herstellink gestuurd",
    "account.sessions": "Elders uitgelogd",
    "account.2fa_on": "Tweestapsverificatie aangezet",
    "account.2fa_off": "Tweestapsverificatie uitgezet",
    "account.2fa_codes": "Nieuwe herstelcodes gemaakt",
    "account.2fa_recovery": "Ingelogd met een herstelcode",
    "account.login_oidc": "Ingelogd met het account van de organisatie",
    "api_token.create": "API-token gemaakt",
    "api_token.revoke": "API-token ingetrokken",
    "webhook.create": "Webhook aangemaakt",
    "webhook.rotate": "Webhookgeheim vernieuwd",
    "webhook.stop": "Webhook gestopt",
    "webhook.resend": "Webhookbericht opnieuw verstuurd",
    "event.create": "Bijeenkomst aangemaakt",
    "event.edit": "Bijeenkomst gewijzigd",
    "event.slug": "Link gewijzigd",
    "event.duplicate": "Bijeenkomst gekopieerd",
    "event.publish": "Bijeenkomst gepubliceerd",
    "event.close": "Registratie gesloten",
    "event.reopen": "Registratie heropend",
    "event.cancel": "Bijeenkomst geannuleerd",
    "registration.add": "Persoon aangemeld",
    "registration.edit": "Aanmelding gewijzigd",
    "registration.cancel": "Aanmelding geannuleerd",
    "registration.promote": "Plaats gegeven van de wachtlijst",
    "registration.import": "Aanmeldingen ingelezen",
    "attendance.manual": "Aanwezigheid met de hand",
    "attendance.import": "Rapport ingelezen",
    "attendance.link": "Rapportregel gekoppeld",
    "message.test": "Testbericht verstuurd",
    "message.send": "Bericht verstuurd",
    "mail.retry": "Mislukte e-mails opnieuw verstuurd",
    "export.csv": "Export (CSV)",
    "export.xlsx": "Export (Excel)",
    "support.update": "Ondersteuningsaanvraag bijgewerkt",
    "organisation.edit": "Organisatie gecorrigeerd",
    "organisation.merge": "Organisaties samengevoegd",
}


def action_label(action: str) -> str:
    """The Dutch label of an action code; a code without one (from an older version) as 'Overige actie'."""
    return ACTION_LABELS.get(action, "Overige actie")


class Actor(Protocol):
    """Whoever acted: an organiser (the log needs only the id and the address)."""

    id: int
    email: str


class Subject(Protocol):
    """What the action was about: an event."""

    id: int


def audit(organiser: Actor, action: str, summary: str = "", event: Subject | None = None) -> AuditEntry:
    """Record an organiser action; the entry (not yet flushed)."""
    entry = AuditEntry(
        organiser_id=organiser.id,
        organiser_email=organiser.email,
        action=action,
        event_id=event.id if event else None,
        summary=summary,
    )
    db.session.add(entry)
    return entry
