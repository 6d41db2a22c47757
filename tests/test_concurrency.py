"""Concurrent registrations over HTTP never oversell an event.

Many clients, each with its own session and CSRF token, post the form at once
to a threaded server; afterwards exactly `CAPACITY` are confirmed and the rest
wait. The same module runs on SQLite and on PostgreSQL (TEST_DATABASE_URL).

The negative control runs the same race with the lock patched away (no row
lock on the event, no `BEGIN IMMEDIATE` on SQLite), to show the checker would
notice a broken lock; on PostgreSQL it also turns off the one round trip that
locks, counts and stores at once (`insert_if_new`), so that each request
counts, waits, then stores. What breaks differs per database:
PostgreSQL (READ COMMITTED) really oversells, since every request counts
before the others commit. SQLite cannot oversell that way: a deferred
transaction that has read and then tries to write after another writer
committed gets "database is locked" (a stale snapshot), which the app answers
with 503. So on SQLite the control shows clients without a registration.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
import requests
import time_machine
from sqlalchemy import func, literal, select

from helpers import ENDS, NOW, STARTS, app_in_context, form_data, serving
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.registration import services as registration_services
from webinar.registration import views as registration_views
from webinar.mailing.models import OutgoingMail
from webinar.registration.models import ConfirmedTally, Registration, RegistrationStatus, confirmed_of

pytestmark = pytest.mark.slow

CAPACITY = 5
CLIENTS = 4 * CAPACITY
#: seconds between counting places and storing: wide enough that requests overlap
HOLD_SECONDS = 0.1
SLUG = "druk-bezochte-bijeenkomst"
CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
MAIL_KIND = {
    RegistrationStatus.confirmed: "confirmation",
    RegistrationStatus.waitlisted: "waitlisted",
}


@dataclass(frozen=True)
class Answer:
    """What one client got back for its registration."""

    email: str
    status: int
    location: str


@pytest.fixture
def serve(schema, monkeypatch):
    """Start apps behind threaded HTTP servers, while time runs from NOW; counting places takes a while."""
    lock_and_count = registration_services.lock_and_count
    insert_if_new = registration_services.insert_if_new

    def places_left_slowly(event, email):
        counted = lock_and_count(event, email)
        time.sleep(HOLD_SECONDS)  # between counting and storing, so that requests overlap
        return counted

    def insert_slowly(row, **options):
        # the one round trip that locks, counts and stores (and on PostgreSQL may commit): requests meet at the lock
        time.sleep(HOLD_SECONDS)
        return insert_if_new(row, **options)

    monkeypatch.setattr(registration_services, "lock_and_count", places_left_slowly)
    monkeypatch.setattr(registration_services, "insert_if_new", insert_slowly)
    with ExitStack() as stack:
        # Time must run (not stand still) so the server's clock moves like a real one.
        stack.enter_context(time_machine.travel(NOW, tick=True))

        def start(**overrides):
            app = stack.enter_context(
                app_in_context(
                    schema,
                    WTF_CSRF_ENABLED=True,  # clients fetch the page for a token, as browsers do
                    **overrides,
                )
            )
            return app, stack.enter_context(serving(app))

        yield start


def add_event(app, capacity: int = CAPACITY) -> int:
    """A small event, open for registration; returns its id."""
    with app.app_context():
        event = create_event(
            slug=SLUG,
            title="Druk bezochte bijeenkomst",
            starts_at=STARTS,
            ends_at=ENDS,
            capacity=capacity,
            contact_name="Mirjam de Vries",
            contact_email="bijeenkomsten@example.org",
        )
        db.session.commit()
        event_id = event.id
        db.session.remove()
    return event_id


def register_over_http(url: str, email: str, barrier: threading.Barrier) -> Answer:
    """Fetch the form, wait for every other client, then post it."""
    with requests.Session() as http:
        try:
            page = http.get(f"{url}/events/{SLUG}", timeout=30)
            page.raise_for_status()
            token = CSRF_INPUT.search(page.text).group(1)
        except Exception:
            barrier.abort()  # the others should fail now, not after the barrier's timeout
            raise
        barrier.wait(timeout=30)
        answer = http.post(
            f"{url}/events/{SLUG}",
            data=form_data(email=email, csrf_token=token),
            allow_redirects=False,
            timeout=60,
        )
        return Answer(email, answer.status_code, answer.headers.get("Location", ""))


def race(url: str, first: int = 0) -> list[Answer]:
    """CLIENTS registrations released at the same moment (addresses numbered from `first`)."""
    barrier = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [
            pool.submit(register_over_http, url, f"deelnemer{i}@example.org", barrier)
            for i in range(first, first + CLIENTS)
        ]
    return [future.result() for future in futures]


def check(event_id: int, answers: list[Answer], capacity: int = CAPACITY) -> list[str]:
    """Everything wrong with the outcome of a race for `capacity` places; empty when all is well."""
    problems = []
    failed = Counter(a.status for a in answers if a.status != 302 or "/aangemeld" not in a.location)
    if failed:
        problems.append(f"answers other than a redirect to /aangemeld: {dict(failed)}")
    registrations = db.session.scalars(
        select(Registration).where(Registration.event_id == event_id)
    ).all()
    statuses = Counter(r.status for r in registrations)
    if statuses[RegistrationStatus.confirmed] != capacity:
        problems.append(f"{statuses[RegistrationStatus.confirmed]} confirmed, capacity {capacity}")
    tallied = db.session.scalar(select(confirmed_of(event_id)))
    if tallied != statuses[RegistrationStatus.confirmed]:
        problems.append(f"the event's tally says {tallied} confirmed, its registrations {statuses[RegistrationStatus.confirmed]}")
    rows = db.session.scalar(select(func.count()).select_from(ConfirmedTally).where(ConfirmedTally.event_id == event_id))
    if rows > ConfirmedTally.SLOTS:  # one per connection's slot at most
        problems.append(f"the event's tally has {rows} rows")
    if statuses[RegistrationStatus.waitlisted] != len(answers) - capacity:
        problems.append(f"{statuses[RegistrationStatus.waitlisted]} waitlisted, expected {len(answers) - capacity}")
    stored = Counter(r.email for r in registrations)
    sent = {a.email for a in answers}
    if set(stored) != sent or any(n != 1 for n in stored.values()):
        problems.append(f"stored addresses differ from those sent: {len(stored)} of {len(sent)}")
    problems += check_redirects(answers, registrations)
    problems += check_mail(registrations)
    return problems


def check_redirects(answers: list[Answer], registrations: list[Registration]) -> list[str]:
    """Each client was told the status that was stored for it."""
    status = {r.email: r.status for r in registrations}
    wrong = [
        a.email
        for a in answers
        if a.email in status
        and ("wachtlijst=1" in a.location) != (status[a.email] == RegistrationStatus.waitlisted)
    ]
    return [f"told the wrong status: {wrong}"] if wrong else []


def check_mail(registrations: list[Registration]) -> list[str]:
    """Exactly one queued mail per registration, of the kind its status needs."""
    queued = db.session.execute(
        select(OutgoingMail.registration_id, OutgoingMail.kind).where(
            OutgoingMail.registration_id.in_([r.id for r in registrations])
        )
    ).all()
    expected = sorted((r.id, MAIL_KIND.get(r.status)) for r in registrations)
    if sorted(tuple(row) for row in queued) != expected:
        return [f"{len(queued)} mails queued for {len(registrations)} registrations, or of the wrong kind"]
    return []


def confirmed(event_id: int) -> int:
    """How many registrations for the event are confirmed."""
    return db.session.query(Registration).filter_by(
        event_id=event_id, status=RegistrationStatus.confirmed
    ).count()


def test_concurrent_registrations_confirm_exactly_capacity(serve):
    """CLIENTS at once for CAPACITY places: CAPACITY confirmed, the rest wait, nothing lost."""
    app, url = serve()
    event_id = add_event(app)
    answers = race(url)
    with app.app_context():
        assert check(event_id, answers) == []


def start_deferred():
    """What restart_as_write does without its lock: end the read transaction, begin a plain one."""
    db.session.rollback()


def test_negative_control_without_lock_is_caught(serve, monkeypatch):
    """With the lock patched away, the same race goes wrong and the checker says so."""
    count_places = registration_services.places_and_earlier_signup

    def count_slowly_without_lock(event, email):
        counted = count_places(event, email)
        time.sleep(HOLD_SECONDS)
        return counted

    monkeypatch.setattr(registration_services, "lock_and_count", count_slowly_without_lock)
    monkeypatch.setattr(registration_services, "insert_if_new", lambda row, **options: None)  # the way that counts, then stores
    monkeypatch.setattr(registration_views, "restart_as_write", start_deferred)
    app, url = serve()
    event_id = add_event(app)
    answers = race(url)
    with app.app_context():
        problems = check(event_id, answers)
        count = confirmed(event_id)
        dialect = db.engine.dialect.name
    assert problems
    if dialect == "postgresql":
        assert count > CAPACITY, problems
    else:
        assert count > CAPACITY or any(a.status != 302 for a in answers), problems


# PostgreSQL: while places are plenty, sign-ups share the event's lock and commit side by side. Each
# confirms only while MARGIN more would still fit, MARGIN being at least how many can be under way at once
# (in production the server's connections; here the clients). Two waves of CLIENTS for MARGIN + CAPACITY places:
# the first fits with room to spare, in the second only CAPACITY fit, which the locked way decides.
MARGIN = CLIENTS


def commit_after_a_while(monkeypatch):
    """Hold each shared sign-up open between its statement and its commit, so that all of a wave overlap."""
    after_event_lock = registration_services.after_event_lock

    def slowly(connection, statement, params, *, commit=False, **options):
        row = after_event_lock(connection, statement, params, **options)
        if commit:
            time.sleep(HOLD_SECONDS)
            connection.connection.driver_connection.commit()
        return row

    monkeypatch.setattr(registration_services, "after_event_lock", slowly)


def two_waves(serve, monkeypatch, margin: int):
    """Two races for MARGIN + CAPACITY places with shared sign-ups counting on `margin`: the app, the event,
    the answers, and how many the first wave confirmed."""
    app, url = serve()
    if db.engine.dialect.name != "postgresql":
        pytest.skip("sign-ups share the event's lock on PostgreSQL only")
    commit_after_a_while(monkeypatch)
    statements = registration_services._INSERT_IF_NEW
    monkeypatch.setitem(statements, "postgresql shared", registration_services.new_signup_with_mail(literal(margin)))
    event_id = add_event(app, capacity=MARGIN + CAPACITY)
    answers = race(url)
    with app.app_context():
        first_wave = confirmed(event_id)
    return app, event_id, answers + race(url, first=CLIENTS), first_wave


def test_shared_sign_ups_stop_short_of_the_places_and_the_lock_fills_them(serve, monkeypatch):
    """The first wave confirmed at once, the second: exactly the places left, the rest wait; nothing oversold."""
    app, event_id, answers, first_wave = two_waves(serve, monkeypatch, MARGIN)
    with app.app_context():
        assert first_wave == CLIENTS
        assert check(event_id, answers, capacity=MARGIN + CAPACITY) == []


def test_negative_control_shared_sign_ups_without_margin_oversell(serve, monkeypatch):
    """Counting on no margin while sharing the lock, the second wave all see room and the event is oversold."""
    app, event_id, answers, _ = two_waves(serve, monkeypatch, 1)
    with app.app_context():
        problems = check(event_id, answers, capacity=MARGIN + CAPACITY)
        assert confirmed(event_id) > MARGIN + CAPACITY, problems


def test_one_address_sent_by_many_at_once_is_stored_once(serve, monkeypatch):
    """A double (or tenfold) click: every request is answered with the thank-you page, one registration is
    stored with one confirmation, and each later request mails the manage link again; on PostgreSQL the
    requests meet in the shared way, where the database's unique index is what catches them."""
    app, url = serve()
    if db.engine.dialect.name == "postgresql":
        commit_after_a_while(monkeypatch)
        monkeypatch.setitem(registration_services._INSERT_IF_NEW, "postgresql shared",
                            registration_services.new_signup_with_mail(literal(MARGIN)))
    event_id = add_event(app, capacity=MARGIN + CAPACITY)
    barrier = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(register_over_http, url, "dubbel@example.org", barrier) for _ in range(CLIENTS)]
    answers = [future.result() for future in futures]
    with app.app_context():
        assert [a.status for a in answers] == [302] * CLIENTS, answers
        assert all("/aangemeld" in a.location and "wachtlijst=1" not in a.location for a in answers), answers
        [registration] = db.session.scalars(select(Registration).where(Registration.event_id == event_id)).all()
        assert registration.status == RegistrationStatus.confirmed
        kinds = Counter(db.session.scalars(select(OutgoingMail.kind).where(OutgoingMail.registration_id == registration.id)))
        assert kinds[MAIL_KIND[RegistrationStatus.confirmed]] == 1
