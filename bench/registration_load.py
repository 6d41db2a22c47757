"""Registrations under load: the app under gunicorn against a bare Flask + SQLAlchemy baseline.

    .venv/bin/python bench/registration_load.py [--clients 50] [--count 1000] [--rounds 3]
        [--max-seconds 60] [--workers 3] [--threads 1]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

Builds a fresh database (a SQLite file in a temporary folder, or with
--database-url a PostgreSQL database of its own, dropped at the end), migrates
it, and seeds two events with room for everyone: one for the app, one for the
baseline (bench/baseline_app.py, which inserts the same `registration` row).
Starts both under gunicorn on free loopback ports with the same settings
(RATELIMIT_ENABLED=0, so rate limits stay out of the way), warms each up with
CLIENTS registrations, then runs ROUNDS timed rounds, alternating which side
goes first. In a round, COUNT new visitors (own cookies) each GET the event
page for the CSRF token and cookie, by CLIENTS threads at once; then the same
threads POST the COUNT forms. The POST phase is what is compared: throughput
(POSTs per second of wall time), p50/p99 latency from the client, and the CPU
the server's workers used per POST (read from /proc, so it is less disturbed
by other work on the machine than the wall-clock figures).

Afterwards the database must hold exactly one registration per submitted
address, and for the app one confirmation in the outbox each. Targets: the
app's POST throughput >= 70 % of the baseline's (median of the rounds) and a
POST p99 under 250 ms at 50 clients, the app's server CPU per GET of the event
page <= 1.5 times the baseline's (median of the rounds), no errors, nothing
lost or doubled.
Every phase stops starting requests after --max-seconds.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from http_load import (
    ROOT, Run, add_load_arguments, bound_load_arguments, gunicorn, load_average, open_form, phase, server_cpu,
    server_env, submit_form, verdict, visitors_for,
)
from throwaway import throwaway_database  # a SQLite file, or a PostgreSQL database of its own

APP_SLUG = "drukke-bijeenkomst"
BASELINE_SLUG = "nulmeting"
TARGET_RATIO = 0.70
TARGET_P99 = 0.250
#: the app's server CPU per GET at most this many times the baseline's
TARGET_GET_CPU = 1.5


# --- the database ----------------------------------------------------------------------


def migrate_and_seed(url: str, events: dict[str, int]) -> dict[str, int]:
    """Migrate, and add one open event per slug with the given capacity; returns their ids."""
    from flask_migrate import upgrade

    from webinar import create_app
    from webinar.events.services import create_event
    from webinar.extensions import db

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
    starts = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
    ids = {}
    with app.app_context():
        upgrade()
        for slug, capacity in events.items():
            event = create_event(
                slug=slug, title="Samen onderwijs versnellen", starts_at=starts,
                ends_at=starts + timedelta(minutes=75), capacity=capacity,
                meeting_url="https://meet.example.org/geheim-123",
                contact_name="Mirjam de Vries", contact_email="bijeenkomsten@example.org",
            )
            db.session.flush()
            ids[slug] = event.id
        db.session.commit()
        db.engine.dispose()
    return ids


# --- checks -----------------------------------------------------------------------------


def stored_counts(url: str, event_id: int, kind: str | None) -> tuple[dict[str, int], dict[str, int]]:
    """Registrations per address for the event, and outbox rows of `kind` per address."""
    from sqlalchemy import create_engine, text

    from config import database_url

    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        registrations = dict(conn.execute(text(
            "SELECT email, count(*) FROM registration WHERE event_id = :e GROUP BY email"), {"e": event_id}).all())
        outbox = dict(conn.execute(text(
            "SELECT r.email, count(*) FROM outgoing_mail m JOIN registration r ON r.id = m.registration_id "
            "WHERE r.event_id = :e AND m.kind = :k GROUP BY r.email"), {"e": event_id, "k": kind}).all())
    engine.dispose()
    return registrations, outbox


def exactly_once(what: str, submitted: list[str], stored: dict[str, int]) -> list[str]:
    """Problems when `stored` does not hold each submitted address exactly once."""
    problems = []
    missing = set(submitted) - set(stored)
    extra = set(stored) - set(submitted)
    doubled = {email: n for email, n in stored.items() if n != 1}
    if missing:
        problems.append(f"{what}: {len(missing)} submitted but missing, e.g. {sorted(missing)[:3]}")
    if extra:
        problems.append(f"{what}: {len(extra)} never submitted, e.g. {sorted(extra)[:3]}")
    if doubled:
        problems.append(f"{what}: {len(doubled)} more than once, e.g. {sorted(doubled.items())[:3]}")
    return problems


# --- main -------------------------------------------------------------------------------


@dataclass
class Side:
    """One server (app or baseline): its timed rounds, and who was submitted (warm-up included)."""

    name: str
    app: str
    slug: str
    env: dict
    url: str = ""
    rounds: list[tuple[Run, Run, str]] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def register(self, clients: int, count: int, max_seconds: float, prefix: str) -> tuple[Run, Run]:
        """COUNT registrations by CLIENTS clients; remembers who was submitted and what went wrong."""
        deadline = time.monotonic() + max_seconds
        visitors = visitors_for([(self.url, self.slug)], count, prefix)
        before = server_cpu(self.url)
        gets = phase("GET", open_form, visitors, clients, deadline)
        between = server_cpu(self.url)
        visitors = [v for v in visitors if v.token]
        posts = phase("POST", submit_form, visitors, clients, deadline)
        gets.cpu, posts.cpu = between - before, server_cpu(self.url) - between
        self.submitted += [v.email for v in visitors if v.posted]
        self.errors += gets.errors + posts.errors
        return gets, posts


def measure(sides: list[Side], args) -> None:
    """Both servers up; a warm-up each (not timed), then ROUNDS rounds, alternating who goes first."""
    with ExitStack() as servers:
        for side in sides:
            side.url = servers.enter_context(gunicorn(side.app, side.env, workers=args.workers, threads=args.threads))
        for side in sides:
            side.register(args.clients, args.clients, args.max_seconds, f"{side.slug}-opwarmen-")
        for number in range(args.rounds):
            for side in sides if number % 2 == 0 else reversed(sides):
                gets, posts = side.register(args.clients, args.count, args.max_seconds,
                                            f"{side.slug}-ronde{number + 1}-")
                side.rounds.append((gets, posts, load_average()))


def report(side: Side, number: int) -> None:
    gets, posts, uptime = side.rounds[number]
    for run in (gets, posts):
        print(f"round {number + 1} {side.name:<9} {run.name:<4} {len(run.latencies):>5} in {run.seconds:6.2f} s = "
              f"{run.rate:7.1f}/s  p50 {run.percentile(50) * 1000:6.1f} ms  p99 {run.percentile(99) * 1000:6.1f} ms  "
              f"server CPU {run.cpu / max(len(run.latencies), 1) * 1000:5.1f} ms each  errors {len(run.errors)}")
    print(f"        after: {uptime}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_load_arguments(parser, clients=50, max_clients=200, max_seconds=60)
    parser.add_argument("--count", type=int, default=1000, help="registrations per side (at most 20000)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker, both sides")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per side, alternating (at most 10)")
    args = parser.parse_args()
    bound_load_arguments(args, max_clients=200)
    args.rounds = max(1, min(args.rounds, 10))
    args.count = max(1, min(args.count, 20000))
    return args


def check(url: str, ids: dict[str, int], app: Side, baseline: Side) -> list[str]:
    """Everything wrong in the database or the answers; empty when all is well."""
    registrations, outbox = stored_counts(url, ids[APP_SLUG], "confirmation")
    base_registrations, _ = stored_counts(url, ids[BASELINE_SLUG], None)
    problems = exactly_once("app registrations", app.submitted, registrations)
    problems += exactly_once("app confirmations in the outbox", app.submitted, outbox)
    problems += exactly_once("baseline registrations", baseline.submitted, base_registrations)
    for side in (baseline, app):
        if side.errors:
            problems.append(f"{side.name}: {len(side.errors)} errors, e.g. {sorted(set(side.errors))[:5]}")
    return problems


def summary(app: Side, baseline: Side) -> bool:
    """Print the per-round figures and ratios; whether the targets are met."""
    ratios = []
    for number in range(len(app.rounds)):
        for side in (baseline, app) if number % 2 == 0 else (app, baseline):  # in the order they ran
            report(side, number)
        ratios.append(app.rounds[number][1].rate / baseline.rounds[number][1].rate)
    p99 = statistics.median(posts.percentile(99) for _, posts, _ in app.rounds)
    ratio = statistics.median(ratios)
    print(f"ratio app/baseline POST throughput per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"median {ratio:.2f} (target >= {TARGET_RATIO:.2f})")
    print(f"app POST p99, median of the rounds: {p99 * 1000:.0f} ms (target < {TARGET_P99 * 1000:.0f} ms)")
    get_cpu = [cpu_ratio(gets, base_gets) for (gets, _, _), (base_gets, _, _) in zip(app.rounds, baseline.rounds)]
    get_ratio = statistics.median(get_cpu)
    print(f"ratio app/baseline GET server CPU per round: {', '.join(f'{r:.2f}' for r in get_cpu)}; "
          f"median {get_ratio:.2f} (target <= {TARGET_GET_CPU:.2f})")
    return ratio >= TARGET_RATIO and p99 < TARGET_P99 and get_ratio <= TARGET_GET_CPU


def cpu_ratio(run: Run, baseline: Run) -> float:
    """The server CPU per answered request of `run` over that of `baseline` (infinite when the latter is 0)."""
    app_each, baseline_each = (r.cpu / len(r.latencies) if r.latencies else 0.0 for r in (run, baseline))
    return app_each / baseline_each if baseline_each else math.inf


def main() -> int:
    args = parse_args()
    with throwaway_database(args.database_url, "registration-load-") as (directory, url):
        room = (args.count * args.rounds + args.clients) * 2
        ids = migrate_and_seed(url, {APP_SLUG: room, BASELINE_SLUG: room})
        env = server_env(url, directory / "instance")
        print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; {args.clients} clients, "
              f"{args.count} registrations per side and round, gunicorn --workers {args.workers} "
              f"--threads {args.threads}")
        print(f"before: {load_average()}")
        baseline = Side("baseline", "baseline_app:app", BASELINE_SLUG, {**env, "PYTHONPATH": str(ROOT / "bench")})
        app = Side("app", "wsgi:app", APP_SLUG, env)
        measure([baseline, app], args)
        problems = check(url, ids, app, baseline)
    ok = summary(app, baseline)
    print(f"database check: {len(app.submitted)} + {len(baseline.submitted)} submitted; "
          f"{'each stored once, one confirmation each' if not problems else 'PROBLEMS'}")
    return verdict(ok, problems)


if __name__ == "__main__":
    sys.exit(main())
