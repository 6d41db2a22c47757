"""Registering, the waiting list, and managing a registration through its link."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from sqlalchemy import func, select

from helpers import deliver, form_data, post_registration
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.registration.models import AccessToken, Registration, RegistrationStatus

EVENT_URL = "/events/samen-onderwijs-versnellen"


def registrations() -> list[Registration]:
    return list(db.session.scalars(select(Registration).order_by(Registration.id)))


def outbox() -> list[OutgoingMail]:
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def manage_link(message) -> str:
    """The /r/<token> path from a received e-mail."""
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://webinar\.test(/r/[A-Za-z0-9_-]+)", text).group(1)


def test_registering_stores_a_confirmed_registration_and_queues_one_mail(client, event, smtp):
    response = post_registration(client, event)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{EVENT_URL}/aangemeld"
    [registration] = registrations()
    assert registration.status == RegistrationStatus.confirmed
    assert registration.full_name == "Anna van den Berg"
    assert [mail.kind for mail in outbox()] == ["confirmation"]
    assert smtp.messages == []  # the request itself sends nothing
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "kijk in uw mailbox" in page
    assert "persoonlijke link om deel te nemen" in page


def test_email_is_normalised_and_unique_per_event_whatever_the_case(client, event, smtp):
    first = post_registration(client, event, email="  Anna.vandenBerg@EXAMPLE.org ")
    [registration] = registrations()
    assert registration.email == "Anna.vandenBerg@example.org"
    assert registration.email_normalized == "anna.vandenberg@example.org"
    again = post_registration(client, event, email="ANNA.VANDENBERG@example.org", first_name="Ander")
    assert again.status_code == first.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]  # reveals nothing
    [registration] = registrations()
    assert registration.first_name == "Anna"  # nothing changed
    assert [mail.kind for mail in outbox()] == ["confirmation", "manage_link"]


def test_registering_twice_mails_the_manage_link_again(client, event, smtp):
    post_registration(client, event)
    post_registration(client, event)
    post_registration(client, event)  # within the hour: no third mail
    deliver()
    kinds = [m["Subject"].strip() for m in smtp.to("anna.vandenberg@example.org")]
    assert kinds == [
        "Aanmelding bevestigd: Samen onderwijs versnellen",
        "Uw aanmelding voor Samen onderwijs versnellen",
    ]
    first, second = smtp.messages
    assert client.get(manage_link(first)).status_code == 200
    assert client.get(manage_link(second)).status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "", "Vul uw voornaam in."),
        ("last_name", "   ", "Vul uw achternaam in."),
        ("email", "", "Vul uw e-mailadres in."),
        ("email", "anna@", "Vul een geldig e-mailadres in, bijvoorbeeld naam@school.nl."),
        ("email", "anna example.org", "Vul een geldig e-mailadres in, bijvoorbeeld naam@school.nl."),
        ("organisation", "", "Vul de naam van uw school, bestuur of organisatie in."),
        ("role", None, "Kies uw rol."),
        ("role", "Koning", "Kies uw rol."),
        ("role_other", "", "Omschrijf uw rol."),
        ("privacy", None, "Geef aan dat u de privacyverklaring hebt gelezen."),
        ("first_name", "A" * 101, "Voornaam mag hoogstens 100 tekens hebben."),
        ("tussenvoegsel", "v" * 31, "Tussenvoegsel mag hoogstens 30 tekens hebben."),
        ("organisation", "O" * 201, "School, bestuur of organisatie mag hoogstens 200 tekens hebben."),
        ("question", "?" * 2001, "Uw vraag mag hoogstens 2000 tekens hebben."),
        ("email", "a" * 250 + "@example.org", "Dit e-mailadres is te lang."),
        ("last_name", "Berg\r\nBcc: x@example.org", "Achternaam bevat tekens die hier niet kunnen."),
        ("first_name", "Anna\x00", "Voornaam bevat tekens die hier niet kunnen."),
    ],
)
def test_bad_input_gets_a_dutch_message_and_stores_nothing(client, event, field, value, message):
    overrides = {field: value}
    if field == "role_other":
        overrides["role"] = "Anders"
    response = post_registration(client, event, **overrides)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="foutmeldingen"' in page
    assert message in page
    assert registrations() == [] and outbox() == []


def test_error_summary_links_to_the_fields(client, event):
    page = post_registration(client, event, first_name="", role=None).get_data(as_text=True)
    assert '<a href="#first_name">Vul uw voornaam in.</a>' in page
    assert '<a href="#role-0">Kies uw rol.</a>' in page
    assert 'aria-describedby="first_name-error"' in page
    assert 'aria-invalid="true"' in page
    # What the person typed stays in the form.
    assert 'value="Berg"' in page


def test_every_field_error_starts_with_a_hidden_fout_for_screen_readers(client, event):
    page = post_registration(client, event, first_name="", role=None, privacy=None).get_data(as_text=True)
    errors = re.findall(r'<p class="field-error" id="([a-z_]+)-error">(.*?)</p>', page)
    assert {field for field, _ in errors} == {"first_name", "role", "privacy"}
    for field, text in errors:
        assert text.startswith('<span class="visually-hidden">Fout:</span> '), (field, text)
    assert 'aria-describedby="privacy-error"' in page


def test_other_role_keeps_its_description(client, event):
    post_registration(client, event, role="Anders", role_other="Intern begeleider")
    [registration] = registrations()
    assert registration.role_label == "Anders: Intern begeleider"


def test_dutch_names_and_unicode_are_kept(client, event):
    post_registration(client, event, first_name="Ëlla", tussenvoegsel="'t", last_name="Hart",
                      organisation="Sint-Jozefschool 🌱")
    [registration] = registrations()
    assert registration.full_name == "Ëlla 't Hart"
    assert registration.organisation == "Sint-Jozefschool 🌱"


def test_honeypot_pretends_success_and_stores_nothing(client, event):
    response = post_registration(client, event, website="http://spam.example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{EVENT_URL}/aangemeld"
    assert registrations() == [] and outbox() == []


def test_registration_after_the_start_is_refused(client, event, frozen):
    frozen.move_to(event.starts_at)
    response = post_registration(client, event)
    assert response.status_code == 409
    assert "Aanmelden is voor deze bijeenkomst niet (meer) mogelijk." in response.get_data(as_text=True)
    assert registrations() == [] and outbox() == []


def test_full_event_puts_people_on_the_waiting_list(client, event):
    event.capacity = 1
    db.session.commit()
    post_registration(client, event, email="eerste@example.org")
    response = post_registration(client, event, email="tweede@example.org")
    assert response.headers["Location"] == f"{EVENT_URL}/aangemeld?wachtlijst=1"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "U staat op de wachtlijst" in page
    assert [r.status for r in registrations()] == [
        RegistrationStatus.confirmed, RegistrationStatus.waitlisted,
    ]
    assert [m.kind for m in outbox()] == ["confirmation", "waitlisted"]


def test_cancelling_promotes_the_first_waiting_person_and_mails_them(client, event, smtp):
    event.capacity = 1
    db.session.commit()
    for address in ("eerste@example.org", "tweede@example.org", "derde@example.org"):
        post_registration(client, event, email=address)
    deliver()
    link = manage_link(smtp.to("eerste@example.org")[0])
    assert client.post(f"{link}/afmelden").status_code == 302
    statuses = {r.email: r.status for r in registrations()}
    assert statuses == {
        "eerste@example.org": RegistrationStatus.cancelled,
        "tweede@example.org": RegistrationStatus.confirmed,
        "derde@example.org": RegistrationStatus.waitlisted,
    }
    deliver()
    [_, promoted] = smtp.to("tweede@example.org")
    # Long subjects are folded onto a continuation line; clients unfold them.
    assert promoted["Subject"].strip() == "Er is een plaats vrij: u bent aangemeld voor Samen onderwijs versnellen"
    assert any(part.get_content_type() == "text/calendar" for part in promoted.iter_attachments())
    assert smtp.to("eerste@example.org")[-1]["Subject"].strip() == "Afmelding bevestigd: Samen onderwijs versnellen"
    assert len(smtp.to("derde@example.org")) == 1  # only the waiting-list notice


def test_manage_page_shows_and_changes_details(client, event, smtp):
    post_registration(client, event)
    deliver()
    link = manage_link(smtp.messages[0])
    page = client.get(link).get_data(as_text=True)
    assert "Status: <strong>Aangemeld</strong>" in page
    assert "ontvangt u per e-mail op dinsdag 25 mei 2027 om 15.30 uur" in page
    assert 'value="OBS De Linde"' in page
    response = client.post(link, data=form_data(organisation="Stichting Primo", role="HRM'er"))
    assert response.status_code == 302
    [registration] = registrations()
    assert (registration.organisation, registration.role) == ("Stichting Primo", "HRM'er")
    assert "Uw gegevens zijn opgeslagen." in client.get(link).get_data(as_text=True)


def test_changing_to_an_address_already_registered_is_refused(client, event, smtp):
    post_registration(client, event, email="bezet@example.org")
    post_registration(client, event)
    deliver()
    link = manage_link(smtp.to("anna.vandenberg@example.org")[0])
    response = client.post(link, data=form_data(email="BEZET@example.org"))
    assert response.status_code == 422
    assert "Dit e-mailadres is al aangemeld voor deze bijeenkomst." in response.get_data(as_text=True)
    assert sorted(r.email for r in registrations()) == ["anna.vandenberg@example.org", "bezet@example.org"]


def test_cancel_asks_first_and_a_get_changes_nothing(client, event, smtp):
    post_registration(client, event)
    deliver()
    link = manage_link(smtp.messages[0])
    page = client.get(f"{link}/afmelden").get_data(as_text=True)
    assert "Weet u zeker dat u zich wilt afmelden" in page
    assert registrations()[0].status == RegistrationStatus.confirmed
    client.post(f"{link}/afmelden")
    assert registrations()[0].status == RegistrationStatus.cancelled
    assert "Status: <strong>Afgemeld</strong>" in client.get(link).get_data(as_text=True)
    client.post(f"{link}/afmelden")  # twice: still one cancellation mail
    assert [m.kind for m in outbox()] == ["confirmation", "cancelled"]


def test_registering_again_after_cancelling_reactivates(client, event, smtp):
    post_registration(client, event)
    deliver()
    client.post(f"{manage_link(smtp.messages[0])}/afmelden")
    post_registration(client, event, organisation="Nieuwe school")
    [registration] = registrations()
    assert registration.status == RegistrationStatus.confirmed
    assert registration.organisation == "Nieuwe school"
    assert [m.kind for m in outbox()] == ["confirmation", "cancelled", "confirmation"]


def test_download_my_data(client, event, smtp):
    post_registration(client, event, question="Hoe betrekken we de gemeente?", brin="12AB",
                      board_name="Stichting Lindeboom")
    deliver()
    link = manage_link(smtp.messages[0])
    page = client.get(link).get_data(as_text=True)
    assert (f'<a href="{link}/gegevens.json" download aria-describedby="download-uitleg">'
            "Mijn gegevens downloaden</a>") in page
    assert "met alles wat we van u bewaren" in page
    response = client.get(f"{link}/gegevens.json")
    assert response.headers["Content-Disposition"] == 'attachment; filename="mijn-gegevens.json"'
    data = json.loads(response.data)
    assert data["aanmelding"]["e-mailadres"] == "anna.vandenberg@example.org"
    assert data["aanmelding"]["vraag"] == "Hoe betrekken we de gemeente?"
    assert [data["aanmelding"][name] for name in ("soort_organisatie", "brin", "bestuur")] == [
        "School", "12AB", "Stichting Lindeboom"]
    assert data["e-mails"][0]["soort"] == "confirmation"


def test_only_the_hash_of_a_token_is_stored(client, event, smtp):
    post_registration(client, event)
    deliver()
    token = manage_link(smtp.messages[0]).removeprefix("/r/")
    assert len(token) >= 43  # 32 random bytes, base64url
    [stored] = db.session.scalars(select(AccessToken)).all()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            assert all(token not in str(value) for value in row)


@pytest.mark.parametrize("path", ["/r/onzin", "/r/" + "x" * 43, "/r/" + "x" * 500, "/r/onzin/afmelden"])
def test_unknown_tokens_get_a_clear_page(client, event, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Deze link werkt niet" in response.get_data(as_text=True)


def test_a_post_to_an_unknown_token_changes_nothing(client, event):
    post_registration(client, event)
    assert client.post("/r/onzin/afmelden").status_code == 404
    assert registrations()[0].status == RegistrationStatus.confirmed


def test_counts_stay_consistent(client, event):
    for n in range(5):
        post_registration(client, event, email=f"persoon{n}@example.org")
    count = db.session.scalar(select(func.count(Registration.id)))
    assert count == 5
    assert "Nog 95 plaatsen vrij" in client.get(EVENT_URL).get_data(as_text=True)
