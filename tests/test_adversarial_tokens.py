"""Personal links under attack: guessed tokens, tokens after cancelling, and GET on what changes state."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpers import STARTS, deliver, make_request, post_registration
from test_messages import compose, draft_id
from test_registration import manage_link
from webinar.attendance.models import Attendance
from webinar.audit import AuditEntry
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.registration.models import Registration, RegistrationStatus, TokenPurpose
from webinar.registration.tokens import issue_token

NOT_VALID = "De persoonlijke link is niet (meer) geldig."


def dump(skip=()) -> dict[str, list]:
    """Every row of every table, to compare before and after."""
    db.session.rollback()
    return {
        table.name: sorted(map(repr, db.session.execute(select(table))))
        for table in db.metadata.sorted_tables if table.name not in skip
    }


@pytest.fixture
def links(client, event, smtp):
    """A confirmed registration's manage path and join path."""
    post_registration(client, event)
    deliver()
    registration = db.session.scalar(select(Registration))
    join = issue_token(registration, TokenPurpose.join)
    db.session.commit()
    return manage_link(smtp.messages[0]), f"/j/{join}"


def guesses(real: str) -> list[str]:
    token = real.rsplit("/", 1)[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    return [secrets.token_urlsafe(32), flipped, token.upper(), token[:-1], token + "A", "%00" + token]


def test_guessed_tokens_lead_nowhere_and_change_nothing(client, links):
    manage, join = links
    before = dump()
    for token in guesses(manage) + guesses(join):
        for method, path in [("GET", f"/r/{token}"), ("GET", f"/j/{token}"), ("GET", f"/r/{token}/gegevens.json"),
                             ("POST", f"/r/{token}"), ("POST", f"/r/{token}/afmelden"),
                             ("GET", f"/r/{token}/verwijderen"), ("POST", f"/r/{token}/verwijderen")]:
            response = client.open(path, method=method, data={"first_name": "Indringer"})
            assert response.status_code == 404, path
            assert NOT_VALID in response.get_data(as_text=True)
    assert dump() == before


def test_a_token_works_only_for_its_own_purpose(client, links):
    manage, join = links
    assert client.get(f"/j/{manage.removeprefix('/r/')}").status_code == 404
    assert client.get(f"/r/{join.removeprefix('/j/')}").status_code == 404
    assert client.get(manage).status_code == 200


def test_links_after_cancelling_change_nothing_more(client, event, links, smtp, frozen):
    manage, join = links
    assert client.post(f"{manage}/afmelden").status_code == 302
    before = dump()
    page = client.get(manage).get_data(as_text=True)
    assert "Status: <strong>Afgemeld</strong>" in page
    assert client.post(manage, data={"first_name": "Ander", "last_name": "Iemand"}).status_code == 409
    assert client.post(f"{manage}/afmelden").status_code == 302  # already done: back to the page
    frozen.move_to(STARTS - timedelta(minutes=5))  # inside the join window
    response = client.get(join)
    assert response.status_code == 200
    assert "meet.example.org" not in response.get_data(as_text=True) + response.headers.get("Location", "")
    assert dump() == before
    assert db.session.scalar(select(Registration.status)) == RegistrationStatus.cancelled
    assert [row.kind for row in db.session.scalars(select(OutgoingMail))] == ["confirmation", "cancelled"]
    assert db.session.scalars(select(Attendance)).all() == []


def test_get_on_every_url_changes_nothing(organiser_client, app, event, links):
    manage, join = links
    registration = db.session.scalar(select(Registration))
    broadcast = draft_id(compose(organiser_client))
    args = {
        "slug": event.slug, "registration_id": registration.id, "broadcast_id": broadcast,
        "filename": "style.css", "token": secrets.token_urlsafe(32), "request_id": make_request().id,
        "kind": "reminder", "code": "verzonnen.code", "walk_in_id": 1, "organiser_id": 1, "token_id": 1,
        "subscription_id": 1, "delivery_id": 1,
    }
    paths = {"registration.manage": manage, "registration.cancel": f"{manage}/afmelden",
             "registration.download": f"{manage}/gegevens.json", "privacy.erase": f"{manage}/verwijderen",
             "attendance.join": join, "certificates.download": f"{manage}/bewijs-van-deelname.pdf"}
    audit = {AuditEntry.__tablename__}
    before = dump(skip=audit)
    audited = db.session.scalar(select(func.max(AuditEntry.id))) or 0
    readable = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "organiser.logout":
            continue
        path = paths.get(rule.endpoint) or rule.build({k: v for k, v in args.items() if k in rule.arguments})[1]
        with organiser_client.get(path) as response:
            expected = {200, 302, 404} if rule.rule in readable else {405}
            if rule.rule == "/healthz/mail":
                expected = {503}  # the confirmations are due and no worker runs
            if rule.endpoint.startswith("api.") and rule.rule in readable:
                expected = {401}  # the API takes bearer tokens only: the organiser's cookie does not count
            assert response.status_code in expected, (path, response.status_code)
    assert dump(skip=audit) == before
    # Only the exports write to the audit log (who downloaded which personal data).
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.id > audited)))
    assert actions == {"export.csv", "export.xlsx"}
    assert organiser_client.get("/organiser/logout").status_code == 405
    assert organiser_client.get("/organiser/").status_code == 200  # still logged in
