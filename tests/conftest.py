"""Fixtures: an app on SQLite or PostgreSQL, a real SMTP server, a live HTTP server.

The database comes from TEST_DATABASE_URL (PostgreSQL in `make test`'s second
run); without it, a SQLite file in a temporary folder. The schema is built once
per run by the migrations, and every test starts with empty tables.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
import time_machine
from aiosmtpd.controller import Controller
from flask.testing import FlaskCliRunner, FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text
from werkzeug.serving import make_server

from config import database_url
from helpers import ORGANISER_EMAIL, ORGANISER_PASSWORD, Workers, free_port
from webinar import create_app
from webinar.dutch import AMSTERDAM
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.mailing.worker import send_due
from webinar.organiser.services import create_organiser

#: "now" in most tests: a few weeks before the event
NOW = datetime(2027, 5, 1, 12, 0, tzinfo=AMSTERDAM)
STARTS = datetime(2027, 5, 25, 16, 0, tzinfo=AMSTERDAM)
ENDS = datetime(2027, 5, 25, 17, 15, tzinfo=AMSTERDAM)


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory):
    """SQLite in a temporary folder, or a PostgreSQL database of this run's own.

    With TEST_DATABASE_URL set, the run creates a database next to the one
    named there (same server), so two runs at once never share tables, and
    drops it at the end.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    base = make_url(database_url(url))
    name = f"{base.database}_webinar_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(database_uri: str, **overrides):
    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,  # nothing listens: tests that send mail use the smtp fixture
    }
    settings.update(overrides)
    return create_app(settings)


@pytest.fixture(scope="session")
def schema(database_uri):
    """Build the schema once with the migrations, from an empty database."""
    app = make_app(database_uri)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_uri


@dataclass
class SMTPServer:
    """A real SMTP server on loopback that keeps what it receives."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    #: each message as it arrived, before parsing
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    #: the MAIL FROM parameters of each message, e.g. ["SMTPUTF8", "SIZE=1234"]
    mail_options: list[list[str]] = field(default_factory=list)
    #: SMTP replies to give instead of accepting, one per DATA (e.g. "421 busy")
    replies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.replies:
                return self.replies.pop(0)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.mail_options.append([option.upper() for option in envelope.mail_options])
            self.raw.append(envelope.original_content)
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"].addresses[0].addr_spec.lower() == address.lower()]


@pytest.fixture
def smtp():
    server = SMTPServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    yield server
    controller.stop()


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


class Client(FlaskClient):
    """A test client whose requests start a fresh transaction, as real requests do.

    Requests share the test's app context and so its session; ending the test's
    open transaction first lets the request begin its own (BEGIN IMMEDIATE on
    SQLite for a POST).
    """

    def open(self, *args, **kwargs):
        db.session.rollback()
        return super().open(*args, **kwargs)


@contextmanager
def app_in_context(database_uri: str, **overrides):
    """An app with its context pushed; every table is emptied afterwards."""
    app = make_app(database_uri, **overrides)
    app.test_client_class = Client
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            try:
                with db.engine.begin() as conn:
                    for table in reversed(db.metadata.sorted_tables):
                        conn.execute(table.delete())
            finally:
                # Also when the cleanup fails: a leaked connection would turn
                # into a ResourceWarning, and so an error, at exit.
                db.engine.dispose()


@pytest.fixture
def app(schema, smtp, frozen):
    with app_in_context(schema, MAIL_PORT=smtp.port) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


class CliRunner(FlaskCliRunner):
    """Like Client: a command starts its own transaction, as it would in its own process."""

    def invoke(self, *args, **kwargs):
        db.session.rollback()
        return super().invoke(*args, **kwargs)


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


def form_data(**overrides) -> dict:
    """A valid registration form, with fields replaced by `overrides`."""
    data = {
        "first_name": "Anna",
        "tussenvoegsel": "van den",
        "last_name": "Berg",
        "email": "anna.vandenberg@example.org",
        "organisation": "OBS De Linde",
        "organisation_type": "School",
        "role": "Schoolleider",
        "role_other": "",
        "question": "",
        "privacy": "y",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_registration(client, event, **overrides):
    return client.post(f"/events/{event.slug}", data=form_data(**overrides))


def deliver() -> list:
    """Run one worker pass in the current app."""
    return send_due()


@contextmanager
def serving(app):
    """Serve `app` over HTTP on loopback from a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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
