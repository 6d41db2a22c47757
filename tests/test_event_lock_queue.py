"""PostgreSQL: the event's lock, taken alone (organisers, cancelling, the last places), is not overtaken by sign-ups.

Sign-ups share the event's lock (EVENT_LOCK_SHARED). Someone who needs it alone
(EVENT_ROW_LOCK) waits for the sign-ups holding it; sign-ups that come after
must then wait their turn, or a steady stream of them would keep it out. The
negative control uses row locks alone (FOR SHARE and FOR UPDATE), which
PostgreSQL does not queue: there the later sign-up goes first.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import bindparam, select

from helpers import ENDS, STARTS, app_in_context
from webinar.events import services as event_services
from webinar.events.models import Event
from webinar.events.services import create_event
from webinar.extensions import db

#: long enough for a waiting statement to show that it waits
PAUSE = 0.3


def grant_order(app) -> list[str]:
    """A sign-up holds the lock; then one takes it alone, then another sign-up comes: who got it in which order."""
    with app.app_context():
        event = create_event(slug="drukte", title="Drukte", starts_at=STARTS, ends_at=ENDS, capacity=500,
                             contact_name="Mirjam de Vries", contact_email="bijeenkomsten@example.org")
        db.session.commit()
        params = {"event_id": event.id}
        granted: list[str] = []

        def take(name: str, statement) -> None:
            with app.app_context(), db.engine.connect() as connection:
                connection.execute(statement, params).all()
                granted.append(name)
                time.sleep(PAUSE)  # held for a while, as a transaction holds it until its commit
                connection.rollback()

        with db.engine.connect() as first:
            first.execute(event_services.EVENT_LOCK_SHARED, params).all()
            alone = threading.Thread(target=take, args=("alone", event_services.EVENT_ROW_LOCK))
            alone.start()
            time.sleep(PAUSE)
            later = threading.Thread(target=take, args=("later sign-up", event_services.EVENT_LOCK_SHARED))
            later.start()
            time.sleep(PAUSE)
            first.rollback()
        alone.join(timeout=10)
        later.join(timeout=10)
    return granted


@pytest.fixture
def app(schema):
    with app_in_context(schema) as app:
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the shared lock is PostgreSQL's")
        yield app


def test_a_lock_taken_alone_is_not_overtaken_by_later_sign_ups(app):
    """The lock taken alone is granted first, the later sign-up after it."""
    assert grant_order(app) == ["alone", "later sign-up"]


def test_negative_control_row_locks_alone_let_later_sign_ups_overtake(app, monkeypatch):
    """With row locks only, the later sign-up shares the row at once and the lock taken alone waits for it too."""
    row = select(Event.__table__.c.id).where(Event.__table__.c.id == bindparam("event_id"))
    monkeypatch.setattr(event_services, "EVENT_LOCK_SHARED", row.with_for_update(read=True))
    monkeypatch.setattr(event_services, "EVENT_ROW_LOCK", row.with_for_update())
    assert grant_order(app) == ["later sign-up", "alone"]
