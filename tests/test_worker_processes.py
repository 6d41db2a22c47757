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

The kill and the dropped connection are tried against a server that answers
one command at a time and against one that offers PIPELINING (RFC 2920).
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest

from helpers import (
    ENDS,
    NOW,
    STARTS,
    Recorder,
    all_sent,
    app_in_context,
    deliver,
    details,
    outbox,
    queue_confirmations,
    smtp_server,
    wait_for,
)
from webinar.database import begin_write
from webinar.events.services import create_event
from webinar.extensions import db, mail
from webinar.mailing.models import MailStatus
from webinar.registration.services import register

pytestmark = pytest.mark.slow

CONFIRMATION_SUBJECT = "Aanmelding bevestigd: Bijeenkomst met veel aanmeldingen"


# --- a) SIGKILL in the middle of a batch ---------------------------------------

KILL_COUNT = 120
KILL_BATCH = 10
#: rows marked sent together; smaller than the batch, so that the bound below is the group's
KILL_MARK_GROUP = 4
#: seconds each DATA takes on the server: a batch of 10 takes about 0.3 s
KILL_DELAY = 0.03


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-reply-at-a-time", "pipelining"])
def test_a_worker_killed_mid_batch_loses_nothing(live, workers, pipelining):
    recorder = Recorder(delay=KILL_DELAY, pipelining=pipelining)
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


@pytest.mark.xdist_group("serial")  # both workers must get a share of the CPU
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

    def __init__(self, drop_at: int, how: str, pipelining: bool = False):
        super().__init__(pipelining=pipelining)
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


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-reply-at-a-time", "pipelining"])
@pytest.mark.parametrize("how", ["data", "421", "rcpt"])
def test_a_dropped_connection_keeps_the_rest_for_a_later_pass(frozen_app, frozen, how, pipelining):
    server = Dropping(drop_at=3, how=how, pipelining=pipelining)
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
