"""The JSON API: tokens, scopes and roles, the same rules as the forms, problem details, the audit log."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpers import ANNA, api_token, teams_participants
from webinar.api.models import ApiToken
from webinar.audit import AuditEntry
from webinar.extensions import db
from webinar.organiser.services import create_organiser

API = "/api/v1"


def audit_actions() -> list[str]:
    return [entry.action for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_no_token_no_access_and_a_cookie_does_not_count(organiser_client, event):
    answer = organiser_client.get(f"{API}/events")  # logged in on the pages, but no token
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"
    assert answer.json["title"] == "Niet aangemeld"
    assert organiser_client.get(f"{API}/events", headers={"Authorization": "Bearer wbn_verzonnen"}).status_code == 401


def test_events_list_and_one_event(client, organiser, event, people):
    headers = api_token(organiser, ["read"])
    listed = client.get(f"{API}/events", headers=headers)
    assert listed.status_code == 200
    [shown] = listed.json["items"]
    assert shown["slug"] == event.slug and shown["registered"] == 4 and shown["places_left"] == 96
    assert shown["starts_at"].startswith("2027-05-25T14:00:00")
    assert "meeting_url" not in shown  # the meeting link is secret
    assert client.get(f"{API}/events/{event.slug}", headers=headers).json["title"] == "Samen onderwijs versnellen"
    missing = client.get(f"{API}/events/bestaat-niet", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_a_read_token_cannot_write(client, organiser, event):
    headers = api_token(organiser, ["read"])
    answer = client.post(f"{API}/events/{event.slug}/cancel", headers=headers)
    assert answer.status_code == 403
    assert "wijzigen" in answer.json["detail"]
    assert event.cancelled_at is None


def test_the_token_can_do_no_more_than_its_owners_role(client, app, event):
    adviser = create_organiser("adviseur@example.org", "een lang en geheim wachtwoord", name="Ad Viseur")
    adviser.role = "adviseur"
    db.session.commit()
    headers = api_token(adviser)
    assert client.get(f"{API}/events", headers=headers).status_code == 403
    assert client.get(f"{API}/support-requests", headers=headers).status_code == 200


def test_an_expired_or_revoked_token_stops_working(client, organiser, event, frozen):
    headers = api_token(organiser, ["read"], days=1)
    assert client.get(f"{API}/events", headers=headers).status_code == 200
    frozen.shift(timedelta(days=1, seconds=1))
    assert client.get(f"{API}/events", headers=headers).status_code == 401
    other = api_token(organiser, ["read"])
    token = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
    token.revoked_at = token.created_at
    db.session.commit()
    assert client.get(f"{API}/events", headers=other).status_code == 401


def test_create_an_event_with_the_forms_rules_and_dutch_field_errors(client, organiser):
    headers = api_token(organiser)
    bad = client.post(f"{API}/events", headers=headers, json={
        "title": "Nieuwe bijeenkomst", "starts_at": "2027-06-01T16:00:00+02:00", "ends_at": "2027-06-01T17:00:00+02:00",
        "capacity": 0, "contact_email": "geen-adres"})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    fields = {error["field"]: error["message"] for error in bad.json["errors"]}
    assert fields == {"capacity": "Kies 1 of meer plaatsen.", "contact_email": "Dat is geen geldig e-mailadres."}
    typed = client.post(f"{API}/events", headers=headers, json={"title": 5, "starts_at": "morgen", "ends_at": "x",
                                                                 "extra": 1})
    assert typed.status_code == 422
    assert {error["field"] for error in typed.json["errors"]} == {"title", "starts_at", "ends_at", "extra"}
    good = client.post(f"{API}/events", headers=headers, json={
        "title": "Nieuwe bijeenkomst", "starts_at": "2027-06-01T16:00:00+02:00", "ends_at": "2027-06-01T17:00:00+02:00",
        "capacity": 20, "roles": ["Schoolleider", "Bestuurder"]})
    assert good.status_code == 201, good.json
    assert good.json["slug"] == "nieuwe-bijeenkomst" and good.json["draft"] is True
    assert good.json["roles"] == ["Schoolleider", "Bestuurder"] and good.json["capacity"] == 20
    assert audit_actions()[-1] == "event.create"


def test_change_an_event_moves_it_and_is_audited(client, organiser, event):
    headers = api_token(organiser)
    answer = client.patch(f"{API}/events/{event.slug}", headers=headers,
                          json={"starts_at": "2027-05-25T15:00:00+02:00", "capacity": 50})
    assert answer.status_code == 200, answer.json
    assert answer.json["starts_at"].startswith("2027-05-25T13:00:00") and answer.json["capacity"] == 50
    assert answer.json["ends_at"].startswith("2027-05-25T15:15:00")  # untouched
    assert audit_actions()[-1] == "event.edit"
    wrong = client.patch(f"{API}/events/{event.slug}", headers=headers, json={"ends_at": "2027-05-25T14:00:00+02:00"})
    assert wrong.status_code == 422
    db.session.refresh(event)
    assert event.capacity == 50


def test_registrations_filter_sort_and_cursor(client, organiser, event, people):
    headers = api_token(organiser, ["read"])
    first = client.get(f"{API}/events/{event.slug}/registrations?limit=3", headers=headers)
    assert first.status_code == 200
    names = [item["last_name"] for item in first.json["items"]]
    assert names == ["Bakker", "Berg", "Dijk"]  # by last name, tussenvoegsel ignored, as the organiser's table
    second = client.get(f"{API}/events/{event.slug}/registrations?limit=3&cursor={first.json['next_cursor']}",
                        headers=headers)
    assert [item["last_name"] for item in second.json["items"]] == ["Vries"] and second.json["next_cursor"] is None
    found = client.get(f"{API}/events/{event.slug}/registrations?q=zwolle", headers=headers).json["items"]
    assert [item["last_name"] for item in found] == ["Vries"]
    bad = client.get(f"{API}/events/{event.slug}/registrations?cursor=onzin", headers=headers)
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"


def test_add_cancel_and_promote_a_registration(client, organiser, full_event):
    anna, bert = full_event
    event = anna.event
    headers = api_token(organiser)
    base = f"{API}/events/{event.slug}/registrations"
    taken = client.post(base, headers=headers, json={
        "first_name": "Anna", "last_name": "Berg", "email": "anna@example.org", "organisation": "OBS De Linde",
        "organisation_type": "School", "role": "Schoolleider"})
    assert taken.status_code == 409 and taken.json["errors"][0]["field"] == "email"
    missing = client.post(base, headers=headers, json={"first_name": "", "last_name": "X", "email": "x@example.org",
                                                        "organisation": "", "organisation_type": "Iets", "role": "Nee"})
    assert missing.status_code == 422
    assert {error["field"] for error in missing.json["errors"]} == {"first_name", "organisation", "organisation_type",
                                                                    "role"}
    added = client.post(base, headers=headers, json={
        "first_name": "Cor", "last_name": "Smit", "email": "cor@example.org", "organisation": "OBS De Linde",
        "organisation_type": "School", "role": "Schoolleider"})
    assert added.status_code == 201 and added.json["status"] == "waitlisted"
    promoted = client.post(f"{base}/{bert.id}/promote", headers=headers)
    assert promoted.status_code == 200 and promoted.json["places_over"] == 1
    assert client.post(f"{base}/{bert.id}/promote", headers=headers).status_code == 409
    cancelled = client.post(f"{base}/{anna.id}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json["registration"]["status"] == "cancelled"
    assert client.post(f"{base}/{anna.id}/cancel", headers=headers).status_code == 409
    assert audit_actions()[-3:] == ["registration.add", "registration.promote", "registration.cancel"]
    assert "API-token" in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first().summary


def test_attendance_import_and_list(client, organiser, event, people):
    headers = api_token(organiser)
    report = base64.b64encode(teams_participants([ANNA, "onbekend@example.org"])).decode()
    answer = client.post(f"{API}/events/{event.slug}/attendance/report", headers=headers, json={"report": report})
    assert answer.status_code == 200, answer.json
    assert answer.json["matched"] == 1 and answer.json["walk_ins"] == 1
    listed = client.get(f"{API}/events/{event.slug}/attendance", headers=headers).json
    assert [item["registration_id"] for item in listed["items"]] == [people["berg"].id]
    assert listed["walk_ins"] == 1
    bad = client.post(f"{API}/events/{event.slug}/attendance/report", headers=headers, json={"report": "@@@"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "report"
    assert "attendance.import" in audit_actions()


def test_unknown_paths_and_methods_are_problems(client, organiser):
    headers = api_token(organiser)
    assert client.get(f"{API}/bestaat-niet", headers=headers).mimetype == "application/problem+json"
    answer = client.delete(f"{API}/events", headers=headers)
    assert answer.status_code == 405 and answer.mimetype == "application/problem+json"
    assert client.get("/bestaat-niet").mimetype == "text/html"  # pages keep their own error page


def test_openapi_document_and_reference_page(client):
    spec = client.get(f"{API}/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert {"/api/v1/events", "/api/v1/events/{slug}/registrations", "/api/v1/support-requests"} <= set(spec["paths"])
    page = client.get(f"{API}/docs")
    assert page.status_code == 200 and "POST /api/v1/events" in page.get_data(as_text=True)


@pytest.mark.parametrize("scopes", [["read"], ["read", "write"]])
def test_token_pages_show_the_secret_once_and_revoke(organiser_client, organiser, scopes):
    answer = organiser_client.post("/organiser/api-tokens", data={"name": "CRM", "scopes": scopes, "days": "30"})
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    secret = page.split('<code id="nieuw-token">')[1].split("<")[0]
    assert secret.startswith("wbn_")
    assert secret not in organiser_client.get("/organiser/api-tokens").get_data(as_text=True)
    token = db.session.scalars(select(ApiToken)).one()
    assert token.token_hash != secret and token.scopes == scopes
    organiser_client.post(f"/organiser/api-tokens/{token.id}/intrekken")
    db.session.refresh(token)
    assert token.revoked_at is not None
    assert audit_actions()[-2:] == ["api_token.create", "api_token.revoke"]
    refused = organiser_client.post("/organiser/api-tokens", data={"name": "", "scopes": [], "days": "0"})
    assert refused.status_code == 422 and "Geef het token een naam." in refused.get_data(as_text=True)


@pytest.mark.parametrize("field", ["summary", "body", "audience", "practical", "roles",
                                   "followup_joined_text", "followup_missed_text"])
def test_a_control_character_in_an_events_text_is_refused_in_dutch_and_changes_nothing(client, organiser, event,
                                                                                         field):
    """A NUL, which PostgreSQL refuses in text, once gave a 500 (found by schemathesis)."""
    before = getattr(event, field)
    answer = client.patch(f"{API}/events/{event.slug}", headers=api_token(organiser),
                          json={field: ["Rol\u0000"] if field == "roles" else "Tekst met \u0000 erin"})
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.content_type == "application/problem+json"
    assert "tekens die hier niet kunnen" in answer.get_data(as_text=True)
    db.session.rollback()
    assert getattr(db.session.get(type(event), event.id), field) == before
