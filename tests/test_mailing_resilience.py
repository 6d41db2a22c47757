"""The mail worker keeps going, as a real process: a poison row, a locked or lost database, SIGTERM.

Workers run as `flask --app wsgi mail worker` subprocesses with the real
clock, as in test_worker_processes.py.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import Counter

import pytest
from sqlalchemy import make_url, text

from helpers import Recorder, all_sent, free_port, outbox, queue_confirmations, smtp_server, wait_for
from webinar.database import begin_write
from webinar.extensions import db
from webinar.mailing.models import MailStatus
from webinar.mailing.services import queue_mail

pytestmark = pytest.mark.slow

#: how the worker's PostgreSQL connections are found in pg_stat_activity
WORKER_APPLICATION = "webinar-mail-worker"
#: rows marked sent together: what a cut-off pass may send twice
MARK_GROUP = 5


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def test_a_poison_row_among_a_hundred_good_ones_stops_nothing(live, workers):
    recorder = Recorder()
    with smtp_server(recorder) as port:
        addresses = queue_confirmations(100)
        db.session.rollback()
        begin_write()
        # A row queued by a newer release during a rolling upgrade: this one cannot render it.
        queue_mail("nieuwsbrief", recipient="nieuw@example.org", dedupe_key="nieuwsbrief:1")
        db.session.commit()
        group = workers(port, MAIL_BATCH_SIZE=25)
        worker = group.start("worker", "--interval", "0.2")

        wait_for(all_sent(100), "the 100 good rows to be sent", timeout=60, group=group, alive=[worker])
        poison = wait_for(lambda: [row for row in outbox() if row.kind == "nieuwsbrief" and row.last_error],
                          "the poison row to be marked", timeout=30, group=group, alive=[worker])[0]
        assert poison.status == MailStatus.pending and poison.next_attempt_at is not None
        assert poison.last_error == "KeyError: 'nieuwsbrief'"
        time.sleep(1)  # a few more passes
        assert worker.poll() is None, group.outputs()
        assert group.stop(worker) == 0

    assert sorted(r.recipient for r in recorder.snapshot()) == addresses


def test_a_worker_outlives_a_sqlite_write_lock_held_longer_than_the_busy_timeout(live, workers, schema):
    if not is_sqlite(schema):
        pytest.skip("SQLite's write lock; on PostgreSQL a killed connection is tested instead")
    recorder = Recorder()
    with smtp_server(recorder) as port:
        group = workers(port)
        worker = group.start("worker", "--interval", "0.5")
        wait_for(lambda: "mail worker: every" in group.output(worker), "the worker to start",
                 timeout=30, group=group, alive=[worker])
        # A long organiser import elsewhere: the write lock held 25 s (the busy timeout is 15 s).
        holder = sqlite3.connect(make_url(schema).database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            locked_at = time.monotonic()
            wait_for(lambda: "database is locked" in group.output(worker), "the worker to meet the lock",
                     timeout=30, group=group, alive=[worker])
            time.sleep(max(0.0, 25 - (time.monotonic() - locked_at)))
            assert worker.poll() is None, group.outputs()
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        addresses = queue_confirmations(5)
        wait_for(all_sent(5), "mail queued after the lock to be sent", timeout=60, group=group, alive=[worker])
        assert group.stop(worker) == 0
    assert sorted(r.recipient for r in recorder.snapshot()) == addresses
    output = group.output(worker)
    assert "databasefout: OperationalError: database is locked; opnieuw over" in output
    assert "mail worker: weer in orde" in output and "Traceback" not in output


def blocked_workers() -> list[int]:
    """The worker's backends that wait for a lock, seen from a fresh transaction."""
    with db.engine.connect() as connection:
        return list(connection.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name "
                 "AND datname = current_database() AND wait_event_type = 'Lock'"),
            {"name": WORKER_APPLICATION},
        ))


def test_a_worker_outlives_its_postgresql_connection_being_killed_mid_pass(live, workers, schema):
    if is_sqlite(schema):
        pytest.skip("pg_terminate_backend is PostgreSQL's; on SQLite a held write lock is tested instead")
    recorder = Recorder(delay=0.02)
    with smtp_server(recorder) as port:
        addresses = queue_confirmations(120)
        group = workers(port, database_url=f"{schema}?application_name={WORKER_APPLICATION}",
                        MAIL_BATCH_SIZE=40, MAIL_CLAIM_SECONDS=2, MAIL_MARK_GROUP=MARK_GROUP)
        worker = group.start("worker", "--interval", "0.2")
        wait_for(lambda: recorder.count() >= 20, "the first batch to be under way",
                 timeout=60, group=group, alive=[worker])
        # Lock every outbox row, so that the worker's next "sent" mark waits inside
        # its transaction; kill its connection there, then let go.
        db.session.rollback()
        db.session.execute(text("SELECT id FROM outgoing_mail FOR UPDATE")).all()
        blocked = wait_for(blocked_workers, "the worker to wait for the lock", timeout=30, group=group, alive=[worker])
        db.session.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid"), {"pids": blocked})
        db.session.commit()

        wait_for(all_sent(120), "every row to be sent", timeout=90, group=group, alive=[worker])
        # The line comes at the end of the pass that sent the last rows.
        wait_for(lambda: "mail worker: weer in orde" in group.output(worker), "the worker to recover",
                 timeout=30, group=group, alive=[worker])
        assert "mail worker: databasefout: AdminShutdown: terminating connection" in group.output(worker)
        assert group.stop(worker) == 0

    per_address = Counter(r.recipient for r in recorder.snapshot())
    assert set(per_address) == set(addresses)  # nothing lost ...
    assert sum(n - 1 for n in per_address.values()) <= MARK_GROUP  # ... at most one mark group twice


WAIT = re.compile(r"databasefout: .*; opnieuw over ([\d.]+) s")


def unreachable_database(schema: str, tmp_path) -> str:
    """A database URL of the test's kind that cannot be opened."""
    if is_sqlite(schema):
        return f"sqlite:///{tmp_path / 'geen-map' / 'webinar.db'}"
    return f"postgresql://postgres@127.0.0.1:{free_port()}/webinar"


def test_sigterm_ends_a_worker_cleanly_while_it_backs_off_from_a_database_it_cannot_reach(workers, schema, tmp_path):
    group = workers(free_port(), database_url=unreachable_database(schema, tmp_path))
    worker = group.start("worker", "--interval", "0.2")
    waits = lambda: [float(w) for w in WAIT.findall(group.output(worker))]  # noqa: E731
    wait_for(lambda: len(waits()) >= 4, "four failed passes", timeout=30, group=group, alive=[worker])
    assert waits()[:4] == [0.2, 0.4, 0.8, 1.6]  # doubling, not every 0.2 s
    assert group.stop(worker, timeout=5) == 0  # in the 1.6 s (or later) wait
    output = group.output(worker)
    assert "Traceback" not in output
    assert output.rstrip().endswith("mail worker: stopped")


def test_send_due_says_in_one_line_that_the_database_failed_and_exits_non_zero(workers, schema, tmp_path):
    group = workers(free_port(), database_url=unreachable_database(schema, tmp_path))
    once = group.start("send-due")
    assert once.wait(timeout=30) == 1
    [line] = group.output(once).strip().splitlines()
    assert line.startswith("mail send-due: databasefout: OperationalError: ")
