"""database.rows_on_driver, which runs the sign-up's statements straight on the driver: it must store and
return exactly what SQLAlchemy's own execution stores and returns, refuse a missing value, and raise a
busy database as SQLAlchemy does (the app answers its OperationalError with the 503 page). And the mail
worker's tokens, stored on PostgreSQL from an array per column (database.unnested), are the rows the ORM
stores."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, StatementError

from webinar.database import rows_on_driver
from webinar.extensions import db
from webinar.registration.models import RegistrationStatus
from webinar.registration.notifications import REGISTERED_MAIL, registered_mail
from webinar.registration.services import Details, _INSERT_IF_NEW, _detail_values

#: on the whole second: SQLite keeps datetimes as text, and SQLAlchemy writes the microseconds even then,
#: the sqlite3 module not; compared as text, the two forms of one moment differ
MOMENT = datetime(2027, 5, 12, 9, 30, 15, tzinfo=timezone.utc)


def _row(event, email: str) -> dict:
    details = Details(first_name="Ans", tussenvoegsel="de", last_name="Vries", email=email,
                      organisation="OBS De Linde", role="Schoolleider", organisation_type="School",
                      question="Komt er een opname?")
    return _detail_values(details) | {"event_id": event.id, "created_at": MOMENT, "updated_at": MOMENT, "signups": 1}


def _stored(table: str, key: str, value) -> dict:
    """The row as the database holds it (datetimes as SQLite's text or PostgreSQL's timestamp)."""
    row = db.session.execute(text(f"SELECT * FROM {table} WHERE {key} = :value"), {"value": value}).mappings().one()
    return dict(row)


def test_a_sign_up_on_the_driver_is_stored_and_returned_as_sqlalchemy_does_it(app, event):
    statement = _INSERT_IF_NEW["sqlite"]  # the generic INSERT ... SELECT, valid on either database
    connection = db.session.connection()
    by_sqlalchemy = connection.execute(statement, _row(event, "ans.devries@example.org")).one()
    on_driver = rows_on_driver(connection, statement, _row(event, "a.devries@example.org"))
    assert len(on_driver) == 1
    (registration_id, status), = on_driver
    assert status is RegistrationStatus.confirmed and status == by_sqlalchemy[1]
    assert isinstance(registration_id, int) and registration_id != by_sqlalchemy[0]

    first = _stored("registration", "id", by_sqlalchemy[0])
    second = _stored("registration", "id", registration_id)
    for differs in ("id", "email", "email_normalized"):
        del first[differs], second[differs]
    assert first == second
    assert str(second["created_at"]).startswith("2027-05-12 09:30:15")

    # The same address again: the statement stores nothing, on the driver as in SQLAlchemy.
    assert rows_on_driver(connection, statement, _row(event, "a.devries@example.org")) == []
    assert connection.execute(statement, _row(event, "a.devries@example.org")).first() is None
    db.session.rollback()


def test_the_new_sign_ups_mail_on_the_driver_is_the_row_sqlalchemy_stores(app, event, people):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's sign-up only: PostgreSQL's stores the mail with the registration")
    connection = db.session.connection()
    registration = people["berg"]
    values = registered_mail(registration.id, {"status": RegistrationStatus.waitlisted, "signups": 7,
                                               "email": registration.email, "event_id": event.id,
                                               "created_at": MOMENT})
    assert values["dedupe_key"] == f"waitlisted:{registration.id}:7"
    assert rows_on_driver(connection, REGISTERED_MAIL, values) == []  # no RETURNING: no rows
    connection.execute(REGISTERED_MAIL, values | {"dedupe_key": "vergelijking"})
    first, second = _stored("outgoing_mail", "dedupe_key", values["dedupe_key"]), \
        _stored("outgoing_mail", "dedupe_key", "vergelijking")
    for differs in ("id", "dedupe_key"):
        del first[differs], second[differs]
    assert first == second
    assert first["status"] == "pending" and first["kind"] == "waitlisted" and first["attempts"] == 0
    # Queued twice under one key: still one row (ON CONFLICT DO NOTHING), as queue_mails does.
    rows_on_driver(connection, REGISTERED_MAIL, values)
    count = db.session.execute(text("SELECT count(*) FROM outgoing_mail WHERE dedupe_key = :k"),
                               {"k": values["dedupe_key"]}).scalar()
    assert count == 1
    db.session.rollback()


def test_a_missing_value_is_refused_not_stored_as_null(app, event):
    row = _row(event, "zonder.naam@example.org")
    del row["last_name"]
    with pytest.raises(StatementError, match="last_name"):
        rows_on_driver(db.session.connection(), _INSERT_IF_NEW["sqlite"], row)
    db.session.rollback()


def test_a_busy_sqlite_database_raises_as_sqlalchemy_does(app, event):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    other = sqlite3.connect(db.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        connection = db.session.connection()
        driver = connection.connection.driver_connection
        timeout = driver.execute("PRAGMA busy_timeout").fetchone()[0]
        driver.execute("PRAGMA busy_timeout = 50")
        with pytest.raises(OperationalError, match="locked"):
            rows_on_driver(connection, REGISTERED_MAIL, registered_mail(
                1, {"status": RegistrationStatus.confirmed, "signups": 1, "email": "x@example.org",
                    "event_id": event.id, "created_at": MOMENT}))
        driver.execute(f"PRAGMA busy_timeout = {timeout}")
    finally:
        other.rollback()
        other.close()
    db.session.rollback()


def test_a_batchs_tokens_are_stored_as_one_insert_per_row_stores_them(app, event, people):
    """store_tokens (on PostgreSQL one INSERT from an array per column) stores what the ORM would."""
    from webinar.registration.models import AccessToken, TokenPurpose
    from webinar.registration.tokens import registration_for_token, store_tokens
    from webinar.tokens import hash_token

    berg, bakker = people["berg"], people["bakker"]
    rows = [{"registration_id": berg.id, "purpose": TokenPurpose.manage, "token_hash": hash_token("a" * 43),
             "created_at": MOMENT},
            {"registration_id": bakker.id, "purpose": TokenPurpose.join, "token_hash": hash_token("b" * 43),
             "created_at": MOMENT}]
    store_tokens(rows)
    db.session.add(AccessToken(registration_id=berg.id, purpose=TokenPurpose.join, token_hash=hash_token("c" * 43),
                               created_at=MOMENT))
    db.session.commit()
    stored = {row["token_hash"]: row for row in (
        _stored("access_token", "token_hash", hash_token(token * 43)) for token in "abc")}
    by_orm = stored.pop(hash_token("c" * 43))
    assert by_orm["purpose"] == stored[hash_token("b" * 43)]["purpose"]
    assert by_orm["created_at"] == stored[hash_token("a" * 43)]["created_at"] == stored[hash_token("b" * 43)]["created_at"]
    assert registration_for_token("a" * 43, TokenPurpose.manage).id == berg.id
    assert registration_for_token("b" * 43, TokenPurpose.join).id == bakker.id
    assert registration_for_token("a" * 43, TokenPurpose.join) is None
