"""How fast the organiser's exports are, against bare csv and bare openpyxl on the same rows.

    .venv/bin/python bench/export.py [--rows 10000] [--repeat 3] [--database-url URL]

Builds a fresh database (a SQLite file in a temporary folder, or with
--database-url a database of its own next to the one named, dropped at the
end), adds one event and ROWS registrations (varied roles, organisation types
and statuses, a question on every fifth, attendance for half), logs an
organiser in with Flask's test client and then times, best of REPEAT:

- view:      the export URL end to end through the test client (query, rows,
             escaping, writing, audit entry and commit, response);
- writer:    only the app's writer (`write_csv` / `write_xlsx`) on rows already built;
- baseline:  the same rows with the bare csv module / bare openpyxl write-only
             (no escaping, no typing of cells, no summary sheet, no BOM).

Targets for the views: CSV within 1 s, XLSX within 5 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from throwaway import fresh_database  # a SQLite file, or a PostgreSQL database of its own

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"csv": 1.0, "xlsx": 5.0}
ROLES = ["Schoolleider", "Leraar", "Bestuurder", "Intern begeleider", "Beleidsmedewerker", "Anders"]
PASSWORD = "een lang en geheim wachtwoord"


def registration_values(event_id: int, number: int, now: datetime) -> dict:
    """One varied registration, as a row for a bulk INSERT."""
    from webinar.registration.models import ORGANISATION_TYPES, RegistrationStatus

    role = ROLES[number % len(ROLES)]
    status = [RegistrationStatus.confirmed] * 8 + [RegistrationStatus.waitlisted, RegistrationStatus.cancelled]
    address = f"deelnemer{number:05d}@example.org"
    moment = now - timedelta(minutes=number)
    return {
        "event_id": event_id, "status": status[number % 10], "first_name": f"Deelnemer {number}",
        "tussenvoegsel": "van den" if number % 3 == 0 else "", "last_name": f"Berg {number:05d}",
        "email": address, "email_normalized": address, "organisation": f"OBS De Linde {number % 400}",
        "organisation_type": ORGANISATION_TYPES[number % len(ORGANISATION_TYPES)], "role": role,
        "role_other": "Directiesecretaris" if role == "Anders" else "",
        "question": "Hoe verdelen we de middelen over de scholen?" if number % 5 == 0 else "",
        "privacy_accepted_at": moment, "registered_at": moment, "created_at": moment, "updated_at": moment,
    }


def add_rows(count: int) -> str:
    """One event with `count` registrations, half of whom joined; returns the slug."""
    from sqlalchemy import insert, select

    from webinar.attendance.models import Attendance
    from webinar.events.services import create_event
    from webinar.extensions import db
    from webinar.organiser.services import create_organiser
    from webinar.registration.models import Registration

    now = datetime.now(timezone.utc).replace(microsecond=0)
    starts = now + timedelta(days=20)
    event = create_event(slug="drukke-bijeenkomst", title="Samen onderwijs versnellen", starts_at=starts,
                         ends_at=starts + timedelta(minutes=75), capacity=None,
                         contact_name="Mirjam de Vries", contact_email="bijeenkomsten@example.org")
    db.session.execute(insert(Registration), [registration_values(event.id, n, now) for n in range(count)])
    ids = db.session.scalars(select(Registration.id).where(Registration.event_id == event.id)).all()
    db.session.execute(insert(Attendance), [
        {"registration_id": i, "first_joined_at": starts, "last_joined_at": starts, "join_count": 1,
         "minutes_present": 60 if i % 4 else None} for i in ids[::2]
    ])
    create_organiser("bench@example.org", PASSWORD)
    db.session.commit()
    return event.slug


def best(repeat: int, run) -> tuple[tuple[float, float], object]:
    """((fastest wall-clock seconds, fastest CPU seconds) of `repeat` runs, the last result)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return (min(walls), min(cpus)), result


def bare_csv(rows: list[list]) -> bytes:
    stream = io.StringIO()
    csv.writer(stream, delimiter=";").writerows(rows)
    return stream.getvalue().encode("utf-8")


def bare_xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Aanmeldingen")
    for row in rows:
        sheet.append(row)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def fresh_get(client, url: str):
    """A GET in a transaction of its own, as a real request has (the bench shares one app context)."""
    from webinar.extensions import db

    db.session.rollback()
    return client.get(url)


def measure(client, slug: str, repeat: int) -> dict:
    """Seconds per (format, way) and the number of data rows exported."""
    from webinar.events.services import get_event
    from webinar.extensions import db
    from webinar.organiser.exports import as_xlsx, registrations_export
    from webinar.organiser.queries import Filters
    from webinar.organiser.spreadsheets import write_csv

    figures = {}
    for extension in ("csv", "xlsx"):
        url = f"/organiser/events/{slug}/registrations.{extension}"
        figures[extension, "view"], response = best(repeat, lambda: fresh_get(client, url))
        assert response.status_code == 200, response.status_code
        figures[extension, "bytes"] = len(response.get_data())
    db.session.rollback()
    export = registrations_export(get_event(slug), Filters())
    rows = [export.sheet.header, *export.rows]
    figures["csv", "writer"], _ = best(repeat, lambda: write_csv(rows))
    figures["xlsx", "writer"], _ = best(repeat, lambda: as_xlsx(export))
    figures["csv", "baseline"], _ = best(repeat, lambda: bare_csv(rows))
    figures["xlsx", "baseline"], _ = best(repeat, lambda: bare_xlsx(rows))
    figures["rows"] = len(export.rows)
    attendance = f"/organiser/events/{slug}/attendance.xlsx"
    figures["attendance.xlsx", "view"], _ = best(repeat, lambda: fresh_get(client, attendance))
    return figures


def report(figures: dict, database: str) -> bool:
    """Print the figures; whether both targets are met (wall clock, as a user waits)."""
    print(f"database: {database}; rows exported: {figures['rows']}; best of the runs, wall clock (CPU)")
    met = True
    for extension in ("csv", "xlsx"):
        (view, view_cpu), (writer, writer_cpu), (bare, bare_cpu) = (
            figures[extension, way] for way in ("view", "writer", "baseline"))
        ok = view <= TARGETS[extension]
        met = met and ok
        print(f"{extension:4}  view {view:6.3f} s ({view_cpu:.3f})  writer {writer:6.3f} s ({writer_cpu:.3f})  "
              f"bare {bare:6.3f} s ({bare_cpu:.3f})  view/bare {view / bare:5.2f}  "
              f"writer/bare {writer / bare:4.2f}  {figures[extension, 'bytes'] / 1e6:.1f} MB  "
              f"target {TARGETS[extension]:.0f} s {'met' if ok else 'NOT met'}")
    wall, cpu = figures["attendance.xlsx", "view"]
    print(f"attendance.xlsx  view {wall:6.3f} s ({cpu:.3f})")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (a database of its own is made)")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="export-bench-"))
    os.environ["WEBINAR_INSTANCE_DIR"] = str(directory / "instance")
    sys.path.insert(0, str(ROOT))

    from flask_migrate import upgrade

    from webinar import create_app
    from webinar.extensions import db

    url, drop = fresh_database(args.database_url, directory)
    try:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            slug = add_rows(args.rows)
            client = app.test_client()
            db.session.rollback()
            login = client.post("/organiser/login", data={"email": "bench@example.org", "password": PASSWORD})
            assert login.status_code == 302, login.status_code
            figures = measure(client, slug, args.repeat)
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()
        shutil.rmtree(directory, ignore_errors=True)
    return 0 if report(figures, "PostgreSQL" if args.database_url else "SQLite") else 1


if __name__ == "__main__":
    sys.exit(main())
