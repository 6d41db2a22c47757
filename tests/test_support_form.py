"""Support requests: the public form, its preview, what is stored and the mails that go out."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from helpers import NBSP, REQUESTER, SUPPORT_URL as URL, deliver, request_data, school_fields, stored, text_body
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.support.models import SupportStatus


LEAD = "projectleider@example.org"


# -- the public form ------------------------------------------------------------------


def test_the_form_page_is_linked_from_every_page(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert 'href="/ondersteuning"' in page
    form = client.get(URL)
    assert form.status_code == 200
    assert "Ondersteuning aanvragen" in form.get_data(as_text=True)
    assert 'name="schools-0-brin"' in form.get_data(as_text=True)


def test_preview_shows_the_estimate_and_stores_nothing(client):
    response = client.post(URL, data=request_data(actie="controleren"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Controleer uw aanvraag" in page
    assert f"€{NBSP}2.286,00" in page and f"€{NBSP}480,06" in page and f"€{NBSP}2.766,06" in page
    assert 'name="schools-0-brin" value="10AB"' in page  # carried to the send button
    assert stored() == []


def test_sending_stores_the_request_and_queues_two_mails(client, smtp):
    response = client.post(URL, data=request_data())
    assert response.status_code == 302
    assert response.headers["Location"] == "/ondersteuning/verstuurd"
    [request] = stored()
    assert request.status == SupportStatus.new
    assert not request.needs_review
    assert request.help_labels == ["Ondersteuning bij de schoolscan", "Ondersteuning bij het stappenplan"]
    [school] = request.schools
    assert (school.brin, school.judgement_date, school.half_days) == ("10AB", date(2027, 1, 15), 8)
    mails = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()
    assert [(m.kind, m.recipient) for m in mails] == [("support_confirmation", REQUESTER), ("support_new", LEAD)]
    assert smtp.messages == []  # the request sends nothing itself
    assert "uw aanvraag is verstuurd" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_sending_the_same_form_twice_stores_it_once(client):
    client.post(URL, data=request_data())
    again = client.post(URL, data=request_data())
    assert again.status_code == 302
    assert len(stored()) == 1
    assert db.session.scalar(select(func.count(OutgoingMail.id))) == 2


def test_add_a_school_works_without_javascript_and_keeps_what_was_filled_in(client):
    response = client.post(URL, data=request_data(kind="board", board_name="Stichting Primo", actie="school_toevoegen"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="schools-1-name"' in page and "School 2" in page
    assert 'value="OBS De Linde 1"' in page and 'value="Stichting Primo"' in page
    assert stored() == []
    # ...and a row can go again.
    data = request_data([school_fields(0), school_fields(1), school_fields(2, name="Derde")], kind="board",
                        board_name="Stichting Primo", actie=None, verwijder_school="1")
    page = client.post(URL, data=data).get_data(as_text=True)
    assert 'value="OBS De Linde 2"' not in page and 'value="Derde"' in page and 'value="OBS De Linde 1"' in page


def test_a_board_asks_for_several_schools_at_once(client, smtp):
    schools = [school_fields(0, half_days="16"),
               school_fields(1, name="Het Baken", brin="34cd01", sector="vo", reason="risico",
                             judgement_date="", risk_description="Signalen uit het team", half_days="3"),
               school_fields(2, name="De Horizon", brin="56EF", sector="so_vso", reason="zeer_zwak",
                             judgement_date="2026-11-02", half_days="1")]
    preview = client.post(URL, data=request_data(schools, kind="board", board_name="Stichting Primo",
                                                 actie="controleren"))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    # 20 half-days in all: 20 × € 285,75 = € 5.715,00; VAT 96012 + 18002 + 6001 cents.
    assert f"€{NBSP}5.715,00" in page and f"€{NBSP}1.200,15" in page and f"€{NBSP}6.915,15" in page
    response = client.post(URL, data=request_data(schools, kind="board", board_name="Stichting Primo"))
    assert response.status_code == 302
    [request] = stored()
    assert request.board_name == "Stichting Primo"
    assert [(s.name, s.brin, s.sector, s.reason, s.half_days) for s in request.schools] == [
        ("OBS De Linde 1", "10AB", "po", "onvoldoende", 16),
        ("Het Baken", "34CD01", "vo", "risico", 3),
        ("De Horizon", "56EF", "so_vso", "zeer_zwak", 1),
    ]
    assert request.schools[1].risk_description == "Signalen uit het team"
    assert request.schools[1].judgement_date is None
    assert request.estimate.school_incl_cents == 691515


def test_both_mails_arrive_with_the_summary_and_the_estimate(client, smtp):
    schools = [school_fields(0), school_fields(1, name="Het Baken", brin="34CD", half_days="2")]
    client.post(URL, data=request_data(schools, kind="board", board_name="Stichting Primo"))
    result = deliver()
    assert (result.sent, result.failed) == (2, 0)
    [confirmation] = smtp.to(REQUESTER)
    [notice] = smtp.to(LEAD)
    [request] = stored()
    assert confirmation["Subject"] == f"Uw aanvraag voor ondersteuning is ontvangen (aanvraag {request.id})"
    assert notice["Subject"] == "Nieuwe aanvraag voor ondersteuning: Stichting Primo"
    for message in (confirmation, notice):
        body = text_body(message)
        assert "Bestuur: Stichting Primo" in body
        assert "School 2: Het Baken (34CD)" in body
        assert "Doelgroep: Oordeel inspectie: onvoldoende, 15-01-2027" in body
        assert f"Eigen bijdrage excl. btw: €{NBSP}2.857,50" in body  # 10 half-days
        assert f"Btw 21%: €{NBSP}600,08" in body  # 48006 + 12002 cents
        assert f"Eigen bijdrage incl. btw: €{NBSP}3.457,58" in body
        html = message.get_body(("html",)).get_content()
        assert f"€{NBSP}3.457,58" in html or "€&nbsp;3.457,58" in html
    assert "Beste Jan Jansen," in text_body(confirmation)
    assert f"http://webinar.test/organiser/ondersteuning/{request.id}" in text_body(notice)


def test_a_school_outside_the_target_group_is_marked_for_review_not_refused(client, smtp):
    data = request_data([school_fields(0, reason="none", judgement_date="")])
    assert client.post(URL, data=data).status_code == 302
    [request] = stored()
    assert request.needs_review
    deliver()
    [notice] = smtp.to(LEAD)
    assert "nog beoordelen" in notice["Subject"]
    assert "apart" in text_body(smtp.to(REQUESTER)[0])


@pytest.mark.parametrize(
    ("overrides", "school", "message"),
    [
        ({}, {"half_days": "17"}, "Vraag 1 tot 16 dagdelen aan: hoogstens 2 × 8 per school."),
        ({}, {"half_days": "acht"}, "Vul een heel getal in, bijvoorbeeld 8."),
        ({}, {"half_days": ""}, "Vul het aantal dagdelen in (1 tot 16)."),
        ({}, {"judgement_date": ""}, "Vul de datum van het oordeel van de inspectie in."),
        ({}, {"judgement_date": "2027-06-01"}, "De datum van het oordeel ligt in de toekomst."),
        ({}, {"reason": "risico", "judgement_date": ""}, "Beschrijf kort welk risico de school ziet."),
        ({}, {"reason": ""}, "Geef aan waarom de school bij de doelgroep hoort"),
        ({}, {"sector": "mbo"}, "Kies de sector van de school."),
        ({}, {"name": ""}, "Vul de naam van de school in."),
        ({"kind": "board"}, {}, "Vul de naam van het bestuur in."),
        ({"help_types": [], "help_text": ""}, {}, "Kies waarbij u hulp wilt, of beschrijf uw vraag hieronder."),
        ({"requester_email": "jan@"}, {}, "Vul een geldig e-mailadres in"),
        ({"requester_phone": ""}, {}, "Vul een telefoonnummer in"),
        ({"privacy": None}, {}, "Geef aan dat u de privacyverklaring hebt gelezen."),
    ],
)
def test_each_mistake_gets_a_dutch_message_and_nothing_is_stored(client, overrides, school, message):
    response = client.post(URL, data=request_data([school_fields(0, **school)], **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored() == []


def test_one_school_request_with_two_schools_asks_for_the_board_option(client):
    data = request_data([school_fields(0), school_fields(1)])
    response = client.post(URL, data=data)
    assert response.status_code == 422
    assert "namens een bestuur" in response.get_data(as_text=True)


def test_the_honeypot_stores_nothing(client):
    response = client.post(URL, data=request_data(website="http://spam.example"))
    assert response.status_code == 302
    assert stored() == []
