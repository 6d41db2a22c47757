"""Sending prepared messages over SMTP and recording each outcome on its outbox row.

The worker (worker.py) claims and prepares batches; a `Sender` sends each
prepared batch on a thread of its own, over one SMTP connection for the pass
(one round trip per message where the server offers PIPELINING: pipelining.py),
and marks the rows: sent in groups (`SentMarks`), refused for good (5xx),
or to be tried again on the backoff ladder (4xx, connection trouble).
"""

from __future__ import annotations

import logging
import queue
import smtplib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache, partial

from flask import current_app
from sqlalchemy import bindparam, update
from sqlalchemy.exc import DBAPIError

from ..database import begin_write, is_sqlite, one_of, utcnow
from ..extensions import db, mail
from .addresses import envelope_address, plain_address
from .mime import address
from .models import MailStatus, OutgoingMail
from .pipelining import Pipeline, offers_pipelining

log = logging.getLogger(__name__)

#: the outbox as a table: the worker's claims and marks change many rows at once, without the ORM's bookkeeping
OUTBOX = OutgoingMail.__table__

#: minutes to wait before the next try after the 1st, 2nd, ... temporary failure
BACKOFF_MINUTES = (1, 5, 15, 60)

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

    def add(self, other: PassResult) -> None:
        """Count what `other` did too (a sender thread's part of the pass)."""
        for name in ("scheduled", "claimed", "sent", "retried", "failed", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.connection_error = self.connection_error or other.connection_error
        self.errors += other.errors


def mark(row_ids: int | list[int], **values) -> None:
    """Record the outcome of claimed rows and commit it: one UPDATE, built once per set of columns."""
    ids = row_ids if isinstance(row_ids, list) else [row_ids]
    begin_write()
    db.session.execute(
        _mark_statement(tuple(sorted(values)), postgresql=not is_sqlite()),
        {"row_ids": ids, **{f"new_{name}": value for name, value in values.items()}},
    )
    db.session.commit()


@lru_cache(maxsize=16)
def _mark_statement(names: tuple[str, ...], *, postgresql: bool):
    """UPDATE the claimed rows of `row_ids`, setting `names` (given as new_<name>) and ending the claim."""
    return (
        update(OUTBOX)
        .where(one_of(OUTBOX.c.id, "row_ids", postgresql=postgresql), OUTBOX.c.status == MailStatus.sending)
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
            mark(self.row_ids, status=MailStatus.sent, sent_at=utcnow(), last_error="")
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
    #: the envelope sender (MAIL FROM) naming this row for bounces ("": MAIL_DEFAULT_SENDER's address)
    sender: str = ""


def retry_or_fail(row_id: int, attempts: int, error: str, now: datetime, result: PassResult) -> None:
    """Try the row again after the next wait on the ladder, or fail it once the ladder is done."""
    if attempts > len(BACKOFF_MINUTES):
        mark(row_id, status=MailStatus.failed, last_error=error)
        result.failed += 1
        return
    wait = timedelta(minutes=BACKOFF_MINUTES[attempts - 1])
    mark(row_id, status=MailStatus.pending, next_attempt_at=now + wait, last_error=error)
    result.retried += 1


def error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


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
                self.result.connection_error = error_text(error)
                log.warning("mail server unreachable: %s", self.result.connection_error)


def send_batch(ready: list[Ready], now: datetime, result: PassResult, connection: Connection) -> None:
    """Send prepared rows over the pass's SMTP connection and record each outcome.

    With a server that offers PIPELINING each message costs one round trip
    (`Pipeline`); a row the pipeline does not take goes the plain way, after
    the pipeline has sent what it holds.
    """
    config = current_app.config
    marks = SentMarks(config["MAIL_MARK_GROUP"], config["MAIL_MARK_SECONDS"])
    sender = envelope_address(address(config["MAIL_DEFAULT_SENDER"])).address
    pipeline = None
    sent = 0  # rows of `ready` handed to the server (the pipeline's open row not yet settled)
    try:
        if ready and not result.connection_error:
            host = connection.host()
            if offers_pipelining(host):
                pipeline = Pipeline(host, partial(_settle, now=now, result=result, marks=marks))
        for item in ready:
            if result.connection_error:  # an earlier batch lost the connection
                break
            marks.write_if_old()
            envelope_sender = item.sender or sender
            if pipeline and pipeline.takes(envelope_sender, item):
                pipeline.send(envelope_sender, item)
                sent += 1
                continue
            if pipeline:
                pipeline.finish()
            clean = _send_one(host, envelope_sender, item, now, result, marks)
            sent += 1
            if not clean:  # the SMTP transaction may be half-way: start clean for the next row
                host.rset()
        if pipeline:
            pipeline.finish()
    except (OSError, smtplib.SMTPException) as error:
        result.connection_error = error_text(error)
        log.warning("mail server unreachable: %s", result.connection_error)
        connection.close(quietly=True)
    unsettled = [pipeline.open] if pipeline and pipeline.open else []
    for item in unsettled + ready[sent:]:
        retry_or_fail(item.row_id, item.attempts, result.connection_error, now, result)
    marks.write()


class Sender:
    """Sends prepared batches on a thread of its own, while the pass claims and prepares the next one.

    One batch waits at most (`send` blocks until the thread took the one
    before). The thread has its own app context, so its own database session
    and connection: it marks the rows it sent, as a pass without it would, and
    the pass's session is never touched from two threads. It opens the SMTP
    connection for its first message and closes it when the pass ends. After a
    connection error the rows of a batch handed over later are tried again on
    the backoff ladder, as the rest of the batch that met the error.

    What ends the thread otherwise (a database error while marking) is raised
    in the pass by the next `send` or by the end of the `with` block; the
    rows it had not marked stay claimed and are taken again once their lease
    runs out.
    """

    def __init__(self):
        self.app = current_app._get_current_object()
        #: what the thread did: merged into the pass's result at the end
        self.result = PassResult()
        self.batches: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def __enter__(self):
        return self

    def send(self, ready: list[Ready], now: datetime) -> None:
        """Hand a prepared batch to the thread; raises what ended the thread."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
            self.thread.start()
        self._put((ready, now))

    def _put(self, item) -> None:
        while True:
            if self.error is not None:
                raise self.error
            if not self.thread.is_alive():
                return
            try:
                self.batches.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        with self.app.app_context():
            try:
                with Connection(self.result) as connection:
                    while (item := self.batches.get()) is not None:
                        send_batch(*item, self.result, connection)
            except BaseException as error:  # handed to the pass, which raises it
                log.warning("mail sender stopped: %s", error_text(error))
                self.error = error
            finally:
                forget_transaction()

    def __exit__(self, error_type, error, traceback):
        """Wait until the batches handed over are sent and marked; raise what ended the thread."""
        if self.thread is None:
            return
        try:
            self._put(None)
        except BaseException:
            if error_type is None:
                raise
        self.thread.join()
        if self.error is not None and error_type is None:
            raise self.error


def _send_one(host, sender: str, item: Ready, now: datetime, result: PassResult, marks: SentMarks) -> bool:
    """Send one message and record its outcome; False after an unexpected error in this row.

    Trouble with the connection is raised: it concerns the rest of the batch too.
    """
    if item.smtputf8 and host is not None and not host.has_extn("smtputf8"):
        mark(item.row_id, status=MailStatus.failed, last_error=NO_SMTPUTF8)
        result.failed += 1
        return True
    try:
        if host is not None:
            _transaction(host, sender, item)
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
        _settle(item, error, now, result, marks)
        return True
    except (OSError, smtplib.SMTPException, DBAPIError):
        raise
    except Exception as error:  # one row's bug must not stop the others
        _settle(item, error, now, result, marks)
        return False
    _settle(item, None, now, result, marks)
    return True


def _settle(item: Ready, error: BaseException | None, now: datetime, result: PassResult, marks: SentMarks) -> None:
    """Record a row's outcome: accepted (None), refused by the server, or stopped by a bug of its own."""
    if error is None:
        marks.add(item.row_id)
        result.sent += 1
    elif isinstance(error, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)):
        _refused(item, error, now, result)
    else:
        log.error("mail %s could not be sent", item.row_id, exc_info=error)
        retry_or_fail(item.row_id, item.attempts, error_text(error), now, result)


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
        mark(item.row_id, status=MailStatus.failed, last_error=text)
        result.failed += 1
    else:
        retry_or_fail(item.row_id, item.attempts, text, now, result)


def forget_transaction() -> None:
    """Drop the failed pass's transaction and session; the next pass starts on a fresh connection."""
    try:
        db.session.rollback()
    except DBAPIError:
        pass  # the connection is gone; the pool replaces it
    db.session.remove()
