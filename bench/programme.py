"""How fast the programme overview is for a year of meetings.

    .venv/bin/python bench/programme.py [--events 30] [--rows 5000] [--repeat 5] [--database-url URL]

Builds a fresh database (as bench/export.py does) with EVENTS meetings spread
over the school year 2026/27, ROWS registrations spread over them (varied
roles, types, sectors and statuses; 400 organisations in three spellings
each, half with a BRIN code; attendance for two in three, with minutes), 50
support requests, and the personal data of the first third of the meetings
purged (so their figures come from the kept counts). It logs an organiser in
with Flask's test client and times, best of REPEAT rounds, the page and both
exports end to end, and counts the SQL statements of each. Target: the page
under 1 s of CPU (this process plus, on PostgreSQL, the database server's),
and the number of statements the same as for a period of one meeting (no
query per meeting or per organisation). Exits 1 when one is not met.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta, timezone

from export import PASSWORD, best, fresh_get, load_average  # the timing of bench/export.py
from throwaway import throwaway_database

#: the most CPU seconds the page may take
TARGET_SECONDS = 1.0
ROLES = ["Schoolleider", "Schoolbestuurder", "HRM'er", "Beleidsadviseur gemeente", "Anders"]
SECTORS = ["po", "po", "vo", "so_vso", "meerdere", ""]
SPELLINGS = ["OBS De Linde {n}", "obs de linde {n} ", "O.B.S. De Linde {n}"]
PERIOD = "van=2026-08-01&tot=2027-07-31"


def build(events: int, rows: int) -> None:
    """The meetings, registrations, attendance and support requests; the first third purged."""
    from sqlalchemy import insert, select

    from webinar.attendance.models import Attendance, AttendanceSource
    from webinar.events.services import create_event
    from webinar.extensions import db
    from webinar.organiser.services import create_organiser
    from webinar.privacy.services import purge_event
    from webinar.registration.models import ORGANISATION_TYPES, Registration, RegistrationStatus
    from webinar.support.models import SupportRequest, SupportSchool

    first = datetime(2026, 9, 1, 14, tzinfo=timezone.utc)
    made = [create_event(slug=f"bijeenkomst-{n}", title=f"Bijeenkomst {n}", capacity=None,
                         starts_at=first + timedelta(days=10 * n), ends_at=first + timedelta(days=10 * n, minutes=75))
            for n in range(events)]
    statuses = [RegistrationStatus.confirmed] * 8 + [RegistrationStatus.waitlisted, RegistrationStatus.cancelled]
    values = []
    for n in range(rows):
        event = made[n % events]
        school = n % 400
        address = f"deelnemer{n % (rows // 2):05d}@example.org"  # most people come twice
        values.append({
            "event_id": event.id, "status": statuses[n % 10], "first_name": "Deelnemer", "last_name": str(n),
            "email": address, "email_normalized": address, "organisation": SPELLINGS[n % 3].format(n=school),
            "organisation_type": ORGANISATION_TYPES[school % len(ORGANISATION_TYPES)],
            "brin": f"{school % 100:02d}{chr(65 + school // 100)}A" if school % 2 else "",
            "sector": SECTORS[n % len(SECTORS)], "role": ROLES[n % len(ROLES)],
            "privacy_accepted_at": event.starts_at - timedelta(days=5), "registered_at": event.starts_at,
            "created_at": event.starts_at - timedelta(days=5), "updated_at": event.starts_at})
    db.session.execute(insert(Registration), values)
    found = db.session.execute(select(Registration.id, Registration.event_id)).all()
    starts = {event.id: event.starts_at for event in made}
    db.session.execute(insert(Attendance), [
        {"registration_id": i, "first_joined_at": starts[e], "last_joined_at": starts[e], "join_count": 1,
         "minutes_present": 20 + i % 60, "source": AttendanceSource.report} for i, e in found if i % 3])
    for n in range(50):
        db.session.add(SupportRequest(
            submission_key=f"{n:032d}", requester_name="Aanvrager", requester_position="Directeur",
            requester_email="aanvrager@example.org", requester_phone="0", privacy_accepted_at=first,
            created_at=first + timedelta(days=5 * n),
            schools=[SupportSchool(name=f"OBS De Linde {n * 8}", brin="", sector="po", reason="risico",
                                   half_days=4)]))
    create_organiser("bench@example.org", PASSWORD)
    db.session.commit()
    for event in made[: events // 3]:
        purge_event(event)
    db.session.commit()


def statements(client, url: str) -> int:
    """The SQL statements one request sends."""
    from sqlalchemy import event as sqlalchemy_event

    from webinar.extensions import db

    count = [0]

    def counted(*_):
        count[0] += 1

    sqlalchemy_event.listen(db.engine, "before_cursor_execute", counted)
    try:
        fresh_get(client, url)
    finally:
        sqlalchemy_event.remove(db.engine, "before_cursor_execute", counted)
    return count[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (a database of its own is made)")
    args = parser.parse_args()

    with throwaway_database(args.database_url, "programme-bench-") as (_, url):
        import time_machine
        from flask_migrate import upgrade

        from webinar import create_app
        from webinar.extensions import db

        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        # in June 2027: every meeting is over, the school year's default period holds them all
        with app.app_context(), time_machine.travel(datetime(2027, 6, 15, 10, tzinfo=timezone.utc), tick=True):
            upgrade()
            build(args.events, args.rows)
            client = app.test_client()
            db.session.rollback()
            assert client.post("/organiser/login", data={"email": "bench@example.org", "password": PASSWORD}
                               ).status_code == 302
            name = db.engine.url.database if args.database_url else None
            urls = {"page": f"/organiser/programma?{PERIOD}", "xlsx": f"/organiser/programma.xlsx?{PERIOD}",
                    "csv": f"/organiser/programma.csv?{PERIOD}"}
            figures = best(args.repeat, {way: (lambda u=u: fresh_get(client, u)) for way, u in urls.items()}, name)
            counted = {way: statements(client, url) for way, url in urls.items()}
            one = statements(client, "/organiser/programma?van=2026-09-01&tot=2026-09-01")
            db.session.remove()
            db.engine.dispose()
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; {args.events} meetings, {args.rows} "
          f"registrations ({args.events // 3} meetings purged); load average {load_average()}; {date.today()}")
    for way, (wall, cpu, response) in figures.items():
        assert response.status_code == 200, (way, response.status_code)
        print(f"{way:5} {wall:6.3f} s wall, {cpu:6.3f} s CPU, {counted[way]} SQL statements, "
              f"{len(response.get_data()) / 1e3:.0f} kB")
    print(f"a period of one meeting: {one} SQL statements")
    met = figures["page"][1] <= TARGET_SECONDS and counted["page"] == one
    print(f"page CPU <= {TARGET_SECONDS:.1f} s and statements independent of the meetings: "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
