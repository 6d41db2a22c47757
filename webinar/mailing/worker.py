"""The mail worker: claim due rows, render them, send them over one connection, record the outcomes.

Several workers may run at once. A claim is committed before any SMTP traffic
and carries a lease (`claimed_until`); rows of a worker that died are claimed
again once the lease runs out, so nothing is lost. Temporary failures (4xx,
connection trouble) are retried with backoff; permanent ones (5xx) fail at once.

One row never stops a batch: an address that cannot be written for SMTP, or
that needs SMTPUTF8 from a server without it, fails alone with a Dutch reason;
any other error while rendering or sending one row is kept on that row, which
is tried again on the backoff ladder. Database errors are not one row's: they
end the pass (see `database_problem`) and the caller tries again later.

A pass sends each prepared batch on a thread of its own (`Sender`, sending.py) while it
claims and prepares the next, so the SMTP exchange and the rendering overlap.
The thread has its own database session and connection and marks what it
sent; the pass's session stays on the pass's thread.

Rows the server accepted are marked sent in groups (one UPDATE and one commit
per `MAIL_MARK_GROUP` messages or `MAIL_MARK_SECONDS`, whichever comes first,
and at the end of every batch): a commit per message cost more than sending
it. The price: a worker killed mid-batch may leave up to one group accepted
but unmarked, and those messages go out again once the lease runs out.
"""

from __future__ import annotations

import gc
import logging
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Integer, String, and_, bindparam, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, joinedload

from ..database import as_arrays, begin_reads, begin_write, is_sqlite, one_of, restart_as_write, unnested, utcnow
from ..extensions import db
from .addresses import Undeliverable, envelope_address
from .bounces import bounce_sender
from .kinds import Batch, render, run_passes, run_sweeps
from .message import Obsolete
from .mime import has_line_break, to_bytes
from .models import MailStatus, OutgoingMail
from .sending import OUTBOX, PassResult, Ready, Sender, error_text, mark, retry_or_fail

log = logging.getLogger(__name__)

#: the address and Message-ID of a rendered row, for a list of {row_id, recipient, message_id}
RECORD_RENDERED = (
    update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id"))
    .values(recipient=bindparam("recipient"), message_id=bindparam("message_id"))
)

_RENDERED = unnested("rendered", {"row_id": Integer(), "recipient": String(), "message_id": String()})
#: PostgreSQL: RECORD_RENDERED for the whole batch in one statement, from an array per column
RECORD_RENDERED_FROM_ARRAYS = (
    update(OUTBOX).where(OUTBOX.c.id == _RENDERED.c.row_id)
    .values(recipient=_RENDERED.c.recipient, message_id=_RENDERED.c.message_id)
)

#: the longest wait between passes while passes keep failing (database down, a fault)
FAILED_PASS_WAIT_SECONDS = 60
#: the error kept on a row whose address holds a line break
LINE_BREAK = "niet verstuurd: regeleinde in adres of onderwerp"


def _waiting(now: datetime):
    return and_(
        OutgoingMail.status == MailStatus.pending,
        OutgoingMail.due_at <= now,
        or_(OutgoingMail.next_attempt_at.is_(None), OutgoingMail.next_attempt_at <= now),
    )


def _abandoned(now: datetime):
    return and_(OutgoingMail.status == MailStatus.sending, OutgoingMail.claimed_until < now)


def due(now: datetime):
    """The rows a worker would claim now: waiting and due, or claimed by a worker that is gone."""
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
            .where(one_of(OUTBOX.c.id, "claimed", postgresql=not is_sqlite()), due(now))
            .values(
                status=MailStatus.sending,
                claimed_until=now + timedelta(seconds=lease_seconds),
                attempts=OUTBOX.c.attempts + 1,
            ),
            {"claimed": ids},
        )
    db.session.commit()
    return ids


def _render(row: OutgoingMail, now: datetime, batch: Batch, sender: str) -> tuple[Ready, dict]:
    """The row as SMTP-ready bytes, and what to record on it; raises Obsolete or Undeliverable."""
    email = render(row, now, batch)
    if has_line_break(email.recipient):
        # The address goes into the SMTP envelope as it is: smtplib would
        # refuse it and stop the whole batch, so this row fails alone.
        raise Undeliverable(LINE_BREAK)
    envelope = envelope_address(email.recipient)
    data = to_bytes(email, sender=sender, date=utcnow())
    ready = Ready(row.id, row.attempts, envelope.address, envelope.smtputf8, data, bounce_sender(row.id))
    return ready, {"row_id": row.id, "recipient": email.recipient, "message_id": email.message_id}


def _prepare(ids: list[int], now: datetime, result: PassResult) -> list[Ready]:
    """Render the claimed rows into SMTP-ready bytes; mark the ones that cannot or need not go.

    The whole batch is built before the first message goes out, so that the
    sending itself runs back to back, as fast as the server answers. The rows
    and what their rendering reads (registrations, events, ...) are loaded in a
    session of their own on the pass's connection and transaction, closed with
    the batch: the commits that mark the rows sent then have no objects to
    expire, and the next batch reads everything afresh. On SQLite they are read
    and rendered without the write lock (`begin_reads`), taken only to store
    the tokens and Message-IDs, so the sender thread's marks and the web's
    writes do not wait for the rendering. No garbage collection runs
    meanwhile (`_no_collections`).
    """
    with _no_collections():
        sender = current_app.config["MAIL_DEFAULT_SENDER"]
        begin_reads()
        # No autoflush: nothing is written before restart_as_write() below.
        session = Session(bind=db.session.connection(), expire_on_commit=False, autoflush=False)
        try:
            rows = session.scalars(
                select(OutgoingMail)
                # The registration's own eager relationships (its event) are loaded when asked
                # for: the event is one object for the whole batch, not a join in every row.
                .options(joinedload(OutgoingMail.registration).lazyload("*"))
                .where(one_of(OutgoingMail.id, "claimed", postgresql=not is_sqlite()))
                .order_by(OutgoingMail.id),
                {"claimed": ids},
            ).all()
            ready, unsent, rendered, broken, batch = _render_all(rows, now, sender)
            restart_as_write()
            session.flush()  # what a renderer changed on a loaded object (an invitation's new token)
        finally:
            session.close()
        batch.store()
        if rendered and not is_sqlite():  # one statement; psycopg's executemany spent Python on every row
            db.session.execute(RECORD_RENDERED_FROM_ARRAYS, as_arrays(rendered, ("row_id", "recipient", "message_id")))
        elif rendered:  # one UPDATE by primary key, executed for every row (SQLite: one prepared statement)
            db.session.execute(RECORD_RENDERED, rendered)
        db.session.commit()
        _mark_unsent(unsent, broken, now, result)
        return ready


@contextmanager
def _no_collections():
    """No cyclic garbage collection while a batch is prepared; collections go on after it.

    The batch's objects (rows, messages, tokens) live until the batch is
    prepared and are then freed by reference counting. A collection in
    between frees none of them but moves them to an older generation, and
    every couple of thousand messages those set off a collection of the whole
    process: some 90 ms in bench/mail_throughput.py, about 0.05 ms a message.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
            broken.append((row.id, row.attempts, error_text(error)))
        else:
            ready.append(item)
            rendered.append(values)
    return ready, unsent, rendered, broken, batch


def _mark_unsent(unsent: dict, broken: list, now: datetime, result: PassResult) -> None:
    """Record the rows that will not go out in this batch: skipped, failed, or to be tried again."""
    for (status, reason), row_ids in unsent.items():
        mark(row_ids, status=status, last_error=reason)
        if status == MailStatus.failed:
            result.failed += len(row_ids)
        else:
            result.skipped += len(row_ids)
    for row_id, attempts, error in broken:
        retry_or_fail(row_id, attempts, error, now, result)


def send_due(now: datetime | None = None, limit: int | None = None) -> PassResult:
    """One pass: send everything that is due now, batch by batch.

    The pass claims and prepares a batch while the one before is being sent
    (see `Sender`); it claims no more once the connection failed.
    """
    config = current_app.config
    result = PassResult()
    db.session.rollback()
    begin_write()
    result.scheduled = run_sweeps(now or utcnow())
    db.session.commit()
    with Sender() as sender:
        while not sender.result.connection_error:
            moment = now or utcnow()
            ids = claim_due(moment, limit or config["MAIL_BATCH_SIZE"], config["MAIL_CLAIM_SECONDS"])
            if not ids:
                break
            result.claimed += len(ids)
            ready = _prepare(ids, moment, result)
            if ready:
                sender.send(ready, moment)
    result.add(sender.result)
    run_passes(now or utcnow())
    return result


def database_problem(error: DBAPIError) -> str:
    """One line about a database error: SQLite locked, PostgreSQL restarted, a connection killed."""
    cause = error.orig if error.orig is not None else error
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"databasefout: {type(cause).__name__}: {first_line}"


def wait_after_failed_passes(interval: float, failures: int) -> float:
    """Seconds to the next pass after `failures` failed passes in a row: doubling, capped."""
    return max(interval, min(interval * 2 ** (failures - 1), FAILED_PASS_WAIT_SECONDS))
