"""Webhook subscriptions and their deliveries: an outbox next to the mail's, emptied by the same worker."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..organiser.models import Organiser

#: what a subscription can ask for, with the Dutch description the organiser reads
KINDS = {
    "registration.created": "Nieuwe aanmelding",
    "registration.cancelled": "Aanmelding afgemeld",
    "registration.promoted": "Van de wachtlijst geplaatst",
    "attendance.recorded": "Aanwezigheid vastgelegd",
    "event.changed": "Bijeenkomst gewijzigd",
    "support_request.created": "Nieuwe ondersteuningsaanvraag",
    "support_request.status_changed": "Status van een aanvraag gewijzigd",
}


class DeliveryStatus(enum.Enum):
    pending = "pending"
    sending = "sending"
    delivered = "delivered"
    failed = "failed"


DELIVERY_LABELS = {
    DeliveryStatus.pending: "In de wachtrij",
    DeliveryStatus.sending: "Wordt verstuurd",
    DeliveryStatus.delivered: "Afgeleverd",
    DeliveryStatus.failed: "Mislukt",
}


class WebhookSubscription(db.Model):
    """An organiser's URL that gets signed messages about the kinds it asked for."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id", ondelete="CASCADE"), index=True)
    #: where the messages go (https, or http when private addresses are allowed)
    url: Mapped[str] = mapped_column(String(500))
    #: keys of KINDS
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the signing secret, "whsec_" + base64 (Standard Webhooks); needed to sign, so kept as it is
    secret: Mapped[str] = mapped_column(String(100))
    #: after a rotation the old secret signs too, until `previous_until`
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organiser: Mapped[Organiser] = relationship(lazy="joined")


class WebhookDelivery(db.Model):
    """One message to one subscription, queued in the transaction of the change it tells about."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
                                                 index=True)
    #: the webhook-id header: the same on every attempt, so receivers can drop repeats
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: a key of KINDS
    kind: Mapped[str] = mapped_column(String(40))
    #: the JSON body; None once `flask privacy purge` removed it after delivery
    payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, name="webhook_delivery_status", native_enum=False, length=20),
        default=DeliveryStatus.pending)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: while sending: the worker's claim runs out at this moment (a killed worker's claim is taken again)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the receiver's last HTTP status (None: no answer)
    last_status: Mapped[int | None] = mapped_column(Integer)
    #: the start of the receiver's last answer, or what went wrong
    last_response: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscription: Mapped[WebhookSubscription] = relationship(lazy="joined")

    @property
    def status_label(self) -> str:
        return DELIVERY_LABELS[self.status]
