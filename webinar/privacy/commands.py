"""`flask privacy purge`: remove personal data that has been kept long enough."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup

from ..database import begin_write, utcnow
from ..dutch import date
from ..events.models import Event
from ..extensions import db
from . import steps
from .services import events_due, purge_event

privacy_cli = AppGroup("privacy", help="Personal data.")


def _run(label: str, work: Callable[[], object]) -> bool:
    """Run one piece of work in its own write transaction and say what it did."""
    db.session.rollback()
    begin_write()
    try:
        outcome = work()
        db.session.commit()
    except Exception as error:  # one failure must not keep the rest; cron sees the exit code
        db.session.rollback()
        click.echo(f"{label}: mislukt: {type(error).__name__}: {error}", err=True)
        return False
    if isinstance(outcome, int):
        outcome = f"{outcome} verwijderd"
    click.echo(f"{label}: {outcome or 'klaar'}")
    return True


@privacy_cli.command("purge")
def purge_command():
    """Remove registrants' personal data PRIVACY_PURGE_DAYS after their event; keep anonymous counts."""
    days = current_app.config["PRIVACY_PURGE_DAYS"]
    if days < 0:
        raise click.ClickException("PRIVACY_PURGE_DAYS mag niet negatief zijn.")
    now = utcnow()
    due = [(event.id, f"{event.title} ({date(event.starts_at)})") for event in events_due(now, days)]
    if not due:
        click.echo(f"Geen bijeenkomsten met persoonsgegevens ouder dan {days} dagen na afloop.")
    results = [
        _run(label, lambda event_id=event_id: purge_event(db.session.get(Event, event_id), now))
        for event_id, label in due
    ]
    results += [_run(label, lambda step=step: step(now)) for label, step in steps.STEPS]
    db.session.rollback()
    if not all(results):
        sys.exit(1)
