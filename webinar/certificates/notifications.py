"""The certificate goes with the follow-up to those who joined, when they qualify."""

from __future__ import annotations

from datetime import datetime

from ..mailing.mime import Attachment
from ..registration.models import Registration
from ..registration.notifications import PersonalFile, register_attachment
from .pdf import FILENAME, pdf_for
from .services import certificate_statement


def certificate_file(registration: Registration, now: datetime, prepared: dict) -> PersonalFile | None:
    """The registrant's certificate for their follow-up, or None when they do not qualify.

    The worker renders the follow-ups outside its write transaction (see
    mailing/worker.py `_prepare`), so making the PDF keeps no registration
    waiting; it is kept in `prepared`, the batch's dict, under what it says.
    """
    statement = certificate_statement(registration, now)
    if statement is None:
        return None
    key = ("certificate", registration.id, statement, registration.event.contact_name)
    if key not in prepared:
        prepared[key] = pdf_for(registration, statement)
    return PersonalFile(Attachment(FILENAME, "application/pdf", prepared[key]), "uw bewijs van deelname (pdf)")


register_attachment("followup_joined", certificate_file)
