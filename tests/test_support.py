"""Support requests: the cost rules, BRIN codes, the public form, the mails, the organiser workflow, the purge."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from helpers import NOW, ORGANISER_EMAIL, deliver
from webinar.dutch import euro
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.organiser.models import AuditEntry
from webinar.support.costs import MAX_HALF_DAYS, estimate, school_cost, vat_cents
from webinar.support.forms import normalize_brin
from webinar.support.models import SupportRequest, SupportSchool, SupportStatus
from webinar.support.services import (
    RequestDetails,
    SchoolDetails,
    purge_closed_requests,
    submit_request,
)

URL = "/ondersteuning"
REQUESTER = "jan.jansen@example.org"
LEAD = "projectleider@example.org"
NBSP = "\u00a0"


def school_fields(index: int, **overrides) -> dict:
    """One school row of the form, as schools-<index>-<name> fields."""
    values = {"name": f"OBS De Linde {index + 1}", "brin": f"1{index}AB", "sector": "po",
              "reason": "onvoldoende", "judgement_date": "2027-01-15", "risk_description": "",
              "half_days": "8"}
    values.update(overrides)
    return {f"schools-{index}-{name}": value for name, value in values.items()}


def request_data(schools: list[dict] | None = None, **overrides) -> dict:
    """A valid request for one school; `schools` replaces the school rows."""
    data = {"requester_name": "Jan Jansen", "requester_position": "Directeur", "requester_email": REQUESTER,
            "requester_phone": "030 123 45 67", "kind": "school", "board_name": "",
            "help_types": ["schoolscan", "stappenplan"], "help_text": "Onze resultaten lopen terug.",
            "privacy": "y", "website": "", "key": "0123456789abcdef0123456789abcdef", "actie": "versturen"}
    for row in schools if schools is not None else [school_fields(0)]:
        data.update(row)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def stored() -> list[SupportRequest]:
    db.session.rollback()
    return list(db.session.scalars(select(SupportRequest).order_by(SupportRequest.id)))


def text_body(message) -> str:
    return message.get_body(("plain",)).get_content()


def details(board: str = "", reasons=("onvoldoende",), half_days=(8,), sectors=None, **values) -> RequestDetails:
    """A request's details for the services, one school per reason."""
    schools = [
        SchoolDetails(name=f"School {n + 1}", brin=f"1{n}AB", sector=(sectors or ["po"] * 9)[n], reason=reason,
                      judgement_date=date(2027, 1, 15) if reason in ("onvoldoende", "zeer_zwak") else None,
                      risk_description="Dalende resultaten" if reason == "risico" else "", half_days=days)
        for n, (reason, days) in enumerate(zip(reasons, half_days))
    ]
    fields = dict(requester_name="Jan Jansen", requester_position="Directeur", requester_email=REQUESTER,
                  requester_phone="030 123 45 67", board_name=board, help_types=["schoolscan"], help_text="",
                  schools=schools)
    fields.update(values)
    return RequestDetails(**fields)


def make_request(key: str = "a" * 32, **kwargs) -> SupportRequest:
    request = submit_request(details(**kwargs), key, NOW)
    db.session.commit()
    return request


# -- the cost rules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("half_days", "school", "vat", "incl"),
    [
        (1, 28575, 6001, 34576),      # 6000.75 cents of VAT: up
        (2, 57150, 12002, 69152),     # 12001.5: half a cent goes up
        (3, 85725, 18002, 103727),    # 18002.25: down
        (8, 228600, 48006, 276606),   # the seed's figure: € 2.286 for 8 half-days
        (16, 457200, 96012, 553212),  # the most there is: 2 × 8
    ],
)
def test_school_pays_half_at_28575_cents_a_half_day_plus_vat(half_days, school, vat, incl):
    cost = school_cost(half_days)
    assert (cost.school_cents, cost.school_vat_cents, cost.school_incl_cents) == (school, vat, incl)
    assert cost.programme_cents == cost.school_cents  # 50/50
    assert cost.total_cents == 2 * school


@pytest.mark.parametrize("half_days", [0, -1, MAX_HALF_DAYS + 1, 32])
def test_more_than_16_or_fewer_than_1_half_days_is_refused(half_days):
    with pytest.raises(ValueError):
        school_cost(half_days)
    with pytest.raises(ValueError):
        estimate([8, half_days])


@pytest.mark.parametrize(("amount", "vat"), [(0, 0), (1, 0), (2, 0), (50, 11), (150, 32), (250, 53), (100, 21)])
def test_vat_is_rounded_to_whole_cents_half_up(amount, vat):
    assert vat_cents(amount) == vat


def test_overall_totals_are_the_sums_of_the_school_lines():
    total = estimate([1, 2, 16])
    assert total.half_days == 19
    assert total.school_cents == 28575 * 19
    # Each school's VAT rounded on its own, then added: the table adds up.
    assert total.school_vat_cents == 6001 + 12002 + 96012
    assert total.school_incl_cents == total.school_cents + total.school_vat_cents
    assert total.programme_cents == total.school_cents


@pytest.mark.parametrize(("cents", "text"), [(228600, "€ 2.286,00"), (28575, "€ 285,75"), (5, "€ 0,05"),
                                             (123456789, "€ 1.234.567,89")])
def test_amounts_are_written_the_dutch_way(cents, text):
    assert euro(cents) == text.replace(" ", NBSP)


# -- BRIN codes ---------------------------------------------------------------------


@pytest.mark.parametrize(("value", "code"), [
    ("12AB", "12AB"), ("12ab", "12AB"), ("12AB01", "12AB01"), (" 12 ab 01 ", "12AB01"), ("00XY99", "00XY99"),
    ("12AB-01", "12AB01"),
])
def test_valid_brin_codes_are_normalised(value, code):
    assert normalize_brin(value) == code


@pytest.mark.parametrize("value", ["", "12A", "1AB2", "AB12", "123B", "12ABC", "12AB1", "12AB012", "12ÄB",
                                   "12A1", "1234", "ABCD", "12AB0X"])
def test_invalid_brin_codes_are_refused(value):
    with pytest.raises(ValueError):
        normalize_brin(value)


def test_the_form_explains_a_wrong_brin_code_and_stores_nothing(client):
    response = client.post(URL, data=request_data([school_fields(0, brin="1234")]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Een BRIN-code is 2 cijfers en 2 letters" in page
    assert 'href="#schools-0-brin"' in page  # the summary links to the field
    assert stored() == []


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


# -- the organiser area -----------------------------------------------------------------


def test_the_requests_are_for_organisers_only(client, organiser):
    for url in ("/organiser/ondersteuning", "/organiser/ondersteuning/1", "/organiser/ondersteuning.csv",
                "/organiser/ondersteuning.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and "/organiser/login" in response.headers["Location"]


def test_list_filters_by_status_sector_and_reason(organiser_client):
    first = make_request("a" * 32, board="Stichting Primo", reasons=("onvoldoende", "risico"), half_days=(8, 2),
                         sectors=["po", "vo"])
    second = make_request("b" * 32, reasons=("none",), half_days=(4,), sectors=["so_vso"])
    second.status = SupportStatus.planned
    db.session.commit()

    def shown(**args) -> set[int]:
        page = organiser_client.get("/organiser/ondersteuning", query_string=args).get_data(as_text=True)
        return {item.id for item in (first, second) if f">Aanvraag {item.id}</a>" in page}

    assert shown() == {first.id, second.id}
    assert shown(status="planned") == {second.id}
    assert shown(status="new") == {first.id}
    assert shown(sector="vo") == {first.id}  # any of the board's schools
    assert shown(sector="so_vso") == {second.id}
    assert shown(reden="risico") == {first.id}
    assert shown(reden="none") == {second.id}
    assert shown(reden="none", status="new") == set()
    assert shown(status="nonsense") == {first.id, second.id}  # unknown values filter nothing
    page = organiser_client.get("/organiser/ondersteuning").get_data(as_text=True)
    assert "nog beoordelen" in page and "Stichting Primo" in page
    assert 'href="/organiser/ondersteuning"' in page  # in the organiser navigation


def change(client, request, **values):
    data = {"status": request.status.value, "adviser": request.adviser, "notes": request.notes}
    data.update(values)
    return client.post(f"/organiser/ondersteuning/{request.id}", data=data)


def test_status_changes_are_audited_and_the_requester_told_only_when_ticked(organiser_client, smtp):
    request = make_request()
    deliver()
    smtp.messages.clear()
    response = change(organiser_client, request, status="in_progress", notes="Belt maandag terug")
    assert response.status_code == 302
    db.session.rollback()
    assert request.status == SupportStatus.in_progress and request.notes == "Belt maandag terug"
    assert db.session.scalar(select(func.count(OutgoingMail.id)).where(OutgoingMail.kind == "support_status")) == 0
    change(organiser_client, request, notes="Teruggebeld", inform="y")  # no new status: nothing to tell
    assert db.session.scalar(select(func.count(OutgoingMail.id)).where(OutgoingMail.kind == "support_status")) == 0

    change(organiser_client, request, status="adviser_assigned", adviser="Karin de Wit", inform="y")
    deliver()
    [message] = smtp.to(REQUESTER)
    assert message["Subject"] == "Uw aanvraag voor ondersteuning: adviseur toegewezen"
    assert "Uw adviseur: Karin de Wit" in text_body(message)

    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "support.update")
                                 .order_by(AuditEntry.id)).all()
    assert [entry.organiser_email for entry in entries] == [ORGANISER_EMAIL] * 3
    assert entries[0].summary == f"aanvraag {request.id} (School 1): status Nieuw → In behandeling; notities gewijzigd"
    assert entries[1].summary == f"aanvraag {request.id} (School 1): notities gewijzigd"
    assert entries[2].summary == (f"aanvraag {request.id} (School 1): status In behandeling → Adviseur toegewezen; "
                                  "adviseur: Karin de Wit; aanvrager krijgt bericht")
    detail = organiser_client.get(f"/organiser/ondersteuning/{request.id}").get_data(as_text=True)
    assert "Statuswijziging aan aanvrager" in detail and "Karin de Wit" in detail


def test_closing_sets_the_moment_and_reopening_clears_it(organiser_client, frozen):
    request = make_request()
    change(organiser_client, request, status="done")
    db.session.rollback()
    assert request.closed_at == NOW
    change(organiser_client, request, status="planned")
    db.session.rollback()
    assert request.closed_at is None


def test_an_unknown_status_is_refused(organiser_client):
    request = make_request()
    response = change(organiser_client, request, status="gone")
    assert response.status_code == 400
    db.session.rollback()
    assert request.status == SupportStatus.new


HOSTILE = '=HYPERLINK("http://x.example","klik")'


def test_exports_have_one_row_per_school_and_no_formulas(organiser_client):
    make_request(board="Stichting Primo", reasons=("onvoldoende", "risico"), half_days=(8, 3),
                 requester_name=HOSTILE, help_text="@SUM(A1)")
    make_request("b" * 32, reasons=("zeer_zwak",), half_days=(1,), sectors=["vo"])

    response = organiser_client.get("/organiser/ondersteuning.csv", query_string={"sector": "po"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    header, *body = rows
    assert len(body) == 2  # the board's two schools; the vo request is filtered out
    first = dict(zip(header, body[0]))
    second = dict(zip(header, body[1]))
    assert first["Aanvrager"] == "'" + HOSTILE
    assert first["Vraag"] == "'@SUM(A1)"
    assert (first["Bestuur"], first["School"], first["BRIN"], first["Dagdelen"]) == ("Stichting Primo", "School 1",
                                                                                      "10AB", "8")
    assert (first["Eigen bijdrage excl. btw"], first["Btw"], first["Eigen bijdrage incl. btw"]) == (
        "2286,00", "480,06", "2766,06")
    assert (second["Doelgroep"], second["Risico"], second["Dagdelen"]) == (
        "De school ziet zelf een aantoonbaar risico", "Dalende resultaten", "3")
    assert first["Ontvangen op"] == "01-05-2027 12:00"

    response = organiser_client.get("/organiser/ondersteuning.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()))["Aanvragen"]
    cells = list(sheet.iter_rows(values_only=False))
    header = [cell.value for cell in cells[0]]
    assert len(cells) == 4
    board_row = cells[2]  # newest first: the one-school request (stored later) heads the list
    assert board_row[header.index("Bestuur")].value == "Stichting Primo"
    name = board_row[header.index("Aanvrager")]
    incl = board_row[header.index("Eigen bijdrage incl. btw")]
    assert (name.value, name.data_type) == (HOSTILE, "s")
    assert incl.data_type == "n" and incl.value == pytest.approx(2766.06)

    audits = db.session.scalars(select(AuditEntry.summary).where(AuditEntry.action.like("export.%"))
                                .order_by(AuditEntry.id)).all()
    assert audits == ["ondersteuningsaanvragen (1 aanvragen, 2 rijen), filters: sector=po",
                      "ondersteuningsaanvragen (2 aanvragen, 3 rijen), filters: geen"]


# -- the purge ----------------------------------------------------------------------------


def test_closed_requests_are_purged_after_the_configured_time(app, frozen):
    app.config["SUPPORT_PURGE_DAYS"] = 180
    done_long_ago = make_request("a" * 32)
    declined_long_ago = make_request("b" * 32)
    done_recently = make_request("c" * 32)
    open_long_ago = make_request("d" * 32)
    for request, status, days in ((done_long_ago, SupportStatus.done, 181),
                                  (declined_long_ago, SupportStatus.declined, 180),
                                  (done_recently, SupportStatus.done, 179)):
        request.status, request.closed_at = status, NOW - timedelta(days=days)
    open_long_ago.created_at = NOW - timedelta(days=900)
    db.session.commit()
    kept = {done_recently.id, open_long_ago.id}

    assert purge_closed_requests(NOW) == 2
    db.session.commit()
    assert {request.id for request in stored()} == kept
    assert set(db.session.scalars(select(SupportSchool.request_id))) == kept
    assert set(db.session.scalars(select(OutgoingMail.support_request_id))) == kept  # their mail goes too
    assert purge_closed_requests(NOW) == 0
