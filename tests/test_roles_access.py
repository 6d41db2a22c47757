"""Every organiser URL checks the role: the URL map walked per role, as test_organiser does for anonymous users.

Each rule under /organiser names the permissions it needs (roles.requires), so
a new page without them fails here. Then every role requests every such URL
with real data behind it (an event, a registration, a message, a walk-in, a
support request, another account): the answer is 403 exactly when the role
lacks a permission the rule names, and never a server error; a refused request
changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpers import NOW, login, make_request, person
from webinar import create_app
from webinar.attendance.models import Attendance, WalkIn
from webinar.audit import AuditEntry
from webinar.events.models import Event
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.organiser.access import PUBLIC_ENDPOINTS
from webinar.organiser.broadcast_services import Selection, save_draft
from webinar.organiser.models import Organiser
from webinar.organiser.roles import EVERY_ROLE, PERMISSIONS, START_PAGES, may
from webinar.organiser.services import create_organiser
from webinar.registration.models import Registration
from webinar.support.models import SupportRequest

PASSWORD = "een lange zin als wachtwoord"
#: the front door sends a role that may not see the events on to its own start page
FRONT_DOOR = "organiser.events"


def _guarded_rules() -> list[tuple[str, str, str, frozenset[str]]]:
    """(endpoint, method, rule, permissions) for every rule under /organiser except the public and own-account
    pages; GET for a page that has one, POST for a POST-only rule."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/organiser") or rule.endpoint in PUBLIC_ENDPOINTS | EVERY_ROLE:
            continue
        view = app.view_functions[rule.endpoint]
        method = "GET" if "GET" in rule.methods else "POST"
        rules.append((rule.endpoint, method, rule.rule, getattr(view, "required_permissions", None)))
    return sorted(rules, key=lambda found: (found[1], found[2]))


RULES = _guarded_rules()


def test_every_organiser_page_names_the_permissions_it_needs():
    missing = [rule for endpoint, _, rule, permissions in RULES if not permissions]
    assert missing == [], "pages under /organiser without @requires(...)"
    assert len(RULES) >= 50


def test_every_role_has_a_start_page_it_may_see():
    for role in PERMISSIONS:
        account = Organiser(email="x@example.org", role=role)
        assert any(may(account, permission) for permission, _ in START_PAGES), role


def _world(event) -> dict[str, object]:
    """Something behind every kind of id in the organiser's URLs."""
    registration = person(event, "Joke", "Meer", "van der", organisation="OBS De Linde")
    broadcast = save_draft(event, db.session.get(Organiser, _someone().id), selection=Selection(),
                           subject="Praktisch", body="Beste {voornaam},\n\nTot dinsdag.")
    walk_in = WalkIn(event_id=event.id, key="gast@example.org", name="Gast", email="gast@example.org",
                     minutes_present=40)
    db.session.add(walk_in)
    db.session.commit()
    support = make_request()
    other = create_organiser("collega@example.org", PASSWORD, name="Kees Collega", role="organisator")
    db.session.commit()
    return {"slug": event.slug, "registration_id": registration.id, "broadcast_id": broadcast.id,
            "walk_in_id": walk_in.id, "request_id": support.id, "organiser_id": other.id, "kind": "confirmation"}


def _someone() -> Organiser:
    return db.session.scalars(select(Organiser).order_by(Organiser.id)).first()


def _state() -> tuple:
    """What an organiser request could change."""
    db.session.rollback()
    return (
        db.session.execute(select(Registration.id, Registration.status, Registration.email)).all(),
        db.session.execute(select(Event.slug, Event.title, Event.version, Event.cancelled_at,
                                  Event.published_at, Event.registration_closed_at)).all(),
        db.session.execute(select(Organiser.email, Organiser.role, Organiser.active)).all(),
        db.session.execute(select(SupportRequest.id, SupportRequest.status, SupportRequest.notes)).all(),
        db.session.scalar(select(func.count(OutgoingMail.id))),
        db.session.scalar(select(func.count(AuditEntry.id))),
        db.session.scalar(select(func.count(Attendance.id))),
        db.session.execute(select(WalkIn.id, WalkIn.registration_id)).all(),
    )


def _form(values: dict) -> dict:
    """Form fields that make the POSTs do something real for a role that may."""
    return {"aanwezig": "ja", "aanmelding": str(values["registration_id"]), "address": "test@example.org",
            "when": "nu", f"a{values['organiser_id']}-role": "contactpersoon", "groep": "x"}


@pytest.mark.parametrize("role", sorted(PERMISSIONS))
def test_each_role_is_refused_exactly_what_it_may_not_do(app, client, event, frozen, role):
    create_organiser("wie@example.org", PASSWORD, name="Wie Dan Ook", role=role)
    db.session.commit()
    values = _world(event)
    frozen.move_to(NOW + timedelta(minutes=1))
    assert login(client, "wie@example.org", PASSWORD).status_code == 302
    account = db.session.scalar(select(Organiser).where(Organiser.email == "wie@example.org"))
    wrong = []
    for endpoint, method, rule, permissions in RULES:
        path = rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        allowed = all(may(account, permission) for permission in permissions)
        before = None if allowed else _state()
        response = client.open(path, method=method, data=_form(values) if method == "POST" else None)
        status = response.status_code
        if endpoint == FRONT_DOOR and not allowed:
            ok = status == 302 and response.headers["Location"] != "/organiser/"
        elif allowed:
            ok = status != 403 and status < 500
        else:
            ok = status == 403 and "Geen toegang" in response.get_data(as_text=True) and _state() == before
        if not ok:
            wrong.append(f"{method} {path}: {status} ({'allowed' if allowed else 'refused'})")
    assert wrong == []


@pytest.mark.parametrize(("role", "start"), [
    ("beheerder", "/organiser/"), ("organisator", "/organiser/"), ("contactpersoon", "/organiser/"),
    ("adviseur", "/organiser/ondersteuning"),
])
def test_after_logging_in_each_role_lands_on_a_page_it_may_see(app, client, role, start):
    create_organiser("wie@example.org", PASSWORD, role=role)
    db.session.commit()
    response = login(client, "wie@example.org", PASSWORD)
    assert response.headers["Location"] == "/organiser/"
    response = client.get("/organiser/")
    if start != "/organiser/":
        assert response.headers["Location"] == start
        response = client.get(start)
    assert response.status_code == 200
