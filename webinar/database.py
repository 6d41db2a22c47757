"""Column types and the write lock that keeps capacity counts honest.

SQLite runs in WAL mode with a busy timeout. Transactions start as plain
(deferred) `BEGIN`, so pages that only read never block one another; a request
that changes state calls `begin_write()` first, which starts the transaction
with `BEGIN IMMEDIATE`: one writer at a time, taken before anything is counted.
On PostgreSQL the same call is free and the lock is a row lock on the event
(`lock_event`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import NamedTuple

from sqlalchemy import DateTime, String, any_, bindparam, event, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from .extensions import db

IMMEDIATE = "webinar_begin_immediate"
#: on SQLite: the connection reads without a transaction until restart_as_write() begins one
READS_FIRST = "webinar_reads_first"


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC datetimes on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class utc_text(FunctionElement):
    """A UTC datetime column as ISO text, read as the database keeps it: '2027-05-25 14:00', maybe more.

    To the minute on PostgreSQL; SQLite keeps datetimes as ISO text
    ('2027-05-25 14:00:00.000000') and hands it over as it is. For a long
    list far cheaper than a datetime object per row (see organiser.exports).
    """

    type = String()
    inherit_cache = True
    name = "utc_text"


@compiles(utc_text, "sqlite")
def _utc_text_sqlite(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(utc_text, "postgresql")
def _utc_text_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD HH24:MI')"


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def is_sqlite() -> bool:
    """Whether the app's database is SQLite."""
    return db.engine.dialect.name == "sqlite"


def dialect_insert(table):
    """An INSERT that knows ON CONFLICT, for the app's database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def begin_write() -> None:
    """Start this request's transaction as a write transaction.

    Must come before the first query of the transaction.
    """
    session = db.session()
    if session.in_transaction():
        raise RuntimeError("begin_write() must start the transaction")
    session.connection(execution_options={IMMEDIATE: True})


def writes_late(view):
    """Mark a POST view that calls `restart_as_write()` itself once its input is checked."""
    view.writes_late = True
    return view


def begin_reads() -> None:
    """For a `writes_late` view whose first part only reads: on SQLite, read without a transaction.

    Each statement then reads what is committed at that moment, and
    `restart_as_write()` issues BEGIN IMMEDIATE on the same connection: no
    rollback, no second connection from the pool. Must come before the first
    query; does nothing when a transaction is open already, or elsewhere than
    on SQLite (there reads and writes share one transaction anyway). Nothing
    may be written before `restart_as_write()`.
    """
    session = db.session()
    if is_sqlite() and not session.in_transaction():
        session.connection(execution_options={READS_FIRST: True})


def restart_as_write() -> None:
    """End the read transaction and start a write transaction.

    For views marked `writes_late`: on SQLite, BEGIN IMMEDIATE serialises every
    writer, so parsing and validating the form before it lets requests overlap.
    After `begin_reads()` the write transaction begins on the same connection;
    otherwise the read transaction is rolled back, and loaded objects are
    expired and read again inside the write transaction. Either way a value
    that must be current under the lock has to be read after this call.
    Elsewhere writers do not wait for one another until they lock a row, so the
    transaction simply goes on.
    """
    if not is_sqlite():
        return
    session = db.session()
    if session.in_transaction():
        connection = session.connection()
        driver = connection.connection.dbapi_connection
        if connection.get_execution_options().get(READS_FIRST) and not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")  # SQLAlchemy leaves transactions on SQLite to the driver (see below)
            return
    db.session.rollback()
    begin_write()


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    options = conn.get_execution_options()
    if options.get(READS_FIRST):
        return  # autocommit reads until restart_as_write()
    if options.get(IMMEDIATE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


class DriverStatement(NamedTuple):
    """A statement as the driver takes it (see `driver_statement`)."""

    sql: str
    #: per parameter name: (its value in the statement, its conversion, whether a value must be given)
    binds: dict
    #: the names in the order of the placeholders (a positional paramstyle, SQLite's), else None
    order: list | None
    #: per returned column, its conversion (or None)
    results: list


#: statements compiled for the driver: (dialect name, statement) -> DriverStatement
_ON_DRIVER: dict = {}


def driver_statement(dialect, statement) -> DriverStatement:
    """`statement` compiled for `dialect`'s driver, with the conversions SQLAlchemy would apply (once per pair)."""
    prepared = _ON_DRIVER.get((dialect.name, statement))
    if prepared is None:
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement for the driver binds all its parameters as they are")
        binds = {name: (bind.value, bind.type.dialect_impl(dialect).bind_processor(dialect) or _as_it_is,
                        bind.required)
                 for bind, name in compiled.bind_names.items()}
        results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                   for column in statement.exported_columns]
        prepared = _ON_DRIVER[dialect.name, statement] = DriverStatement(
            str(compiled), binds, compiled.positiontup, results)
    return prepared


def driver_values(prepared: DriverStatement, params: dict):
    """The parameters for `prepared` from `params`, converted; StatementError when a required one is missing."""
    missing = [name for name, (_, _, required) in prepared.binds.items() if required and name not in params]
    if missing:
        raise StatementError(f"a value is required for {', '.join(missing)}", None, params, None)
    values = {name: process(params[name] if name in params else value)
              for name, (value, process, _) in prepared.binds.items()}
    if prepared.order is not None:  # a positional paramstyle (SQLite's qmark): a name may stand in several places
        return tuple(values[name] for name in prepared.order)
    return values


def driver_row(prepared: DriverStatement, row) -> tuple:
    """A row the driver returned for `prepared`, its columns converted as SQLAlchemy converts them."""
    return tuple(process(value) if process else value for value, process in zip(row, prepared.results))


def rows_on_driver(connection, statement, params: dict) -> list[tuple]:
    """Run `statement` with `params` straight on the driver's connection of `connection`: its rows.

    For a statement on the sign-up's hot path, where SQLAlchemy's execution
    (its context, cursor wrapper and result) cost as much CPU as the statement
    itself. It is compiled once per dialect; the parameters and the returned
    columns are converted as SQLAlchemy converts them, and a driver error is
    raised as SQLAlchemy raises it (a busy SQLite: OperationalError). The
    statement runs in the connection's transaction, as any other would.
    """
    prepared = driver_statement(connection.dialect, statement)
    values = driver_values(prepared, params)
    driver = connection.connection.driver_connection
    try:
        cursor = driver.cursor()
        try:
            cursor.execute(prepared.sql, values)
            rows = cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()
    except connection.dialect.loaded_dbapi.Error as error:
        raise as_sqlalchemy_error(connection, prepared.sql, values, error) from error
    return [driver_row(prepared, row) for row in rows]


def as_sqlalchemy_error(connection, sql: str, values, error: Exception) -> DBAPIError:
    """The driver's `error`, raised by `sql` on `connection`'s driver connection, as SQLAlchemy would raise it:
    a lost server as OperationalError with the connection invalidated, a busy SQLite as OperationalError."""
    dialect = connection.dialect
    invalidated = dialect.is_disconnect(error, connection.connection.driver_connection, None)
    if invalidated:
        connection.invalidate(error)
    return DBAPIError.instance(sql, values, error, dialect.loaded_dbapi.Error,
                               connection_invalidated=invalidated, dialect=dialect)


def _as_it_is(value):
    return value


def unnested(name: str, columns: dict):
    """`unnest(:a, :b, ...) AS name(a, b, ...)` on PostgreSQL: a list of rows passed as one array per column.

    `columns` maps each column's name to its type; the statement then takes
    a list per name (see `as_arrays`). For a statement run for many rows at
    once, this is one statement with a few array parameters, where the
    driver's executemany handles every row in Python.
    """
    arrays = (bindparam(column, type_=ARRAY(type_)) for column, type_ in columns.items())
    return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)


def as_arrays(rows: list[dict], names) -> dict[str, list]:
    """The parameters of a statement over `unnested(...)`: per name, its value in each row."""
    return {name: [row[name] for row in rows] for name in names}


def one_of(column, name: str, *, postgresql: bool):
    """`column IN (...)` for the list given as parameter `name`; on PostgreSQL `column = ANY(:name)`.

    The list is then one array parameter, so the statement's text is the
    same whatever its length: psycopg converts it once and prepares it,
    where a list of 100 ids written out made a text too long for its cache,
    converted again on every run. On SQLite an expanding IN.
    """
    if postgresql:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))
