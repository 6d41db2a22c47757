"""Fixtures: an app on SQLite or PostgreSQL, a real SMTP server (for tests that ask for `smtp`), a live HTTP server.

The database comes from TEST_DATABASE_URL (PostgreSQL in `make test`'s second
run); without it, a SQLite file in a temporary folder. The schema is built once
per run by the migrations, and every test starts with empty tables.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from aiosmtpd.controller import Controller
from flask_migrate import upgrade

from bench.throwaway import database
from helpers import (
    ENDS,
    NOW,
    ORGANISER_EMAIL,
    ORGANISER_PASSWORD,
    STARTS,
    CliRunner,
    Dovecot,
    OpenSMTPD,
    SMTPServer,
    Workers,
    app_in_context,
    free_port,
    make_app,
    person,
    require_dovecot,
    require_opensmtpd,
    serving,
    serving_mail_for,
)
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.organiser.services import create_organiser
from webinar.registration.models import RegistrationStatus


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory):
    """SQLite in a temporary folder, or a PostgreSQL database of this run's own.

    With TEST_DATABASE_URL set, the run creates a database next to the one
    named there (same server), so two runs at once never share tables, and
    drops it at the end (bench/throwaway.py, which the benchmarks use too).
    """
    with database(os.environ.get("TEST_DATABASE_URL"), tmp_path_factory.mktemp("db"), "webinar") as uri:
        yield uri


@pytest.fixture(scope="session")
def schema(database_uri):
    """Build the schema once with the migrations, from an empty database."""
    app = make_app(database_uri)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_uri


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback, and `app` sending to it (without it, mail goes to port 1 and fails)."""
    with serving_mail_for(app, SMTPServer(port=free_port())) as server:
        yield server


@pytest.fixture
def dovecot():
    """A real IMAP server on loopback (Debian's dovecot) with an empty bounce mailbox; skips without dovecot."""
    require_dovecot()
    # A folder of its own outside pytest's (which only its owner may enter): as root, dovecot reads it as dovecot.
    server = Dovecot(Path(tempfile.mkdtemp(prefix="webinar-dovecot-")))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def opensmtpd(app):
    """A real mail server on loopback (Debian's OpenSMTPD), and `app` sending to it; skips without it."""
    require_opensmtpd()
    # A folder of its own outside pytest's (which only its owner may enter): it delivers as nobody.
    server = OpenSMTPD(Path(tempfile.mkdtemp(prefix="webinar-opensmtpd-")))
    try:
        server.start()
        app.config["MAIL_PORT"] = server.port
        app.extensions["mail"].port = server.port
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def smtp_ascii(app, smtp):
    """Like `smtp` (whose Controller offers SMTPUTF8), but the app sends to a server without it."""
    server = SMTPServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port, enable_SMTPUTF8=False)
    controller.start()
    app.extensions["mail"].port = server.port
    yield server
    controller.stop()


@pytest.fixture
def frozen():
    """Time stands still at NOW (tests move it with frozen.move_to)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def app(schema, frozen):
    """The app on the test database, its context pushed, at NOW; mail fails unless the test asks for `smtp`."""
    with app_in_context(schema) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return CliRunner(app)


@pytest.fixture
def event(app):
    """The meeting of 25 May 2027, 16.00-17.15, with places to spare."""
    event = create_event(
        slug="samen-onderwijs-versnellen",
        title="Samen onderwijs versnellen",
        starts_at=STARTS,
        ends_at=ENDS,
        meeting_url="https://meet.example.org/geheim-123",
        capacity=100,
        summary="Een online bijeenkomst over het NPO.",
        contact_name="Mirjam de Vries",
        contact_email="bijeenkomsten@example.org",
    )
    db.session.commit()
    return event


@pytest.fixture
def organiser(app):
    """An organiser account (not logged in)."""
    organiser = create_organiser(ORGANISER_EMAIL, ORGANISER_PASSWORD, name="Mieke Organisator")
    db.session.commit()
    return organiser


@pytest.fixture
def organiser_client(client, organiser):
    """The test client, logged in as the organiser."""
    response = client.post("/organiser/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def people(event):
    """Four registrants, added out of alphabetical order."""
    return {
        "dijk": person(event, "Jan", "Dijk", "van", organisation="Stichting Primair", role="Schoolbestuurder"),
        "berg": person(event, "Anna", "Berg", "van den", email="anna.vandenberg@example.org"),
        "vries": person(event, "Mirjam", "Vries", "de", organisation="Gemeente Zwolle", role="HRM'er"),
        "bakker": person(event, "Piet", "Bakker", organisation="Het Kompas"),
    }


@pytest.fixture
def full_event(event):
    """One place: Anna has it, Bert waits."""
    event.capacity = 1
    db.session.commit()
    anna = person(event, "Anna", "Berg", "van den", email="anna@example.org")
    bert = person(event, "Bert", "Bakker", email="bert@example.org")
    assert bert.status == RegistrationStatus.waitlisted
    return anna, bert


@pytest.fixture
def live_server(app):
    """The app served over HTTP by a threaded server on loopback (`.url`)."""
    with serving(app) as url:
        yield SimpleNamespace(url=url)


@pytest.fixture
def workers(tmp_path, schema):
    """Make groups of `flask mail ...` subprocesses on the test database (or on `database_url`)."""
    made = []

    def make(mail_port: int, database_url: str | None = None, **settings) -> Workers:
        made.append(Workers(tmp_path, database_url or schema, mail_port, **settings))
        return made[-1]

    try:
        yield make
    finally:
        for group in made:
            group.close()


@pytest.fixture
def live(schema):
    """The app on the test database, with the real clock (workers in other processes use it too)."""
    with app_in_context(schema) as app:
        yield app
