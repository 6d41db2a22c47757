"""The mail worker as real processes, against a real SMTP server on loopback.

Workers run as `flask --app wsgi mail worker` subprocesses on the test
database (SQLite or PostgreSQL, like the rest of the suite), with the real
clock: rows are due at the real "now" and the event lies weeks ahead, so no
planned message (reminder, join link) gets in the way.

- A worker killed with SIGKILL in the middle of a batch loses nothing: a new
  worker takes the crashed claim again once its lease has run out. At most
  the messages in flight at the kill go out twice: those the server received
  but that were not yet marked sent, which is at most one group of
  MAIL_MARK_GROUP (the worker marks sent rows in groups).
- Two workers at once over 1,000 messages deliver each exactly once.
- A server that drops the connection mid-session counts as a connection
  error: what was not received stays pending and goes out on a later pass.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from conftest import ENDS, NOW, STARTS, app_in_context, deliver, free_port
from webinar.database import begin_write, utcnow
from webinar.events.services import create_event
from webinar.extensions import db, mail
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.registration.services import Details, register

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CONFIRMATION_SUBJECT = "Aanmelding bevestigd: Bijeenkomst met veel aanmeldingen"


# --- a recording SMTP server ------------------------------------------------


@dataclass(frozen=True)
class Received:
    recipient: str
    message_id: str
    subject: str


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps recipient, Message-ID and subject of each message.

    `delay` makes every DATA take that long before it is accepted, so that a
    batch takes a while and a kill lands in the middle of one.
    """

    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.accept(envelope)

    def accept(self, envelope) -> str:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(envelope.content)
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.received.append(
                    Received(recipient.lower(), str(headers["Message-ID"]), str(headers["Subject"]).strip())
                )
        return "250 OK"

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@contextmanager
def smtp_server(handler):
    """Serve `handler` on a free loopback port; yields the port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


# --- worker processes ---------------------------------------------------------


class Workers:
    """Start `flask mail ...` subprocesses; whatever is still running at the end is killed."""

    def __init__(self, directory: Path, database_url: str, mail_port: int, **settings):
        self.directory = directory
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "FLASK_"))}
        env.pop("TEST_DATABASE_URL", None)
        env.update(
            WEBINAR_CONFIG="development",
            SECRET_KEY="x",
            DATABASE_URL=database_url,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(mail_port),
            MAIL_TIMEOUT="10",
            BASE_URL="http://webinar.test",
            WEBINAR_INSTANCE_DIR=str(directory / "instance"),
            PYTHONUNBUFFERED="1",
        )
        env.update({name: str(value) for name, value in settings.items()})
        self.env = env
        self.processes: list[tuple[subprocess.Popen, Path]] = []

    def start(self, *args: str) -> subprocess.Popen:
        log = self.directory / f"worker-{len(self.processes) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "mail", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.processes.append((process, log))
        return process

    def output(self, process: subprocess.Popen) -> str:
        for candidate, log in self.processes:
            if candidate is process:
                return log.read_text(errors="replace")
        raise ValueError(process)

    def outputs(self) -> str:
        return "\n".join(f"--- worker {p.pid}:\n{self.output(p)}" for p, _ in self.processes)

    def stop(self, process: subprocess.Popen, timeout: float = 15) -> int:
        """SIGTERM: the worker finishes its pass and exits."""
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"worker {process.pid} did not stop on SIGTERM\n{self.outputs()}")

    def close(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path, schema):
    made = []

    def make(mail_port: int, **settings) -> Workers:
        made.append(Workers(tmp_path, schema, mail_port, **settings))
        return made[-1]

    try:
        yield make
    finally:
        for group in made:
            group.close()


def wait_for(condition, what: str, *, timeout: float, group: Workers | None = None, alive=()):
    """Poll `condition` until it is true; fail after `timeout` seconds or when a worker dies."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for process in alive:
            if process.poll() is not None:
                pytest.fail(f"worker {process.pid} exited ({process.returncode}) while waiting for {what}\n"
                            f"{group.outputs() if group else ''}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{group.outputs() if group else ''}")
        time.sleep(0.01)


# --- the database, on the real clock -----------------------------------------


@pytest.fixture
def live(schema):
    """The app on the test database, with the real clock (workers in other processes use it too)."""
    with app_in_context(schema) as app:
        yield app


def queue_confirmations(count: int) -> list[str]:
    """An event weeks ahead with `count` confirmed registrations; their confirmations are due now."""
    db.session.rollback()
    begin_write()  # on SQLite, take the write lock first: workers may be polling
    starts = (utcnow() + timedelta(days=30)).replace(second=0, microsecond=0)
    event = create_event(
        slug="veel-aanmeldingen",
        title="Bijeenkomst met veel aanmeldingen",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        meeting_url="https://meet.example.org/geheim-123",
        capacity=None,
    )
    addresses = [f"deelnemer{number:04d}@example.org" for number in range(count)]
    for address in addresses:
        register(event, details(address))
    db.session.commit()
    assert statuses() == {MailStatus.pending: count}
    return addresses


def details(address: str) -> Details:
    return Details(
        first_name="Deelnemer",
        tussenvoegsel="",
        last_name=address.split("@")[0],
        email=address,
        organisation="OBS De Linde",
        role="Schoolleider",
    )


def statuses() -> dict[MailStatus, int]:
    db.session.rollback()
    rows = db.session.execute(select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status))
    return dict(rows.all())


def outbox() -> list[OutgoingMail]:
    db.session.rollback()
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def all_sent(count: int):
    return lambda: statuses().get(MailStatus.sent, 0) == count


# --- a) SIGKILL in the middle of a batch ---------------------------------------

KILL_COUNT = 120
KILL_BATCH = 10
#: rows marked sent together; smaller than the batch, so that the bound below is the group's
KILL_MARK_GROUP = 4
#: seconds each DATA takes on the server: a batch of 10 takes about 0.3 s
KILL_DELAY = 0.03


def test_a_worker_killed_mid_batch_loses_nothing(live, workers):
    recorder = Recorder(delay=KILL_DELAY)
    with smtp_server(recorder) as port:
        addresses = queue_confirmations(KILL_COUNT)
        group = workers(port, MAIL_BATCH_SIZE=KILL_BATCH, MAIL_CLAIM_SECONDS=2, MAIL_MARK_GROUP=KILL_MARK_GROUP)
        first = group.start("worker", "--interval", "0.2")

        # Kill when a batch is half sent: received is 5 past a batch boundary.
        wait_for(
            lambda: recorder.count() >= KILL_COUNT // 4 and recorder.count() % KILL_BATCH == KILL_BATCH // 2,
            "the first worker to be half-way through a batch",
            timeout=60, group=group, alive=[first],
        )
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        time.sleep(5 * KILL_DELAY)  # let the server finish a DATA that was under way
        before_restart = recorder.snapshot()
        assert KILL_COUNT // 4 <= len(before_restart) < KILL_COUNT

        crashed = outbox()
        claimed = [row for row in crashed if row.status == MailStatus.sending]
        assert claimed, "the kill should land in the middle of a claimed batch"
        # What was marked sent was received; on the wire at the kill: received, not marked.
        received_ids = {r.message_id for r in before_restart}
        assert {row.message_id for row in crashed if row.status == MailStatus.sent} <= received_ids
        in_flight = [row.id for row in claimed if row.message_id in received_ids]
        assert len(in_flight) <= KILL_MARK_GROUP

        second = group.start("worker", "--interval", "0.2")
        wait_for(all_sent(KILL_COUNT), "every row to be sent", timeout=60, group=group, alive=[second])
        assert group.stop(second) == 0
        assert "mail worker: stopped" in group.output(second)

    received = recorder.snapshot()
    per_address = Counter(r.recipient for r in received)
    assert set(per_address) == set(addresses)  # everyone got their confirmation ...
    duplicates = sum(n - 1 for n in per_address.values())
    assert duplicates == len(in_flight) <= KILL_MARK_GROUP  # ... and at most one unmarked group twice
    assert {r.subject for r in received} == {CONFIRMATION_SUBJECT}
    assert len({r.message_id for r in received}) == len(received)

    rows = outbox()
    assert {row.status for row in rows} == {MailStatus.sent}
    by_address = {}
    for r in received:
        by_address.setdefault(r.recipient, set()).add(r.message_id)
    for row in rows:
        assert row.message_id in by_address[row.recipient]  # marked sent = really received
        assert row.claimed_until is None
        # The crashed claim was taken again (a second attempt); the rest went at once.
        assert row.attempts == (2 if row.id in {c.id for c in claimed} else 1), row


# --- b) two workers at once over 1,000 messages ---------------------------------

PAIR_COUNT = 1000
PAIR_BATCH = 50
SENT = re.compile(r"verstuurd (\d+)")


def test_two_workers_at_once_deliver_each_message_exactly_once(live, workers):
    # A millisecond per message keeps the work going long enough for both to take part.
    recorder = Recorder(delay=0.001)
    with smtp_server(recorder) as port:
        group = workers(port, MAIL_BATCH_SIZE=PAIR_BATCH)
        pair = [group.start("worker", "--interval", "0.2") for _ in range(2)]
        # Both are polling the empty outbox before the 1,000 rows appear, in one commit.
        wait_for(
            lambda: all("mail worker: every" in group.output(p) for p in pair),
            "both workers to start", timeout=30, group=group, alive=pair,
        )
        started = time.monotonic()
        addresses = queue_confirmations(PAIR_COUNT)
        wait_for(all_sent(PAIR_COUNT), "every row to be sent", timeout=120, group=group, alive=pair)
        elapsed = time.monotonic() - started
        for process in pair:
            assert group.stop(process) == 0

    received = recorder.snapshot()
    per_address = Counter(r.recipient for r in received)
    assert len(received) == PAIR_COUNT
    assert set(per_address) == set(addresses)
    assert set(per_address.values()) == {1}

    rows = outbox()
    assert {row.status for row in rows} == {MailStatus.sent}
    assert {row.attempts for row in rows} == {1}  # no claim was ever taken twice
    assert {row.message_id for row in rows} == {r.message_id for r in received}

    shares = [sum(int(n) for n in SENT.findall(group.output(p))) for p in pair]
    assert sum(shares) == PAIR_COUNT, group.outputs()
    # Both were polling when the rows appeared and the work takes seconds, so
    # both take part; the exactly-once checks above do not depend on it.
    assert min(shares) > 0, (shares, elapsed, group.outputs())


# --- c) the server drops the connection mid-session ------------------------------


class Dropping(Recorder):
    """Accepts messages, but drops the connection at the `drop_at`-th message (once).

    how: "data" closes the connection after the message's content arrived,
    without an answer; "421" answers "421 closing" and then closes; "rcpt"
    closes the connection when the recipient is given.
    """

    def __init__(self, drop_at: int, how: str):
        super().__init__()
        self.drop_at = drop_at
        self.how = how
        self.seen = 0
        self.dropped = False

    def _drop_now(self) -> bool:
        self.seen += 1
        if self.dropped or self.seen < self.drop_at:
            return False
        self.dropped = True
        return True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.how == "rcpt" and self._drop_now():
            server.transport.close()
            return "421 4.3.0 closing"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.how == "data" and self._drop_now():
            server.transport.close()
            return "421 4.3.0 closing"
        if self.how == "421" and self._drop_now():
            server.loop.call_soon(server.transport.close)
            return "421 4.3.0 closing connection"
        return self.accept(envelope)


@pytest.fixture
def frozen_app(schema, frozen):
    """The app at conftest's NOW (time stands still); the SMTP port is set per test."""
    with app_in_context(schema) as app:
        yield app


@pytest.mark.parametrize("how", ["data", "421", "rcpt"])
def test_a_dropped_connection_keeps_the_rest_for_a_later_pass(frozen_app, frozen, how):
    server = Dropping(drop_at=3, how=how)
    with smtp_server(server) as port:
        frozen_app.config["MAIL_PORT"] = port
        mail.init_app(frozen_app)
        begin_write()
        event = create_event(
            slug="verbroken", title="Verbroken verbinding", starts_at=STARTS, ends_at=ENDS,
            meeting_url="https://meet.example.org/geheim-123",
        )
        addresses = [f"deelnemer{number}@example.org" for number in range(5)]
        for address in addresses:
            register(event, details(address), now=NOW)
        db.session.commit()

        result = deliver()
        assert result.connection_error, result
        assert (result.claimed, result.sent, result.retried, result.failed) == (5, 2, 3, 0)
        first_pass = server.snapshot()
        assert [r.recipient for r in first_pass] == addresses[:2]

        rows = outbox()
        assert [row.status for row in rows] == [MailStatus.sent] * 2 + [MailStatus.pending] * 3
        assert [row.message_id for row in rows[:2]] == [r.message_id for r in first_pass]
        for row in rows[2:]:
            assert row.next_attempt_at == NOW + timedelta(minutes=1)
            assert row.attempts == 1 and row.last_error and row.claimed_until is None

        assert deliver().claimed == 0  # not before its time
        frozen.move_to(NOW + timedelta(minutes=1))
        result = deliver()
        assert (result.sent, result.retried, result.connection_error) == (3, 0, "")

    per_address = Counter(r.recipient for r in server.snapshot())
    assert per_address == Counter(addresses)  # each exactly once
    assert {row.status for row in outbox()} == {MailStatus.sent}
