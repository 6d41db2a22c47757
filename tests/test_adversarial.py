"""Hostile input: markup in every registrant field, header injection towards e-mail, calendar files.

What a person checking by hand would look at: the payload shows up as the
literal text they typed, no element or attribute of theirs ends up in the page,
and a message goes to its one recipient with the headers it always has.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from helpers import ENDS, STARTS, deliver, form_data, post_registration
from test_messages import compose, draft_id
from test_registration import manage_link
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.registration.models import Registration
from webinar.registration.services import Details, register

ORGANISER_EVENT = "/organiser/events/samen-onderwijs-versnellen"

#: one payload per free-text field, each short enough for its field's limit
XSS = {
    "first_name": '<script>alert("voornaam")</script>',
    "tussenvoegsel": '"><svg onload=alert(2)>',
    "last_name": "'><img src=x onerror=alert(3)>",
    "organisation": '</dd><iframe src="javascript:alert(4)"></iframe>',
    "role_other": '<a href="javascript:alert(5)">rol</a>',
    "question": '</textarea><script src="https://evil.example.org/x.js"></script>{{ 7*7 }}',
}


class Page(HTMLParser):
    """The elements and attributes in a page, and its text as a reader sees it."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text_parts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def injected(self) -> list[str]:
        """Anything a payload above could have added if it were not escaped."""
        found = []
        for tag, attrs in self.tags:
            if tag == "img" or (tag == "script" and not attrs.get("src")):
                found.append(tag)
            for name, value in attrs.items():
                if name.startswith("on"):
                    found.append(f"{tag} with an event handler")
                # A form field may hold the payload as its (escaped) value; no other attribute may.
                if name != "value" and any(mark in (value or "") for mark in ("alert(", "javascript:", "evil.")):
                    found.append(f"{tag} {name}={value}")
        return found


def hostile_registration(client, event):
    response = post_registration(client, event, role="Anders", email="hostile@example.org", **XSS)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(select(Registration).where(Registration.email == "hostile@example.org"))


def test_the_check_finds_unescaped_markup():
    for field, payload in XSS.items():
        assert Page(f"<p>{payload}</p>").injected() != [], field


def test_markup_in_every_field_is_shown_as_text_to_the_registrant(client, event, smtp):
    hostile_registration(client, event)
    deliver()
    [message] = smtp.messages
    page = Page(client.get(manage_link(message)).get_data(as_text=True))
    assert page.injected() == []
    for field, payload in XSS.items():
        # Form fields carry the value in an attribute, the question in the textarea.
        values = [attrs.get("value") for _, attrs in page.tags] + [page.text]
        assert any(payload in (value or "") for value in values), field
    html = Page(message.get_body(("html",)).get_content())
    assert html.injected() == []
    assert XSS["first_name"] in html.text


@pytest.mark.parametrize("path", ["", "/aanmeldingen", "/aanmeldingen/{id}", "/aanmeldingen/{id}/bewerken",
                                  "/aanwezigheid", "/berichten/{broadcast}/voorbeeld"])
def test_markup_in_every_field_is_shown_as_text_to_organisers(organiser_client, event, path):
    registration = hostile_registration(organiser_client, event)
    broadcast = draft_id(compose(organiser_client))
    response = organiser_client.get(ORGANISER_EVENT + path.format(id=registration.id, broadcast=broadcast))
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.injected() == []
    shown = XSS["first_name"] in page.text + str([attrs.get("value") for _, attrs in page.tags])
    # The dashboard shows counts, the message preview a fictional registrant: no names there.
    assert shown == (path not in ("", "/berichten/{broadcast}/voorbeeld"))


def test_the_detail_page_shows_every_payload_literally(organiser_client, event):
    registration = hostile_registration(organiser_client, event)
    page = Page(organiser_client.get(f"{ORGANISER_EVENT}/aanmeldingen/{registration.id}").get_data(as_text=True))
    for field, payload in XSS.items():
        assert payload in page.text, field
    assert "49" not in page.text  # no template evaluated the question


def test_the_mail_preview_frame_escapes_the_message(organiser_client, event):
    hostile_registration(organiser_client, event)
    broadcast = draft_id(compose(organiser_client, body=f"Beste {{voornaam}}, {XSS['first_name']} {XSS['last_name']}"))
    page = Page(organiser_client.get(f"{ORGANISER_EVENT}/berichten/{broadcast}/voorbeeld.html").get_data(as_text=True))
    assert page.injected() == []
    assert f"Beste Voorbeeld, {XSS['first_name']} {XSS['last_name']}" in page.text


@pytest.mark.parametrize("field, payload", [
    ("email", '"><script>alert(1)</script>@example.org'),
    ("role", '<script>alert("rol")</script>'),
    ("organisation_type", '"><svg onload=alert(1)>'),
    ("first_name", "<b>" + "x" * 200 + "</b>"),  # too long: refused, and shown back escaped
])
def test_refused_markup_is_shown_back_escaped_and_stores_nothing(client, event, field, payload):
    response = post_registration(client, event, **{field: payload})
    assert response.status_code == 422
    assert Page(response.get_data(as_text=True)).injected() == []
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


# -- header injection ----------------------------------------------------------

CRLF = [
    "Anna\r\nBcc: indringer@example.org",
    "Anna\nSubject: gekaapt",
    "Anna\rX-Injected: ja",
    "Anna\u2028Bcc: indringer@example.org",
    "Anna%0d%0aBcc: indringer@example.org",  # already encoded: harmless text
]
ONE_LINE_FIELDS = ["first_name", "tussenvoegsel", "last_name", "email", "organisation", "role_other"]


def headers_of(message) -> set[str]:
    return {name.lower() for name in message.keys()}


@pytest.mark.parametrize("payload", CRLF[:4])
@pytest.mark.parametrize("field", ONE_LINE_FIELDS)
def test_line_breaks_in_one_line_fields_are_refused(client, event, field, payload):
    value = payload if field != "email" else payload.replace("Anna", "anna@example.org")
    response = post_registration(client, event, **{"role": "Anders", "role_other": "Adviseur", field: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "bevat tekens die hier niet kunnen" in page or "hoogstens" in page or "geldig e-mailadres" in page
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0


def test_text_that_reaches_mail_adds_no_headers_or_recipients(client, event, smtp):
    post_registration(client, event, email="gewoon@example.org")
    post_registration(client, event, first_name=CRLF[4], question=CRLF[0] + "\r\n\r\nBcc: x@example.org")
    assert deliver().sent == 2
    normal, hostile = smtp.messages
    assert headers_of(hostile) == headers_of(normal)
    assert [rcpts for _, rcpts in smtp.envelopes] == [["gewoon@example.org"], ["anna.vandenberg@example.org"]]
    assert CRLF[4] in hostile.get_body(("plain",)).get_content()


def test_below_the_forms_the_mail_layer_still_adds_no_headers(app, event, organiser_client, smtp):
    """Data that never passed a form (an import, an old row): the worker sends no injected header."""
    for n, payload in enumerate(CRLF[:4]):
        register(event, Details(first_name=payload, tussenvoegsel="", last_name="Berg",
                                email=f"persoon{n}@example.org", organisation="OBS", role="Schoolleider"))
    db.session.commit()
    broadcast = draft_id(compose(organiser_client, subject="Hallo {voornaam}"))
    organiser_client.post(f"{ORGANISER_EVENT}/berichten/{broadcast}/versturen", data={"when": "nu", "send_at": ""})
    result = deliver()
    assert result.connection_error == ""
    # Each person: a confirmation and the message, each to them alone.
    assert sorted(smtp.envelopes) == sorted(("bijeenkomsten@example.org", [f"persoon{n}@example.org"])
                                            for n in range(4) for _ in range(2))
    for message in smtp.messages:
        assert headers_of(message) <= {"from", "reply-to", "to", "subject", "date", "message-id", "auto-submitted",
                                       "x-auto-response-suppress", "precedence", "mime-version", "content-type",
                                       "content-transfer-encoding"}
        assert "gekaapt" not in str(message["Subject"]) or "\n" not in str(message["Subject"])
    db.session.rollback()
    statuses = set(db.session.scalars(select(OutgoingMail.status)))
    assert MailStatus.sending not in statuses and MailStatus.pending not in statuses


def test_organiser_subject_and_event_title_refuse_line_breaks(organiser_client, event):
    response = compose(organiser_client, subject="Hallo\r\nBcc: indringer@example.org")
    assert response.status_code == 200
    assert "bevat tekens die hier niet kunnen" in response.get_data(as_text=True)
    edit = organiser_client.get(f"{ORGANISER_EVENT}/bewerken")
    assert edit.status_code == 200


# -- calendar files ------------------------------------------------------------

HOSTILE_ICS = (
    "Titel\r\nATTENDEE:mailto:indringer@example.org\r\nEND:VEVENT\r\n"
    "BEGIN:VALARM\r\nACTION:EMAIL\r\nEND:VALARM; met, komma\\ en ;"
)


def event_properties(ics: bytes) -> tuple[list[str], dict]:
    calendar = Calendar.from_ical(ics)
    names = [component.name for component in calendar.walk()]
    [entry] = calendar.walk("VEVENT")
    return names, entry


def test_ics_round_trips_hostile_text_without_adding_properties(client, app):
    create_event(slug="gewoon", title="Gewoon", summary="Gewoon.", starts_at=STARTS, ends_at=ENDS)
    create_event(slug="vijandig", title=HOSTILE_ICS, summary=HOSTILE_ICS, starts_at=STARTS, ends_at=ENDS)
    db.session.commit()
    plain, hostile = (client.get(f"/events/{slug}.ics") for slug in ("gewoon", "vijandig"))
    names, normal_entry = event_properties(plain.data)
    hostile_names, entry = event_properties(hostile.data)
    assert hostile_names == names  # no extra VEVENT or VALARM
    assert sorted(entry.keys()) == sorted(normal_entry.keys())  # no ATTENDEE or anything else
    text = HOSTILE_ICS.replace("\r\n", "\n")  # the format's own line break
    assert str(entry["SUMMARY"]) == text
    assert text in str(entry["DESCRIPTION"])
    unfolded = hostile.data.replace(b"\r\n ", b"")
    assert not any(line.startswith(b"ATTENDEE") for line in unfolded.split(b"\r\n"))


def test_an_event_title_with_a_line_break_adds_no_header(client, app, smtp):
    """The organiser form refuses it, but `flask events create --title` takes any text."""
    create_event(slug="titel", title="Titel\r\nBcc: indringer@example.org", starts_at=STARTS, ends_at=ENDS)
    db.session.commit()
    assert client.post("/events/titel", data=form_data()).status_code == 302
    result = deliver()
    assert (result.sent, result.connection_error) == (1, "")
    [message] = smtp.messages
    assert smtp.envelopes == [("bijeenkomsten@example.org", ["anna.vandenberg@example.org"])]
    assert "bcc" not in headers_of(message)
    assert message["Subject"] == "Aanmelding bevestigd: Titel Bcc: indringer@example.org"


def test_an_address_with_a_line_break_fails_alone_and_the_batch_goes_on(client, event, smtp):
    """Were one ever stored (forms refuse it), the row fails with a reason; the others are sent."""
    post_registration(client, event, email="eerste@example.org")
    register(event, Details(first_name="Bert", tussenvoegsel="", last_name="Jansen", organisation="OBS",
                            email="bert@example.org\r\nBcc: indringer@example.org", role="Schoolleider"))
    db.session.commit()
    post_registration(client, event, email="derde@example.org")
    result = deliver()
    assert (result.sent, result.failed, result.connection_error) == (2, 1, "")
    assert sorted(rcpts for _, rcpts in smtp.envelopes) == [["derde@example.org"], ["eerste@example.org"]]
    db.session.rollback()
    failed = db.session.scalar(select(OutgoingMail).where(OutgoingMail.status == MailStatus.failed))
    assert failed.last_error == "niet verstuurd: regeleinde in adres of onderwerp"
    assert deliver().claimed == 0  # not tried again and again
