"""The e-mails a support request causes: queued in the outbox, rendered when sent."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from ..links import external_url
from ..mailing.kinds import Batch, register_kind
from ..mailing.message import Obsolete, compose
from ..mailing.mime import Email
from ..mailing.services import queue_mail
from .models import SupportRequest


def _queue(kind: str, request: SupportRequest, recipient: str, key: str) -> bool:
    return queue_mail(kind, recipient=recipient, dedupe_key=f"{kind}:{request.id}:{key}",
                      support_request_id=request.id)


def notify_submitted(request: SupportRequest) -> bool:
    """The requester's confirmation, with the summary and the estimate."""
    return _queue("support_confirmation", request, request.requester_email, "1")


def notify_project_lead(request: SupportRequest) -> bool:
    """The programme's project lead hears of the new request."""
    return _queue("support_new", request, current_app.config["SUPPORT_PROJECT_LEAD_EMAIL"], "1")


def notify_status_changed(request: SupportRequest) -> bool:
    """The requester hears of the new status (once per status change)."""
    return _queue("support_status", request, request.requester_email, f"v{request.status_version}")


def _subject(row_kind: str, request: SupportRequest) -> str:
    if row_kind == "support_confirmation":
        return f"Uw aanvraag voor ondersteuning is ontvangen (aanvraag {request.id})"
    if row_kind == "support_new":
        review = " – nog beoordelen: doelgroep" if request.needs_review else ""
        return f"Nieuwe aanvraag voor ondersteuning: {request.organisation}{review}"
    return f"Uw aanvraag voor ondersteuning: {request.status_label.lower()}"


def support_still_useful(row, now: datetime, batch: Batch) -> None:
    """Obsolete once the request is gone."""
    if row.support_request is None:
        raise Obsolete("de aanvraag bestaat niet meer")


def render_support_mail(row, now: datetime, batch: Batch) -> Email:
    """Build a support e-mail from the request as it is now."""
    request = row.support_request
    for_lead = row.kind == "support_new"
    recipient = row.recipient if for_lead else request.requester_email
    context = {
        "request": request,
        "estimate": request.estimate,
        "organiser_url": external_url("support_organiser.support_detail", request_id=request.id),
        # the summary's heading, for its reader: the requester's own request, or a request to handle
        "summary_heading": "DE AANVRAAG" if for_lead else "UW AANVRAAG",
    }
    config = current_app.config
    return compose(_subject(row.kind, request), recipient, row.kind, sender_name=config["SUPPORT_MAIL_SENDER_NAME"],
                   reply_to=config["SUPPORT_MAIL_REPLY_TO"], **context)


register_kind("support_confirmation", label="Ontvangstbevestiging van een aanvraag", recipient="aanvrager",
              render=render_support_mail, still_useful=support_still_useful)
register_kind("support_new", label="Nieuwe aanvraag voor de projectleider", recipient="projectleider",
              render=render_support_mail, still_useful=support_still_useful)
register_kind("support_status", label="Nieuwe status van een aanvraag", recipient="aanvrager",
              render=render_support_mail, still_useful=support_still_useful)
