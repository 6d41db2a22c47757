"""The e-mails to registrants: queued in the outbox, registered with mailing, rendered when sent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Insert, Integer, Select, String, bindparam, case, cast, func, insert, literal, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from ..database import UTCDateTime, dialect_insert, utcnow
from ..dutch import date, local, time
from ..events.ics import build_calendar, google_calendar_url, office_calendar_url, outlook_calendar_url
from ..events.models import Event
from ..events.schedule import useful_until
from ..events.services import event_cancelled, event_moved
from ..extensions import db
from ..links import external_url, token_url_maker
from ..mailing.bounces import register_bounce_listener
from ..mailing.kinds import Batch, register_kind
from ..mailing.message import Obsolete, StandInMissed, Stencil, compose, message
from ..mailing.mime import Attachment, Calendar, Email, named
from ..mailing.models import MailStatus, OutgoingMail
from ..mailing.services import queue_mail, queue_mails
from .models import Registration, RegistrationStatus, TokenPurpose
from .tokens import issue_batch_token

_CONFIRMED = (RegistrationStatus.confirmed,)
_LIVE = (RegistrationStatus.confirmed, RegistrationStatus.waitlisted)
_REGISTERED = Registration.status.in_(_LIVE)
#: the registrant kinds: (name, label, subject, statuses for which it still makes sense, calendar METHOD)
_KINDS = (
    ("confirmation", "Bevestiging van de aanmelding", "Aanmelding bevestigd: {title}", _CONFIRMED, "PUBLISH"),
    ("waitlisted", "Op de wachtlijst", "U staat op de wachtlijst: {title}", (RegistrationStatus.waitlisted,), None),
    ("promoted", "Plaats vrij", "Er is een plaats vrij: u bent aangemeld voor {title}", _CONFIRMED, "PUBLISH"),
    ("reminder", "Herinnering", "Herinnering: {title} {when}", _CONFIRMED, None),
    ("join_link", "Persoonlijke deelnamelink", "Uw link om deel te nemen: {title}", _CONFIRMED, None),
    ("followup_joined", "Nabericht voor wie deelnam", "Dank voor uw deelname: {title}", _CONFIRMED, None),
    ("followup_missed", "Nabericht voor wie niet deelnam", "Gemist? {title}", _CONFIRMED, None),
    ("event_moved", "Nieuw tijdstip", "Gewijzigd tijdstip: {title}", _LIVE, "PUBLISH"),
    ("event_cancelled", "De bijeenkomst gaat niet door", "Gaat niet door: {title}", _LIVE, "CANCEL"),
    ("cancelled", "Afmelding bevestigd", "Afmelding bevestigd: {title}", (RegistrationStatus.cancelled,), None),
    ("manage_link", "Al aangemeld", "Uw aanmelding voor {title}", _LIVE, None),
    ("lost_link", "Link kwijt?", "Uw persoonlijke links voor {title}", _LIVE, None),
)
#: kinds that carry the personal join link besides the manage link
JOIN_LINK_KINDS = ("join_link", "lost_link")
#: kinds planned from the event's schedule (queued by the sweep in attendance/schedules.py)
SCHEDULED_KINDS = ("reminder", "join_link", "followup_joined", "followup_missed")
#: kinds that go to everyone at once and ask nothing of anyone: "Precedence: bulk" keeps holiday replies away
#: (not the join link, the confirmation or a changed time: those must arrive as any personal mail does)
BULK_KINDS = ("reminder", "followup_joined", "followup_missed")
#: the kinds that may carry personal files (the certificate of attendance goes with the follow-up)
ATTACHMENT_KINDS = ("followup_joined",)
#: per kind, what adds personal files to it (registered by higher domains)
_ATTACHERS: dict[str, list[Callable]] = {}
_SUBJECTS = {name: subject for name, _, subject, _, _ in _KINDS}
_STATUSES = {name: statuses for name, _, _, statuses, _ in _KINDS}
_CALENDARS = {name: method for name, _, _, _, method in _KINDS}


@dataclass(frozen=True)
class PersonalFile:
    """A file for one registrant's e-mail, and what the body says of it."""

    attachment: Attachment
    #: e.g. "uw bewijs van deelname (pdf)": the templates write "Bij dit bericht: <note>."
    note: str


def register_attachment(kind: str, attach: Callable[[Registration, datetime, dict], PersonalFile | None]) -> None:
    """Let `attach(registration, now, prepared)` add a file to each e-mail of `kind` it returns one for.

    The worker calls it when it renders the e-mail, outside the write
    transaction (see mailing/worker.py `_prepare`); `prepared` is the batch's
    dict, where a file made once is kept for the batch. An error it raises
    fails that e-mail alone (the worker tries it again later), never the batch.
    """
    if kind not in ATTACHMENT_KINDS:
        raise ValueError(f"mail kind {kind!r} carries no personal files")
    _ATTACHERS.setdefault(kind, []).append(attach)


def _personal_files(kind: str, registration: Registration, now: datetime, prepared: dict) -> list[PersonalFile]:
    return [file for attach in _ATTACHERS.get(kind, ())
            if (file := attach(registration, now, prepared)) is not None]


def _mail(kind: str, registration: Registration, key: str) -> dict:
    return {
        "kind": kind,
        "recipient": registration.email,
        "dedupe_key": f"{kind}:{registration.id}:{key}",
        "event_id": registration.event_id,
        "registration_id": registration.id,
    }


def _queue(kind: str, registration: Registration, key: str) -> bool:
    return queue_mail(**_mail(kind, registration, key))


def registered_kind(status: RegistrationStatus) -> str:
    """The e-mail a new sign-up gets: the confirmation, or the waiting-list notice."""
    return "confirmation" if status == RegistrationStatus.confirmed else "waitlisted"


def _registered_mail(registration: Registration) -> dict:
    return _mail(registered_kind(registration.status), registration, str(registration.signups))


def notify_registered(registration_id: int, row: dict) -> None:
    """The confirmation or waiting-list notice for a registration just inserted from `row` (its column values)."""
    queue_mails([registered_mail(registration_id, row)])


def registered_mail(registration_id: int, row: dict) -> dict:
    """The outbox row of a new registration's confirmation or waiting-list notice, made when the registration
    was (`row` holds its column values): for `notify_registered`, and the parameters of REGISTERED_MAIL."""
    kind = registered_kind(row["status"])
    return {"kind": kind, "dedupe_key": f"{kind}:{registration_id}:{row['signups']}", "recipient": row["email"],
            "event_id": row["event_id"], "registration_id": registration_id, "created_at": row["created_at"]}


def notify_registered_many(registrations: list[Registration]) -> None:
    """The confirmation with calendar file, or the waiting-list notice, for each registration, in one statement."""
    queue_mails([_registered_mail(registration) for registration in registrations])


def notify_registered_again(registration: Registration, now: datetime) -> bool:
    """The manage link again, for someone who registered twice (once an hour at most)."""
    return _queue("manage_link", registration, now.strftime("%Y%m%dT%H"))


def notify_promoted(registration: Registration) -> bool:
    """A place came free: the waiting person is now confirmed."""
    return _queue("promoted", registration, str(registration.signups))


def notify_cancelled(registration: Registration) -> bool:
    """Confirms that the registration was cancelled."""
    return _queue("cancelled", registration, str(registration.signups))


def notify_links_requested(registration: Registration, now: datetime) -> bool:
    """Manage and join links again, asked for on the event page (once an hour at most)."""
    return _queue("lost_link", registration, now.strftime("%Y%m%dT%H"))


def mails_to(registration: Registration) -> list[OutgoingMail]:
    """Every e-mail queued for this registration, oldest first."""
    return list(db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.registration_id == registration.id).order_by(OutgoingMail.id)
    ))


def queue_for_registrations(event: Event, kind: str, condition, *, due_at: datetime, **columns) -> int:
    """Queue one `kind` mail for each of the event's registrations matching `condition`.

    The key carries the event version, so running it again queues nothing and
    a moved event gets its messages anew. `columns` are further values per row
    (SQL expressions). Returns how many rows were added.
    """
    key = literal(f"{kind}:", String) + cast(Registration.id, String) + literal(f":v{event.version}", String)
    rows = select(Registration.id).where(Registration.event_id == event.id, condition)
    return queue_from_select(rows, kind=kind, key=key, event=event, due_at=due_at,
                             event_version=literal(event.version), **columns)


def queue_from_select(rows: Select, *, kind: str, key, event: Event, due_at: datetime, **columns) -> int:
    """One INSERT ... SELECT: an outbox row per registration in `rows`; keys already queued are skipped."""
    values = _outbox_values(kind, key, event_id=literal(event.id), registration_id=Registration.id,
                            recipient=Registration.email, due_at=literal(due_at, UTCDateTime),
                            created_at=literal(utcnow(), UTCDateTime)) | columns
    statement = (
        dialect_insert(OutgoingMail)
        .from_select(list(values), rows.with_only_columns(*(value.label(name) for name, value in values.items())))
        .on_conflict_do_nothing()
        .returning(OutgoingMail.id)
    )
    return len(db.session.execute(statement).all())


def _outbox_values(kind: str, key, **columns) -> dict:
    """An outbox row as SQL expressions: `key` and `columns` (event_id, registration_id, recipient, due_at,
    created_at) per row, the rest as a new row has them."""
    return {
        "kind": literal(kind, String),
        "dedupe_key": key,
        **columns,
        "status": literal(MailStatus.pending, OutgoingMail.__table__.c.status.type),
        "attempts": literal(0),
        "last_error": literal("", String),
        "message_id": literal("", String),
    }


#: the confirmation or waiting-list notice of a new sign-up, every column given (no defaults filled in by
#: SQLAlchemy), due when the sign-up was made; for SQLite's sign-up, which runs it on the driver
#: (database.rows_on_driver); PostgreSQL's stores it with the registration (insert_with_registered_mail)
REGISTERED_MAIL = sqlite_insert(OutgoingMail.__table__).values(
    _outbox_values("", bindparam("dedupe_key", type_=String), event_id=bindparam("event_id", type_=Integer),
                   registration_id=bindparam("registration_id", type_=Integer),
                   recipient=bindparam("recipient", type_=String),
                   due_at=bindparam("created_at", type_=UTCDateTime), created_at=bindparam("created_at", type_=UTCDateTime))
    | {"kind": bindparam("kind", type_=String)}
).on_conflict_do_nothing()


def insert_with_registered_mail(insert_registration: Insert) -> Insert:
    """One statement: `insert_registration` (a registration's INSERT ... RETURNING its id, event_id, email,
    signups, created_at and status) and the new registration's confirmation or waiting-list notice in the
    outbox (PostgreSQL; SQLite has no INSERT in WITH). Returns the registration's id and the mail's kind."""
    new = insert_registration.cte("new_registration")
    kind = case((new.c.status == RegistrationStatus.confirmed, literal(registered_kind(RegistrationStatus.confirmed))),
                else_=literal(registered_kind(RegistrationStatus.waitlisted)))
    key = kind + literal(":", String) + cast(new.c.id, String) + literal(":", String) + cast(new.c.signups, String)
    values = _outbox_values("", key, event_id=new.c.event_id, registration_id=new.c.id, recipient=new.c.email,
                            due_at=new.c.created_at, created_at=new.c.created_at) | {"kind": kind}
    table = OutgoingMail.__table__
    return insert(table).from_select(
        list(values), select(*(value.label(name) for name, value in values.items()))
    ).returning(table.c.registration_id, table.c.kind)


def notify_event_moved(event: Event, now: datetime, previous_starts_at: datetime, previous_ends_at: datetime) -> int:
    """The new time and the one it replaces, with a calendar file of the same UID and a higher SEQUENCE."""
    return queue_for_registrations(
        event, "event_moved", _REGISTERED, due_at=now,
        previous_starts_at=_time_last_told("previous_starts_at", previous_starts_at),
        previous_ends_at=_time_last_told("previous_ends_at", previous_ends_at),
    )


def _time_last_told(column: str, before_this_move: datetime):
    """Per registration: the time its earliest unsent new-time mail replaces, else the time before this move."""
    # When the event moves twice before the first new-time mail went out, that mail is never sent (it is
    # stale), so the registrant still knows the time from before the first move.
    unsent = aliased(OutgoingMail)
    earlier = (
        select(getattr(unsent, column))
        .where(unsent.registration_id == Registration.id, unsent.kind == "event_moved",
               unsent.status == MailStatus.pending, getattr(unsent, column).is_not(None))
        .order_by(unsent.id)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(earlier, literal(before_this_move, UTCDateTime))


def notify_event_cancelled(event: Event, now: datetime) -> int:
    """The cancellation, with a METHOD:CANCEL calendar file."""
    return queue_for_registrations(event, "event_cancelled", _REGISTERED, due_at=now)


# Events know nobody: when one moves or is cancelled, this domain tells its registrants.
event_moved.connect(lambda event, **moved: notify_event_moved(event, **moved), weak=False)
event_cancelled.connect(lambda event, now: notify_event_cancelled(event, now), weak=False)


def _event(registration: Registration, batch: Batch | None) -> Event:
    """The registration's event: the one the batch already holds for its id (see `_per_event`), else loaded.

    The batch's rows share a session, so both are the same object; looking it up by id spares each row
    the attribute's lazy load."""
    known = batch.events.get(registration.event_id) if batch is not None else None
    return known["context"]["event"] if known is not None else registration.event


def check_still_useful(row: OutgoingMail, now: datetime, batch: Batch | None = None) -> Registration:
    """The row's registration, or Obsolete when the message lost its use."""
    registration = row.registration
    if registration is None or registration.status not in _STATUSES[row.kind]:
        raise Obsolete("de aanmelding heeft een andere status")
    event = _event(registration, batch)
    if row.event_version is not None and row.event_version != event.version:
        raise Obsolete("de bijeenkomst is sindsdien gewijzigd")
    if row.kind == "event_cancelled":
        return registration
    if event.cancelled_at is not None:
        raise Obsolete("de bijeenkomst gaat niet door")
    if row.kind in SCHEDULED_KINDS:
        until = useful_until(event, row.kind)
        if until is None or now >= until:
            raise Obsolete("het moment is voorbij")
    elif row.kind in ("lost_link", "event_moved") and now >= event.ends_at:
        raise Obsolete("de bijeenkomst is voorbij")
    return registration


def render_registrant_mail(row: OutgoingMail, now: datetime, batch: Batch) -> Email:
    """Build a registrant's message for an outbox row, minting the personal links it carries."""
    registration = row.registration
    event = _event(registration, batch)
    links = _per_event(event, batch.events)["links"]
    manage_url = links["registration.manage"](issue_batch_token(batch, registration, TokenPurpose.manage))
    join_url = ""
    if row.kind in JOIN_LINK_KINDS:
        join_url = links["attendance.join"](issue_batch_token(batch, registration, TokenPurpose.join))
    return registrant_message(row.kind, event, registration, now,
                              manage_url=manage_url, join_url=join_url, events=batch.events,
                              previous=(row.previous_starts_at, row.previous_ends_at),
                              files=_personal_files(row.kind, registration, now, batch.prepared))


def registrant_message(kind_name: str, event: Event, registration: Registration, now: datetime, *,
                       manage_url: str, join_url: str, events: dict[int, dict] | None = None,
                       previous: tuple[datetime | None, datetime | None] = (None, None),
                       files: Sequence[PersonalFile] = ()) -> Email:
    """One registrant's e-mail of this kind with the links given: the same for sending and previews.

    `events` keeps what is the same for every registrant of an event at `now`
    (links, subject, calendar file, the bodies as stencils with stand-ins for
    the first name and the links) across the rows of one batch; `previous` is
    the start and end a new-time mail says the event moved from; `files`
    are attached, their notes written in the body.
    """
    per_event = _per_event(event, {} if events is None else events)
    calendar = None
    method = _CALENDARS[kind_name]
    if method:
        if method not in per_event:
            per_event[method] = Calendar(method, build_calendar(event, method=method))
        calendar = per_event[method]
    if ("subject", kind_name) not in per_event:
        per_event["subject", kind_name] = _SUBJECTS[kind_name].format(title=event.title, when=_when(event, now))
    subject = per_event["subject", kind_name]
    personal = {"first_name": registration.first_name, "manage_url": manage_url}
    if kind_name in JOIN_LINK_KINDS:
        personal["join_url"] = join_url
    notes = tuple(file.note for file in files)
    attachments = tuple(file.attachment for file in files)
    if events is not None and all(personal.values()):
        status_label = registration.status_label
        key = ("stencil", kind_name, status_label, previous, notes)
        if key not in per_event:
            per_event[key] = Stencil(kind_name, tuple(personal), lambda values: _context(
                per_event, kind_name, _Registrant(values["first_name"], status_label), values, previous, notes))
        if per_event[key].usable:
            text, html = per_event[key].bodies(personal)
            return message(subject, registration.email, text, html, calendar, attachments,
                           reply_to=per_event["reply_to"])
    context = _context(per_event, kind_name, registration, personal, previous, notes)
    return compose(subject, registration.email, kind_name, calendar, attachments, reply_to=per_event["reply_to"],
                   **context)


def _context(per_event: dict, kind_name: str, registration, personal: dict[str, str],
             previous: tuple[datetime | None, datetime | None], notes: tuple[str, ...] = ()) -> dict:
    """The templates' values for one registrant; `notes` tell of the files attached."""
    context = dict(per_event["context"], registration=registration, manage_url=personal["manage_url"],
                   previous_starts_at=previous[0], previous_ends_at=previous[1], attachment_notes=notes)
    if kind_name in JOIN_LINK_KINDS:
        context["join_url"] = personal["join_url"]
    return context


class _Registrant:
    """A registration as a stencil's templates see it: a stand-in for the first name, the status label itself.

    Anything else a template asks makes the stencil unusable: its value differs per registrant.
    """

    def __init__(self, first_name: str, status_label: str):
        self.first_name = first_name
        self.status_label = status_label

    def __getattr__(self, name: str):
        raise StandInMissed(name)


def _per_event(event: Event, events: dict[int, dict]) -> dict:
    """The template values that are the same for every registrant of the event."""
    if event.id not in events:
        events[event.id] = {
            "context": {
                "event": event,
                "event_url": external_url("registration.show", slug=event.slug),
                "google_url": google_calendar_url(event),
                "outlook_url": outlook_calendar_url(event),
                "office_url": office_calendar_url(event),
                "join_opens_at": event.join_opens_at(),
                "followup_at": event.followup_at(),
            },
            "reply_to": event_reply_to(event),
            #: the personal links' makers, the app and BASE_URL looked up once
            "links": {endpoint: token_url_maker(endpoint) for endpoint in ("registration.manage", "attendance.join")},
        }
    return events[event.id]


def event_reply_to(event: Event) -> str:
    """Where replies to the event's mail go: its contact person, else the one the settings name."""
    config = current_app.config
    if event.contact_email:
        return named(event.contact_email, event.contact_name)
    return named(config["EVENT_CONTACT_EMAIL"], config["EVENT_CONTACT_NAME"]) if config["EVENT_CONTACT_EMAIL"] else ""


def _when(event: Event, now: datetime) -> str:
    """'vandaag om 16.00 uur', 'morgen om 16.00 uur' or 'op dinsdag 25 mei 2027'."""
    days = (local(event.starts_at).date() - local(now).date()).days
    if days == 0:
        return f"vandaag om {time(event.starts_at)} uur"
    if days == 1:
        return f"morgen om {time(event.starts_at)} uur"
    return f"op {date(event.starts_at)}"


for _name, _label, _, _, _method in _KINDS:
    register_kind(_name, label=_label, recipient="aangemelde", render=render_registrant_mail,
                  still_useful=check_still_useful, calendar=_method is not None, personal_links=True,
                  scheduled=_name in SCHEDULED_KINDS, bulk=_name in BULK_KINDS)


def mark_unreachable(row: OutgoingMail, reason: str, now: datetime) -> None:
    """A message to a registrant came back: their address is unreachable, if it is still the one it went to."""
    registration = row.registration
    if registration is not None and registration.email == row.recipient:
        registration.unreachable_at = now
        registration.unreachable_reason = reason


register_bounce_listener(mark_unreachable)
