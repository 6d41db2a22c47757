"""How fast the mail worker delivers an event's join links, against plain smtplib, in alternating rounds.

    .venv/bin/python bench/mail_throughput.py [--rounds 5] [--count 2000] [--database-url URL] [--no-pipelining]

Builds a fresh database (a SQLite file in a temporary folder, or with
--database-url a database of its own next to the one named, dropped at the
end). Nothing travels in time: a patched clock (time-machine) costs CPU on
every call of the worker's and not of smtplib's, so both run on the real
clock. Each of ROUNDS rounds has two sides, run one right after the other:

- worker:   a new event starting 10 minutes from now (its join window open at
            the real time; no reminder, no follow-ups) with COUNT confirmed
            registrations, then one `send_due()` pass, sweep included,
            delivering its COUNT join links over SMTP to a sink on loopback
            (the event is then cancelled, so the next round's sweep queues
            only its own event's links);
- smtplib:  the baseline, COUNT prebuilt messages of the worker's average size
            sent with `smtplib.SMTP.sendmail` over one connection to the same
            sink (building them is not timed);
- floor:    a second baseline, the least an outbox worker with the worker's
            guarantees does: COUNT outbox rows (queued untimed) claimed in
            batches (SELECT in index order, one UPDATE, a commit before any
            SMTP traffic), the same prebuilt messages sent with smtplib, and
            marked sent per group of MAIL_MARK_GROUP (one UPDATE, one commit),
            with Core statements on a connection of its own: no ORM, no
            rendering, no tokens (`time_floor`).

The worker goes first in the odd rounds (worker, smtplib, floor), the floor in
the even ones (floor, smtplib, worker), so a busy minute on the machine weighs
on all three. The floor's figures are printed beside the others; the targets
are judged against smtplib. The first round also times the sweep
alone (`schedule_due`, in a transaction that is rolled back).

The sink is an aiosmtpd server in a separate process that only counts
messages and bytes, so it does not compete with the measured code for the GIL.
It offers PIPELINING (RFC 2920) as production relays do, so the worker sends
each message in one round trip; --no-pipelining leaves it out, and the worker
then waits for each of its four replies as smtplib does (smtplib never
pipelines, so its figures and the floor's do not change).
Every round prints both sides' messages per second and CPU time per message
(CPU time of this process) and their ratios; the targets are judged on the
medians of the per-round ratios (min and max are printed beside them): the
worker's rate at least 0.8 of smtplib's (wall ratio), the worker's CPU time per
message at most twice smtplib's (CPU ratio), and in every round every message
sent within 60 s. The script exits 1 when one is not met.

With --workers N the worker side is N worker processes started together, each
running `send_due()` passes until it finds nothing more to claim (the way
several `flask mail worker` processes share one outbox in production); the
time runs from the moment all are ready until the last one is done, the CPU
time is theirs.

--breakdown gives wall and CPU time per stage of the pass (the CPU time of
the thread the stage runs on: sending and marking run on the pass's sender
thread), --profile FILE a cProfile of the pass's own thread in CPU time (the
sender thread's work is not in it); either runs one round. On a shared machine the
wall times depend on how busy the other cores are, the CPU times far less.
The load average is printed before the run and after each round.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import smtplib
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from pathlib import Path

from throwaway import fresh_database  # a SQLite file, or a PostgreSQL database of its own

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60
#: the worker's messages per second against smtplib's, at least
TARGET_RATIO = 0.8
#: the worker's CPU time per message against smtplib's, at most
TARGET_CPU_RATIO = 2.0


# --- the sink, run as `mail_throughput.py --sink` in its own process ------------


def run_sink(pipelining: bool) -> None:
    """Count messages on a free loopback port; print the port, then answer 'count' on stdin.

    With `pipelining` the EHLO answer offers PIPELINING, as Postfix, Exchange
    Online and Gmail do (aiosmtpd reads its commands from a buffered stream,
    so it takes them in groups; it only does not say so).
    """
    from aiosmtpd.controller import Controller

    class Counter:
        messages = 0
        size = 0

        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            session.host_name = hostname
            if pipelining:
                responses.insert(-1, "250-PIPELINING")
            return responses

        async def handle_DATA(self, server, session, envelope):
            self.messages += 1
            self.size += len(envelope.content)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    for line in sys.stdin:
        if line.strip() == "count":
            print(counter.messages, counter.size, flush=True)
    controller.stop()


class Sink:
    def __init__(self, pipelining: bool = True):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--sink", *([] if pipelining else ["--no-pipelining"])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.process.stdout.readline())

    def count(self) -> tuple[int, int]:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        messages, size = self.process.stdout.readline().split()
        return int(messages), int(size)

    def wait_for(self, messages: int, timeout: float = 30) -> tuple[int, int]:
        """The sink's counts once it has `messages` (the last DATA may still be in flight)."""
        deadline = time.monotonic() + timeout
        while True:
            counts = self.count()
            if counts[0] >= messages or time.monotonic() > deadline:
                return counts
            time.sleep(0.01)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.process.stdout.close()


# --- worker processes, run as `mail_throughput.py --pass-worker` ------------------


def run_pass_worker(settings: dict) -> None:
    """Say 'ready', wait for 'go' on stdin, run passes until none claims anything, print the totals."""
    from webinar import create_app
    from webinar.mailing.worker import send_due

    app = create_app(settings)
    with app.app_context():
        totals = PassTotals()
        print("ready", flush=True)
        sys.stdin.readline()
        cpu = time.process_time()
        while True:
            result = send_due()
            totals.add(result)
            if result.claimed == 0:
                break
        totals.cpu = time.process_time() - cpu
    print(json.dumps(vars(totals)), flush=True)


class PassTotals:
    """The sum of several passes' results, shaped like one PassResult."""

    def __init__(self, **values):
        self.scheduled = self.claimed = self.sent = self.retried = self.failed = self.skipped = 0
        self.connection_error = ""
        #: CPU seconds spent in the passes
        self.cpu = 0.0
        self.__dict__.update(values)

    def add(self, result) -> None:
        for name in ("scheduled", "claimed", "sent", "retried", "failed", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(result, name))
        self.cpu += getattr(result, "cpu", 0.0)
        self.connection_error = self.connection_error or result.connection_error


def time_worker_processes(count: int, settings: dict):
    """N worker processes at once: (PassTotals, seconds from 'go' to the last done, CPU seconds of the passes)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, __file__, "--pass-worker", json.dumps(settings)]
    processes = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
                 for _ in range(count)]
    for process in processes:
        assert process.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    totals = PassTotals()
    for process in processes:
        totals.add(PassTotals(**json.loads(process.stdout.readline())))
    seconds = time.perf_counter() - started
    for process in processes:
        process.wait(timeout=60)
    return totals, seconds, totals.cpu


# --- the event and its registrations -----------------------------------------------


def add_event_and_registrations(count: int, starts: datetime, registered: datetime,
                                slug: str = "drukke-bijeenkomst") -> int:
    """One event (no reminder, no follow-ups: only the join link is due) and `count` confirmed people."""
    from sqlalchemy import insert

    from webinar.events.services import create_event
    from webinar.extensions import db
    from webinar.registration.models import Registration, RegistrationStatus

    event = create_event(
        slug=slug,
        title="Samen onderwijs versnellen",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=75),
        meeting_url="https://meet.example.org/geheim-123",
        reminder_days_before=None,
        summary="Een online bijeenkomst over het NPO.",
        contact_name="Mirjam de Vries",
        contact_email="bijeenkomsten@example.org",
    )
    rows = [
        {
            "event_id": event.id,
            "status": RegistrationStatus.confirmed,
            "first_name": "Deelnemer",
            "tussenvoegsel": "van den",
            "last_name": f"Berg {number}",
            "email": f"deelnemer{number:05d}@example.org",
            "email_normalized": f"deelnemer{number:05d}@example.org",
            "organisation": "OBS De Linde",
            "organisation_type": "School",
            "role": "Schoolleider",
            "privacy_accepted_at": registered,
            "registered_at": registered,
            "created_at": registered,
            "updated_at": registered,
        }
        for number in range(count)
    ]
    db.session.execute(insert(Registration), rows)
    db.session.commit()
    return event.id


# --- the two measurements -----------------------------------------------------------


def time_sweep(now: datetime) -> tuple[int, float]:
    """Run the sweep alone and roll it back: (rows it queued, seconds)."""
    from webinar.database import begin_write
    from webinar.extensions import db
    from webinar.attendance.schedules import schedule_due

    db.session.rollback()
    begin_write()
    started = time.perf_counter()
    added = schedule_due(now)
    db.session.flush()
    seconds = time.perf_counter() - started
    db.session.rollback()
    return added, seconds


class Breakdown:
    """Time spent in the stages of a pass, through thin wrappers (far lighter than a profiler).

    Each stage gets its wall time and the CPU time of this thread: on a shared
    machine the wall time includes waiting for a core, the CPU time does not.
    A stage run inside another counts in the other's time only when it is
    labelled "of which": the marks a pipelined exchange writes on its way
    (Pipeline.send settles rows as their replies come) count as marks.
    """

    STAGES = (
        ("webinar.mailing.worker", "run_sweeps", "sweeps (run_sweeps)"),
        ("webinar.mailing.worker", "claim_due", "claim (claim_due)"),
        ("webinar.mailing.worker", "_prepare", "load + render + build + commit (_prepare)"),
        ("webinar.mailing.worker", "render", "  of which render (by kind)"),
        ("webinar.mailing.worker", "to_bytes", "  of which MIME build + serialize (to_bytes)"),
        ("webinar.mailing.sending", "_transaction", "SMTP on the wire, a reply at a time (_transaction)"),
        ("webinar.mailing.pipelining", "Pipeline.send", "SMTP on the wire, pipelined (Pipeline.send)"),
        ("webinar.mailing.pipelining", "Pipeline.finish", "  the last message of a batch (Pipeline.finish)"),
        ("webinar.mailing.sending", "SentMarks.write", "mark sent, a commit per group (SentMarks.write)"),
    )

    def __init__(self):
        import functools
        import importlib

        import threading

        self.spent: dict[str, list[float]] = {}
        self.originals = []
        #: per thread, the stages running now: [wall, CPU] of what ran inside each and is not its own
        self.running = threading.local()
        for module_name, attribute, label in self.STAGES:
            owner = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part)
            original = getattr(owner, name)
            self.originals.append((owner, name, original))
            self.spent[label] = [0.0, 0.0]

            def timed(*args, _original=original, _label=label, **kwargs):
                stack = self.running.__dict__.setdefault("stack", [])
                inside = [0.0, 0.0]
                stack.append(inside)
                started, cpu = time.perf_counter(), time.thread_time()
                try:
                    return _original(*args, **kwargs)
                finally:
                    wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
                    stack.pop()
                    self.spent[_label][0] += wall - inside[0]
                    self.spent[_label][1] += cpu - inside[1]
                    if stack and not _label.startswith("  of which"):
                        stack[-1][0] += wall
                        stack[-1][1] += cpu

            setattr(owner, name, functools.wraps(original)(timed))

    def restore(self) -> None:
        for owner, name, original in self.originals:
            setattr(owner, name, original)

    def report(self, count: int, total: float) -> None:
        print(f"breakdown of the worker pass:{'wall':>28}{'ms/message':>26}{'CPU ms/message':>16}")
        for label, (seconds, cpu) in self.spent.items():
            print(f"  {label:<48} {seconds:6.2f} s {seconds / count * 1000:6.2f} ms/message "
                  f"{seconds / total * 100:5.1f} % {cpu / count * 1000:8.2f}")


def time_worker(profile: str | None):
    """One send_due() pass: (PassResult, seconds)."""
    from webinar.mailing.worker import send_due

    if not profile:
        started, cpu = time.perf_counter(), time.process_time()
        result = send_due()
        return result, time.perf_counter() - started, time.process_time() - cpu
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)  # CPU time: the waits for the sink are not the worker's cost
    started, cpu = time.perf_counter(), time.process_time()
    result = profiler.runcall(send_due)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    profiler.dump_stats(profile)
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    return result, seconds, cpu


def baseline_messages(count: int, size: int, sender: str) -> list[tuple[str, bytes]]:
    """`count` join-link-like messages (text and HTML) of about `size` bytes each."""
    messages = []
    for number in range(count):
        recipient = f"deelnemer{number:05d}@example.org"
        message = EmailMessage()
        message["Subject"] = "Uw link om deel te nemen: Samen onderwijs versnellen"
        message["From"] = sender
        message["To"] = recipient
        message["Auto-Submitted"] = "auto-generated"
        message.set_content("Beste Deelnemer,\n")
        message.add_alternative("<p>Beste Deelnemer,</p>\n", subtype="html")
        padding = max(size - len(message.as_bytes()), 0) // 2
        message = EmailMessage()
        message["Subject"] = "Uw link om deel te nemen: Samen onderwijs versnellen"
        message["From"] = sender
        message["To"] = recipient
        message["Auto-Submitted"] = "auto-generated"
        message.set_content("Beste Deelnemer,\n" + ("x" * 70 + "\n") * (padding // 71))
        message.add_alternative(
            "<p>Beste Deelnemer,</p>\n" + ("<p>" + "x" * 63 + "</p>\n") * (padding // 71), subtype="html"
        )
        messages.append((recipient, message.as_bytes(policy=policy.SMTP)))
    return messages


def time_smtplib(port: int, sender: str, messages: list[tuple[str, bytes]]) -> tuple[float, float]:
    """(seconds, CPU seconds of this process) for sending `messages` over one connection."""
    started, cpu = time.perf_counter(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for recipient, data in messages:
            connection.sendmail(sender, [recipient], data)
    return time.perf_counter() - started, time.process_time() - cpu


def queue_floor_rows(number: int, messages: list[tuple[str, bytes]]) -> None:
    """Outbox rows for the floor, due now, one per message (not timed)."""
    from sqlalchemy import insert

    from webinar.extensions import db
    from webinar.mailing.models import MailStatus, OutgoingMail

    now = datetime.now(timezone.utc)
    db.session.execute(insert(OutgoingMail.__table__), [
        {"kind": "floor", "dedupe_key": f"floor:{number}:{index}", "recipient": recipient,
         "status": MailStatus.pending, "due_at": now - timedelta(minutes=1), "attempts": 0, "last_error": "",
         "message_id": "", "created_at": now}
        for index, (recipient, _) in enumerate(messages)
    ])
    db.session.commit()
    db.session.remove()


def time_floor(port: int, sender: str, messages: list[tuple[str, bytes]], batch_size: int,
               mark_group: int) -> tuple[float, float]:
    """The floor: claim, send with smtplib, mark sent, and nothing else: (seconds, CPU seconds).

    What any outbox worker with the worker's guarantees must do besides
    smtplib's sending: per batch one claim (SELECT of the due rows in index
    order, FOR UPDATE SKIP LOCKED on PostgreSQL, then one UPDATE to `sending`,
    committed before any SMTP traffic), per group of `mark_group` accepted
    messages one UPDATE to `sent` and one commit. Plain Core statements on a
    connection of its own, no ORM, no rendering: the ready-made messages of
    the smtplib baseline.
    """
    from sqlalchemy import bindparam, select, update

    from webinar.database import IMMEDIATE, is_sqlite
    from webinar.extensions import db
    from webinar.mailing.models import MailStatus, OutgoingMail

    table = OutgoingMail.__table__
    data = dict(messages)
    due = (select(table.c.id, table.c.recipient)
           .where(table.c.status == MailStatus.pending, table.c.due_at <= bindparam("now"))
           .order_by(table.c.due_at, table.c.id).limit(batch_size))
    if not is_sqlite():
        due = due.with_for_update(skip_locked=True)
    claim = (update(table).where(table.c.id.in_(bindparam("ids", expanding=True)))
             .values(status=MailStatus.sending, claimed_until=bindparam("until"), attempts=table.c.attempts + 1))
    sent = (update(table).where(table.c.id.in_(bindparam("ids", expanding=True)), table.c.status == MailStatus.sending)
            .values(status=MailStatus.sent, sent_at=bindparam("now"), claimed_until=None, last_error=""))
    started, cpu = time.perf_counter(), time.process_time()
    with db.engine.connect() as connection, smtplib.SMTP("127.0.0.1", port) as smtp:
        connection.execution_options(**{IMMEDIATE: True})  # SQLite: BEGIN IMMEDIATE, as the worker's writes
        while True:
            now = datetime.now(timezone.utc)
            with connection.begin():
                rows = connection.execute(due, {"now": now}).all()
                if rows:
                    connection.execute(claim, {"ids": [row.id for row in rows], "until": now + timedelta(minutes=5)})
            if not rows:
                break
            for start in range(0, len(rows), mark_group):
                group = rows[start:start + mark_group]
                for row in group:
                    smtp.sendmail(sender, [row.recipient], data[row.recipient])
                with connection.begin():
                    connection.execute(sent, {"ids": [row.id for row in group], "now": datetime.now(timezone.utc)})
    return time.perf_counter() - started, time.process_time() - cpu


def floor_sent(number: int) -> int:
    """How many of this round's floor rows ended `sent`."""
    from sqlalchemy import func, select

    from webinar.extensions import db
    from webinar.mailing.models import MailStatus, OutgoingMail

    table = OutgoingMail.__table__
    count = db.session.scalar(select(func.count()).where(
        table.c.kind == "floor", table.c.dedupe_key.like(f"floor:{number}:%"), table.c.status == MailStatus.sent))
    db.session.remove()
    return count


# --- main ----------------------------------------------------------------------------


class Side:
    """One side of a round: messages sent, wall seconds, CPU seconds."""

    def __init__(self, sent: int, seconds: float, cpu: float):
        self.sent, self.seconds, self.cpu = sent, seconds, cpu

    @property
    def rate(self) -> float:
        return self.sent / self.seconds


def worker_round(args, app, settings: dict, sink: Sink, number: int, breakdown):
    """Queue a new event's join links and time one worker pass (or N processes): (Side, PassResult, statuses)."""
    from sqlalchemy import func, select, update

    from webinar.events.models import Event
    from webinar.extensions import db
    from webinar.mailing.models import OutgoingMail

    real_now = datetime.now(timezone.utc).replace(microsecond=0)
    # 10 to 11 minutes from now: the join links are due (the window opens 30 minutes before).
    starts = (real_now + timedelta(minutes=11)).replace(second=0)
    event_id = add_event_and_registrations(args.count, starts, registered=real_now - timedelta(days=1),
                                           slug=f"drukke-bijeenkomst-{number}")
    if number == 1:
        swept, seconds = time_sweep(datetime.now(timezone.utc))
        print(f"sweep (queue rows): {swept} rows in {seconds:.2f} s (alone, rolled back; the pass sweeps again)")
    if args.workers > 1:
        db.session.remove()
        result, seconds, cpu = time_worker_processes(args.workers, settings)
    else:
        result, seconds, cpu = time_worker(args.profile)
    if breakdown:
        breakdown.restore()
    db.session.rollback()
    statuses = dict(db.session.execute(
        select(OutgoingMail.status, func.count()).where(OutgoingMail.event_id == event_id)
        .group_by(OutgoingMail.status)
    ).all())
    # The event is over for the sweep: the next round's pass queues only its own event's links.
    db.session.execute(update(Event).where(Event.id == event_id).values(cancelled_at=real_now))
    db.session.commit()
    db.session.remove()
    return Side(result.sent, seconds, cpu), result, statuses


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="messages per round and side (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, the side that goes first alternating "
                        "(default 5; 1 with --profile or --breakdown)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (a database of its own is made)")
    parser.add_argument("--batch-size", type=int, default=None, help="MAIL_BATCH_SIZE (default: the app's)")
    parser.add_argument("--profile", default=None, help="cProfile the worker pass into this file")
    parser.add_argument("--breakdown", action="store_true", help="time the stages of the worker pass")
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing the outbox (default 1: "
                        "one pass in this process)")
    parser.add_argument("--no-pipelining", action="store_true", help="the sink does not offer PIPELINING "
                        "(the worker then waits for every reply; smtplib never pipelines)")
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pass-worker", metavar="SETTINGS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(pipelining=not args.no_pipelining)
        return 0
    if args.pass_worker:
        run_pass_worker(json.loads(args.pass_worker))
        return 0
    rounds = 1 if args.profile or args.breakdown else max(args.rounds, 1)

    load_before = os.getloadavg()
    directory = Path(tempfile.mkdtemp(prefix="mail-bench-"))
    os.environ["WEBINAR_INSTANCE_DIR"] = str(directory / "instance")
    sys.path.insert(0, str(ROOT))

    from flask_migrate import upgrade

    from webinar import create_app
    from webinar.extensions import db
    from webinar.mailing.models import MailStatus

    database = "PostgreSQL" if args.database_url else "SQLite"
    loads = []
    figures = []  # per round: (worker Side, smtplib Side, worker first)
    floors = []  # per round: the floor's Side
    all_sent = True
    peak_rss_mb = 0.0
    with ExitStack() as cleanup:
        sink = Sink(pipelining=not args.no_pipelining)
        cleanup.callback(sink.close)
        url, drop = fresh_database(args.database_url, directory)
        cleanup.callback(drop)
        settings = {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": sink.port,
            "BASE_URL": "https://bijeenkomsten.example.org",
        }
        if args.batch_size:
            settings["MAIL_BATCH_SIZE"] = args.batch_size
        app = create_app(settings)
        context = app.app_context()
        context.push()
        cleanup.callback(db.engine.dispose)
        cleanup.callback(context.pop)
        upgrade()
        sender = app.config["MAIL_DEFAULT_SENDER"]
        print(f"database:           {database}; the sink {'does not offer' if args.no_pipelining else 'offers'} "
          f"PIPELINING")
        print(f"per round:          {args.count} messages a side, batch size {app.config['MAIL_BATCH_SIZE']}, "
              f"{args.workers} worker process{'es' if args.workers > 1 else ''}; {rounds} round{'s' * (rounds > 1)}")
        messages, received, average = None, 0, 0
        for number in range(1, rounds + 1):
            worker_first = number % 2 == 1  # the first round's worker gives the baseline its message size
            for side in ("worker", "smtplib", "floor") if worker_first else ("floor", "smtplib", "worker"):
                if side == "worker":
                    breakdown = Breakdown() if args.breakdown else None
                    worker, result, statuses = worker_round(args, app, settings, sink, number, breakdown)
                    total, size = sink.wait_for(received + args.count)
                    if messages is None:
                        average = (size // max(total, 1))
                        messages = baseline_messages(args.count, average, sender)
                    all_sent &= statuses == {MailStatus.sent: args.count} and total - received == args.count
                    received = total
                elif side == "smtplib":
                    baseline = Side(args.count, *time_smtplib(sink.port, sender, messages))
                    total, _ = sink.wait_for(received + args.count)
                    all_sent &= total - received == args.count
                    received = total
                else:
                    queue_floor_rows(number, messages)
                    floor = Side(args.count, *time_floor(sink.port, sender, messages, app.config["MAIL_BATCH_SIZE"],
                                                         app.config["MAIL_MARK_GROUP"]))
                    total, _ = sink.wait_for(received + args.count)
                    all_sent &= total - received == args.count and floor_sent(number) == args.count
                    received = total
            figures.append((worker, baseline, worker_first))
            floors.append(floor)
            loads.append(os.getloadavg()[0])
            peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"round {number} ({'worker' if worker_first else 'floor'} first): "
                  f"worker {worker.sent} in {worker.seconds:.2f} s = {worker.rate:.0f}/s, "
                  f"{worker.cpu / args.count * 1000:.2f} ms CPU/message; "
                  f"smtplib {baseline.rate:.0f}/s, {baseline.cpu / args.count * 1000:.2f} ms; "
                  f"floor {floor.rate:.0f}/s, {floor.cpu / args.count * 1000:.2f} ms; "
                  f"ratios wall {worker.rate / baseline.rate:.2f}, CPU {worker.cpu / baseline.cpu:.2f}"
                  f"{'' if not result.connection_error else '; ' + result.connection_error}"
                  f"{'' if result.sent == args.count else f' (claimed {result.claimed}, retried {result.retried}, failed {result.failed}, skipped {result.skipped})'}")
            if breakdown:
                breakdown.report(args.count, worker.seconds)

    walls = [worker.rate / baseline.rate for worker, baseline, _ in figures]
    cpus = [worker.cpu / baseline.cpu for worker, baseline, _ in figures]
    ratio, cpu_ratio = _median(walls), _median(cpus)
    print(f"worker:             median {_median([w.rate for w, _, _ in figures]):.0f} messages/s, "
          f"{_median([w.cpu for w, _, _ in figures]) / args.count * 1000:.2f} ms CPU/message "
          f"(the CPU time of this process{', of the worker processes' if args.workers > 1 else ''}); "
          f"average message {average} bytes")
    print(f"smtplib baseline:   median {_median([b.rate for _, b, _ in figures]):.0f} messages/s, "
          f"{_median([b.cpu for _, b, _ in figures]) / args.count * 1000:.2f} ms CPU/message")
    print(f"floor (claim, smtplib, mark): median {_median([f.rate for f in floors]):.0f} messages/s, "
          f"{_median([f.cpu for f in floors]) / args.count * 1000:.2f} ms CPU/message; against smtplib: wall "
          f"{_median([f.rate / b.rate for f, (_, b, _) in zip(floors, figures)]):.2f}, CPU "
          f"{_median([f.cpu / b.cpu for f, (_, b, _) in zip(floors, figures)]):.2f}; the worker against the floor: "
          f"wall {_median([w.rate / f.rate for f, (w, _, _) in zip(floors, figures)]):.2f}, CPU "
          f"{_median([w.cpu / f.cpu for f, (w, _, _) in zip(floors, figures)]):.2f} (medians of the rounds)")
    print(f"wall ratio worker/smtplib: median {ratio:.2f} of {len(walls)} (min {min(walls):.2f}, max {max(walls):.2f}; "
          f"messages per second; target >= {TARGET_RATIO})")
    print(f"CPU ratio worker/smtplib:  median {cpu_ratio:.2f} of {len(cpus)} (min {min(cpus):.2f}, max {max(cpus):.2f}; "
          f"CPU time per message; target <= {TARGET_CPU_RATIO})")
    print(f"peak RSS:           {peak_rss_mb:.0f} MB")
    print(f"load average:       {' '.join(f'{n:.2f}' for n in load_before)} before the run; 1 minute after each "
          f"round {' '.join(f'{n:.2f}' for n in loads)} ({os.cpu_count()} CPUs)")
    ok_time = all_sent and all(w.sent == args.count and w.seconds <= TARGET_SECONDS for w, _, _ in figures)
    ok_ratio = ratio >= TARGET_RATIO
    ok_cpu = cpu_ratio <= TARGET_CPU_RATIO
    print(f"target all {args.count} within {TARGET_SECONDS} s in every round: {'met' if ok_time else 'NOT met'}; "
          f"target wall ratio >= {TARGET_RATIO}: {'met' if ok_ratio else 'NOT met'}; "
          f"target CPU ratio <= {TARGET_CPU_RATIO}: {'met' if ok_cpu else 'NOT met'}")
    return 0 if ok_time and ok_ratio and ok_cpu else 1


if __name__ == "__main__":
    sys.exit(main())
