"""Bounces: each message goes out with an envelope sender of its own, and what comes back names its outbox row.

With MAIL_BOUNCE_ADDRESS set (bounces@example.org), the envelope sender (MAIL
FROM, the Return-Path at the far end) of outbox row 42 is
bounces+42-<signature>@example.org (VERP): a delivery status notification
goes to that address, so it names the row, and the signature (an HMAC of the
id with SECRET_KEY) keeps anyone else from naming rows. When a server loses
the extension, the Message-ID in the returned headers names the row instead.

Reports are read with the standard library's email package, which parses
RFC 3464's message/delivery-status into its header blocks: Exchange Online,
Gmail and Postfix all report that way, and the blocks carry what the organiser
needs (the failed address and the server's reason). A report whose Action
is "failed" marks its row bounced and tells the domains that registered a
listener (the registration: "adres onbereikbaar"). bounce_mailbox.py reads the
mailbox over IMAP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from .models import MailStatus, OutgoingMail

#: characters of the signature in a bounce address (base32: 50 bits)
SIGNATURE_LENGTH = 10
#: the longest reason kept
REASON_LENGTH = 500
#: headers of a report that may carry the address it was sent to
_ADDRESSED = ("To", "Delivered-To", "X-Original-To", "Envelope-To")

_LISTENERS: list[Callable[[OutgoingMail, str, datetime], None]] = []


def register_bounce_listener(listener: Callable[[OutgoingMail, str, datetime], None]) -> None:
    """Call `listener(row, reason, now)` for each message that came back (in the transaction that marks it)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def _signature(row_id: int) -> str:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"bounce:{row_id}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest())[:SIGNATURE_LENGTH].decode("ascii").lower()


def bounce_sender(row_id: int) -> str:
    """The envelope sender for an outbox row: MAIL_BOUNCE_ADDRESS with the row's id and signature, or ""."""
    address = current_app.config.get("MAIL_BOUNCE_ADDRESS") or ""
    if not address:
        return ""
    local, _, domain = address.rpartition("@")
    return f"{local}+{row_id}-{_signature(row_id)}@{domain}"


def row_id_in(address: str) -> int | None:
    """The outbox row a bounce address names, when its signature is right."""
    configured = current_app.config.get("MAIL_BOUNCE_ADDRESS") or ""
    local, _, domain = configured.rpartition("@")
    if not local:
        return None
    found = re.fullmatch(rf"{re.escape(local)}\+(\d{{1,18}})-([a-z2-7]{{{SIGNATURE_LENGTH}}})@{re.escape(domain)}",
                         address.strip(), re.IGNORECASE)
    if found is None:
        return None
    row_id = int(found.group(1))
    return row_id if hmac.compare_digest(found.group(2).lower(), _signature(row_id)) else None


@dataclass(frozen=True)
class Bounce:
    """A permanent failure as a delivery status notification reports it."""

    #: the address that failed
    recipient: str
    #: the enhanced status code, e.g. "5.1.1"
    status: str
    #: what the recipient's server said, on one line
    reason: str
    #: the addresses the report was sent to (a bounce address among them names the row)
    addressed_to: tuple[str, ...]
    #: the Message-ID of the returned message, or ""
    message_id: str


def read_bounce(raw: bytes) -> Bounce | None:
    """The failure a delivery status notification reports; None for anything else (an auto-reply, a delay)."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    report = next((part for part in message.walk() if part.get_content_type() == "message/delivery-status"), None)
    if report is None or not isinstance(report.get_payload(), list):
        return None
    for block in report.get_payload()[1:]:  # the first block is about the message, the rest per recipient
        if _one_line(block.get("Action", "")).lower() != "failed":
            continue
        recipient = _typed_value(block.get("Final-Recipient", "")) or _typed_value(block.get("Original-Recipient", ""))
        status = _one_line(block.get("Status", ""))
        reason = _typed_value(block.get("Diagnostic-Code", "")) or f"status {status}"
        addressed = tuple(address for _, address in getaddresses([str(value) for name in _ADDRESSED
                                                                  for value in message.get_all(name, [])]))
        return Bounce(recipient, status, reason[:REASON_LENGTH], addressed, _returned_message_id(message))
    return None


def _one_line(value) -> str:
    return " ".join(str(value).split())


def _typed_value(value) -> str:
    """'rfc822; jan@example.org' -> 'jan@example.org'; 'smtp; 550 5.1.1 ...' -> '550 5.1.1 ...'."""
    kind, separator, rest = _one_line(value).partition(";")
    return rest.strip() if separator else kind


def _returned_message_id(message: EmailMessage) -> str:
    """The Message-ID of the message that came back, from the returned message or its headers."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822" and isinstance(part.get_payload(), list):
            returned = part.get_payload()[0]
        elif kind == "text/rfc822-headers":
            returned = HeaderParser(policy=policy.default).parsestr(part.get_content())
        else:
            continue
        return _one_line(returned.get("Message-ID", ""))
    return ""


def returned_row(bounce: Bounce) -> OutgoingMail | None:
    """The sent outbox row the report is about: named by its bounce address, else by its Message-ID."""
    row = None
    for address in bounce.addressed_to:
        row_id = row_id_in(address)
        if row_id is not None:
            row = db.session.get(OutgoingMail, row_id)
            break
    if row is None and bounce.message_id:
        row = db.session.scalars(select(OutgoingMail).where(OutgoingMail.message_id == bounce.message_id)).first()
    if row is None or row.status not in (MailStatus.sent, MailStatus.bounced):
        return None
    return row


def record_bounce(bounce: Bounce, now: datetime) -> OutgoingMail | None:
    """Mark the row the report is about as bounced, with the reason, and tell the listeners; flushes.

    None when no sent row of ours is named: the report is left for a person.
    """
    row = returned_row(bounce)
    if row is None:
        return None
    row.status = MailStatus.bounced
    row.last_error = f"teruggekomen: {bounce.reason}"
    for listener in _LISTENERS:
        listener(row, bounce.reason, now)
    db.session.flush()
    return row
