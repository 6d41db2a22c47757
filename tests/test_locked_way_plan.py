"""PostgreSQL: once the table has statistics, the locked way (lock_and_count) finds an earlier sign-up by the
unique index on (event, address), even when its statement was prepared while the table was nearly empty.

The locked way answers repeat sign-ups, closed events and an event's last places, holding the event's
lock alone. Before the table's first ANALYZE, PostgreSQL cannot tell the unique index from the one on
(event, status) and may look the address up through the latter, reading every registration of the event
(3,000 here; see docs/deployment.md, "PostgreSQL"). Autovacuum analyses the table after its first 50
changes, and new statistics make PostgreSQL plan prepared statements again: this test checks that the
plan kept from the empty table is gone then. Measured by the rows the index scans of this transaction
fetched (pg_stat_xact_user_tables): one, not one per registration.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from helpers import ENDS, STARTS
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.registration.services import lock_and_count

REGISTRATIONS = 3000


def _fetched_by_index() -> int:
    return db.session.execute(text(
        "SELECT coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables WHERE relname = 'registration'")).scalar()


def test_the_locked_way_reads_one_entry_of_a_grown_event(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's kept plans")
    event = create_event(slug="groeiende-bijeenkomst", title="Groeiende bijeenkomst", starts_at=STARTS, ends_at=ENDS,
                         capacity=REGISTRATIONS + 10)
    db.session.commit()
    for number in range(8):  # more than psycopg's five before it prepares, on a nearly empty table
        lock_and_count(event, f"vroeg{number}@example.org")
        db.session.rollback()
    db.session.execute(text("""
        INSERT INTO registration (event_id, status, first_name, tussenvoegsel, last_name, email, email_normalized,
            organisation, organisation_type, brin, board_name, sector, role, role_other, question,
            privacy_accepted_at, created_at, updated_at, signups, registered_at, unreachable_reason)
        SELECT :event, 'confirmed', 'Deelnemer', '', 'Nummer ' || g, 'd' || g || '@example.org',
            'd' || g || '@example.org', 'OBS De Linde', 'School', '', '', '', 'Schoolleider', '', '',
            now(), now(), now(), 1, now(), ''
        FROM generate_series(1, :count) g"""), {"event": event.id, "count": REGISTRATIONS})
    db.session.commit()
    db.session.execute(text("ANALYZE registration"))  # what autovacuum does after the first 50 changes
    db.session.commit()

    before = _fetched_by_index()
    current, free, earlier = lock_and_count(event, "d1234@example.org")
    fetched = _fetched_by_index() - before
    db.session.rollback()

    assert earlier is not None and free == 10
    assert fetched <= 5, f"the look-up fetched {fetched} rows of the event's {REGISTRATIONS}"
