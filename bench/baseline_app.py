"""The baseline for bench/registration_load.py: bare Flask + SQLAlchemy, no framework of ours.

    gunicorn --pythonpath bench baseline_app:app      (from the top folder; DATABASE_URL names the migrated database)

The same two requests as the real form: GET /events/<slug> hands out a page
with a token kept in the (signed) session cookie, and POST /events/<slug>
checks it and inserts the same `registration` row the app would store, then
redirects. No form library, no templates, no capacity check, no outbox row.
On SQLite it uses the app's connection settings (WAL, busy timeout), so the
difference measured is the app's own work.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timezone

from flask import Flask, abort, redirect, request, session
from sqlalchemy import MetaData, Table, create_engine, event, select, text

from baseline_table import NAME as BASELINE_TABLE
from config import database_url

app = Flask(__name__)
app.secret_key = os.environ.get("SECRET_KEY", "baseline-not-secret")
engine = create_engine(database_url(os.environ["DATABASE_URL"]), pool_pre_ping=True)
if engine.dialect.name == "sqlite":

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


#: `registration`'s shape without the app's triggers (bench/baseline_table.py)
registration = Table(BASELINE_TABLE, MetaData(), autoload_with=engine)
events = Table("event", MetaData(), autoload_with=engine)
FIELDS = ("first_name", "tussenvoegsel", "last_name", "email", "organisation",
          "organisation_type", "role", "role_other", "question")
PAGE = """<!doctype html><html lang="nl"><head><title>Aanmelden</title></head><body>
<form method="post"><input type="hidden" name="csrf_token" value="{token}">
<input name="first_name"><input name="email"><button>Aanmelden</button></form></body></html>"""


def event_id(conn, slug: str) -> int:
    found = conn.scalar(select(events.c.id).where(events.c.slug == slug))
    if found is None:
        abort(404)
    return found


@app.get("/events/<slug>")
def form(slug: str):
    with engine.connect() as conn:
        event_id(conn, slug)
    session["token"] = session.get("token") or secrets.token_urlsafe(32)
    return PAGE.format(token=session["token"])


@app.post("/events/<slug>")
def submit(slug: str):
    if not session.get("token") or request.form.get("csrf_token") != session["token"]:
        abort(400)
    if request.form.get("privacy") != "y" or not request.form.get("email"):
        abort(422)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    row = {name: request.form.get(name, "").strip() for name in FIELDS}
    row.update(status="confirmed", email_normalized=row["email"].lower(),
               privacy_accepted_at=now, created_at=now, updated_at=now, registered_at=now, signups=1)
    with engine.begin() as conn:  # one connection per request, as the app's session has
        conn.execute(registration.insert().values(event_id=event_id(conn, slug), **row))
    return redirect(f"/events/{slug}/aangemeld")


@app.get("/healthz")
def healthz():
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok"}
