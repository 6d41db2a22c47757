"""Large imports while the public registers: does anyone wait for the import?

    .venv/bin/python bench/import_under_load.py [--rows 10000] [--clients 20] [--workers 3]
        [--max-seconds 120] [--database-url postgresql://postgres@127.0.0.1:5432/test]

Builds a fresh database (a SQLite file in a temporary folder, or with
--database-url a PostgreSQL database of its own, dropped at the end), migrates
it, seeds an open event without a limit (for the public and the registrant
import), a second event with ROWS confirmed registrations (for the attendance
reports) and an organiser, and starts the app under gunicorn on a free
loopback port (`--timeout 30`, as in production). The organiser logs in over
HTTP (GET for the CSRF token, POST).

Then, in this order:

1. with import: CLIENTS clients register (GET the event page for the CSRF
   token and cookie, then POST the form; the POST is timed) while the
   organiser uploads a CSV of ROWS new registrants to the same event; the
   clients stop when the import has answered;
2. without import: right after, the same clients make as many registrations
   again, with nothing else going on (so that both see the same load from the
   rest of the machine);
3. Teams and Zoom: the same as 1 and 2, while the organiser uploads a Teams
   report (UTF-16, tabs), and then a Zoom export, of ROWS participants to the
   second event.

It prints each import's time and the registrations' p50/p99 next to those
without an import, as a ratio, and checks the database: every registrant of
the file and every public registration stored once with one confirmation in
the outbox, and ROWS attendance rows per report. Targets: the registrant
import under 60 s and without a 500; the registrations' p99 during each
import under twice the p99 without it. Every phase stops starting requests after
--max-seconds; the script exits 1 when a target or a check fails.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from export import PASSWORD, registration_values
from http_load import (
    CSRF_INPUT, TIMEOUT, Run, Visitor, add_load_arguments, bound_load_arguments, gunicorn, load_average,
    open_form, server_env, submit_form, verdict,
)
from throwaway import throwaway_database  # a SQLite file, or a PostgreSQL database of its own
from registration_load import exactly_once, migrate_and_seed, stored_counts

SLUG = "drukke-bijeenkomst"
REPORT_SLUG = "afgelopen-bijeenkomst"
ORGANISER = "organisator@example.org"
TARGET_IMPORT_SECONDS = 60.0
TARGET_P99_RATIO = 2.0
AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # report times are local, as Teams and Zoom write them


# --- the files the organiser uploads ----------------------------------------------------


def registrants_csv(rows: int) -> bytes:
    """A registrant list as Excel writes it in Dutch: semicolons, UTF-8 with BOM."""
    lines = ["voornaam;tussenvoegsel;achternaam;e-mailadres;organisatie;rol;soort organisatie"]
    lines += [f"Lid;van;Import {n:05d};lid{n:05d}@import.example.org;OBS De Linde {n % 300};Schoolleider;School"
              for n in range(rows)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def teams_report(rows: int, starts: datetime) -> bytes:
    """Teams' participants table for ROWS people (UTF-16, tabs), times as Teams writes them."""
    local = starts.astimezone(AMSTERDAM)
    moment = f"{local.month}/{local.day}/{local:%y}, {local.hour % 12 or 12}:{local:%M:%S} {local:%p}"
    lines = ["2. Participants", "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole"]
    lines += [f"Deelnemer {n}\t{moment}\t{moment}\t{n % 70 + 5}m 3s\t{address(n)}\t{address(n)}\tAttendee"
              for n in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-16")


def zoom_report(rows: int, starts: datetime) -> bytes:
    """Zoom's participant export for ROWS people (UTF-8, commas)."""
    local = starts.astimezone(AMSTERDAM)
    lines = ["Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest"]
    lines += [f"Deelnemer {n},{address(n)},{local:%m/%d/%Y %I:%M:%S %p},{local:%m/%d/%Y %I:%M:%S %p},"
              f"{n % 70 + 5},Yes" for n in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def address(number: int) -> str:
    """The address registration_values gives registrant `number`."""
    return f"deelnemer{number:05d}@example.org"


# --- set-up ------------------------------------------------------------------------------


def seed(url: str, rows: int) -> tuple[dict[str, int], datetime]:
    """The two events, ROWS confirmed registrants for the second, an organiser; (event ids, its start)."""
    from sqlalchemy import insert

    from webinar import create_app
    from webinar.events.models import Event
    from webinar.extensions import db
    from webinar.organiser.services import create_organiser
    from webinar.registration.models import Registration, RegistrationStatus

    ids = migrate_and_seed(url, {SLUG: None, REPORT_SLUG: None})
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with app.app_context():
        starts = db.session.get(Event, ids[REPORT_SLUG]).starts_at
        values = [registration_values(ids[REPORT_SLUG], n, now) | {"status": RegistrationStatus.confirmed}
                  for n in range(rows)]
        db.session.execute(insert(Registration), values)
        create_organiser(ORGANISER, PASSWORD, name="Mieke Organisator")
        db.session.commit()
        db.engine.dispose()
    return ids, starts


def logged_in(base: str) -> requests.Session:
    """An HTTP session of the organiser, logged in through the login form."""
    http = requests.Session()
    page = http.get(f"{base}/organiser/login", timeout=TIMEOUT)
    answer = http.post(f"{base}/organiser/login", timeout=TIMEOUT, allow_redirects=False, data={
        "csrf_token": CSRF_INPUT.search(page.text).group(1), "email": ORGANISER, "password": PASSWORD})
    if answer.status_code != 302:
        raise RuntimeError(f"login answered {answer.status_code}")
    return http


# --- the phases --------------------------------------------------------------------------


@dataclass
class Upload:
    """One import by the organiser: where, what, and how it went."""

    name: str
    #: the page with the form, and where the form posts to
    page: str
    path: str
    field: str
    data: bytes
    #: text the answer must contain
    expect: str
    seconds: float = 0.0
    status: int = 0
    ok: bool = False


def upload(http: requests.Session, base: str, job: Upload) -> None:
    """GET the form for the CSRF token, POST the file; times the POST."""
    page = http.get(f"{base}{job.page}", timeout=TIMEOUT)
    token = CSRF_INPUT.search(page.text).group(1)
    started = time.perf_counter()
    try:
        answer = http.post(f"{base}{job.path}", data={"csrf_token": token}, timeout=120,
                           files={job.field: ("bestand.csv", job.data, "text/csv")})
        job.status, job.ok = answer.status_code, answer.status_code == 200 and job.expect in answer.text
    except requests.RequestException as error:
        job.status = -1
        print(f"{job.name}: {type(error).__name__}")
    job.seconds = time.perf_counter() - started


class Registrants:
    """Numbered visitors for the public event, handed out one at a time to the clients."""

    def __init__(self, base: str):
        self.base, self.next, self.lock, self.submitted = base, 0, threading.Lock(), []

    def take(self) -> Visitor:
        with self.lock:
            self.next += 1
            return Visitor(self.next, f"publiek{self.next:05d}@example.org", self.base, SLUG)


def register_until(people: Registrants, clients: int, done, deadline: float, name: str) -> Run:
    """CLIENTS clients each open the form and submit it, again and again, until `done()` or the deadline."""
    run, lock = Run(name), threading.Lock()

    def client() -> None:
        while not done() and time.monotonic() < deadline:
            visitor = people.take()
            try:
                error = open_form(visitor)
                started = time.perf_counter()
                error = error or submit_form(visitor)
            except requests.RequestException as exc:
                error = type(exc).__name__
            with lock:
                if visitor.posted:
                    people.submitted.append(visitor.email)
                if error:
                    run.errors.append(error)
                else:
                    run.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run


def during(job: Upload, http, base: str, people: Registrants, args) -> Run:
    """Registrations while `job` runs; they stop once its answer is in."""
    finished = threading.Event()

    def organiser() -> None:
        try:
            upload(http, base, job)
        finally:
            finished.set()

    worker = threading.Thread(target=organiser)
    worker.start()
    run = register_until(people, args.clients, finished.is_set, time.monotonic() + args.max_seconds,
                         f"during {job.name}")
    worker.join()
    return run


def alone(people: Registrants, args, count: int) -> Run:
    """The same clients making COUNT registrations with nothing else going on."""
    target = people.next + count
    return register_until(people, args.clients, lambda: people.next >= target,
                          time.monotonic() + args.max_seconds, "without import")


def transaction_times(url: str, rows: int) -> list[float]:
    """Seconds from BEGIN to COMMIT of each group of a registrant import of ROWS rows, in this process."""
    from webinar import create_app
    from webinar.events.services import create_event
    from webinar.extensions import db
    from webinar.organiser import imports

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    times, committed = [], imports._committed

    def timed(*args):
        started = time.perf_counter()
        try:
            return committed(*args)
        finally:
            times.append(time.perf_counter() - started)

    with app.app_context():
        starts = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
        create_event(slug="stille-bijeenkomst", title="Stil", starts_at=starts, ends_at=starts + timedelta(hours=1))
        db.session.commit()
        client = app.test_client()
        client.post("/organiser/login", data={"email": ORGANISER, "password": PASSWORD})
        imports._committed = timed  # a timer around the one place that opens and commits a group
        try:
            client.post("/organiser/events/stille-bijeenkomst/aanmeldingen/importeren",
                        data={"file": (io.BytesIO(registrants_csv(rows).replace(b"@import.", b"@stil.")), "l.csv")},
                        content_type="multipart/form-data")
        finally:
            imports._committed = committed
        db.session.remove()
        db.engine.dispose()
    return times


# --- report and checks -------------------------------------------------------------------


def line(run: Run) -> str:
    return (f"{run.name:<22} {len(run.latencies):>5} registrations  p50 {run.percentile(50) * 1000:7.1f} ms  "
            f"p99 {run.percentile(99) * 1000:7.1f} ms  errors {len(run.errors)}")


def compare(job: Upload, loaded: Run, quiet: Run, rows: int) -> bool:
    """Print one import against the quiet run; whether its p99 target is met."""
    ratio = loaded.percentile(99) / quiet.percentile(99) if quiet.latencies else float("inf")
    print(f"{job.name}: {rows} rows in {job.seconds:.2f} s (HTTP {job.status}, {'as expected' if job.ok else 'WRONG'})")
    print(f"  {line(loaded)}")
    print(f"  {line(quiet)}")
    print(f"  p99 during / without: {ratio:.2f}  p50: {loaded.percentile(50) / quiet.percentile(50):.2f}")
    return ratio < TARGET_P99_RATIO


def check(url: str, ids: dict[str, int], rows: int, people: Registrants) -> list[str]:
    """Everything wrong in the database; empty when all is well."""
    from sqlalchemy import create_engine, text

    from config import database_url

    registrations, outbox = stored_counts(url, ids[SLUG], "confirmation")
    expected = [f"lid{n:05d}@import.example.org" for n in range(rows)] + people.submitted
    problems = exactly_once("registrations", expected, registrations)
    problems += exactly_once("confirmations in the outbox", expected, outbox)
    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        recorded = conn.execute(text(
            "SELECT count(*) FROM attendance a JOIN registration r ON r.id = a.registration_id "
            "WHERE r.event_id = :e AND a.source = 'report'"), {"e": ids[REPORT_SLUG]}).scalar()
    engine.dispose()
    if recorded != rows:
        problems.append(f"attendance: {recorded} rows recorded from the reports, expected {rows}")
    return problems


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_load_arguments(parser, clients=20, max_clients=100, max_seconds=120)
    parser.add_argument("--rows", type=int, default=10000, help="rows per imported file (at most 20000)")
    args = parser.parse_args()
    bound_load_arguments(args, max_clients=100)
    args.rows = max(1, min(args.rows, 20000))
    return args


def measure(url: str, directory: Path, ids: dict[str, int], starts: datetime, args) -> tuple[bool, Registrants]:
    """Each import under load, then the same number of registrations without it; whether the targets are met."""
    env = server_env(url, directory / "instance")
    with gunicorn("wsgi:app", env, workers=args.workers, threads=1, extra=("--timeout", "30")) as base:
        people, http, ok = Registrants(base), logged_in(base), True
        register_until(people, args.clients, lambda: people.next >= 2 * args.clients,
                       time.monotonic() + args.max_seconds, "warm-up")
        form, page = f"/organiser/events/{SLUG}/aanmeldingen/importeren", f"/organiser/events/{REPORT_SLUG}/aanwezigheid"
        for job in (Upload("registrant import", form, form, "file", registrants_csv(args.rows),
                           f"Import klaar: {args.rows} overgenomen, 0 geweigerd."),
                    Upload("Teams report", page, f"{page}/rapport", "report", teams_report(args.rows, starts),
                           f"Teams: {args.rows} personen gekoppeld, 0 niet gekoppeld"),
                    Upload("Zoom report", page, f"{page}/rapport", "report", zoom_report(args.rows, starts),
                           f"Zoom: {args.rows} personen gekoppeld, 0 niet gekoppeld")):
            loaded = during(job, http, base, people, args)
            # Right after, so that both see the same load from the rest of the machine.
            quiet = alone(people, args, len(loaded.latencies) + len(loaded.errors))
            fast = compare(job, loaded, quiet, args.rows)
            ok = ok and job.ok and fast and (job.name != "registrant import" or job.seconds < TARGET_IMPORT_SECONDS)
        print(f"after: {load_average()}")
    return ok, people


def main() -> int:
    args = parse_args()
    with throwaway_database(args.database_url, "import-under-load-") as (directory, url):
        ids, starts = seed(url, args.rows)
        print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; {args.rows} rows per file, "
              f"{args.clients} clients, gunicorn --workers {args.workers} --timeout 30")
        print(f"before: {load_average()}")
        ok, people = measure(url, directory, ids, starts, args)
        times = sorted(transaction_times(url, args.rows))
        print(f"write transactions of a {args.rows}-row registrant import on its own: {len(times)}, "
              f"median {statistics.median(times) * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")
        problems = check(url, ids, args.rows, people)
    print("database check: " + ("PROBLEMS" if problems else
                                 "each row and registration stored once, one confirmation each, every report recorded"))
    return verdict(ok, problems)


if __name__ == "__main__":
    sys.exit(main())
