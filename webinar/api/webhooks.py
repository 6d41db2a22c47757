"""Webhooks: subscriptions, the deliveries each change queues, Standard Webhooks signatures, the purge.

A change (a registration stored, cancelled or promoted; attendance recorded; an
event changed; a support request stored or given a new status) queues one
WebhookDelivery per subscription that asked for its kind, in the transaction of
the change, through the signals of the domain that made it. The worker sends
them later (api/delivery.py); nothing goes out inside a request.

A payload names what changed (ids, the event's link name, a status) and no
person: the receiver asks the API for the details with its own token, within
its own role. So a payload holds no personal data that the purge must chase.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import object_session

from ..attendance.services import attendance_recorded
from ..audit import audit
from ..database import utcnow
from ..events.models import Event
from ..events.services import event_changed
from ..extensions import db
from ..organiser.models import Organiser
from ..organiser.roles import EVENTS_VIEW, SUPPORT_VIEW, may
from ..registration.services import registrations_changed, same_transaction_checks
from ..support.services import support_request_changed
from .webhook_models import KINDS, DeliveryStatus, WebhookDelivery, WebhookSubscription

#: how long the old secret keeps signing after a rotation
ROTATION_OVERLAP = timedelta(hours=24)


# --- destinations -----------------------------------------------------------

class Refused(ValueError):
    """A destination the service will not send to (in Dutch)."""


def check_destination(url: str) -> list[str]:
    """The addresses `url`'s host resolves to, when every one may be sent to; Refused (in Dutch) when not.

    Private, loopback, link-local and other special ranges are refused unless
    WEBHOOK_ALLOW_PRIVATE is on (an integration inside one's own network).
    """
    parts = urlsplit(url)
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE"]
    if parts.scheme not in (("http", "https") if allow_private else ("https",)) or not parts.hostname:
        raise Refused("Geef een volledige https-link, bijvoorbeeld https://crm.example.org/webhooks.")
    if parts.username or parts.password:
        raise Refused("Een link met gebruikersnaam of wachtwoord erin kan niet.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    except (OSError, ValueError, UnicodeError):
        raise Refused("Deze server is niet te vinden.") from None
    for address in found:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global and not allow_private:
            raise Refused("Deze link wijst naar een intern, lokaal of gereserveerd adres; daarheen versturen we niets.")
    return sorted(found)


# --- signing (https://www.standardwebhooks.com) ------------------------------

def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64 HMAC-SHA256>` of "{id}.{timestamp}.{body}" with the secret's key."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def signed_headers(subscription: WebhookSubscription, message_id: str, body: bytes, now: datetime) -> dict:
    """The Standard Webhooks headers; during a rotation signed with the new and the old secret."""
    timestamp = int(now.timestamp())
    secrets_in_use = [subscription.secret]
    if subscription.previous_secret and subscription.previous_until and now < subscription.previous_until:
        secrets_in_use.append(subscription.previous_secret)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(key, message_id, timestamp, body) for key in secrets_in_use),
        "Content-Type": "application/json",
        "User-Agent": "webinar-webhooks/1",
    }


# --- subscriptions ------------------------------------------------------------

def allowed_kinds(organiser: Organiser) -> list[str]:
    """The kinds this organiser's role may receive: no more than the API would show them."""
    return [kind for kind in KINDS
            if may(organiser, SUPPORT_VIEW if kind.startswith("support_request.") else EVENTS_VIEW)]


def subscribe(organiser: Organiser, url: str, kinds: list[str]) -> WebhookSubscription:
    """A new subscription with a fresh secret; Refused or ValueError (in Dutch) on a bad URL or kinds."""
    url = url.strip()
    if len(url) > 500:
        raise Refused("Deze link is te lang.")
    check_destination(url)
    if not kinds or not set(kinds) <= set(allowed_kinds(organiser)):
        raise ValueError("Kies gebeurtenissen uit de lijst; uw rol bepaalt welke.")
    subscription = WebhookSubscription(organiser_id=organiser.id, url=url, secret=new_secret(),
                                       kinds=[kind for kind in KINDS if kind in kinds])
    db.session.add(subscription)
    db.session.flush()
    audit(organiser, "webhook.create", f"webhook {subscription.id} naar {url}: {', '.join(subscription.kinds)}")
    return subscription


def rotate_secret(organiser: Organiser, subscription: WebhookSubscription, now: datetime | None = None) -> None:
    """A new secret; the old one signs as well for ROTATION_OVERLAP, so the receiver can switch without a gap."""
    now = now or utcnow()
    subscription.previous_secret, subscription.previous_until = subscription.secret, now + ROTATION_OVERLAP
    subscription.secret = new_secret()
    db.session.flush()
    audit(organiser, "webhook.rotate", f"webhook {subscription.id}: nieuw geheim")


def deactivate(organiser: Organiser, subscription: WebhookSubscription) -> None:
    """Stop the subscription: nothing new is queued; what is queued is still delivered."""
    subscription.active = False
    db.session.flush()
    audit(organiser, "webhook.stop", f"webhook {subscription.id} naar {subscription.url} gestopt")


def send_again(organiser: Organiser, delivery: WebhookDelivery, now: datetime | None = None) -> bool:
    """Queue a delivery once more, with the same webhook-id; False when its payload is purged or it is under way."""
    if delivery.payload is None or delivery.status == DeliveryStatus.sending:
        return False
    delivery.status, delivery.attempts, delivery.due_at = DeliveryStatus.pending, 0, now or utcnow()
    db.session.flush()
    audit(organiser, "webhook.resend", f"webhook {delivery.subscription_id}: bericht {delivery.message_id} opnieuw")
    return True


# --- queueing, from the domains' signals ---------------------------------------

#: how long a process trusts the kinds it last read as subscribed to; so a subscription saved in another
#: process receives the changes made from at most this long after it was saved (in its own process: at once)
KINDS_FRESH_SECONDS = 5.0


def _subscribed_kinds() -> frozenset[str]:
    """The kinds some active subscription takes, as this process read them at most KINDS_FRESH_SECONDS ago.

    Read again at once after this process saved a subscription (`_kinds_changed`).
    Most changes (every public sign-up) find nobody listening: they pay a look
    in this app's memory, not a query.
    """
    read_at, kinds = current_app.extensions.get("webhook_kinds", (None, frozenset()))
    now = time.monotonic()
    if read_at is None or now - read_at >= KINDS_FRESH_SECONDS:
        kinds = frozenset(kind for found in db.session.scalars(
            select(WebhookSubscription.kinds).where(WebhookSubscription.active.is_(True))) for kind in found or ())
        current_app.extensions["webhook_kinds"] = (now, kinds)
    return kinds


def _forget_kinds(*_) -> None:
    if has_app_context():
        current_app.extensions.pop("webhook_kinds", None)


@sa_event.listens_for(WebhookSubscription, "after_insert")
@sa_event.listens_for(WebhookSubscription, "after_update")
@sa_event.listens_for(WebhookSubscription, "after_delete")
def _kinds_changed(_mapper, _connection, subscription: WebhookSubscription) -> None:
    """A subscription was stored, changed or removed: read the kinds again now, and once more after the commit
    (a sign-up between the flush and the commit reads them without the change)."""
    _forget_kinds()
    session = object_session(subscription)
    if session is not None:
        sa_event.listen(session, "after_commit", _forget_kinds, once=True)


def _subscribers(kind: str) -> list[WebhookSubscription]:
    if kind not in _subscribed_kinds():
        return []
    return [found for found in db.session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.active.is_(True)).order_by(WebhookSubscription.id))
        if kind in found.kinds]


def _anyone_subscribes(kind: str) -> bool:
    """Whether an active subscription takes `kind`, as this process knows (`_subscribed_kinds`)."""
    return kind in _subscribed_kinds()


def queue(kind: str, items: list[dict], now: datetime | None = None) -> int:
    """One delivery per item and active subscription for `kind`, in the caller's transaction; how many.

    No query when this process knows nobody subscribes (`_subscribed_kinds`), which is what a sign-up pays then.
    """
    subscriptions = _subscribers(kind)
    now = now or utcnow()
    for subscription in subscriptions:
        for data in items:
            body = {"type": kind, "timestamp": now.isoformat(), "data": data}
            db.session.add(WebhookDelivery(subscription_id=subscription.id, message_id=f"msg_{uuid.uuid4().hex}",
                                           kind=kind, payload=json.dumps(body, separators=(",", ":")),
                                           due_at=now, created_at=now))
    if subscriptions:
        db.session.flush()
    return len(subscriptions) * len(items)


def _per_registration(kind: str, event_id: int, ids: list[int]) -> None:
    if kind in _subscribed_kinds():  # the event's name only when someone listens; queue() reads who
        slug = db.session.scalar(select(Event.slug).where(Event.id == event_id)) or ""
        queue(kind, [{"event": slug, "registration_id": registration_id} for registration_id in ids])


def _on_registrations(kind: str, *, event_id: int, ids: list[int]) -> None:
    _per_registration(f"registration.{kind}", event_id, ids)


def _on_attendance(_, *, event_id: int, ids: list[int]) -> None:
    _per_registration("attendance.recorded", event_id, ids)


def _on_event(event: Event, *, what: list[str]) -> None:
    queue("event.changed", [{"event": event.slug, "changed": what}])


def _on_support(kind: str, *, request) -> None:
    queue(f"support_request.{kind}", [{"support_request_id": request.id, "status": request.status.value}])


registrations_changed.connect(_on_registrations, weak=False)
# A new sign-up's delivery is committed with the sign-up: with a subscriber, not on the fast path's own commit.
same_transaction_checks.append(lambda: _anyone_subscribes("registration.created"))
attendance_recorded.connect(_on_attendance, weak=False)
event_changed.connect(_on_event, weak=False)
support_request_changed.connect(_on_support, weak=False)


# --- privacy ---------------------------------------------------------------------

def purge_delivered_payloads(now: datetime) -> int:
    """Remove the bodies of deliveries that arrived (their log line stays); how many."""
    result = db.session.execute(
        update(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.delivered,
                                      WebhookDelivery.payload.is_not(None)).values(payload=None))
    db.session.flush()
    return result.rowcount or 0
