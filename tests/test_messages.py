"""Messages to a group of registrants: compose, preview, test, send now or later, follow up."""

from __future__ import annotations

import re
from html import unescape
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpers import ENDS, NOW, ORGANISER_EMAIL, ORGANISER_PASSWORD, STARTS, deliver, post_registration
from webinar.audit import AuditEntry
from webinar.dutch import AMSTERDAM
from webinar.events.services import cancel_event, create_event
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.organiser.broadcast_services import Selection, as_html, fill, save_draft, unknown_placeholders
from webinar.organiser.models import Broadcast
from webinar.registration.models import AccessToken, Registration, TokenPurpose
from webinar.registration.services import cancel_registration

BASE = "/organiser/events/samen-onderwijs-versnellen/berichten"
BODY = (
    "Beste {voornaam},\n\n"
    "Op {datum} is het zover. Deelnemen: {deelnamelink}\n"
    "Uw aanmelding: {beheerlink}\n\n"
    "Neem <b>pen & papier</b> mee."
)

PEOPLE = {
    "anna": ("Anna", "Schoolleider", "School"),
    "bert": ("Bert", "Schoolleider", "Schoolbestuur"),
    "carla": ("Carla", "Schoolbestuurder", "Schoolbestuur"),
    "dirk": ("Dirk", "HRM'er", "School"),
}


def address(key: str) -> str:
    return f"{key}@example.org"


def sign_up(client, event, *keys: str) -> None:
    for key in keys:
        first_name, role, kind = PEOPLE[key]
        response = post_registration(client, event, first_name=first_name, email=address(key), role=role,
                                     organisation_type=kind)
        assert response.status_code == 302, response.get_data(as_text=True)


def registration(key: str) -> Registration:
    db.session.rollback()
    return db.session.scalar(select(Registration).where(Registration.email == address(key)))


def settle(smtp) -> None:
    """Send the confirmations so that later assertions see only the message."""
    deliver()
    smtp.messages.clear()


def compose(client, **overrides):
    data = {"statuses": ["confirmed"], "subject": "Praktische informatie voor {voornaam}", "body": BODY}
    data.update(overrides)
    return client.post(f"{BASE}/nieuw", data=data)


def draft_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.fullmatch(rf"{BASE}/(\d+)/voorbeeld", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def send(client, broadcast_id: int, **data):
    return client.post(f"{BASE}/{broadcast_id}/versturen", data={"when": "nu", "send_at": "", **data})


def broadcast_rows() -> list[OutgoingMail]:
    db.session.rollback()
    return list(db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.kind == "broadcast").order_by(OutgoingMail.id)
    ))


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def texts(message) -> tuple[str, str]:
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))


def test_placeholders_are_replaced_by_name_only():
    values = {"voornaam": "Anna", "datum": "dinsdag"}
    text = "{voornaam} { Voornaam } {x} {voornaam.__class__} {0} {datum}"
    assert fill(text, values) == "Anna Anna {x} {voornaam.__class__} {0} dinsdag"
    assert unknown_placeholders(text) == ["{x}", "{voornaam.__class__}", "{0}"]
    assert unknown_placeholders("Geen {} of { met spaties } hier") == []


def test_plain_text_becomes_escaped_paragraphs_with_links():
    html = str(as_html('Eén <script>alert(1)</script>\nregel "twee"\n\n\nZie https://example.org/a?b=1&c=2.'))
    assert html == (
        '<p>Eén &lt;script&gt;alert(1)&lt;/script&gt;<br>\nregel &#34;twee&#34;</p>\n'
        '<p>Zie <a href="https://example.org/a?b=1&amp;c=2" style="color:#0b5394;">'
        'https://example.org/a?b=1&amp;c=2</a>.</p>'
    )


def test_preview_shows_the_message_for_a_fictional_registrant(organiser_client, event, smtp):
    sign_up(organiser_client, event, "anna")
    tokens = count(AccessToken)
    broadcast_id = draft_id(compose(organiser_client))
    page = organiser_client.get(f"{BASE}/{broadcast_id}/voorbeeld").get_data(as_text=True)
    assert "Praktische informatie voor Voorbeeld" in page
    assert "Beste Voorbeeld," in page
    assert "Op dinsdag 25 mei 2027, 16.00–17.15 uur is het zover." in page
    assert "een verzonnen deelnemer, Voorbeeld Deelnemer (voorbeeld.deelnemer@example.org)" in page
    assert "Anna" not in page and "anna@example.org" not in page  # never a real registrant's data
    assert re.search(r'id="recipient-count">1<', page)
    assert re.search(r'id="selection">Iedereen, bevestigd<', page)
    assert "Neem &lt;b&gt;pen &amp; papier&lt;/b&gt; mee." in page  # the text version
    assert f'src="{BASE}/{broadcast_id}/voorbeeld.html"' in page  # the HTML version, in a sandboxed frame
    html = organiser_client.get(f"{BASE}/{broadcast_id}/voorbeeld.html")
    assert "Beste Voorbeeld," in html.get_data(as_text=True)
    assert "Neem &lt;b&gt;pen &amp; papier&lt;/b&gt; mee." in html.get_data(as_text=True)
    assert "{voornaam}" not in page.split("<h2>Tekstversie</h2>")[1]
    assert f'value="{ORGANISER_EMAIL}"' in page  # the test goes to the organiser unless they type another
    assert count(AccessToken) == tokens  # a preview mints no personal links
    assert broadcast_rows() == []


def test_a_test_goes_to_the_typed_address_with_the_previews_text(organiser_client, event, smtp):
    sign_up(organiser_client, event, "anna")
    settle(smtp)
    broadcast_id = draft_id(compose(organiser_client))
    preview = organiser_client.get(f"{BASE}/{broadcast_id}/voorbeeld").get_data(as_text=True)
    shown = re.search(r'<pre id="preview-text" class="mail-text">(.*?)</pre>', preview, re.S).group(1)
    response = organiser_client.post(f"{BASE}/{broadcast_id}/test", data={"address": "  Collega@Example.ORG "})
    assert response.headers["Location"] == f"{BASE}/{broadcast_id}/voorbeeld"
    assert deliver().sent == 1
    [message] = smtp.messages
    assert message["To"] == "Collega@example.org"
    assert message["Subject"] == "[Test] Praktische informatie voor Voorbeeld"
    text, html = texts(message)
    assert text.startswith("TEST: zo ziet het bericht eruit.")
    # The same fictional registrant as the preview: the preview's text follows the test's notice.
    assert text.split("\n\n", 1)[1].strip() == unescape(shown).strip()
    assert "Deelnemen: http://webinar.test/j/voorbeeld" in text
    assert "Anna" not in text
    assert "<strong>Test:</strong>" in html and "Beste Voorbeeld," in html
    [row] = broadcast_rows()
    assert row.registration_id is None and row.broadcast_id == broadcast_id
    db.session.rollback()
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "message.test"
    assert entry.summary == 'test van "Praktische informatie voor {voornaam}" aan Collega@example.org'
    assert db.session.get(Broadcast, broadcast_id).recipients == 0  # still a draft


@pytest.mark.parametrize(
    ("typed", "error"),
    [("", "Vul het e-mailadres voor de test in."),
     ("geen adres", "Vul een geldig e-mailadres in, bijvoorbeeld naam@school.nl."),
     ("a@example.org\r\nBcc: iedereen@example.org", "Stuur een test naar bevat tekens die hier niet kunnen.")],
    ids=["empty", "no-address", "header-injection"],
)
def test_a_test_to_a_bad_address_is_refused_in_dutch(organiser_client, event, typed, error):
    sign_up(organiser_client, event, "anna")
    broadcast_id = draft_id(compose(organiser_client))
    entries = count(AuditEntry)
    response = organiser_client.post(f"{BASE}/{broadcast_id}/test", data={"address": typed})
    assert response.status_code == 422
    assert error in response.get_data(as_text=True)
    assert broadcast_rows() == []
    assert count(AuditEntry) == entries


def test_sending_to_a_role_reaches_exactly_those_registrants(organiser_client, client, event, smtp, frozen):
    sign_up(organiser_client, event, "anna", "bert", "carla", "dirk")
    settle(smtp)
    broadcast_id = draft_id(compose(organiser_client, roles=["Schoolleider"]))
    response = send(organiser_client, broadcast_id)
    assert response.headers["Location"] == f"{BASE}/{broadcast_id}"
    assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "message.send"
    rows = broadcast_rows()
    assert [row.dedupe_key for row in rows] == [
        f"broadcast:{broadcast_id}:{registration(key).id}" for key in ("anna", "bert")
    ]
    assert all(row.broadcast_id == broadcast_id and row.due_at == NOW for row in rows)
    assert deliver().sent == 2
    assert sorted(m["To"] for m in smtp.messages) == [address("anna"), address("bert")]

    [message] = smtp.to(address("bert"))
    assert message["Subject"] == "Praktische informatie voor Bert"
    text, html = texts(message)
    assert text.startswith("Beste Bert,\n\nOp dinsdag 25 mei 2027, 16.00–17.15 uur is het zover.")
    assert "Neem <b>pen & papier</b> mee." in text
    assert "<p>Beste Bert,</p>" in html and "&lt;b&gt;pen &amp; papier&lt;/b&gt;" in html
    join = re.search(r"Deelnemen: http://webinar\.test(/j/[A-Za-z0-9_-]{43})\n", text).group(1)
    manage = re.search(r"Uw aanmelding: http://webinar\.test(/r/[A-Za-z0-9_-]{43})\n", text).group(1)
    assert f'href="http://webinar.test{join}"' in html

    assert "Bert" in client.get(manage).get_data(as_text=True)
    assert client.get(join).status_code == 200  # too early: a page that says when it opens
    frozen.move_to(STARTS - timedelta(minutes=10))
    response = client.get(join)
    assert (response.status_code, response.headers["Location"]) == (303, event.meeting_url)


def test_the_status_page_lists_each_recipient(organiser_client, event, smtp):
    sign_up(organiser_client, event, "anna", "bert")
    settle(smtp)
    broadcast_id = draft_id(compose(organiser_client))
    send(organiser_client, broadcast_id)
    page = organiser_client.get(f"{BASE}/{broadcast_id}").get_data(as_text=True)
    assert page.count("In de wachtrij</td>") == 2
    deliver()
    page = organiser_client.get(f"{BASE}/{broadcast_id}").get_data(as_text=True)
    table = page.split('id="ontvangers"')[1]
    for name in ("Anna van den Berg", "Bert van den Berg"):
        assert re.search(rf"<td>{name}</td>\s*<td>[a-z]+@example.org</td>\s*<td>Verstuurd</td>\s*"
                         r"<td>zaterdag 1 mei 2027 om 12.00 uur</td>", table)
    listing = organiser_client.get(BASE).get_data(as_text=True)
    assert "Praktische informatie voor {voornaam}" in listing
    assert re.search(r"<td>2</td>\s*<td>0</td>\s*<td>0</td>\s*<td>2</td>", listing)  # ontvangers, ..., verstuurd


def test_a_later_send_waits_for_its_moment(organiser_client, event, smtp, frozen):
    sign_up(organiser_client, event, "anna")
    settle(smtp)
    broadcast_id = draft_id(compose(organiser_client))
    send(organiser_client, broadcast_id, when="later", send_at="2027-05-10T09:00")
    moment = datetime(2027, 5, 10, 9, 0, tzinfo=AMSTERDAM)
    [row] = broadcast_rows()
    assert row.due_at == moment
    assert "gepland op maandag 10 mei 2027 om 09.00 uur" in organiser_client.get(BASE).get_data(as_text=True)
    assert deliver().sent == 0
    frozen.move_to(moment - timedelta(minutes=1))
    assert deliver().sent == 0
    frozen.move_to(moment)
    assert deliver().sent == 1
    assert [m["To"] for m in smtp.messages] == [address("anna")]


@pytest.mark.parametrize(
    ("send_at", "error"),
    [("2027-05-01T11:59", "Kies een moment in de toekomst."),
     ("", "Vul de datum en tijd in waarop het bericht verstuurd wordt."),
     ("morgen", "Vul de datum en tijd in waarop het bericht verstuurd wordt.")],
)
def test_a_later_send_needs_a_moment_in_the_future(organiser_client, event, send_at, error):
    sign_up(organiser_client, event, "anna")
    broadcast_id = draft_id(compose(organiser_client))
    response = send(organiser_client, broadcast_id, when="later", send_at=send_at)
    assert response.status_code == 200
    assert error in response.get_data(as_text=True)
    assert broadcast_rows() == []


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"body": "Beste {naam}, zie {link} en {voornaam.__class__}."},
         "Onbekende plaatshouders: {naam}, {link}, {voornaam.__class__}. U kunt gebruiken: "
         "{voornaam}, {deelnamelink}, {beheerlink}, {datum}."),
        ({"subject": "Hallo {achternaam}"}, "Onbekende plaatshouder: {achternaam}."),
        ({"subject": "Hallo\r\nBcc: iedereen@example.org"}, "Onderwerp bevat tekens die hier niet kunnen."),
        ({"subject": "Hallo\nBcc: iedereen@example.org"}, "Onderwerp bevat tekens die hier niet kunnen."),
        ({"subject": "x" * 201}, "Het onderwerp mag hoogstens 200 tekens hebben."),
        ({"subject": "  "}, "Vul een onderwerp in."),
        ({"statuses": []}, "Kies ten minste één status: aangemeld, op de wachtlijst of beide."),
        ({"statuses": ["cancelled"]}, "Kies een status uit de lijst."),
        ({"roles": ["Schoolleider", "Koning"]}, "Kies rollen uit de lijst."),
        ({"organisation_types": ["Koninkrijk"]}, "Kies soorten organisatie uit de lijst."),
        ({"joined": "misschien"}, "Kies of de ontvangers hebben deelgenomen."),
        ({"statuses": ["waitlisted"]}, "Wie op de wachtlijst staat kan nog niet deelnemen"),
        ({"statuses": ["confirmed", "waitlisted"]}, "Wie op de wachtlijst staat kan nog niet deelnemen"),
    ],
    ids=["unknown-body", "unknown-subject", "crlf", "lf", "too-long", "empty", "no-status", "cancelled",
         "other-role", "other-type", "joined", "waitlist-join-link", "both-join-link"],
)
def test_a_bad_message_is_refused_in_dutch(organiser_client, event, overrides, error):
    sign_up(organiser_client, event, "anna")
    response = compose(organiser_client, **overrides)
    assert response.status_code == 200
    assert error in response.get_data(as_text=True)
    assert count(Broadcast) == 0
    assert broadcast_rows() == []


def test_someone_who_cancels_after_queueing_is_skipped(organiser_client, event, smtp):
    sign_up(organiser_client, event, "anna", "bert")
    settle(smtp)
    broadcast_id = draft_id(compose(organiser_client))
    send(organiser_client, broadcast_id)
    db.session.rollback()
    cancel_registration(registration("bert"))
    db.session.commit()
    result = deliver()
    assert [m["To"] for m in smtp.messages if m["Subject"].startswith("Praktische")] == [address("anna")]
    skipped = [row for row in broadcast_rows() if row.status == MailStatus.skipped]
    assert [(row.recipient, row.last_error) for row in skipped] == [
        (address("bert"), "niet verstuurd: de aanmelding heeft een andere status")
    ]
    assert result.skipped == 1
    page = organiser_client.get(f"{BASE}/{broadcast_id}").get_data(as_text=True)
    assert "Overgeslagen" in page and "niet verstuurd: de aanmelding heeft een andere status" in page


def test_a_message_planned_before_the_event_is_cancelled_is_skipped(organiser_client, event, smtp, frozen):
    sign_up(organiser_client, event, "anna")
    settle(smtp)
    planned = draft_id(compose(organiser_client, subject="Tot morgen!"))
    send(organiser_client, planned, when="later", send_at="2027-05-24T10:00")
    frozen.move_to(NOW + timedelta(minutes=1))
    db.session.rollback()
    cancel_event(event)
    db.session.commit()
    frozen.move_to(NOW + timedelta(minutes=2))
    after = draft_id(compose(organiser_client, subject="Nieuwe datum volgt"))
    send(organiser_client, after)
    frozen.move_to(datetime(2027, 5, 24, 10, 0, tzinfo=AMSTERDAM))
    deliver()
    subjects = [m["Subject"] for m in smtp.messages]
    assert "Nieuwe datum volgt" in subjects and "Tot morgen!" not in subjects


def test_the_waiting_list_gets_its_own_message(organiser_client, event, smtp):
    event.capacity = 1
    db.session.commit()
    sign_up(organiser_client, event, "anna", "bert")
    settle(smtp)
    body = "Beste {voornaam}, u staat nog op de wachtlijst voor {datum}. Afmelden: {beheerlink}"
    broadcast_id = draft_id(compose(organiser_client, statuses=["waitlisted"], body=body))
    page = organiser_client.get(f"{BASE}/{broadcast_id}/voorbeeld").get_data(as_text=True)
    assert "Beste Voorbeeld" in page and 'id="recipient-count">1<' in page
    assert "U ontvangt dit bericht omdat u op de wachtlijst staat" in page
    send(organiser_client, broadcast_id)
    assert deliver().sent == 1
    [message] = smtp.messages
    assert message["To"] == address("bert")
    text, _ = texts(message)
    assert "U ontvangt dit bericht omdat u op de wachtlijst staat" in text
    assert not db.session.scalar(select(func.count()).where(AccessToken.purpose == TokenPurpose.join))


def test_joined_and_not_joined(organiser_client, client, event, smtp, frozen):
    sign_up(organiser_client, event, "anna", "bert")
    settle(smtp)
    broadcast_id = draft_id(compose(organiser_client, body="Link: {deelnamelink}"))
    send(organiser_client, broadcast_id)
    deliver()
    [anna_mail] = smtp.to(address("anna"))
    join = re.search(r"/j/[A-Za-z0-9_-]{43}", texts(anna_mail)[0]).group(0)
    frozen.move_to(STARTS)
    client.get(join)
    frozen.move_to(ENDS + timedelta(minutes=5))
    organiser_client.post("/organiser/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    smtp.messages.clear()
    for joined, who in (("ja", "anna"), ("nee", "bert")):
        broadcast_id = draft_id(compose(organiser_client, joined=joined, subject=f"Deelgenomen: {joined}"))
        page = organiser_client.get(f"{BASE}/{broadcast_id}/voorbeeld").get_data(as_text=True)
        assert 'id="recipient-count">1<' in page
        send(organiser_client, broadcast_id)
        deliver()
        assert [m["To"] for m in smtp.messages if m["Subject"] == f"Deelgenomen: {joined}"] == [address(who)]


def test_an_empty_group_cannot_be_sent_to(organiser_client, event):
    broadcast_id = draft_id(compose(organiser_client, statuses=["waitlisted"], body="Hallo {voornaam}"))
    page = organiser_client.get(f"{BASE}/{broadcast_id}/voorbeeld").get_data(as_text=True)
    assert 'id="no-recipients"' in page and 'id="recipient-count">0<' in page
    response = send(organiser_client, broadcast_id)
    assert "Er is niemand in deze groep." in response.get_data(as_text=True)
    assert broadcast_rows() == []
    assert db.session.get(Broadcast, broadcast_id).recipients == 0


def test_a_sent_message_is_fixed(organiser_client, event, smtp):
    sign_up(organiser_client, event, "anna")
    broadcast_id = draft_id(compose(organiser_client))
    send(organiser_client, broadcast_id)
    assert organiser_client.get(f"{BASE}/{broadcast_id}/bewerken").status_code == 409
    assert send(organiser_client, broadcast_id).status_code == 409
    assert organiser_client.get(f"{BASE}/{broadcast_id}/voorbeeld").headers["Location"] == f"{BASE}/{broadcast_id}"
    assert len(broadcast_rows()) == 1


def test_a_draft_can_be_changed(organiser_client, event):
    sign_up(organiser_client, event, "anna")
    broadcast_id = draft_id(compose(organiser_client))
    page = organiser_client.get(f"{BASE}/{broadcast_id}/bewerken").get_data(as_text=True)
    assert 'value="Praktische informatie voor {voornaam}"' in page
    response = organiser_client.post(f"{BASE}/{broadcast_id}/bewerken",
                                     data={"statuses": "confirmed", "subject": "Nieuw onderwerp", "body": "Tekst"})
    assert draft_id(response) == broadcast_id
    assert "Nieuw onderwerp" in organiser_client.get(response.headers["Location"]).get_data(as_text=True)


def test_another_events_message_is_not_found(organiser_client, event, organiser):
    other = create_event(slug="ander", title="Ander", starts_at=STARTS, ends_at=ENDS)
    broadcast = save_draft(other, organiser, selection=Selection(), subject="x", body="y")
    db.session.commit()
    assert organiser_client.get(f"{BASE}/{broadcast.id}/voorbeeld").status_code == 404
    assert organiser_client.post(f"{BASE}/{broadcast.id}/versturen", data={"when": "nu"}).status_code == 404


def _anonymous_requests(broadcast_id: int) -> list[tuple[str, str, dict]]:
    return [
        ("GET", BASE, {}),
        ("GET", f"{BASE}/nieuw", {}),
        ("POST", f"{BASE}/nieuw", {"statuses": "confirmed", "subject": "x", "body": "y"}),
        ("GET", f"{BASE}/{broadcast_id}", {}),
        ("GET", f"{BASE}/{broadcast_id}/voorbeeld", {}),
        ("GET", f"{BASE}/{broadcast_id}/bewerken", {}),
        ("POST", f"{BASE}/{broadcast_id}/bewerken", {"statuses": "confirmed", "subject": "x", "body": "y"}),
        ("POST", f"{BASE}/{broadcast_id}/test", {"address": "iemand@example.org"}),
        ("POST", f"{BASE}/{broadcast_id}/versturen", {"when": "nu"}),
    ]


def test_every_message_page_refuses_anonymous_users(client, event, organiser):
    sign_up(client, event, "anna")
    broadcast = save_draft(event, organiser, selection=Selection(), subject="Onderwerp", body="Tekst")
    db.session.commit()
    mails = count(OutgoingMail)
    for method, path, data in _anonymous_requests(broadcast.id):
        response = client.open(path, method=method, data=data)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/organiser/login"), path
    assert count(OutgoingMail) == mails
    assert count(Broadcast) == 1
    db.session.rollback()
    assert (broadcast.subject, broadcast.recipients) == ("Onderwerp", 0)



def test_roles_statuses_and_organisation_types_combine(organiser_client, event, smtp):
    event.capacity = 3
    db.session.commit()
    sign_up(organiser_client, event, "anna", "bert", "dirk", "carla")  # carla: on the waiting list
    settle(smtp)
    message = {"roles": ["Schoolleider", "Schoolbestuurder"], "statuses": ["confirmed", "waitlisted"],
               "organisation_types": ["Schoolbestuur"], "body": "Beste {voornaam}, tot dan."}
    broadcast_id = draft_id(compose(organiser_client, **message))
    page = organiser_client.get(f"{BASE}/{broadcast_id}/voorbeeld").get_data(as_text=True)
    assert 'id="recipient-count">2<' in page  # bert (confirmed) and carla (waiting); not anna (a school)
    assert ('id="selection">Schoolbestuurders en schoolleiders, bevestigd of op de wachtlijst, '
            'van schoolbesturen<') in page
    send(organiser_client, broadcast_id)
    deliver()
    assert sorted(m["To"] for m in smtp.messages) == [address("bert"), address("carla")]
    [bert], [carla] = smtp.to(address("bert")), smtp.to(address("carla"))
    assert "omdat u bent aangemeld" in texts(bert)[0]  # each reader's own status
    assert "omdat u op de wachtlijst staat" in texts(carla)[0]


def test_the_recipients_are_counted_before_saving_and_the_sent_message_says_to_whom(organiser_client, event, smtp):
    sign_up(organiser_client, event, "anna", "bert", "carla", "dirk")
    settle(smtp)
    selection = {"roles": ["Schoolbestuurder", "Schoolleider"], "statuses": ["confirmed"]}
    counted = organiser_client.post(f"{BASE}/nieuw", data={**selection, "subject": "", "body": "", "actie": "tellen"})
    assert counted.status_code == 200
    page = counted.get_data(as_text=True)
    assert re.search(r'id="counted"[^>]*>Schoolbestuurders en schoolleiders, bevestigd, 3 ontvangers<', page)
    assert "Vul een onderwerp in." not in page  # counting asks nothing of the text yet
    assert 'value="Schoolleider" checked' in page or re.search(r'checked[^>]*value="Schoolleider"', page)
    assert count(Broadcast) == 0
    refused = organiser_client.post(f"{BASE}/nieuw", data={"statuses": [], "actie": "tellen"})
    assert "Kies ten minste één status" in refused.get_data(as_text=True) and 'id="counted"' not in refused.get_data(as_text=True)

    broadcast_id = draft_id(compose(organiser_client, **selection, subject="Tot dinsdag"))
    send(organiser_client, broadcast_id)
    expected = "Schoolbestuurders en schoolleiders, bevestigd, 3 ontvangers"
    listing = organiser_client.get(BASE).get_data(as_text=True)
    assert re.search(rf"Tot dinsdag</a></td>\s*<td>{expected}</td>", listing)
    detail = organiser_client.get(f"{BASE}/{broadcast_id}").get_data(as_text=True)
    assert f"<dd>{expected}</dd>" in detail
    db.session.rollback()
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.summary) == ("message.send", f'"Tot dinsdag" aan {expected}, nu')
    assert deliver().sent == 3


def test_a_draft_shows_its_selection_when_changed_again(organiser_client, event):
    sign_up(organiser_client, event, "anna")
    broadcast_id = draft_id(compose(organiser_client, roles=["HRM'er"], organisation_types=["Gemeente"], joined="nee"))
    page = organiser_client.get(f"{BASE}/{broadcast_id}/bewerken").get_data(as_text=True)
    checked = set(re.findall(r'<input checked id="[^"]+" name="(\w+)" type="(?:checkbox|radio)" value="([^"]*)"', page))
    assert checked == {("roles", "HRM&#39;er"), ("statuses", "confirmed"), ("organisation_types", "Gemeente"),
                       ("joined", "nee")}


def test_someone_promoted_from_the_waiting_list_still_gets_a_message_to_both(organiser_client, event, smtp):
    event.capacity = 1
    db.session.commit()
    sign_up(organiser_client, event, "anna", "bert")
    settle(smtp)
    broadcast_id = draft_id(compose(organiser_client, statuses=["confirmed", "waitlisted"], body="Hallo {voornaam}"))
    send(organiser_client, broadcast_id)
    cancel_registration(registration("anna"))  # bert moves up from the waiting list
    db.session.commit()
    deliver()
    assert [m["To"] for m in smtp.messages if m["Subject"].startswith("Praktische")] == [address("bert")]
