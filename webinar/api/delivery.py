"""Sending webhook deliveries: the worker's pass after the mail (registered with mailing.register_pass).

As with mail: a claim with a lease is committed before any HTTP traffic, so a
worker killed mid-delivery loses nothing: its claim runs out and the next pass
sends again, with the same webhook-id (at least once). Each delivery is one
POST with a timeout; redirects are not followed; 2xx is delivered, timeouts,
connection errors, 429 and 5xx are tried again on a back-off ladder, anything
else fails at once. The destination is checked again before every attempt and
the connection goes to the address that was checked.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import DBAPIError

from ..database import begin_write, is_sqlite, utcnow
from ..extensions import db
from ..mailing.kinds import register_pass
from .webhook_models import DeliveryStatus, WebhookDelivery
from .webhooks import Refused, check_destination, signed_headers

log = logging.getLogger(__name__)

#: minutes before the next try after the 1st, 2nd, ... failed attempt; after the last the delivery fails
BACKOFF_MINUTES = (1, 5, 30, 120, 360, 720)
#: how much of an answer the delivery log keeps
KEPT_ANSWER = 500
_TABLE = WebhookDelivery.__table__
#: what stays as it is in a path and query sent: the reserved and unreserved characters and "%" (already encoded)
_URL_SAFE = "/?&=:;@!$'()*+,~-._%"


def _due(now: datetime):
    waiting = and_(_TABLE.c.status == DeliveryStatus.pending, _TABLE.c.due_at <= now)
    abandoned = and_(_TABLE.c.status == DeliveryStatus.sending, _TABLE.c.claimed_until < now)
    return or_(waiting, abandoned)


def claim(now: datetime, limit: int, lease_seconds: int) -> list[int]:
    """Claim up to `limit` due deliveries (also those of a worker that died) and commit the claim."""
    db.session.rollback()
    begin_write()
    query = select(_TABLE.c.id).where(_due(now)).order_by(_TABLE.c.due_at, _TABLE.c.id).limit(limit)
    if not is_sqlite():
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(update(_TABLE).where(_TABLE.c.id.in_(ids), _due(now)).values(
            status=DeliveryStatus.sending, claimed_until=now + timedelta(seconds=lease_seconds),
            attempts=_TABLE.c.attempts + 1))
    db.session.commit()
    return ids


class _Pinned:
    """http.client connections to the address that was checked (not a second DNS answer), names kept for TLS."""

    class HTTP(http.client.HTTPConnection):
        def __init__(self, host, address, **kwargs):
            super().__init__(host, **kwargs)
            self.address = address

        def connect(self):
            self.sock = socket.create_connection((self.address, self.port), self.timeout)

    class HTTPS(http.client.HTTPSConnection):
        def __init__(self, host, address, **kwargs):
            super().__init__(host, context=ssl.create_default_context(), **kwargs)
            self.address = address

        def connect(self):
            raw = socket.create_connection((self.address, self.port), self.timeout)
            self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, str]:
    """POST once, following no redirect: (status, the start of the answer). Raises Refused, OSError."""
    address = check_destination(url)[0]
    parts = urlsplit(url)
    kind = _Pinned.HTTPS if parts.scheme == "https" else _Pinned.HTTP
    connection = kind(parts.hostname, address, port=parts.port, timeout=timeout)
    try:
        path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_URL_SAFE)
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read(KEPT_ANSWER).decode("utf-8", errors="replace")
    finally:
        connection.close()


def _outcome(url: str, body: bytes, headers: dict, attempts: int, now: datetime) -> dict:
    """Send one claimed delivery; the values to record on it."""
    try:
        status, answer = post(url, body, headers, current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    except Refused as refused:
        return {"status": DeliveryStatus.failed, "last_status": None, "last_response": str(refused)}
    except (OSError, http.client.HTTPException) as error:  # timeouts, refused connections, broken answers
        return _retry(attempts, now, None, f"geen antwoord: {type(error).__name__}: {error}"[:KEPT_ANSWER])
    if 200 <= status < 300:
        return {"status": DeliveryStatus.delivered, "last_status": status, "last_response": answer,
                "delivered_at": now}
    if status >= 500 or status in (408, 429):
        return _retry(attempts, now, status, answer)
    note = " (doorverwijzingen volgen we niet)" if 300 <= status < 400 else ""
    return {"status": DeliveryStatus.failed, "last_status": status, "last_response": answer + note}


def _retry(attempts: int, now: datetime, status: int | None, answer: str) -> dict:
    """Pending again after the next wait on the ladder, or failed once the ladder is done."""
    if attempts > len(BACKOFF_MINUTES):
        return {"status": DeliveryStatus.failed, "last_status": status, "last_response": answer}
    wait = timedelta(minutes=BACKOFF_MINUTES[attempts - 1])
    return {"status": DeliveryStatus.pending, "due_at": now + wait, "last_status": status, "last_response": answer}


def _attempt(delivery: WebhookDelivery, now: datetime) -> dict:
    """Sign and send one claimed delivery, holding no transaction while the receiver answers."""
    try:
        body = (delivery.payload or "").encode()
        sending = (delivery.subscription.url, body,
                   signed_headers(delivery.subscription, delivery.message_id, body, now), delivery.attempts)
    finally:
        db.session.rollback()
    return _outcome(*sending, now)


def deliver_due(now: datetime | None = None) -> int:
    """One pass over the due deliveries, batch by batch; how many were attempted."""
    config = current_app.config
    attempted = 0
    while True:
        moment = now or utcnow()
        ids = claim(moment, config["WEBHOOK_BATCH_SIZE"], config["WEBHOOK_CLAIM_SECONDS"])
        if not ids:
            return attempted
        for delivery_id in ids:
            delivery = db.session.get(WebhookDelivery, delivery_id)
            moment, attempts = now or utcnow(), delivery.attempts
            try:
                values = _attempt(delivery, moment)
            except DBAPIError:
                raise  # the database's trouble ends the pass, as for mail; the claim runs out
            except Exception as error:  # one delivery's bug must not hold up the others
                log.exception("webhook delivery %s could not be sent", delivery_id)
                db.session.rollback()
                values = _retry(attempts, moment, None, f"interne fout: {type(error).__name__}"[:KEPT_ANSWER])
            begin_write()
            db.session.execute(update(_TABLE).where(_TABLE.c.id == delivery_id,
                                                    _TABLE.c.status == DeliveryStatus.sending)
                               .values(claimed_until=None, **values))
            db.session.commit()
            attempted += 1


register_pass(deliver_due)
