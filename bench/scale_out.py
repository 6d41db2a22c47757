"""Scale-out: two gunicorn instances and two mail workers on one PostgreSQL, with more sign-ups than places.

    .venv/bin/python bench/scale_out.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
        [--capacity 100] [--signups 300] [--clients 50] [--workers 2] [--batch-size 20] [--max-seconds 120]

Makes a PostgreSQL database of its own (dropped at the end), migrates it and
seeds one event with CAPACITY places. Starts an SMTP sink in its own process
(aiosmtpd, it keeps each message's Message-ID and recipient), two gunicorn
instances on different loopback ports and two `flask --app wsgi mail worker`
processes, all on that database. CLIENTS threads then sign up SIGNUPS people,
alternating between the two instances: every visitor GETs the event page for
the CSRF token and POSTs the form. When the outbox is empty the script checks:

- every submitted address is stored once; exactly CAPACITY confirmed (never
  more), the rest on the waiting list, each told so in the redirect;
- each registration has one outbox row, `confirmation` or `waitlisted` to
  match its status, and every row is `sent`;
- the sink received each sent row's Message-ID exactly once, and nothing else.

Rate limits are off (RATELIMIT_ENABLED=0). Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path

from http_load import BIN, ROOT, drive, free_port, gunicorn, load_average, server_env
from throwaway import fresh_database
from registration_load import exactly_once, migrate_and_seed

SLUG = "volle-bijeenkomst"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"


# --- the sink, run as `scale_out.py --sink` in its own process ----------------------------


def run_sink() -> None:
    """Keep (Message-ID, recipients) of every message; print the port, answer 'report' on stdin."""
    from email.parser import BytesHeaderParser

    from aiosmtpd.controller import Controller

    received: list[tuple[str, list[str]]] = []

    class Keeper:
        async def handle_DATA(self, server, session, envelope):
            headers = BytesHeaderParser().parsebytes(envelope.content)
            received.append((headers.get("Message-ID", "").strip(), list(envelope.rcpt_tos)))
            return "250 OK"

    port = free_port()
    controller = Controller(Keeper(), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    for line in sys.stdin:
        if line.strip() == "report":
            print(json.dumps(received), flush=True)
    controller.stop()


class Sink:
    """The sink process and a way to ask what it received."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, __file__, "--sink"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def received(self) -> list[tuple[str, list[str]]]:
        self.process.stdin.write("report\n")
        self.process.stdin.flush()
        return [tuple(item) for item in json.loads(self.process.stdout.readline())]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.process.stdout.close()


# --- mail workers --------------------------------------------------------------------------


@contextmanager
def mail_workers(count: int, env: dict, logs: Path):
    """`count` mail worker processes; yields their log files (one line per pass that did work)."""
    processes, files = [], []
    for number in range(count):
        path = logs / f"worker-{number + 1}.log"
        log = path.open("w")
        files.append(path)
        processes.append(subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "mail", "worker"],
                                          cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT))
        log.close()
    try:
        yield files
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def sent_by(log: Path) -> int:
    """How many messages one worker reports as sent ('verstuurd N' per pass)."""
    total = 0
    for line in log.read_text().splitlines():
        for part in line.split(","):
            if part.strip().startswith("verstuurd "):
                total += int(part.split()[-1])
    return total


def outbox_rows(url: str, event_id: int) -> list:
    """One row per registration and outbox row of the event (id, email, status, kind, mail_status, message_id)."""
    from sqlalchemy import create_engine, text

    from config import database_url

    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT r.id, r.email, r.status, m.kind, m.status AS mail_status, m.message_id FROM registration r "
            "LEFT JOIN outgoing_mail m ON m.registration_id = r.id WHERE r.event_id = :e"), {"e": event_id}).all()
    engine.dispose()
    return rows


def wait_for_outbox(url: str, event_id: int, deadline: float) -> list:
    """Poll until no row of the event waits to be sent (or the deadline); the final rows."""
    while True:
        rows = outbox_rows(url, event_id)
        if all(row.mail_status not in ("pending", "sending") for row in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


# --- checks --------------------------------------------------------------------------------


KIND = {"confirmed": "confirmation", "waitlisted": "waitlisted"}


def check(rows, visitors, capacity: int, received) -> list[str]:
    """Everything wrong with the stored registrations, the answers, the outbox and the sink."""
    submitted = [v.email for v in visitors if v.posted]
    registrations = {(row.id, row.email, row.status) for row in rows}
    problems = exactly_once("registrations", submitted, Counter(email for _, email, _ in registrations))
    status = {email: status for _, email, status in registrations}
    told_wrong = [v.email for v in visitors if v.email in status
                  and ("wachtlijst=1" in v.location) != (status[v.email] == "waitlisted")]
    if told_wrong:
        problems.append(f"{len(told_wrong)} told the wrong status, e.g. {told_wrong[:3]}")
    statuses = Counter(status.values())
    confirmed, waiting = statuses["confirmed"], statuses["waitlisted"]
    if confirmed != min(capacity, len(submitted)) or confirmed + waiting != len(submitted):
        problems.append(f"{confirmed} confirmed and {waiting} waiting for {len(submitted)} sign-ups, "
                        f"capacity {capacity}")
    wrong = [tuple(row) for row in rows if row.kind != KIND.get(row.status) or row.mail_status != "sent"]
    if wrong:
        problems.append(f"{len(wrong)} outbox rows of the wrong kind or not sent, e.g. {wrong[:3]}")
    problems += exactly_once("mails in the outbox", submitted, Counter(row.email for row in rows if row.kind))
    delivered = Counter(message_id for message_id, _ in received)
    problems += exactly_once("Message-IDs at the sink", [row.message_id for row in rows if row.message_id], delivered)
    recipients = Counter(address for _, addresses in received for address in addresses)
    problems += exactly_once("recipients at the sink", submitted, recipients)
    return problems


# --- main ----------------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="PostgreSQL server")
    parser.add_argument("--capacity", type=int, default=100)
    parser.add_argument("--signups", type=int, default=300, help="at most 5000")
    parser.add_argument("--clients", type=int, default=50, help="at most 200")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--batch-size", type=int, default=20, help="MAIL_BATCH_SIZE: rows a worker claims per pass")
    parser.add_argument("--max-seconds", type=float, default=120, help="the whole run's limit (at most 600)")
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.signups = max(1, min(args.signups, 5000))
    args.clients = max(1, min(args.clients, 200))
    args.max_seconds = max(10.0, min(args.max_seconds, 600.0))
    return args


def run(args, directory: Path) -> int:
    """Start everything, sign people up, wait for the mail, check; 0 when all is well."""
    deadline = time.monotonic() + args.max_seconds
    with ExitStack() as stack:
        sink = Sink()
        stack.callback(sink.close)
        url, drop = fresh_database(args.database_url, directory)
        stack.callback(drop)
        event_id = migrate_and_seed(url, {SLUG: args.capacity})[SLUG]
        env = {**server_env(url, directory / "instance"), "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(sink.port),
               "MAIL_WORKER_INTERVAL": "1", "MAIL_BATCH_SIZE": str(args.batch_size)}
        print(f"PostgreSQL; 2 gunicorn instances x {args.workers} workers, 2 mail workers (batch {args.batch_size}), "
              f"{args.signups} sign-ups for {args.capacity} places, {args.clients} clients")
        print(f"before:     {load_average()}")
        servers = [stack.enter_context(gunicorn("wsgi:app", env, workers=args.workers, threads=args.threads))
                   for _ in range(2)]
        logs = stack.enter_context(mail_workers(2, env, directory))
        gets, posts, visitors = drive([(s, SLUG) for s in servers], args.clients, args.signups,
                                      deadline - time.monotonic(), "deelnemer-")
        posted_at = time.monotonic()
        rows = wait_for_outbox(url, event_id, deadline)
        print(f"outbox empty {time.monotonic() - posted_at:.1f} s after the last POST")
        received = sink.received()
        print(f"at the end: {load_average()}")
        per_worker = [sent_by(log) for log in logs]
    problems = check(rows, visitors, args.capacity, received)
    problems += [f"{len(run.errors)} {run.name} errors, e.g. {sorted(set(run.errors))[:5]}"
                 for run in (gets, posts) if run.errors]
    report(gets, posts, visitors, per_worker, rows, received)
    print(f"checks: {'all passed' if not problems else 'PROBLEMS'}")
    for problem in problems:
        print(f"  {problem}")
    return 0 if not problems else 1


def report(gets, posts, visitors, per_worker: list[int], rows, received) -> None:
    for run in (gets, posts):
        print(f"{run.name:<4} {len(run.latencies):>5} in {run.seconds:6.2f} s = {run.rate:7.1f}/s  "
              f"p50 {run.percentile(50) * 1000:6.1f} ms  p99 {run.percentile(99) * 1000:6.1f} ms  "
              f"errors {len(run.errors)}")
    per_server = Counter(v.base for v in visitors if v.posted)
    print(f"sign-ups per instance: {sorted(per_server.values())}; mail sent per worker: {per_worker}; "
          f"sink received {len(received)} messages")
    statuses = Counter({row.id: row.status for row in rows}.values())
    print(f"stored: {statuses.total()} registrations, {statuses['confirmed']} confirmed, "
          f"{statuses['waitlisted']} waiting")


def main() -> int:
    args = parse_args()
    if args.sink:
        run_sink()
        return 0
    sys.path.insert(0, str(ROOT))
    directory = Path(tempfile.mkdtemp(prefix="scale-out-"))
    os.environ["WEBINAR_INSTANCE_DIR"] = str(directory / "instance")
    try:
        return run(args, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
