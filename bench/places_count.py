"""What a sign-up costs as its event grows: the places counted, or read from the event's tally.

    .venv/bin/python bench/places_count.py [--sizes 0,2000,10000,50000] [--count 300]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

Every public sign-up decides between a place and the waiting list from the
event's confirmed registrations. Counting them reads one index entry per
registration (on PostgreSQL, on a table just written to, its row as well), so
the work grows with the event; the tally that triggers keep per event
(ConfirmedTally, migration 0019) is a few rows whatever its size.

Builds a fresh database (SQLite file, or with --database-url a PostgreSQL
database of its own, dropped at the end) and one event with room for all.
For each size the event is first filled up to that many confirmed
registrations with bulk INSERTs (as an import sends them, and leaves the
table: no VACUUM after), then three ways take COUNT sign-ups one after the other, in
blocks of 50 taking turns:

- bare: an INSERT of the same row into a table of the same shape without
  triggers (bench/baseline_table.py), and a commit: the baseline;
- counting: the app's sign-up (`register`, its registration and e-mail in one
  statement, committed) with the places counted as before the tally;
- tally: the app's sign-up as it is.

Reported per way: the wall time per sign-up (one client: the database's work
plus the round trip and Python), and on PostgreSQL the CPU its server process
used per sign-up (read from /proc; the database runs on this machine). On
SQLite the database runs inside this process, so the wall time is the figure.
The ratios are to the bare insert in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta, timezone
from pathlib import Path

from baseline_table import NAME as BASELINE_TABLE, create_baseline_table
from throwaway import throwaway_database

BLOCK = 50
WAYS = ("bare", "counting", "tally")


def backend_cpu(connection) -> float:
    """CPU seconds used so far by the PostgreSQL server process behind `connection`."""
    pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, clock ticks of 1/100 s


def details(prefix: str, number: int):
    from webinar.registration.services import Details

    return Details(first_name="Fenna", tussenvoegsel="van", last_name=f"Dijk {number}",
                   email=f"{prefix}-{number:06d}@example.org", organisation="Stichting Voorbeeld",
                   role="Bestuurder", organisation_type="Schoolbestuur", sector="po")


_COUNTING: dict = {}


@contextmanager
def counted_places():
    """The app's sign-up statements as they were before the tally: the places counted in each (built once)."""
    from sqlalchemy import func, select

    from webinar.registration import services
    from webinar.registration.models import Registration, RegistrationStatus

    def counting(event_id):
        return select(func.count()).select_from(Registration).where(
            Registration.event_id == event_id, Registration.status == RegistrationStatus.confirmed).scalar_subquery()

    kept_function, kept_statements = services.confirmed_of, dict(services._INSERT_IF_NEW)
    services.confirmed_of = counting
    try:
        if not _COUNTING:
            _COUNTING.update({
                "postgresql": services.new_signup_with_mail(),
                "postgresql shared": services.new_signup_with_mail(services._SHARED_MARGIN),
                "sqlite": services._new_registration().returning(services._TABLE.c.id, services._TABLE.c.status),
            })
        services._INSERT_IF_NEW.update(_COUNTING)
        yield
    finally:
        services.confirmed_of = kept_function
        services._INSERT_IF_NEW.update(kept_statements)


def fill(event_id: int, size: int, now: datetime) -> None:
    """Add confirmed registrations to the event until it has `size` (bulk INSERTs, no VACUUM)."""
    from sqlalchemy import func, insert, select

    from webinar.extensions import db
    from webinar.registration.models import Registration, RegistrationStatus
    from webinar.registration.services import _detail_values

    have = db.session.scalar(select(func.count()).select_from(Registration).where(Registration.event_id == event_id))
    rows = [_detail_values(details("vol", number)) | {
        "event_id": event_id, "status": RegistrationStatus.confirmed, "created_at": now, "updated_at": now,
        "registered_at": now, "privacy_accepted_at": now, "signups": 1}
        for number in range(have, size)]
    if rows:  # RETURNING: multi-row INSERT statements of 1,000, as an import sends them, not a statement per row
        db.session.execute(insert(Registration).returning(Registration.id), rows).all()
    db.session.commit()


def sign_ups(way: str, event, table, numbers: range, now: datetime) -> tuple[float, float]:
    """`numbers` sign-ups the `way` given: (wall seconds, database server CPU seconds or 0)."""
    from webinar.extensions import db
    from webinar.registration.services import _detail_values, register

    connection = db.session.connection()
    postgresql = connection.dialect.name == "postgresql"
    cpu = backend_cpu(connection) if postgresql else 0.0
    started = time.perf_counter()
    with counted_places() if way == "counting" else nullcontext():
        for number in numbers:
            if way == "bare":
                db.session.execute(table.insert(), _detail_values(details(way, number)) | {
                    "event_id": event.id, "status": "confirmed", "created_at": now, "updated_at": now,
                    "registered_at": now, "privacy_accepted_at": now, "signups": 1})
            else:
                register(event, details(way, number), now=now, commit=True)
            db.session.commit()
    wall = time.perf_counter() - started
    return wall, (backend_cpu(db.session.connection()) - cpu) if postgresql else 0.0


def measure(url: str, sizes: list[int], count: int) -> list[tuple[int, dict[str, tuple[float, float]]]]:
    from sqlalchemy import MetaData, Table
    from flask_migrate import upgrade

    from webinar import create_app
    from webinar.events.services import create_event
    from webinar.extensions import db

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    now = datetime(2027, 5, 1, 12, 0, tzinfo=timezone.utc)
    results = []
    with app.app_context():
        upgrade()
        create_baseline_table(db.engine)
        table = Table(BASELINE_TABLE, MetaData(), autoload_with=db.engine)
        event = create_event(slug="groot", title="Samen onderwijs versnellen", starts_at=now + timedelta(days=30),
                             ends_at=now + timedelta(days=30, minutes=75), capacity=10 ** 7)
        db.session.commit()
        done = 0
        sign_ups("tally", event, table, range(10 ** 6, 10 ** 6 + 10), now)  # warm-up: statements compiled
        sign_ups("counting", event, table, range(10 ** 6 + 10, 10 ** 6 + 20), now)
        sign_ups("bare", event, table, range(10 ** 6, 10 ** 6 + 20), now)
        for size in sizes:
            fill(event.id, size, now)
            spent = {way: [0.0, 0.0] for way in WAYS}
            for start in range(0, count, BLOCK):
                numbers = range(done + start, done + min(start + BLOCK, count))
                for way in WAYS:
                    wall, cpu = sign_ups(way, event, table, numbers, now)
                    spent[way][0] += wall
                    spent[way][1] += cpu
            done += count
            results.append((size, {way: (wall / count, cpu / count) for way, (wall, cpu) in spent.items()}))
        db.engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0,2000,10000,50000", help="event sizes, comma-separated (each at most 200000)")
    parser.add_argument("--count", type=int, default=300, help="sign-ups per way and size (at most 2000)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (a database of its own is made)")
    args = parser.parse_args()
    sizes = sorted({max(0, min(int(size), 200_000)) for size in args.sizes.split(",")})
    count = max(BLOCK, min(args.count, 2000))
    postgresql = bool(args.database_url)
    with throwaway_database(args.database_url, "places-count-") as (_, url):
        results = measure(url, sizes, count)
    print(f"database: {'PostgreSQL' if postgresql else 'SQLite'}; {count} sign-ups per way and size, one client, "
          f"in blocks of {BLOCK} taking turns")
    for size, figures in results:
        bare_wall, bare_cpu = figures["bare"]
        line = [f"event of {size:>6} confirmed:"]
        for way in WAYS:
            wall, cpu = figures[way]
            text = f"{way} {wall * 1000:5.2f} ms ({wall / bare_wall:4.2f}x)"
            if postgresql:
                text += f", server CPU {cpu * 1000:5.2f} ms ({cpu / max(bare_cpu, 1e-9):4.2f}x)"
            line.append(text)
        print("  ".join(line))
    growth = {way: results[-1][1][way][0] / results[0][1][way][0] for way in ("counting", "tally")}
    print(f"wall time per sign-up, largest event against the empty one: counting {growth['counting']:.2f}x, "
          f"tally {growth['tally']:.2f}x")
    tally = statistics.median(figures["tally"][0] / figures["bare"][0] for _, figures in results)
    print(f"tally against the bare insert, median over the sizes: {tally:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
