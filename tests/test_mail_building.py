"""The worker's shortcuts give the very bytes the long way gives.

The worker cuts each message from a skeleton the email package generated once
(`to_bytes`), and renders a registrant's bodies from a stencil rendered once
per kind and event. Both must give exactly what building every message with
the email package (`build`) and rendering every template (`compose`) give.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from email import message_from_bytes, policy
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import ENDS, NOW, STARTS, person, read_with_mailparser
from webinar.extensions import db
from webinar.links import external_url, token_url
from webinar.mailing.mime import Attachment, Calendar, Email, build, to_bytes
from webinar.registration.models import RegistrationStatus
from webinar.registration.notifications import _KINDS, PersonalFile, registrant_message

SENDERS = ["Samen onderwijs versnellen <bijeenkomsten@example.org>", "Zoë van 't Hof <zoë@example.nl>",
           "bijeenkomsten@example.org"]
RECIPIENTS = ["anna@example.org", "a.b+c_d-e@sub.example.org", "zoë.de.wït@example.nl", "info@basisschool-één.nl",
              '"jan jansen"@example.org', "x" * 90 + "@example.org", "o'brien@example.ie"]
CALENDARS = [None, Calendar("PUBLISH", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
             Calendar("CANCEL", "BEGIN:VCALENDAR\r\nSUMMARY:Café\r\nEND:VCALENDAR\r\n".encode())]
#: bodies with what changes the encoding: non-ASCII, a boundary, long lines, dots, form feeds
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(["Beste Anna,", "", ".", "--=_webinar_alternative_", "x" * 1000, "Zoë",
                              "\f", "a\rb", "tab\there", "From me"]), max_size=8).map("\n".join),
)
subjects = st.one_of(st.text(max_size=120), st.sampled_from(["Uw link om deel te nemen: Samen – versnellen",
                                                               "Welkom Zoë\r\nBcc: x@example.org", "a " * 60]))


#: another name in From: and a Reply-To (support-request mail), or neither
SPEAKERS = [("", ""), ("Leren verbeteren", "lerenverbeteren@example.org"),
            ("Zoë's team, NPO", "Hulp <hulp@example.nl>")]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipient=st.sampled_from(RECIPIENTS), sender=st.sampled_from(SENDERS), subject=subjects,
       text=texts, html=texts, calendar=st.sampled_from(CALENDARS),
       message_id=st.sampled_from(["<177.12.34@example.org>", "<1@x>", "<a.b@" + "d" * 80 + ".example.org>"]),
       speaker=st.sampled_from(SPEAKERS), bulk=st.booleans())
def test_a_message_cut_from_a_skeleton_is_the_message_the_email_package_builds(
        recipient, sender, subject, text, html, calendar, message_id, speaker, bulk):
    email = Email(recipient, subject, text, html, message_id, calendar, sender_name=speaker[0], reply_to=speaker[1],
                  bulk=bulk)
    for date in (NOW, NOW + timedelta(seconds=1, microseconds=5)):
        assert to_bytes(email, sender=sender, date=date) == build(email, sender=sender, date=date)


@pytest.mark.parametrize("token", ["kX3v9_QmZ-2wPq7LrT0sYb5NcUe8HdJf1aGiKoVn4Bw", "abc", "a b/c?d", "ë"])
def test_a_personal_link_is_the_link_the_route_builds(app, token):
    for endpoint in ("registration.manage", "attendance.join"):
        assert token_url(endpoint, token) == external_url(endpoint, token=token)


@pytest.mark.parametrize("kind", [name for name, *_ in _KINDS])
@pytest.mark.parametrize("first_name", ["Anna", "<Zoë> & \"Jan\" 'o Brien", "{{ x }}"])
def test_a_registrant_mail_from_a_stencil_is_the_mail_the_templates_render(event, kind, first_name):
    registration = person(event, first_name, "Berg", "van den", email="anna@example.org")
    if kind == "cancelled":
        registration.status = RegistrationStatus.cancelled
    if kind == "waitlisted":
        registration.status = RegistrationStatus.waitlisted
    db.session.commit()
    events = {}
    for number, previous in enumerate([(None, None), (STARTS - timedelta(days=1), ENDS - timedelta(days=1))]):
        links = {"manage_url": f"https://example.org/r/m{number}&<x>", "join_url": f"https://example.org/j/{number}"}
        from_stencil = registrant_message(kind, event, registration, NOW, events=events, previous=previous, **links)
        rendered = registrant_message(kind, event, registration, NOW, previous=previous, **links)
        assert (from_stencil.subject, from_stencil.text, from_stencil.html, from_stencil.calendar) == (
            rendered.subject, rendered.text, rendered.html, rendered.calendar)
        assert from_stencil.message_id != rendered.message_id
    stencils = [value for key, value in events[event.id].items() if key[0] == "stencil"]
    assert stencils and all(stencil.usable for stencil in stencils)  # the shortcut was taken


@pytest.mark.parametrize("speaker", SPEAKERS[1:], ids=["plain", "quoted"])
def test_another_name_keeps_the_senders_address_and_both_parsers_read_the_reply_to(speaker):
    email = Email("anna@example.org", "Uw aanvraag", "Beste Anna,\n", "<p>Beste Anna,</p>", "<1@example.org>",
                  sender_name=speaker[0], reply_to=speaker[1])
    raw = to_bytes(email, sender="Samen onderwijs versnellen <bijeenkomsten@example.org>", date=NOW)
    message = message_from_bytes(raw, policy=policy.default)
    [sender], [reply_to] = message["From"].addresses, message["Reply-To"].addresses
    assert (sender.display_name, sender.addr_spec) == (speaker[0], "bijeenkomsten@example.org")
    other = read_with_mailparser(raw)
    assert (other["fromName"], other["from"]) == (speaker[0], ["bijeenkomsten@example.org"])
    assert other["replyTo"] == [reply_to.addr_spec]


def test_a_subject_that_quotes_a_stand_in_is_built_in_full():
    email = Email("anna@example.org", "To: slot-to@example.invalid", "Hallo\n", "<p>Hallo</p>", "<1@example.org>")
    sender = "bijeenkomsten@example.org"
    assert to_bytes(email, sender=sender, date=NOW) == build(email, sender=sender, date=NOW)


#: a stand-in for a PDF: bytes of every value, and the boundary marks a part must never hold
FILE = Attachment("bewijs-van-deelname.pdf", "application/pdf",
                  b"%PDF-1.7\n" + bytes(range(256)) + b"--=_webinar_mixed_\r\n" * 3)


@pytest.mark.parametrize("calendar", CALENDARS, ids=["no-calendar", "publish", "cancel"])
def test_a_file_goes_after_the_calendar_and_both_parsers_read_it_back(calendar):
    email = Email("anna@example.org", "Dank voor uw deelname", "Beste Anna,\n", "<p>Beste Anna,</p>",
                  "<1@example.org>", calendar, (FILE,))
    raw = to_bytes(email, sender="bijeenkomsten@example.org", date=NOW)
    assert raw == build(email, sender="bijeenkomsten@example.org", date=NOW)
    message = message_from_bytes(raw, policy=policy.default)
    parts = [(part.get_content_type(), part.get_filename()) for part in message.iter_attachments()]
    expected = ([("text/calendar", "bijeenkomst.ics")] if calendar else []) + [
        ("application/pdf", "bewijs-van-deelname.pdf")]
    assert parts == expected
    assert list(message.iter_attachments())[-1].get_content() == FILE.data
    assert message.get_body(("plain",)).get_content().rstrip() == "Beste Anna,"
    read = read_with_mailparser(raw)
    assert [(part["contentType"], part["filename"]) for part in read["attachments"]] == expected
    assert base64.b64decode(read["attachments"][-1]["content"]) == FILE.data
    assert read["text"].strip() == "Beste Anna,"


@pytest.mark.parametrize("filename, content_type", [
    ("bewijs van deelname.pdf", "application/pdf"), ("bewijs\".pdf", "application/pdf"), ("bewijs-ë.pdf", "application/pdf"),
    ("x.pdf\r\nBcc: a@example.org", "application/pdf"), ("", "application/pdf"), ("x.pdf", "application/pdf; x=1"),
    ("x.pdf", "pdf"),
])
def test_a_file_name_or_type_that_would_need_quoting_is_refused(filename, content_type):
    with pytest.raises(ValueError):
        Attachment(filename, content_type, b"")


def test_a_follow_up_with_a_file_from_a_stencil_is_the_follow_up_the_templates_render(event):
    event.followup_joined_text = "Dank voor uw komst."
    registration = person(event, "Anna", "Berg", "van den", email="anna@example.org")
    events = {}
    files = [PersonalFile(FILE, "uw bewijs van deelname (pdf)")]
    for number, attached in enumerate([files, (), files]):
        links = {"manage_url": f"https://example.org/r/m{number}&<x>", "join_url": ""}
        from_stencil = registrant_message("followup_joined", event, registration, NOW, events=events,
                                          files=attached, **links)
        rendered = registrant_message("followup_joined", event, registration, NOW, files=attached, **links)
        assert (from_stencil.text, from_stencil.html, from_stencil.attachments) == (
            rendered.text, rendered.html, rendered.attachments)
        assert ("Bij dit bericht: uw bewijs van deelname (pdf)." in rendered.text) == bool(attached)
        assert rendered.attachments == tuple(file.attachment for file in attached)
    stencils = [value for key, value in events[event.id].items() if key[0] == "stencil"]
    assert len(stencils) == 2 and all(stencil.usable for stencil in stencils)


def test_the_date_header_is_written_per_second_and_in_the_moments_own_zone():
    # The formatted Date is kept per second: a moment later in the same second reads the same, the next
    # second and the same moment in another zone get their own.
    email = Email("anna@example.org", "Onderwerp", "Beste Anna,\n", "<p>Beste Anna,</p>\n", "<1@example.org>")
    moments = [NOW, NOW + timedelta(microseconds=999_999), NOW + timedelta(seconds=1),
               NOW.astimezone(ZoneInfo("UTC")), NOW.astimezone(ZoneInfo("America/Curacao"))]
    for moment in moments:
        data = to_bytes(email, sender="bijeenkomsten@example.org", date=moment)
        header = message_from_bytes(data, policy=policy.default)["Date"]
        assert str(header) == format_datetime(moment.replace(microsecond=0))
        assert header.datetime == moment.replace(microsecond=0)
