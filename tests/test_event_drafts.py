"""Events that are safe to set up: drafts, the preview link, publishing, link names, duplicating, closing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpers import (EVENT_FORM, NOW, STARTS, audit_actions, deliver, details, flash_after, form_data, login,
                     page_text)
from webinar.audit import AuditEntry
from webinar.events.models import Event
from webinar.events.slugs import slugify
from webinar.extensions import db
from webinar.registration.models import Registration
from webinar.registration.services import RegistrationClosed, register

PREVIEW = re.compile(r'id="preview-link">(http://webinar\.test(/voorbeeld/[^<]+))</a>')


def new_draft(organiser_client, **fields) -> Event:
    response = organiser_client.post("/organiser/events/nieuw", data=dict(EVENT_FORM, **fields))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    return db.session.scalar(select(Event).order_by(Event.id.desc()))


def preview_path(organiser_client, event: Event) -> str:
    page = organiser_client.get(f"/organiser/events/{event.slug}").get_data(as_text=True)
    return PREVIEW.search(page).group(2)


def registrations() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Registration.id)))


def test_a_new_event_is_a_draft_the_public_cannot_see(app, organiser_client):
    draft = new_draft(organiser_client)
    public = app.test_client()
    assert public.get("/events/najaar").status_code == 404
    assert public.get("/events/najaar.ics").status_code == 404
    assert "Pagina niet gevonden" in page_text(public.get("/events/najaar/aangemeld"))
    assert "Najaarsbijeenkomst" not in page_text(public.get("/"))
    dashboard = page_text(organiser_client.get("/organiser/events/najaar"))
    assert 'id="status">concept<' in dashboard and "Publiceren</button>" in dashboard
    assert draft.published_at is None


def test_a_draft_takes_no_registration_posted_directly(app, organiser_client):
    new_draft(organiser_client)
    response = app.test_client().post("/events/najaar", data=form_data(role="Schoolleider"))
    assert response.status_code == 404
    assert "Deze pagina bestaat niet (meer)" in page_text(response)
    assert registrations() == 0


def test_registering_for_a_draft_is_refused_by_the_service_too(organiser_client):
    draft = new_draft(organiser_client)
    with pytest.raises(RegistrationClosed):
        register(draft, details("anna@example.org"))
    assert registrations() == 0


def test_the_preview_link_shows_the_draft_to_a_colleague_without_an_account(app, organiser_client):
    draft = new_draft(organiser_client, summary="Over het nieuwe schooljaar.")
    path = preview_path(organiser_client, draft)
    response = app.test_client().get(path)
    page = page_text(response)
    assert response.status_code == 200
    assert "<h1>Najaarsbijeenkomst</h1>" in page and "Over het nieuwe schooljaar." in page
    assert "Voorbeeld van een concept." in page
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert response.headers["X-Robots-Tag"] == "noindex" and response.headers["Cache-Control"] == "no-store"
    assert 'name="first_name"' not in page and ".ics" not in page  # no form, no calendar file
    assert "meet.example.org" not in page


@pytest.mark.parametrize("token", ["", "abc", "WzEsIngiXQ.bad-signature"], ids=["empty", "short", "forged"])
def test_a_made_up_preview_link_is_not_found(app, organiser_client, token):
    new_draft(organiser_client)
    assert app.test_client().get(f"/voorbeeld/{token}").status_code == 404


def test_publishing_makes_the_event_public_and_registrable(app, organiser_client):
    draft = new_draft(organiser_client)
    path = preview_path(organiser_client, draft)
    message = flash_after(organiser_client.post("/organiser/events/najaar/publiceren"), organiser_client)
    assert message == "De bijeenkomst is gepubliceerd en staat nu op de publieke lijst."
    public = app.test_client()
    assert "Najaarsbijeenkomst" in page_text(public.get("/"))
    assert public.get("/events/najaar.ics").status_code == 200
    assert public.post("/events/najaar", data=form_data(role="Schoolleider")).status_code == 302
    assert registrations() == 1
    assert public.get(path).headers["Location"] == "/events/najaar"  # the preview now leads to the page
    assert audit_actions() == ["event.create", "event.publish"]
    again = flash_after(organiser_client.post("/organiser/events/najaar/publiceren"), organiser_client)
    assert again == "De bijeenkomst was al gepubliceerd." and audit_actions().count("event.publish") == 1


@pytest.mark.parametrize(("title", "slug"), [
    ("Najaarsbijeenkomst", "najaarsbijeenkomst"),
    ("Één dag: café & ĳsbreker!", "een-dag-cafe-en-ijsbreker"),
    ("Voor HRM'ers en schoolleiders", "voor-hrmers-en-schoolleiders"),
    ("  Scholen   -- in  de regio  ", "scholen-in-de-regio"),
    ("Financiën 2027/2028", "financien-2027-2028"),
    ("???", "bijeenkomst"),
    ("lange titel " * 10, "lange-titel-" * 6 + "lange"),
], ids=["plain", "accents-ligature-ampersand", "apostrophe", "spaces-and-hyphens", "diaeresis-slash",
        "nothing-left", "too-long"])
def test_link_names_are_made_from_the_title(title, slug):
    assert slugify(title) == slug and len(slug) <= 80


def test_a_new_event_without_link_name_gets_one_from_its_title_unique(organiser_client):
    first = new_draft(organiser_client, title="Één dag: café & ĳsbreker", slug="")
    second = new_draft(organiser_client, title="Één dag: café & ĳsbreker", slug="")
    assert (first.slug, second.slug) == ("een-dag-cafe-en-ijsbreker", "een-dag-cafe-en-ijsbreker-2")


def edit(organiser_client, event: Event, **fields):
    form = dict(EVENT_FORM, title=event.title, slug=event.slug)
    form.update(fields)
    return organiser_client.post(f"/organiser/events/{event.slug}/bewerken", data=form)


def test_a_drafts_link_name_changes_without_leaving_the_old_one(app, organiser_client):
    draft = new_draft(organiser_client)
    assert edit(organiser_client, draft, slug="najaar-2027").headers["Location"] == "/organiser/events/najaar-2027"
    assert app.test_client().get("/events/najaar").status_code == 404  # never public: nothing to redirect
    assert organiser_client.get("/organiser/events/najaar-2027").status_code == 200


def test_after_publishing_the_old_link_leads_to_the_new_one(app, client, event, organiser_client, smtp):
    client.post(f"/events/{event.slug}", data=form_data())
    deliver()
    sent_link = re.search(r"http://webinar\.test(/events/[a-z0-9-]+)\s", smtp.messages[-1].get_body(("plain",)).get_content())
    assert sent_link.group(1) == "/events/samen-onderwijs-versnellen"
    assert edit(organiser_client, event, slug="samen-verder").status_code == 302
    public = app.test_client()
    moved = public.get(sent_link.group(1))
    assert moved.status_code == 301 and moved.headers["Location"] == "/events/samen-verder"
    assert public.get(moved.headers["Location"]).status_code == 200
    assert public.get("/events/samen-onderwijs-versnellen.ics").headers["Location"] == "/events/samen-verder.ics"
    assert public.get("/events/samen-onderwijs-versnellen/aangemeld?wachtlijst=1").headers["Location"] == (
        "/events/samen-verder/aangemeld?wachtlijst=1")
    posted = public.post("/events/samen-onderwijs-versnellen", data=form_data(email="b@example.org"))
    assert posted.status_code == 308 and posted.headers["Location"] == "/events/samen-verder"
    bookmarked = organiser_client.get("/organiser/events/samen-onderwijs-versnellen/aanmeldingen?rol=a&rol=b")
    assert bookmarked.headers["Location"] == "/organiser/events/samen-verder/aanmeldingen?rol=a&rol=b"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.slug"))
    assert entry.summary == "link gewijzigd van /events/samen-onderwijs-versnellen naar /events/samen-verder"


def test_an_old_link_name_is_not_given_to_another_event(organiser_client, event):
    edit(organiser_client, event, slug="samen-verder")
    response = organiser_client.post("/organiser/events/nieuw", data=dict(EVENT_FORM, slug="samen-onderwijs-versnellen"))
    assert "Er is al een bijeenkomst met de naam" in page_text(response)
    other = new_draft(organiser_client, title="Samen onderwijs versnellen", slug="")
    assert other.slug == "samen-onderwijs-versnellen-2"
    taken = edit(organiser_client, other, slug="samen-onderwijs-versnellen")
    assert "De link /events/samen-onderwijs-versnellen is al in gebruik. Kies een andere naam." in page_text(taken)
    db.session.rollback()
    assert db.session.get(Event, other.id).slug == "samen-onderwijs-versnellen-2"


def test_an_event_may_go_back_to_its_old_link_name(app, organiser_client, event):
    edit(organiser_client, event, slug="samen-verder")
    db.session.rollback()
    edit(organiser_client, db.session.get(Event, event.id), slug="samen-onderwijs-versnellen")
    public = app.test_client()
    assert public.get("/events/samen-onderwijs-versnellen").status_code == 200
    assert public.get("/events/samen-verder").headers["Location"] == "/events/samen-onderwijs-versnellen"


def test_duplicating_asks_for_the_new_date_and_meeting_link(organiser_client, event):
    form = page_text(organiser_client.get(f"/organiser/events/{event.slug}/dupliceren"))
    assert 'value="Samen onderwijs versnellen"' in form and "(kopie)" not in form
    assert 'name="starts_at"' in form and 'name="meeting_url"' in form
    response = organiser_client.post(f"/organiser/events/{event.slug}/dupliceren", data={"title": event.title})
    assert response.status_code == 422
    assert "Vul het nieuwe begin in (datum en tijd)." in page_text(response)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Event.id))) == 1


def test_a_duplicate_is_a_draft_with_the_originals_settings(app, organiser_client, event):
    event.roles, event.capacity, event.reminder_days_before = ["Schoolleider", "Bestuurder"], 60, 2
    event.body, event.followup_joined_text = "Een middag over samenwerken.", "Dank voor uw komst."
    event.registration_closes_at = STARTS - timedelta(days=1)
    event.recording_url = "https://video.example.org/mei"
    db.session.commit()
    response = organiser_client.post(f"/organiser/events/{event.slug}/dupliceren", data={
        "title": "Samen onderwijs versnellen", "starts_at": "2027-09-14T16:00", "ends_at": "2027-09-14T17:15",
        "meeting_url": "https://meet.example.org/september"})
    assert response.headers["Location"] == "/organiser/events/samen-onderwijs-versnellen-2"
    db.session.rollback()
    copy = db.session.scalar(select(Event).where(Event.slug == "samen-onderwijs-versnellen-2"))
    assert copy.is_draft() and copy.title == "Samen onderwijs versnellen"
    assert (copy.roles, copy.capacity, copy.reminder_days_before) == (["Schoolleider", "Bestuurder"], 60, 2)
    assert (copy.body, copy.followup_joined_text) == ("Een middag over samenwerken.", "Dank voor uw komst.")
    assert copy.summary == "Een online bijeenkomst over het NPO." and copy.contact_name == "Mirjam de Vries"
    assert copy.meeting_url == "https://meet.example.org/september" and copy.recording_url is None
    assert copy.starts_at == STARTS.replace(month=9, day=14)
    assert copy.registration_closes_at == copy.starts_at - timedelta(days=1)
    public = app.test_client()
    assert public.get("/events/samen-onderwijs-versnellen-2").status_code == 404
    assert "2027-09" not in page_text(public.get("/")) and page_text(public.get("/")).count("<h2>") == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.duplicate"))
    assert entry.summary == ("Kopie van Samen onderwijs versnellen (dinsdag 25 mei 2027) gemaakt als concept "
                             "op dinsdag 14 september 2027")


def test_a_duplicate_must_end_after_it_starts(organiser_client, event):
    response = organiser_client.post(f"/organiser/events/{event.slug}/dupliceren", data={
        "title": event.title, "starts_at": "2027-09-14T16:00", "ends_at": "2027-09-14T15:00"})
    assert response.status_code == 422 and "Het einde moet na het begin liggen." in page_text(response)


def test_closing_registration_now_and_reopening(app, organiser_client, event):
    public = app.test_client()
    message = flash_after(organiser_client.post(f"/organiser/events/{event.slug}/sluiten"), organiser_client)
    assert message == "De registratie is gesloten: nieuwe aanmeldingen zijn niet meer mogelijk."
    assert "Aanmelden is gesloten." in page_text(public.get(f"/events/{event.slug}"))
    refused = public.post(f"/events/{event.slug}", data=form_data())
    assert refused.status_code == 409
    assert "Aanmelden is voor deze bijeenkomst niet (meer) mogelijk." in page_text(refused)
    assert registrations() == 0
    dashboard = page_text(organiser_client.get(f"/organiser/events/{event.slug}"))
    assert 'id="status">gesloten<' in dashboard and "Heropenen</button>" in dashboard
    message = flash_after(organiser_client.post(f"/organiser/events/{event.slug}/heropenen"), organiser_client)
    assert message == "De registratie is weer open, tot de start van de bijeenkomst."
    assert public.post(f"/events/{event.slug}", data=form_data()).status_code == 302
    assert registrations() == 1
    assert audit_actions() == ["event.close", "event.reopen"]


def test_reopening_after_the_closing_date_opens_until_the_start(app, organiser_client, event, frozen):
    event.registration_closes_at = NOW + timedelta(days=1)
    db.session.commit()
    frozen.move_to(NOW + timedelta(days=2))
    assert "Aanmelden is gesloten." in page_text(app.test_client().get(f"/events/{event.slug}"))
    login(organiser_client)  # a session ends after 12 hours
    organiser_client.post(f"/organiser/events/{event.slug}/heropenen")
    db.session.rollback()
    assert db.session.get(Event, event.id).registration_closes_at is None
    assert app.test_client().post(f"/events/{event.slug}", data=form_data()).status_code == 302


def test_reopening_after_the_start_is_refused_in_dutch(organiser_client, event, frozen):
    organiser_client.post(f"/organiser/events/{event.slug}/sluiten")
    frozen.move_to(STARTS + timedelta(minutes=5))
    login(organiser_client)
    response = organiser_client.post(f"/organiser/events/{event.slug}/heropenen")
    assert flash_after(response, organiser_client) == "Heropenen kan alleen voor een bijeenkomst die nog moet beginnen."
    assert audit_actions() == ["event.close"]


def test_a_new_events_form_starts_with_the_roles_and_contact_from_the_settings(app, organiser_client):
    app.config.update(EVENT_DEFAULT_ROLES=["Schoolleider", "Intern begeleider"], EVENT_CONTACT_NAME="Joke Smit",
                      EVENT_CONTACT_EMAIL="joke@example.org", EVENT_CONTACT_PHONE="030 123 45 67")
    page = organiser_client.get("/organiser/events/nieuw").get_data(as_text=True)
    assert re.search(r'<textarea[^>]* name="roles"[^>]*>\s*Schoolleider\s+Intern begeleider</textarea>', page)
    assert 'value="Joke Smit"' in page and 'value="joke@example.org"' in page and 'value="030 123 45 67"' in page


def test_the_cli_creates_a_published_event_or_a_draft(app, runner):
    for slug, extra in (("open-dag", []), ("concept-dag", ["--concept"])):
        result = runner.invoke(args=["events", "create", "--slug", slug, "--title", "Dag", "--starts",
                                     "2027-06-01 16:00", "--ends", "2027-06-01 17:00", *extra])
        assert result.exit_code == 0, result.output
    public = app.test_client()
    assert public.get("/events/open-dag").status_code == 200
    assert public.get("/events/concept-dag").status_code == 404


def test_closing_before_registration_opens_shows_closed_and_can_be_undone(app, organiser_client, event, frozen):
    event.registration_opens_at = NOW + timedelta(days=3)
    db.session.commit()
    organiser_client.post(f"/organiser/events/{event.slug}/sluiten")
    dashboard = page_text(organiser_client.get(f"/organiser/events/{event.slug}"))
    assert 'id="status">gesloten<' in dashboard and "Heropenen</button>" in dashboard
    frozen.move_to(NOW + timedelta(days=4))
    assert "Aanmelden is gesloten." in page_text(app.test_client().get(f"/events/{event.slug}"))
    login(organiser_client)
    organiser_client.post(f"/organiser/events/{event.slug}/heropenen")
    assert app.test_client().post(f"/events/{event.slug}", data=form_data()).status_code == 302
