"""On PostgreSQL: the event's row lock and one statement after it, sent in one round trip (psycopg's pipeline mode).

Registrations for one event queue for the event's row lock, which is held
until the commit; every round trip between taking it and committing makes the
queue longer. Sent together, the statement starts as soon as the lock is
granted, and as a statement of its own it reads what was committed before
(READ COMMITTED takes a new snapshot per statement), so its count includes
every registration made while this one waited. Sign-ups that only share the
lock (EVENT_LOCK_SHARED) do not queue for each other at all.
"""

from __future__ import annotations

from sqlalchemy import Executable

from ..database import as_sqlalchemy_error, driver_row, driver_statement, driver_values
from ..events.services import EVENT_ROW_LOCK


def after_event_lock(
    connection, statement: Executable, params: dict, *, commit: bool = False, lock: Executable = EVENT_ROW_LOCK
) -> tuple | None:
    """Lock the event with id params["event_id"], then run `statement` with `params`: its first row, or None.

    `lock` is the event's row lock (EVENT_ROW_LOCK), or EVENT_LOCK_SHARED for
    statements that may run side by side.

    With `commit`, the transaction is committed in the same round trip, so
    the lock is released as soon as the database has done the work, whatever
    the client does meanwhile (the caller's own commit then finds nothing to do).

    `connection` is a SQLAlchemy connection to PostgreSQL (psycopg); the row's
    values are converted as SQLAlchemy would. A driver error is raised as
    SQLAlchemy raises it (a lost server: OperationalError, the connection invalidated).
    """
    dialect = connection.dialect
    prepared = driver_statement(dialect, statement)
    values = driver_values(prepared, params)
    driver = connection.connection.driver_connection
    try:
        with driver.pipeline():
            driver.execute(driver_statement(dialect, lock).sql, {"event_id": params["event_id"]}, prepare=True)
            cursor = driver.execute(prepared.sql, values, prepare=True)
            if commit:
                driver.commit()
        row = cursor.fetchone()
    except dialect.loaded_dbapi.Error as error:
        raise as_sqlalchemy_error(connection, prepared.sql, values, error) from error
    return None if row is None else driver_row(prepared, row)
