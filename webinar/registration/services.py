"""Registering, changing, cancelling, and the waiting list. Services flush, never commit."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable

from blinker import Namespace
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, Row, bindparam, case, cast, func, insert, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert

from ..database import UTCDateTime, rows_on_driver, utcnow
from ..events.models import Event
from ..events.services import EVENT_ROW_LOCK, EVENT_LOCK_SHARED, capacity_changed, lock_event
from ..extensions import db
from .capacity import Phase, confirmed_count, places_left, registration_phase
from .models import Registration, RegistrationStatus, confirmed_of
from .notifications import (
    REGISTERED_MAIL,
    insert_with_registered_mail,
    mails_to,
    notify_cancelled,
    notify_links_requested,
    notify_promoted,
    notify_registered,
    notify_registered_again,
    notify_registered_many,
    registered_kind,
    registered_mail,
)
from .pipeline import after_event_lock

#: sent after registrations were stored, cancelled or promoted, in the same transaction: the sender is
#: "created", "cancelled" or "promoted", with `event_id` and `ids` (webhooks listen; see api/webhooks.py)
registrations_changed = Namespace().signal("registrations-changed")


#: checks a higher room registers, asking whether anyone wants to hear of a new sign-up (a webhook
#: subscriber). With `register(commit=True)` they are asked first: when one answers True, the sign-up is
#: stored in the caller's transaction, so what the listeners of registrations_changed store (a webhook
#: delivery) is committed with it or not at all; when none does, the fast path commits on its own and
#: "created" is not sent (nobody listens), so the sign-up pays one question, not two
same_transaction_checks: list[Callable[[], bool]] = []


def _changed(kind: str, event_id: int, ids: list[int]) -> None:
    if ids and registrations_changed.receivers:
        registrations_changed.send(kind, event_id=event_id, ids=ids)


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
    #: a key of SECTORS, or "" (not given)
    sector: str = ""


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
    event: Event | Row,
    details: Details,
    *,
    now: datetime | None = None,
    commit: bool = False,
) -> Outcome:
    """Register a person, or put them on the waiting list when the event is full.

    With `commit` (for a caller that commits right after and wrote nothing
    before), a new sign-up on PostgreSQL is committed in the round trip that
    locks the event and stores it, so no other sign-up waits for this
    client's next round trip.

    Someone already registered gets their manage link again and the same outcome
    a newcomer would get, so the answer reveals nothing about who registered.
    `event` may be the event or a row with its id.
    """
    now = now or utcnow()
    row = _detail_values(details) | {"event_id": event.id, "created_at": now, "updated_at": now, "signups": 1}
    listened = None
    if commit:
        listened = any(check() for check in same_transaction_checks)
        commit = not listened
    new = insert_if_new(row, commit=commit)
    if new is not None:
        if listened is not False:
            _changed("created", event.id, [new[0]])
        return Outcome(new[1], new[0], created=True)
    current, free, earlier = lock_and_count(event, details.email)
    if registration_phase(current, now, free) not in (Phase.open, Phase.full):
        raise RegistrationClosed()
    status = RegistrationStatus.confirmed if free is None or free > 0 else RegistrationStatus.waitlisted
    if earlier is None:
        return Outcome(status, _store_new(row | _signup_values(status, now)), created=True)
    existing = db.session.get(Registration, earlier)
    if existing.status != RegistrationStatus.cancelled:
        notify_registered_again(existing, now)
        return Outcome(status, existing, created=False)
    registration = _store_all(event, [details], now=now, reuse={existing.email_normalized: existing}, free=free)[0]
    return Outcome(status, registration, created=True)


def lock_and_count(event: Event | Row, email: str) -> tuple[tuple, int | None, int | None]:
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
    return _places_from(after_event_lock(connection, _PLACES_AND_EARLIER, params))


def places_and_earlier_signup(event: Event | Row, email: str) -> tuple[tuple, int | None, int | None]:
    """What decides the event's phase, its free places (None: no limit) and the id of its registration
    for this address, if any.

    The first is the event's row as stored now, with the columns that
    registration_phase() reads; one statement reads it with the count and the
    look-up: called under the event lock, it sees everything committed before
    the lock was taken. `event` may be the event or a row with its id.
    """
    params = {"event_id": event.id, "email": normalize_email(email)}
    return _places_from(db.session.connection().execute(_PLACES_AND_EARLIER, params).one())


def _places_from(row) -> tuple[tuple, int | None, int | None]:
    *columns, confirmed, earlier = row
    current = _EventNow(*columns)
    if current.capacity is None:
        return current, None, earlier
    return current, max(current.capacity - confirmed, 0), earlier


#: the event's columns that registration_phase() and the count of places read
#: what a new registration holds in these columns, whatever the form gave; no row of parameters names the second set
_UNREACHABLE = {"unreachable_at": None, "unreachable_reason": ""}
_FRESH = {"cancelled_at": None, **_UNREACHABLE}
_PHASE_COLUMNS = ("capacity", "cancelled_at", "published_at", "starts_at", "ends_at", "registration_opens_at",
                  "registration_closes_at", "registration_closed_at")
_EventNow = namedtuple("_EventNow", _PHASE_COLUMNS)
_PLACES_AND_EARLIER = select(
    *(getattr(Event, name) for name in _PHASE_COLUMNS),
    confirmed_of(Event.id),
    select(Registration.id)
    .where(Registration.event_id == Event.id, Registration.email_normalized == bindparam("email"))
    .scalar_subquery(),
).where(Event.id == bindparam("event_id"))


def insert_if_new(row: dict, *, commit: bool = False) -> tuple[int, RegistrationStatus] | None:
    """Lock the event and store a new sign-up in one statement, with its e-mail; or None when it takes more.

    Inserts the registration from `row` (its column values but the status and
    the sign-up's moments, which are `created_at`) with its confirmation or
    waiting-list notice, if the event takes registrations and has none for
    this address; confirmed while places are left. Returns the id and status,
    or None when nothing was inserted (closed, or an earlier sign-up): then
    `register` takes the longer way under the lock. On PostgreSQL the row
    lock, the registration and its e-mail take one round trip, with
    `commit` the commit too (see pipeline; the longer way then locks again
    in a new transaction); on SQLite the lock is the write transaction's.

    With `commit` on PostgreSQL the event's lock is shared, not taken alone (see
    _SHARED_MARGIN): sign-ups then wait for each other neither for the lock nor
    for each other's commit, and are stored only while that is certainly safe
    (places to spare, or none left); else None, and the longer way decides.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        shared = "postgresql shared" if commit else "postgresql"
        stored = after_event_lock(connection, _INSERT_IF_NEW[shared], row, commit=commit,
                                  lock=EVENT_LOCK_SHARED if commit else EVENT_ROW_LOCK)
        if stored is None:
            return None
        registration_id, kind = stored
        confirmed = kind == registered_kind(RegistrationStatus.confirmed)
        return registration_id, RegistrationStatus.confirmed if confirmed else RegistrationStatus.waitlisted
    # Both statements straight on the driver: SQLAlchemy's execution cost as much CPU as the statements.
    stored = rows_on_driver(connection, _INSERT_IF_NEW["sqlite"], row)
    if not stored:
        return None
    registration_id, status = stored[0]
    rows_on_driver(connection, REGISTERED_MAIL, registered_mail(registration_id, row | {"status": status}))
    return registration_id, status


def _store_new(row: dict) -> int:
    """Insert one new registration from `row` and queue its e-mail, without loading it as an object; returns its id."""
    registration_id = db.session.connection().execute(_INSERT_REGISTRATION, row).inserted_primary_key[0]
    notify_registered(registration_id, row)
    _changed("created", row["event_id"], [registration_id])
    return registration_id


_TABLE = Registration.__table__
#: built once: a new registration, every column but the id from the parameters of the same name
_INSERT_REGISTRATION = insert(_TABLE).values(
    {column.name: literal(_UNREACHABLE[column.name], column.type) if column.name in _UNREACHABLE else
     bindparam(column.name, type_=column.type) for column in _TABLE.columns if not column.primary_key}
)


def _new_registration(margin=None, *, postgresql: bool = False):
    """A registration from the parameters named after its columns (the status and the sign-up's moments from
    the places and `created_at`), if its event takes registrations and has none for the address.

    Under the event's lock (`margin` None) it is confirmed while places are
    left, else waiting. With a `margin` (a SQL expression), for sign-ups that
    only share the event's lock: confirmed while `margin` more confirmations
    would still fit, waiting when none is left, and not inserted in between.

    An earlier registration for the address is found by the unique index on
    (event, address): on PostgreSQL as the insert's conflict (ON CONFLICT DO
    NOTHING), which no plan can look for another way; on SQLite by a look-up
    beforehand. A prepared statement's plan on PostgreSQL may be made while
    the table is nearly empty and kept while the event grows: a look-up of
    its own could then read the event's registrations one by one through the
    other index on the event, instead of one entry of the unique one.
    """
    event, now = Event.__table__, bindparam("created_at", type_=UTCDateTime)
    confirmed = confirmed_of(event.c.id)
    # registration_phase() is open or full
    taking = [event.c.id == bindparam("event_id"), event.c.cancelled_at.is_(None), event.c.published_at.is_not(None),
              now < event.c.ends_at, or_(event.c.registration_opens_at.is_(None), event.c.registration_opens_at <= now),
              now < func.coalesce(event.c.registration_closes_at, event.c.starts_at),
              or_(event.c.registration_closed_at.is_(None), now < event.c.registration_closed_at)]
    if not postgresql:
        taking.append(~select(_TABLE.c.id).where(
            _TABLE.c.event_id == event.c.id, _TABLE.c.email_normalized == bindparam("email_normalized")).exists())
    taking = select(event.c.capacity, confirmed.label("confirmed")).where(*taking).cte("taking")
    if margin is None:
        room = taking.c.confirmed < taking.c.capacity
    else:  # counted once, however often `confirmed` is read
        taking = taking.prefix_with("MATERIALIZED", dialect="postgresql")
        room = taking.c.confirmed + margin <= taking.c.capacity
    status_type = _TABLE.c.status.type
    status = case((or_(taking.c.capacity.is_(None), room), literal(RegistrationStatus.confirmed, status_type)),
                  else_=literal(RegistrationStatus.waitlisted, status_type))
    columns = [column for column in _TABLE.columns if not column.primary_key]
    moments = ("created_at", "privacy_accepted_at", "registered_at")
    values = [status if column.name == "status" else now if column.name in moments else
              literal(_FRESH[column.name], column.type) if column.name in _FRESH else
              bindparam(column.name, type_=column.type) for column in columns]
    chosen = select(*values).select_from(taking)
    names = [column.name for column in columns]
    if margin is not None:
        chosen = chosen.where(or_(taking.c.capacity.is_(None), room, taking.c.confirmed >= taking.c.capacity))
    if not postgresql:
        return insert(_TABLE).from_select(names, chosen)
    # Sharing the lock, two sign-ups of one address (a double click) both get here: the second then waits for
    # the first at the unique index and stores nothing, and the locked way answers it as a repeat.
    return postgresql_insert(_TABLE).from_select(names, chosen).on_conflict_do_nothing(
        constraint="uq_registration_event_email")


#: How many sign-ups may be under way at once, unseen by each other, when they only share the event's lock: at
#: most one open transaction per connection the server allows, plus prepared ones. Each such sign-up counts
#: what is committed when its statement starts; confirming only while this many more would still fit keeps the
#: event from being oversold, whatever the others do meanwhile (organisers, cancelling and promoting take the
#: lock alone, which waits for every sharer to commit and keeps new ones out until it is released).
_SHARED_MARGIN = (cast(func.current_setting("max_connections"), Integer)
                  + cast(func.current_setting("max_prepared_transactions"), Integer))


def new_signup_with_mail(margin=None):
    """PostgreSQL: _new_registration(margin) and its e-mail in one statement; returns the id and the mail's kind."""
    returned = (_TABLE.c.id, _TABLE.c.event_id, _TABLE.c.email, _TABLE.c.signups, _TABLE.c.created_at, _TABLE.c.status)
    return insert_with_registered_mail(_new_registration(margin, postgresql=True).returning(*returned))


_INSERT_IF_NEW = {
    "postgresql": new_signup_with_mail(),
    "postgresql shared": new_signup_with_mail(_SHARED_MARGIN),
    "sqlite": _new_registration().returning(_TABLE.c.id, _TABLE.c.status),
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
    _changed("created", event.id, [registration.id for registration in stored])
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
    values = _detail_values(details)
    if values["email_normalized"] != registration.email_normalized:  # a new address: not known to bounce
        registration.unreachable_at, registration.unreachable_reason = None, ""
    for name, value in values.items():
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
    _changed("cancelled", registration.event_id, [registration.id])
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
    _changed("promoted", event.id, [registration.id for registration in promoted])
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
            "sector": registration.sector,
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
