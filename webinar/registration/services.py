"""Registering, changing, cancelling, and the waiting list. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.attributes import set_committed_value

from ..database import utcnow
from ..events.models import Event
from ..events.services import EVENT_ROW_LOCK, capacity_changed, lock_event
from ..extensions import db
from .capacity import Phase, confirmed_count, places_left, registration_phase
from .models import Registration, RegistrationStatus
from .notifications import (
    insert_with_registered_mail,
    mails_to,
    notify_cancelled,
    notify_links_requested,
    notify_promoted,
    notify_registered,
    notify_registered_again,
    notify_registered_many,
    registered_kind,
)


class RegistrationClosed(Exception):
    """Registration is not possible for this event now."""


class EmailTaken(Exception):
    """Another registration for the event already uses this address."""


@dataclass(frozen=True)
class Details:
    """What a person fills in about themselves."""

    first_name: str
    tussenvoegsel: str
    last_name: str
    email: str
    organisation: str
    role: str
    role_other: str = ""
    question: str = ""
    organisation_type: str = ""
    #: normal form ("12AB01"), or ""
    brin: str = ""
    #: for a school: its board
    board_name: str = ""


@dataclass(frozen=True)
class Outcome:
    """What the registrant is shown: the same whether they were new or not."""

    status: RegistrationStatus
    #: the registration, or its id when it was stored without loading it
    stored: Registration | int
    created: bool

    @property
    def registration(self) -> Registration:
        """The registration as an object (loaded on first use when only its id is known)."""
        if isinstance(self.stored, Registration):
            return self.stored
        return db.session.get(Registration, self.stored)


def normalize_email(email: str) -> str:
    """The form of an address used to compare it: trimmed and lower case."""
    return email.strip().lower()


def find_registration(event: Event, email: str) -> Registration | None:
    """The event's registration for this address, whatever its status."""
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.email_normalized == normalize_email(email),
        )
    )


def register(
    event: Event,
    details: Details,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Register a person, or put them on the waiting list when the event is full.

    Someone already registered gets their manage link again and the same outcome
    a newcomer would get, so the answer reveals nothing about who registered.
    """
    now = now or utcnow()
    free, earlier = lock_and_count(event, details.email)
    if registration_phase(event, now, free) not in (Phase.open, Phase.full):
        raise RegistrationClosed()
    status = RegistrationStatus.confirmed if free is None or free > 0 else RegistrationStatus.waitlisted
    if earlier is None:
        return Outcome(status, _store_new(event, details, status, now), created=True)
    existing = db.session.get(Registration, earlier)
    if existing.status != RegistrationStatus.cancelled:
        notify_registered_again(existing, now)
        return Outcome(status, existing, created=False)
    registration = _store_all(event, [details], now=now, reuse={existing.email_normalized: existing}, free=free)[0]
    return Outcome(status, registration, created=True)


def lock_and_count(event: Event, email: str) -> tuple[int | None, int | None]:
    """Take the event lock (see lock_event), then `places_and_earlier_signup`.

    On PostgreSQL the lock and the statement travel together (psycopg's
    pipeline mode), so the lock is held one round trip less; each statement
    reads what is committed when it starts, so the count comes after the lock
    all the same.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        lock_event(event)
        return places_and_earlier_signup(event, email)
    params = {"event_id": event.id, "email": normalize_email(email)}
    return _places_from(event, _locked_places_and_earlier(connection, params))


def places_and_earlier_signup(event: Event, email: str) -> tuple[int | None, int | None]:
    """Free places (None: no limit) and the id of the event's registration for this address, if any.

    Reads what decides the phase from the event's row again (refreshing
    `event`) together with the count and the look-up, in one statement: called
    under the event lock, it sees everything committed before the lock was taken.
    """
    params = {"event_id": event.id, "email": normalize_email(email)}
    return _places_from(event, db.session.connection().execute(_PLACES_AND_EARLIER, params).one())


def _places_from(event: Event, row) -> tuple[int | None, int | None]:
    *current, confirmed, earlier = row
    for name, value in zip(_PHASE_COLUMNS, current):
        set_committed_value(event, name, value)
    if event.capacity is None:
        return None, earlier
    return max(event.capacity - confirmed, 0), earlier


#: the event's columns that registration_phase() and the count of places read
_PHASE_COLUMNS = ("capacity", "cancelled_at", "starts_at", "ends_at", "registration_opens_at", "registration_closes_at")
_PLACES_AND_EARLIER = select(
    *(getattr(Event, name) for name in _PHASE_COLUMNS),
    select(func.count(Registration.id))
    .where(Registration.event_id == Event.id, Registration.status == RegistrationStatus.confirmed)
    .scalar_subquery(),
    select(Registration.id)
    .where(Registration.event_id == Event.id, Registration.email_normalized == bindparam("email"))
    .scalar_subquery(),
).where(Event.id == bindparam("event_id"))


def _locked_places_and_earlier(connection, params: dict) -> tuple:
    """On PostgreSQL: the event's row lock and _PLACES_AND_EARLIER, sent together (psycopg's pipeline mode)."""
    lock_sql, places_sql, binds, results = _driver_statements(connection.dialect)
    driver = connection.connection.driver_connection
    values = {name: process(params[name]) if name in params else process(value)
              for name, (value, process) in binds.items()}
    dialect = connection.dialect
    try:
        with driver.pipeline():
            driver.execute(lock_sql, {"event_id": params["event_id"]}, prepare=True)
            cursor = driver.execute(places_sql, values, prepare=True)
    except dialect.loaded_dbapi.Error as error:  # as SQLAlchemy would raise it (a lost server: OperationalError)
        invalidated = dialect.is_disconnect(error, driver, None)
        if invalidated:
            connection.invalidate(error)
        raise DBAPIError.instance(places_sql, values, error, dialect.loaded_dbapi.Error,
                                  connection_invalidated=invalidated, dialect=dialect) from error
    return tuple(process(value) if process else value for value, process in zip(cursor.fetchone(), results))


_DRIVER_STATEMENTS: dict = {}


def _driver_statements(dialect):
    """The lock and _PLACES_AND_EARLIER as the driver takes them, with their conversions (built once per dialect)."""
    if dialect not in _DRIVER_STATEMENTS:
        compiled = _PLACES_AND_EARLIER.compile(dialect=dialect)
        binds = {name: (bind.value, bind.type.bind_processor(dialect) or (lambda value: value))
                 for bind, name in compiled.bind_names.items()}
        results = [column.type.result_processor(dialect, None) for column in _PLACES_AND_EARLIER.selected_columns]
        _DRIVER_STATEMENTS[dialect] = (str(EVENT_ROW_LOCK.compile(dialect=dialect)), str(compiled), binds, results)
    return _DRIVER_STATEMENTS[dialect]


def _store_new(event: Event, details: Details, status: RegistrationStatus, now: datetime) -> int:
    """Insert one new registration and queue its e-mail, without loading it as an object; returns its id."""
    row = _detail_values(details) | _signup_values(status, now) | {
        "event_id": event.id, "created_at": now, "updated_at": now, "signups": 1}
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":  # one round trip, while the event is locked
        return connection.execute(_INSERT_WITH_MAIL[row["status"]], row).scalar_one()
    registration_id = connection.execute(_INSERT_REGISTRATION, row).inserted_primary_key[0]
    notify_registered(registration_id, row)
    return registration_id


_TABLE = Registration.__table__
#: built once: a new registration, every column but the id from the parameters of the same name
_INSERT_REGISTRATION = insert(_TABLE).values(
    {column.name: bindparam(column.name, type_=column.type) for column in _TABLE.columns if not column.primary_key}
)
_INSERT_WITH_MAIL = {
    status: insert_with_registered_mail(
        _INSERT_REGISTRATION.returning(_TABLE.c.id, _TABLE.c.event_id, _TABLE.c.email, _TABLE.c.signups,
                                       _TABLE.c.created_at),
        registered_kind(status))
    for status in (RegistrationStatus.confirmed, RegistrationStatus.waitlisted)
}


def register_many(
    event: Event, people: list[Details], *, now: datetime, reuse: dict[str, Registration]
) -> list[Registration]:
    """Register several people at once, in order, as `register` would: places first, then the waiting list.

    For organisers, who also register outside the public window: the caller
    checks the phase and that no address is registered already. `reuse` maps
    normalised addresses to cancelled registrations, which are signed up again.
    Needs the event lock.
    """
    return _store_all(event, people, now=now, reuse=reuse, free=places_left(event))


def _store_all(
    event: Event, people: list[Details], *, now: datetime, reuse: dict[str, Registration], free: int | None
) -> list[Registration]:
    """The store step of every registration: confirmed while `free` lasts, then waiting; their e-mails queued.

    One INSERT for the new registrations and one for their e-mails.
    """
    stored: list[Registration | None] = []
    fresh: dict[int, dict] = {}  # position in `people` -> the new row
    for index, details in enumerate(people):
        status = RegistrationStatus.confirmed if free is None or index < free else RegistrationStatus.waitlisted
        existing = reuse.get(normalize_email(details.email))
        if existing is None:
            fresh[index] = _detail_values(details) | _signup_values(status, now) | {
                "event_id": event.id, "created_at": now, "signups": 1}
        stored.append(existing and _store(event, existing, details, status, now))
    if fresh:
        # Matched back by address, unique per event: asking for the rows in order makes SQLite insert one at a time.
        inserted = {registration.email_normalized: registration
                    for registration in db.session.scalars(insert(Registration).returning(Registration), list(fresh.values()))}
        for index, row in fresh.items():
            stored[index] = inserted[row["email_normalized"]]
    db.session.flush()
    notify_registered_many(stored)
    return stored


def _store(
    event: Event, existing: Registration | None, details: Details, status: RegistrationStatus, now: datetime
) -> Registration:
    registration = existing or Registration(event_id=event.id, created_at=now, signups=0)
    _apply(registration, details)
    registration.signups += 1
    for name, value in _signup_values(status, now).items():
        setattr(registration, name, value)
    db.session.add(registration)
    return registration


def _signup_values(status: RegistrationStatus, now: datetime) -> dict:
    return {"status": status, "privacy_accepted_at": now, "registered_at": now, "cancelled_at": None}


def _detail_values(details: Details) -> dict:
    values = {name: value.strip() for name, value in vars(details).items()}  # asdict() copies each value deeply
    values["email_normalized"] = normalize_email(details.email)
    if values["role"] != "Anders":
        values["role_other"] = ""
    return values


def _apply(registration: Registration, details: Details) -> None:
    for name, value in _detail_values(details).items():
        setattr(registration, name, value)


def send_links_again(event: Event, email: str, *, now: datetime | None = None) -> None:
    """Mail the personal links to a registrant who lost them; silent for unknown addresses."""
    registration = find_registration(event, email)
    if registration is not None and registration.status != RegistrationStatus.cancelled:
        notify_links_requested(registration, now or utcnow())


def update_details(registration: Registration, details: Details) -> None:
    """Change a registrant's details. Raises EmailTaken for an address in use."""
    other = find_registration(registration.event, details.email)
    if other is not None and other.id != registration.id:
        raise EmailTaken()
    _apply(registration, details)
    db.session.flush()


def cancel_registration(
    registration: Registration, *, now: datetime | None = None
) -> list[Registration]:
    """Cancel a registration and promote waiting people into free places.

    Returns the people promoted.
    """
    now = now or utcnow()
    lock_event(registration.event)
    db.session.refresh(registration)
    if registration.status == RegistrationStatus.cancelled:
        return []
    registration.status = RegistrationStatus.cancelled
    registration.cancelled_at = now
    db.session.flush()
    notify_cancelled(registration)
    return promote_waitlisted(registration.event)


def waiting_list(event: Event) -> list[Registration]:
    """The event's waiting people, first come first."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.waitlisted,
            )
            .order_by(Registration.registered_at, Registration.id)
        )
    )


def waiting_position(registration: Registration) -> int | None:
    """1 for the first on the waiting list; None when not waiting."""
    if registration.status != RegistrationStatus.waitlisted:
        return None
    ahead = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.waitlisted,
            Registration.registered_at < registration.registered_at,
        )
    )
    return ahead + 1


def promote_waitlisted(event: Event) -> list[Registration]:
    """Move waiting people into free places, in order, and tell them. Needs the event lock."""
    if event.capacity is None:
        free = len(waiting_list(event))
    else:
        free = event.capacity - confirmed_count(event)
    promoted = []
    for registration in waiting_list(event)[: max(free, 0)]:
        registration.status = RegistrationStatus.confirmed
        promoted.append(registration)
    db.session.flush()
    for registration in promoted:
        notify_promoted(registration)
    return promoted


# Events know nobody: when an organiser changes the places, this domain fills them from the waiting list.
capacity_changed.connect(lambda event: promote_waitlisted(event), weak=False)


def personal_data(registration: Registration) -> dict:
    """Everything stored about the registrant, for the 'download my data' button."""
    mails = mails_to(registration)

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "bijeenkomst": {
            "titel": registration.event.title,
            "begint": iso(registration.event.starts_at),
            "eindigt": iso(registration.event.ends_at),
        },
        "aanmelding": {
            "status": registration.status.value,
            "voornaam": registration.first_name,
            "tussenvoegsel": registration.tussenvoegsel,
            "achternaam": registration.last_name,
            "e-mailadres": registration.email,
            "organisatie": registration.organisation,
            "soort_organisatie": registration.organisation_type,
            "brin": registration.brin,
            "bestuur": registration.board_name,
            "rol": registration.role,
            "rol_anders": registration.role_other,
            "vraag": registration.question,
            "privacyverklaring_gelezen": iso(registration.privacy_accepted_at),
            "aangemaakt": iso(registration.created_at),
            "gewijzigd": iso(registration.updated_at),
            "afgemeld": iso(registration.cancelled_at),
        },
        "e-mails": [
            {"soort": m.kind, "status": m.status.value, "verzonden": iso(m.sent_at)}
            for m in mails
        ],
    }
