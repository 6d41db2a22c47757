"""Organiser accounts."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from ..extensions import db
from .models import Organiser


def create_organiser(email: str, password: str, name: str = "") -> Organiser:
    """Add an organiser. Raises ValueError with a Dutch message on bad input."""
    try:
        address = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError("Dat is geen geldig e-mailadres.") from error
    if db.session.scalar(select(Organiser).where(Organiser.email == address)):
        raise ValueError(f"Er is al een organisator met het adres {address}.")
    organiser = Organiser(email=address, name=name)
    organiser.set_password(password)
    db.session.add(organiser)
    db.session.flush()
    return organiser
