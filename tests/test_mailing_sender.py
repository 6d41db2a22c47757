"""A pass sends each prepared batch on a thread of its own while it claims and prepares the next.

Against a real SMTP server on loopback whose every DATA takes a moment, so
that a batch is still on the wire when the next one is handed over:

- every row's outcome is recorded once, whichever thread records it;
- the connection dropped in the first batch: the rows of that batch and of
  the batches handed over after it wait for a later pass, which sends each
  exactly once;
- the sender thread ends on a database error: the pass raises it instead of
  waiting for ever, and what was claimed is taken again after the lease, at
  most one group of messages twice;
- the pass's own database error: the batch already handed over is still sent
  and marked.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from helpers import ENDS, NOW, STARTS, Recorder, app_in_context, deliver, details, outbox, smtp_server
from webinar.database import begin_write
from webinar.events.services import create_event
from webinar.extensions import db, mail
from webinar.mailing import sending, worker
from webinar.mailing.models import MailStatus
from webinar.registration.services import register

#: registrations, rows per batch, rows marked sent together
COUNT, BATCH, GROUP = 12, 4, 3
#: seconds each DATA takes on the server: a batch of 4 takes about 0.1 s
DELAY = 0.025
LEASE = 300


@pytest.fixture
def frozen_app(schema, frozen):
    """The app at NOW with small batches; the SMTP port is set per test."""
    with app_in_context(schema, MAIL_BATCH_SIZE=BATCH, MAIL_MARK_GROUP=GROUP, MAIL_CLAIM_SECONDS=LEASE) as app:
        yield app


def _registrations(app, port: int) -> list[str]:
    app.config["MAIL_PORT"] = port
    mail.init_app(app)
    begin_write()
    event = create_event(slug="doorgeven", title="Doorgeven", starts_at=STARTS, ends_at=ENDS,
                         meeting_url="https://meet.example.org/geheim-123")
    addresses = [f"deelnemer{number:02d}@example.org" for number in range(COUNT)]
    for address in addresses:
        register(event, details(address), now=NOW)
    db.session.commit()
    return addresses


class DropsOnce(Recorder):
    """Accepts messages slowly; closes the connection instead of answering the `drop_at`-th DATA (once)."""

    def __init__(self, drop_at: int):
        super().__init__(delay=DELAY)
        self.drop_at = drop_at
        self.seen = 0

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen == self.drop_at:
            server.transport.close()
            return "421 4.3.0 closing"
        return await super().handle_DATA(server, session, envelope)


def test_every_rows_outcome_is_recorded_once(frozen_app):
    recorder = Recorder(delay=DELAY)
    with smtp_server(recorder) as port:
        addresses = _registrations(frozen_app, port)
        result = deliver()
    assert (result.claimed, result.sent, result.retried, result.failed, result.connection_error) == (
        COUNT, COUNT, 0, 0, "")
    received = recorder.snapshot()
    assert sorted(r.recipient for r in received) == addresses
    rows = outbox()
    assert {(row.status, row.attempts, row.claimed_until) for row in rows} == {(MailStatus.sent, 1, None)}
    assert {row.message_id for row in rows} == {r.message_id for r in received}


def test_a_connection_dropped_in_the_first_batch_keeps_every_later_batch_for_a_later_pass(frozen_app, frozen):
    server = DropsOnce(drop_at=3)
    with smtp_server(server) as port:
        addresses = _registrations(frozen_app, port)
        result = deliver()
        assert result.connection_error, result
        assert result.sent == 2
        assert result.claimed == result.sent + result.retried  # each claimed row's outcome once
        first_pass = server.snapshot()
        assert [r.recipient for r in first_pass] == addresses[:2]

        rows = outbox()
        assert [row.status for row in rows[:2]] == [MailStatus.sent] * 2
        waiting = [row for row in rows[2:] if row.attempts]
        assert len(waiting) == result.retried >= BATCH - 2  # the rest of the batch, and any handed over after it
        for row in waiting:
            assert row.status == MailStatus.pending and row.claimed_until is None and row.last_error
            assert row.next_attempt_at == NOW + timedelta(minutes=1)
        assert not [row for row in rows if row.status == MailStatus.sending]

        frozen.move_to(NOW + timedelta(minutes=1))
        result = deliver()
        assert (result.sent, result.retried, result.connection_error) == (COUNT - 2, 0, "")

    assert Counter(r.recipient for r in server.snapshot()) == Counter(addresses)  # each exactly once
    assert {row.status for row in outbox()} == {MailStatus.sent}


def test_a_sender_thread_ended_by_a_database_error_ends_the_pass_and_loses_nothing(frozen_app, frozen, monkeypatch):
    recorder = Recorder(delay=DELAY)
    with smtp_server(recorder) as port:
        addresses = _registrations(frozen_app, port)

        def database_gone(self):
            raise OperationalError("UPDATE outgoing_mail ...", {}, Exception("the database went away"))

        monkeypatch.setattr(sending.SentMarks, "write", database_gone)
        with pytest.raises(OperationalError):
            deliver()  # raised in the pass, not waited for
        first_pass = recorder.snapshot()
        assert len(first_pass) == GROUP  # the thread stopped at its first group's mark

        rows = outbox()
        claimed = [row for row in rows if row.attempts]
        assert len(claimed) >= BATCH
        assert {row.status for row in claimed} == {MailStatus.sending}  # taken again after the lease
        assert not [row for row in rows if row.status == MailStatus.sent]

        monkeypatch.undo()
        assert deliver().claimed == COUNT - len(claimed)  # the unclaimed rows now, the claimed ones later
        frozen.move_to(NOW + timedelta(seconds=LEASE + 1))
        deliver()

    per_address = Counter(r.recipient for r in recorder.snapshot())
    assert set(per_address) == set(addresses)
    assert sum(n - 1 for n in per_address.values()) == GROUP  # the accepted, unmarked group went twice
    assert {row.status for row in outbox()} == {MailStatus.sent}


def test_a_database_error_in_the_pass_still_sends_and_marks_the_batch_handed_over(frozen_app, monkeypatch):
    recorder = Recorder(delay=DELAY)
    with smtp_server(recorder) as port:
        _registrations(frozen_app, port)
        claim_due = worker.claim_due
        claims = []

        def second_claim_fails(*args, **kwargs):
            claims.append(1)
            if len(claims) == 2:
                raise OperationalError("SELECT outgoing_mail ...", {}, Exception("the database went away"))
            return claim_due(*args, **kwargs)

        monkeypatch.setattr(worker, "claim_due", second_claim_fails)
        with pytest.raises(OperationalError):
            deliver()

    received = recorder.snapshot()
    assert len(received) == BATCH
    rows = outbox()
    sent = [row for row in rows if row.status == MailStatus.sent]
    assert {row.message_id for row in sent} == {r.message_id for r in received}
    assert [row for row in rows if row.status != MailStatus.sent] == [row for row in rows if not row.attempts]
