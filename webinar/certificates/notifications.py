"""The certificate goes with the follow-up to those who joined, when they qualify."""

from __future__ import annotations

from datetime import datetime

from ..mailing.mime import Attachment
from ..registration.models import Registration
from ..registration.notifications import PersonalFile, register_attachment
from .pdf import FILENAME, pdf_for
from .services import certificate_statement


def certificate_file(registration: Registration, now: datetime) -> PersonalFile | None:
    """The registrant's certificate for their follow-up, or None when they do not qualify."""
    statement = certificate_statement(registration, now)
    if statement is None:
        return None
    return PersonalFile(Attachment(FILENAME, "application/pdf", pdf_for(registration, statement)),
                        "uw bewijs van deelname (pdf)")


register_attachment("followup_joined", certificate_file)
