"""Registrations under load: the app under gunicorn against a bare Flask + SQLAlchemy baseline.

    .venv/bin/python bench/registration_load.py [--clients 50] [--count 1000] [--rounds 3]
        [--max-seconds 60] [--workers 3] [--threads 1]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

Builds a fresh database (a SQLite file in a temporary folder, or with
--database-url a PostgreSQL database of its own, dropped at the end), migrates
it, and seeds two events with room for everyone: one for the app, one for the
baseline (bench/baseline_app.py, which inserts the same `registration` row, into a
table of the same shape without the app's triggers: bench/baseline_table.py).
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
app's server CPU per POST at most 1.5 times the baseline's and its POST
throughput at least 80 % of the baseline's (medians of the per-round ratios,
each round's two sides run one right after the other), no errors, nothing
lost or doubled, and the app's server CPU per GET of the event page at most
1.5 times the baseline's. The POST p99 is reported too. Every phase stops starting
requests after --max-seconds.

Open loop, instead of the rounds:

    .venv/bin/python bench/registration_load.py --open-loop 50,100,150 [--seconds 10]
        [--open-loop-threads 400] [--database-url ...]

After the same warm-up, for each RATE (sign-ups per second) and each side in
turn (alternating who goes first), new visitors arrive for SECONDS seconds at
exponentially distributed intervals (a Poisson process of RATE per second),
each doing a whole sign-up: GET the page for its token, then POST the form
(bench/open_loop.py: http.client, a pool of --open-loop-threads client threads,
so that arrivals never wait for one another). Printed per rate and side: the
sign-ups done, p50/p99 of a whole sign-up from its planned arrival, errors,
the server's CPU per sign-up, and the generator's own state: its lag (planned
arrival to start; late = more than 10 ms), arrivals dropped (not started
within SECONDS + 30 s), its CPU per sign-up and the most client threads busy
at once (all busy: the lag is the server's backlog, not the generator). Goal: the app's p99 under
100 ms at 100 sign-ups per second (gunicorn --workers 3). Rates are at most
500/s, SECONDS at most 60, and the same database check follows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from baseline_table import NAME as BASELINE_TABLE, create_baseline_table
from open_loop import OpenRun, run_open_loop
from http_load import (
    ROOT, Run, add_load_arguments, bound_load_arguments, gunicorn, load_average, open_form, phase, server_cpu,
    server_env, submit_form, verdict, visitors_for,
)
from throwaway import throwaway_database  # a SQLite file, or a PostgreSQL database of its own

APP_SLUG = "drukke-bijeenkomst"
BASELINE_SLUG = "nulmeting"
#: the app's POST throughput against the baseline's, at least
TARGET_RATIO = 0.80
#: the app's server CPU per POST against the baseline's, at most
TARGET_CPU_RATIO = 1.5
#: POST p99 at 50 clients (reported; with clients that never pause it is 50 / throughput at best)
TARGET_P99 = 0.250
#: open loop: the app's p99 for a whole sign-up at this rate should stay under OPEN_LOOP_GOAL_P99
OPEN_LOOP_GOAL_RATE = 100
OPEN_LOOP_GOAL_P99 = 0.100
#: open loop: seconds after the last planned arrival that a sign-up may still start
OPEN_LOOP_GRACE = 30
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
        create_baseline_table(db.engine)
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


def stored_counts(url: str, event_id: int, kind: str | None,
                  table: str = "registration") -> tuple[dict[str, int], dict[str, int]]:
    """Registrations (in `table`) per address for the event, and outbox rows of `kind` per address."""
    from sqlalchemy import create_engine, text

    from config import database_url

    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        registrations = dict(conn.execute(text(
            f"SELECT email, count(*) FROM {table} WHERE event_id = :e GROUP BY email"), {"e": event_id}).all())
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
    #: open-loop runs, one per rate, with the load average after each
    open_runs: list[tuple[OpenRun, str]] = field(default_factory=list)
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
        if args.open_loop:
            open_loop(sides, args)
            return
        for number in range(args.rounds):
            for side in sides if number % 2 == 0 else reversed(sides):
                gets, posts = side.register(args.clients, args.count, args.max_seconds,
                                            f"{side.slug}-ronde{number + 1}-")
                side.rounds.append((gets, posts, load_average()))


def open_loop(sides: list[Side], args) -> None:
    """Per rate, each side in turn (alternating who goes first): Poisson arrivals of whole sign-ups."""
    for number, rate in enumerate(args.open_loop):
        for side in sides if number % 2 == 0 else reversed(sides):
            visitors = visitors_for([(side.url, side.slug)], open_loop_visitors(rate, args.seconds),
                                    f"{side.slug}-open{rate:g}-")
            run = run_open_loop(side.url, visitors, rate, args.seconds, threads=args.open_loop_threads,
                                grace=OPEN_LOOP_GRACE, seed=number)
            side.submitted += [v.email for v in visitors if v.posted]
            side.errors += run.errors
            side.open_runs.append((run, load_average()))


def open_loop_visitors(rate: float, seconds: float) -> int:
    """Enough visitors for a Poisson process of `rate` over `seconds` (mean plus a wide margin)."""
    mean = rate * seconds
    return int(mean + 6 * mean ** 0.5 + 20)


def open_loop_summary(app: Side, baseline: Side) -> bool:
    """Print the open-loop runs side by side; whether the app's p99 at 100/s (if run) meets the goal."""
    ok = True
    for (mine, uptime), (theirs, _) in zip(app.open_runs, baseline.open_runs):
        print(theirs.line("baseline"))
        print(mine.line("app"))
        print(f"        after: {uptime}")
        if mine.rate == OPEN_LOOP_GOAL_RATE:
            p99 = mine.percentile(mine.latencies, 99)
            ok = p99 < OPEN_LOOP_GOAL_P99 and not mine.dropped
            print(f"app sign-up p99 at {OPEN_LOOP_GOAL_RATE:g}/s: {p99 * 1000:.0f} ms "
                  f"(goal < {OPEN_LOOP_GOAL_P99 * 1000:.0f} ms)")
    return ok


def report(side: Side, number: int) -> None:
    gets, posts, uptime = side.rounds[number]
    for run in (gets, posts):
        print(f"round {number + 1} {side.name:<9} {run.name:<4} {len(run.latencies):>5} in {run.seconds:6.2f} s = "
              f"{run.rate:7.1f}/s  p50 {run.percentile(50) * 1000:6.1f} ms  p99 {run.percentile(99) * 1000:6.1f} ms  "
              f"server CPU {run.cpu_each * 1000:5.1f} ms each  errors {len(run.errors)}")
    print(f"        after: {uptime}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_load_arguments(parser, clients=50, max_clients=200, max_seconds=60)
    parser.add_argument("--count", type=int, default=1000, help="registrations per side (at most 20000)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker, both sides")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per side, alternating (at most 10)")
    parser.add_argument("--open-loop", default="", metavar="RATES",
                        help="open loop instead of rounds: sign-ups per second, e.g. 50,100,150 (each at most 500)")
    parser.add_argument("--seconds", type=float, default=10, help="open loop: seconds per rate (at most 60)")
    parser.add_argument("--open-loop-threads", type=int, default=400,
                        help="open loop: client threads (at most 1000)")
    args = parser.parse_args()
    args.open_loop = [max(1.0, min(float(rate), 500.0)) for rate in args.open_loop.split(",") if rate.strip()]
    args.seconds = max(1.0, min(args.seconds, 60.0))
    args.open_loop_threads = max(1, min(args.open_loop_threads, 1000))
    bound_load_arguments(args, max_clients=200)
    args.rounds = max(1, min(args.rounds, 10))
    args.count = max(1, min(args.count, 20000))
    return args


def check(url: str, ids: dict[str, int], app: Side, baseline: Side) -> list[str]:
    """Everything wrong in the database or the answers; empty when all is well."""
    registrations, outbox = stored_counts(url, ids[APP_SLUG], "confirmation")
    base_registrations, _ = stored_counts(url, ids[BASELINE_SLUG], None, BASELINE_TABLE)
    problems = exactly_once("app registrations", app.submitted, registrations)
    problems += exactly_once("app confirmations in the outbox", app.submitted, outbox)
    problems += exactly_once("baseline registrations", baseline.submitted, base_registrations)
    for side in (baseline, app):
        if side.errors:
            problems.append(f"{side.name}: {len(side.errors)} errors, e.g. {sorted(set(side.errors))[:5]}")
    return problems


def round_ratios(what: str, app: Side, baseline: Side, figure, target: str) -> float:
    """Print app/baseline of `figure(gets, posts)` per round and their median; returns the median."""
    ratios = [figure(*mine[:2]) / max(figure(*theirs[:2]), 1e-9) for mine, theirs in zip(app.rounds, baseline.rounds)]
    ratio = statistics.median(ratios)
    print(f"ratio app/baseline {what} per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"median {ratio:.2f} (target {target})")
    return ratio


def summary(app: Side, baseline: Side) -> bool:
    """Print the per-round figures and ratios; whether the targets are met."""
    for number in range(len(app.rounds)):
        for side in (baseline, app) if number % 2 == 0 else (app, baseline):  # in the order they ran
            report(side, number)
    ratio = round_ratios("POST throughput", app, baseline, lambda gets, posts: posts.rate,
                         f">= {TARGET_RATIO:.2f}")
    cpu_ratio = round_ratios("POST server CPU", app, baseline, lambda gets, posts: posts.cpu_each,
                             f"<= {TARGET_CPU_RATIO:.2f}")
    p99 = statistics.median(posts.percentile(99) for _, posts, _ in app.rounds)
    print(f"app POST p99, median of the rounds: {p99 * 1000:.0f} ms (reported; {TARGET_P99 * 1000:.0f} ms "
          f"would need {50 / TARGET_P99:.0f} POSTs/s at 50 clients)")
    get_ratio = round_ratios("GET server CPU", app, baseline, lambda gets, posts: gets.cpu_each,
                             f"<= {TARGET_GET_CPU:.2f}")
    return ratio >= TARGET_RATIO and cpu_ratio <= TARGET_CPU_RATIO and get_ratio <= TARGET_GET_CPU


def main() -> int:
    args = parse_args()
    with throwaway_database(args.database_url, "registration-load-") as (directory, url):
        room = (args.count * args.rounds + args.clients) * 2
        room += sum(open_loop_visitors(rate, args.seconds) for rate in args.open_loop)
        ids = migrate_and_seed(url, {APP_SLUG: room, BASELINE_SLUG: room})
        env = server_env(url, directory / "instance")
        if args.open_loop:
            print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; open loop at "
                  f"{', '.join(f'{rate:g}' for rate in args.open_loop)} sign-ups/s, {args.seconds:g} s each, "
                  f"{args.open_loop_threads} client threads, gunicorn --workers {args.workers} --threads {args.threads}")
        else:
            print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; {args.clients} clients, "
                  f"{args.count} registrations per side and round, gunicorn --workers {args.workers} "
                  f"--threads {args.threads}")
        print(f"before: {load_average()}")
        baseline = Side("baseline", "baseline_app:app", BASELINE_SLUG, {**env, "PYTHONPATH": str(ROOT / "bench")})
        app = Side("app", "wsgi:app", APP_SLUG, env)
        measure([baseline, app], args)
        problems = check(url, ids, app, baseline)
    ok = open_loop_summary(app, baseline) if args.open_loop else summary(app, baseline)
    print(f"database check: {len(app.submitted)} + {len(baseline.submitted)} submitted; "
          f"{'each stored once, one confirmation each' if not problems else 'PROBLEMS'}")
    return verdict(ok, problems)


if __name__ == "__main__":
    sys.exit(main())
