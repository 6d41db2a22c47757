"""The mail worker: claim due rows, send them over one connection, record the outcomes.

Several workers may run at once. A claim is committed before any SMTP traffic
and carries a lease (`claimed_until`); rows of a worker that died are claimed
again once the lease runs out, so nothing is lost. Temporary failures (4xx,
connection trouble) are retried with backoff; permanent ones (5xx) fail at once.

One row never stops a batch: an address that cannot be written for SMTP, or
that needs SMTPUTF8 from a server without it, fails alone with a Dutch reason;
any other error while rendering or sending one row is kept on that row, which
is tried again on the backoff ladder. Database errors are not one row's: they
end the pass (see `database_problem`) and the caller tries again later.

Rows the server accepted are marked sent in groups (one UPDATE and one commit
per `MAIL_MARK_GROUP` messages or `MAIL_MARK_SECONDS`, whichever comes first,
and at the end of every batch): a commit per message cost more than sending
it. The price: a worker killed mid-batch may leave up to one group accepted
but unmarked, and those messages go out again once the lease runs out.
"""

from __future__ import annotations

import logging
import smtplib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, joinedload

from ..database import begin_write, is_sqlite, utcnow
from ..extensions import db, mail
from .addresses import Undeliverable, envelope_address, plain_address
from .kinds import Batch, render, run_sweeps
from .message import Obsolete
from .mime import address, has_line_break, to_bytes
from .models import MailStatus, OutgoingMail

log = logging.getLogger(__name__)

#: the outbox as a table: the worker's claims and marks change many rows at once, without the ORM's bookkeeping
OUTBOX = OutgoingMail.__table__
#: the address and Message-ID of a rendered row, for a list of {row_id, recipient, message_id}
RECORD_RENDERED = (
    update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id"))
    .values(recipient=bindparam("recipient"), message_id=bindparam("message_id"))
)

#: minutes to wait before the next try after the 1st, 2nd, ... temporary failure
BACKOFF_MINUTES = (1, 5, 15, 60)
#: the longest wait between passes while passes keep failing (database down, a fault)
FAILED_PASS_WAIT_SECONDS = 60
#: the error kept on a row whose address holds a line break
LINE_BREAK = "niet verstuurd: regeleinde in adres of onderwerp"
#: the error kept on a row whose local part is not ASCII, when the server lacks SMTPUTF8
NO_SMTPUTF8 = (
    "niet verstuurd: de mailserver kan geen e-mailadres met tekens als ë of ï vóór de @ "
    "afleveren (SMTPUTF8 ontbreekt)"
)


@dataclass
class PassResult:
    """What one pass of the worker did."""

    #: planned messages (reminders, join links, follow-ups) queued by this pass
    scheduled: int = 0
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    #: the mail server could not be reached or dropped the connection
    connection_error: str = ""
    errors: list[str] = field(default_factory=list)


def _waiting(now: datetime):
    return and_(
        OutgoingMail.status == MailStatus.pending,
        OutgoingMail.due_at <= now,
        or_(OutgoingMail.next_attempt_at.is_(None), OutgoingMail.next_attempt_at <= now),
    )


def _abandoned(now: datetime):
    return and_(OutgoingMail.status == MailStatus.sending, OutgoingMail.claimed_until < now)


def _due(now: datetime):
    return or_(_waiting(now), _abandoned(now))


def claim_due(now: datetime, limit: int, lease_seconds: int) -> list[int]:
    """Claim up to `limit` due rows for this worker and commit the claim.

    Waiting and abandoned rows are looked up apart, each walking the index on
    (status, due_at) in order and stopping after `limit` rows; together in one
    query they would first be sorted in full.
    """
    db.session.rollback()
    begin_write()
    found = []
    for condition in (_waiting(now), _abandoned(now)):
        query = (select(OutgoingMail.due_at, OutgoingMail.id).where(condition)
                 .order_by(OutgoingMail.due_at, OutgoingMail.id).limit(limit))
        if not is_sqlite():
            query = query.with_for_update(skip_locked=True)
        found += db.session.execute(query).all()
    ids = [row_id for _, row_id in sorted(found)[:limit]]
    if ids:
        db.session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(ids), _due(now))
            .values(
                status=MailStatus.sending,
                claimed_until=now + timedelta(seconds=lease_seconds),
                attempts=OUTBOX.c.attempts + 1,
            )
        )
    db.session.commit()
    return ids


def _mark(row_ids: int | list[int], **values) -> None:
    """Record the outcome of claimed rows and commit it: one UPDATE, built once per set of columns."""
    ids = row_ids if isinstance(row_ids, list) else [row_ids]
    begin_write()
    db.session.execute(
        _mark_statement(tuple(sorted(values))),
        {"row_ids": ids, **{f"new_{name}": value for name, value in values.items()}},
    )
    db.session.commit()


@lru_cache(maxsize=16)
def _mark_statement(names: tuple[str, ...]):
    """UPDATE the claimed rows of `row_ids`, setting `names` (given as new_<name>) and ending the claim."""
    return (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(bindparam("row_ids", expanding=True)), OUTBOX.c.status == MailStatus.sending)
        .values(claimed_until=None, **{name: bindparam(f"new_{name}") for name in names})
    )


class SentMarks:
    """Rows the server accepted, marked sent together: one UPDATE and one commit per group.

    A group is written as soon as it holds `limit` rows, before the next
    message once its first row waited `seconds`, and at the end of a batch.
    `sent_at` is the moment the group is written.
    """

    def __init__(self, limit: int, seconds: float):
        self.limit = max(limit, 1)
        self.seconds = seconds
        self.row_ids: list[int] = []
        self.since = 0.0

    def add(self, row_id: int) -> None:
        if not self.row_ids:
            self.since = time.monotonic()
        self.row_ids.append(row_id)
        if len(self.row_ids) >= self.limit:
            self.write()

    def write_if_old(self) -> None:
        if self.row_ids and time.monotonic() - self.since >= self.seconds:
            self.write()

    def write(self) -> None:
        if self.row_ids:
            _mark(self.row_ids, status=MailStatus.sent, sent_at=utcnow(), last_error="")
            self.row_ids = []


@dataclass(frozen=True)
class Ready:
    """A claimed row, rendered and ready to send."""

    row_id: int
    attempts: int
    #: for RCPT TO: the domain in IDNA A-labels
    recipient: str
    #: the local part is not ASCII: sent with SMTPUTF8, or not at all
    smtputf8: bool
    #: the whole message as it goes over SMTP
    data: bytes


def _retry_or_fail(row_id: int, attempts: int, error: str, now: datetime, result: PassResult) -> None:
    """Try the row again after the next wait on the ladder, or fail it once the ladder is done."""
    if attempts > len(BACKOFF_MINUTES):
        _mark(row_id, status=MailStatus.failed, last_error=error)
        result.failed += 1
        return
    wait = timedelta(minutes=BACKOFF_MINUTES[attempts - 1])
    _mark(row_id, status=MailStatus.pending, next_attempt_at=now + wait, last_error=error)
    result.retried += 1


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _render(row: OutgoingMail, now: datetime, batch: Batch, sender: str) -> tuple[Ready, dict]:
    """The row as SMTP-ready bytes, and what to record on it; raises Obsolete or Undeliverable."""
    email = render(row, now, batch)
    if has_line_break(email.recipient):
        # The address goes into the SMTP envelope as it is: smtplib would
        # refuse it and stop the whole batch, so this row fails alone.
        raise Undeliverable(LINE_BREAK)
    envelope = envelope_address(email.recipient)
    data = to_bytes(email, sender=sender, date=utcnow())
    ready = Ready(row.id, row.attempts, envelope.address, envelope.smtputf8, data)
    return ready, {"row_id": row.id, "recipient": email.recipient, "message_id": email.message_id}


def _prepare(ids: list[int], now: datetime, result: PassResult) -> list[Ready]:
    """Render the claimed rows into SMTP-ready bytes; mark the ones that cannot or need not go.

    The whole batch is built before the first message goes out, so that the
    sending itself runs back to back, as fast as the server answers. The rows
    and what their rendering reads (registrations, events, ...) are loaded in a
    session of their own on the pass's connection and transaction, closed with
    the batch: the commits that mark the rows sent then have no objects to
    expire, and the next batch reads everything afresh.
    """
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    begin_write()
    session = Session(bind=db.session.connection(), expire_on_commit=False)
    try:
        rows = session.scalars(
            select(OutgoingMail)
            # The registration's own eager relationships (its event) are loaded when asked
            # for: the event is one object for the whole batch, not a join in every row.
            .options(joinedload(OutgoingMail.registration).lazyload("*"))
            .where(OutgoingMail.id.in_(ids))
            .order_by(OutgoingMail.id)
        ).all()
        ready, unsent, rendered, broken, batch = _render_all(rows, now, sender)
        session.flush()  # what a renderer changed on a loaded object (an invitation's new token)
    finally:
        session.close()
    batch.store()
    if rendered:  # one UPDATE by primary key for the batch, executed for every row
        db.session.execute(RECORD_RENDERED, rendered)
    db.session.commit()
    _mark_unsent(unsent, broken, now, result)
    return ready


def _render_all(rows: list, now: datetime, sender: str):
    """Each row rendered, or sorted out: (ready, unsent by (status, reason), rendered values, broken, batch)."""
    ready, unsent, rendered, broken, batch = [], {}, [], [], Batch()
    for row in rows:
        mark = batch.mark()
        try:
            item, values = _render(row, now, batch, sender)
        except Obsolete as reason:
            unsent.setdefault((MailStatus.skipped, f"niet verstuurd: {reason}"), []).append(row.id)
        except Undeliverable as reason:
            unsent.setdefault((MailStatus.failed, str(reason)), []).append(row.id)
        except DBAPIError:
            raise  # the database's trouble, not this row's: the pass ends
        except Exception as error:  # one row's bug must not stop the others
            log.exception("mail %s (%s) could not be rendered", row.id, row.kind)
            batch.drop_since(mark)  # its links were never sent
            broken.append((row.id, row.attempts, _error_text(error)))
        else:
            ready.append(item)
            rendered.append(values)
    return ready, unsent, rendered, broken, batch


def _mark_unsent(unsent: dict, broken: list, now: datetime, result: PassResult) -> None:
    """Record the rows that will not go out in this batch: skipped, failed, or to be tried again."""
    for (status, reason), row_ids in unsent.items():
        _mark(row_ids, status=status, last_error=reason)
        if status == MailStatus.failed:
            result.failed += len(row_ids)
        else:
            result.skipped += len(row_ids)
    for row_id, attempts, error in broken:
        _retry_or_fail(row_id, attempts, error, now, result)


def _smtp_reply(error: smtplib.SMTPException) -> tuple[int, str]:
    """The server's reply code and text, e.g. (550, "5.1.1 no such user")."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = min(error.recipients.values())
    else:
        code, text = getattr(error, "smtp_code", 0), getattr(error, "smtp_error", b"")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return code, text


class Connection:
    """A pass's SMTP connection: opened for its first message, kept for its next batches, closed at its end.

    `host` is the open `smtplib.SMTP`, or None with MAIL_SUPPRESS_SEND. A
    QUIT that fails at the end is reported as the pass's connection error.
    """

    def __init__(self, result: PassResult):
        self.result = result
        self.connection = None

    def host(self):
        """The open connection's `smtplib.SMTP` (None: MAIL_SUPPRESS_SEND); raises OSError or SMTPException."""
        if self.connection is None:
            connection = mail.connect()
            host = connection.__enter__().host
            self.connection = connection
            if host is not None:
                host.ehlo_or_helo_if_needed()  # to know whether the server offers SMTPUTF8
        return self.connection.host

    def __enter__(self):
        return self

    def __exit__(self, error_type, error, traceback):
        self.close(quietly=error_type is not None)

    def close(self, *, quietly: bool = False) -> None:
        """Say QUIT and close; after trouble (`quietly`) an error on the way is of no more interest."""
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.__exit__(None, None, None)
        except (OSError, smtplib.SMTPException) as error:
            if connection.host is not None:
                connection.host.close()
            if not quietly and not self.result.connection_error:
                self.result.connection_error = _error_text(error)
                log.warning("mail server unreachable: %s", self.result.connection_error)


def send_claimed(ids: list[int], now: datetime, result: PassResult, connection: Connection) -> None:
    """Send claimed rows over the pass's SMTP connection and record each outcome."""
    config = current_app.config
    ready = _prepare(ids, now, result)
    marks = SentMarks(config["MAIL_MARK_GROUP"], config["MAIL_MARK_SECONDS"])
    sender = envelope_address(address(config["MAIL_DEFAULT_SENDER"])).address
    sent = 0  # rows of `ready` done with
    try:
        if ready:
            host = connection.host()
        for item in ready:
            marks.write_if_old()
            clean = _send_one(host, sender, item, now, result, marks)
            sent += 1
            if not clean:  # the SMTP transaction may be half-way: start clean for the next row
                host.rset()
    except (OSError, smtplib.SMTPException) as error:
        result.connection_error = _error_text(error)
        log.warning("mail server unreachable: %s", result.connection_error)
        connection.close(quietly=True)
        for item in ready[sent:]:
            _retry_or_fail(item.row_id, item.attempts, result.connection_error, now, result)
    marks.write()


def _send_one(host, sender: str, item: Ready, now: datetime, result: PassResult, marks: SentMarks) -> bool:
    """Send one message and record its outcome; False after an unexpected error in this row.

    Trouble with the connection is raised: it concerns the rest of the batch too.
    """
    if item.smtputf8 and host is not None and not host.has_extn("smtputf8"):
        _mark(item.row_id, status=MailStatus.failed, last_error=NO_SMTPUTF8)
        result.failed += 1
        return True
    try:
        if host is not None:
            _transaction(host, sender, item)
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
        _refused(item, error, now, result)
        return True
    except (OSError, smtplib.SMTPException, DBAPIError):
        raise
    except Exception as error:  # one row's bug must not stop the others
        log.exception("mail %s could not be sent", item.row_id)
        _retry_or_fail(item.row_id, item.attempts, _error_text(error), now, result)
        return False
    marks.add(item.row_id)
    result.sent += 1
    return True


def _transaction(host: smtplib.SMTP, sender: str, item: Ready) -> None:
    """Send one message as `sendmail` sends it to one recipient, raising the same errors.

    `sendmail` (and `rcpt`) take both addresses apart again for every message
    with the email package's address parser, which costs about as much CPU as
    the rest of the exchange; a plain address (`plain_address`) goes as it is,
    between angle brackets, as `sendmail` would write it. A message that needs
    SMTPUTF8 goes through `sendmail` itself.
    """
    if item.smtputf8 or not host.does_esmtp or not plain_address(sender):
        host.sendmail(sender, [item.recipient], item.data, mail_options=["SMTPUTF8"] if item.smtputf8 else [])
        return
    size = f" size={len(item.data)}" if host.has_extn("size") else ""
    host.putcmd("mail", f"FROM:<{sender}>{size}")
    code, reply = host.getreply()
    if code != 250:
        _end_transaction(host, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    if plain_address(item.recipient):
        host.putcmd("rcpt", f"TO:<{item.recipient}>")
        code, reply = host.getreply()
    else:
        code, reply = host.rcpt(item.recipient)
    if code not in (250, 251):
        _end_transaction(host, code)
        raise smtplib.SMTPRecipientsRefused({item.recipient: (code, reply)})
    code, reply = host.data(item.data)
    if code != 250:
        _end_transaction(host, code)
        raise smtplib.SMTPDataError(code, reply)


def _end_transaction(host: smtplib.SMTP, code: int) -> None:
    """After a refusal, as `sendmail` does: close the connection on 421, else reset the transaction."""
    if code == 421:
        host.close()
        return
    try:
        host.rset()
    except smtplib.SMTPServerDisconnected:
        pass


def _refused(item: Ready, error: smtplib.SMTPException, now: datetime, result: PassResult) -> None:
    """The server answered with an error: 5xx fails for good, 4xx is tried again."""
    code, reply = _smtp_reply(error)
    text = f"{code} {reply}"
    result.errors.append(text)
    if code >= 500:
        _mark(item.row_id, status=MailStatus.failed, last_error=text)
        result.failed += 1
    else:
        _retry_or_fail(item.row_id, item.attempts, text, now, result)


def send_due(now: datetime | None = None, limit: int | None = None) -> PassResult:
    """One pass: send everything that is due now, batch by batch."""
    config = current_app.config
    result = PassResult()
    db.session.rollback()
    begin_write()
    result.scheduled = run_sweeps(now or utcnow())
    db.session.commit()
    with Connection(result) as connection:
        while True:
            moment = now or utcnow()
            ids = claim_due(moment, limit or config["MAIL_BATCH_SIZE"], config["MAIL_CLAIM_SECONDS"])
            if not ids:
                break
            result.claimed += len(ids)
            send_claimed(ids, moment, result, connection)
            if result.connection_error:
                break
    return result


def database_problem(error: DBAPIError) -> str:
    """One line about a database error: SQLite locked, PostgreSQL restarted, a connection killed."""
    cause = error.orig if error.orig is not None else error
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"databasefout: {type(cause).__name__}: {first_line}"


def forget_transaction() -> None:
    """Drop the failed pass's transaction and session; the next pass starts on a fresh connection."""
    try:
        db.session.rollback()
    except DBAPIError:
        pass  # the connection is gone; the pool replaces it
    db.session.remove()


def wait_after_failed_passes(interval: float, failures: int) -> float:
    """Seconds to the next pass after `failures` failed passes in a row: doubling, capped."""
    return max(interval, min(interval * 2 ** (failures - 1), FAILED_PASS_WAIT_SECONDS))
