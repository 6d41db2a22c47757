"""Support requests in the organiser area: access, the list, status changes, exports."""

from __future__ import annotations

import csv
import re
import io
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from helpers import NOW, ORGANISER_EMAIL, REQUESTER, deliver, make_request, text_body
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.audit import AuditEntry
from webinar.support.models import SupportStatus


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
    assert entries[0].summary == f"Aanvraag {request.id} van School 1: status Nieuw → In behandeling; notities gewijzigd"
    assert entries[1].summary == f"Aanvraag {request.id} van School 1: notities gewijzigd"
    assert entries[2].summary == (f"Aanvraag {request.id} van School 1: status In behandeling → Adviseur toegewezen; "
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
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Aanvragen", "Samenvatting"]
    sheet = book["Aanvragen"]
    assert sheet.auto_filter.ref == "A1:W4"
    cells = list(sheet.iter_rows(values_only=False))
    header = [cell.value for cell in cells[0]]
    assert len(cells) == 4
    board_row = cells[2]  # newest first: the one-school request (stored later) heads the list
    assert board_row[header.index("Bestuur")].value == "Stichting Primo"
    name = board_row[header.index("Aanvrager")]
    incl = board_row[header.index("Eigen bijdrage incl. btw")]
    assert (name.value, name.data_type) == (HOSTILE, "s")
    assert incl.data_type == "n" and incl.value == pytest.approx(2766.06)
    received = board_row[header.index("Ontvangen op")]
    assert received.is_date and received.value == datetime(2027, 5, 1, 12, 0)  # Amsterdam time
    judged = board_row[header.index("Datum oordeel")]
    assert judged.is_date and judged.value.date() == date(2027, 1, 15)

    audits = db.session.scalars(select(AuditEntry.summary).where(AuditEntry.action.like("export.%"))
                                .order_by(AuditEntry.id)).all()
    # the summary: per status the requests, schools, half-days and contributions; schools per sector by status
    summary = [[value for value in row if value is not None] for row in book["Samenvatting"].iter_rows(values_only=True)]
    assert summary[1:4] == [["Filters", "geen"], ["Aantal aanvragen", 2], ["Aantal scholen", 3]]
    status = summary[summary.index(["Status", "Aanvragen", "Scholen", "Dagdelen", "Eigen bijdrage incl. btw"]) + 1]
    assert status[:4] == ["Nieuw", 2, 3, 12]
    assert status[4] == pytest.approx(2766.06 + sum(float(row[header.index("Eigen bijdrage incl. btw")].value)
                                                    for row in (cells[1], cells[3])))
    sectors = summary.index(["Sector", "Scholen", "Nieuw", "In behandeling", "Adviseur toegewezen", "Ingepland",
                             "Afgerond", "Afgewezen"])
    assert summary[sectors + 1:sectors + 3] == [["po", 2, 2, 0, 0, 0, 0, 0], ["vo", 1, 1, 0, 0, 0, 0, 0]]

    assert audits == ["Ondersteuningsaanvragen geëxporteerd (CSV, 1 aanvragen, 2 rijen), filters: sector=po",
                      "Ondersteuningsaanvragen geëxporteerd (XLSX, 2 aanvragen, 3 rijen), filters: geen"]


# -- the mails' sender, headings and note; Dutch statuses -------------------------------------


def html_body(message) -> str:
    return message.get_body(("html",)).get_content().replace("\r\n", "\n")


def plain(message) -> str:
    return text_body(message).replace("\r\n", "\n")


def test_every_support_mail_comes_from_leren_verbeteren_with_its_reply_to(organiser_client, smtp, app):
    app.config.update(SUPPORT_MAIL_SENDER_NAME="Leren verbeteren (NPO)", SUPPORT_MAIL_REPLY_TO="hulp@lerenverbeteren.test")
    request = make_request()
    change(organiser_client, request, status="planned", adviser="Karin de Wit", inform="y")
    deliver()
    messages = smtp.messages
    assert sorted(m["To"] for m in messages) == sorted([REQUESTER, REQUESTER, "projectleider@example.org"])
    for message in messages:
        assert message["From"] == '"Leren verbeteren (NPO)" <bijeenkomsten@example.org>'
        assert message["Reply-To"] == "hulp@lerenverbeteren.test"
        assert "Samen onderwijs versnellen" not in message["From"]


def test_each_mail_is_headed_for_its_reader(smtp):
    make_request()
    deliver()
    [lead] = smtp.to("projectleider@example.org")
    [confirmation] = smtp.to(REQUESTER)
    assert "UW AANVRAAG" not in plain(lead) and "\nDE AANVRAAG\n" in plain(lead)
    assert "\nUW AANVRAAG\n" in plain(confirmation)
    assert "Beantwoord deze e-mail" in plain(confirmation) and "Beantwoord" not in plain(lead)


def test_a_note_goes_to_the_requester_with_the_status_mail(organiser_client, smtp):
    request = make_request()
    deliver()
    smtp.messages.clear()
    note = "We bellen u deze week.\nNeem de <schoolscan> erbij & uw planning."
    response = change(organiser_client, request, status="in_progress", inform="y", status_note=note)
    assert response.status_code == 302
    deliver()
    [message] = smtp.to(REQUESTER)
    assert "Toelichting:\nWe bellen u deze week.\nNeem de <schoolscan> erbij & uw planning.\n" in plain(message)
    assert ("<strong>Toelichting:</strong><br>We bellen u deze week.<br>\n"
            "Neem de &lt;schoolscan&gt; erbij &amp; uw planning.</p>") in html_body(message)
    db.session.rollback()
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.summary == (f"Aanvraag {request.id} van School 1: status Nieuw → In behandeling; "
                             "aanvrager krijgt bericht met een toelichting")
    assert "bellen" not in entry.summary  # the note's text is purged with the request, not kept in the log
    page = organiser_client.get(f"/organiser/ondersteuning/{request.id}").get_data(as_text=True)
    assert 'id="status-note">We bellen u deze week.' in page
    # The form starts empty again: a note goes with one status e-mail only.
    assert re.search(r'<textarea [^>]*name="status_note">\s*</textarea>', page)

    # The next status mail without a note carries no old one.
    smtp.messages.clear()
    change(organiser_client, request, status="planned", inform="y")
    deliver()
    [message] = smtp.to(REQUESTER)
    assert "Toelichting" not in plain(message)


@pytest.mark.parametrize(
    "values",
    [{"status_note": "Tot snel", "inform": "y"}, {"status_note": "Tot snel", "status": "in_progress"}],
    ids=["same-status", "not-informed"],
)
def test_a_note_without_a_status_mail_is_refused_in_dutch(organiser_client, smtp, values):
    request = make_request()
    response = change(organiser_client, request, **values)
    assert response.status_code == 422
    assert "Een bericht aan de aanvrager gaat mee met de e-mail over een nieuwe status" in response.get_data(as_text=True)
    db.session.rollback()
    assert (request.status, request.status_note) == (SupportStatus.new, "")
    assert db.session.scalar(select(func.count(OutgoingMail.id)).where(OutgoingMail.kind == "support_status")) == 0


def test_the_request_page_shows_mail_statuses_in_dutch(organiser_client, smtp):
    request = make_request()
    page = organiser_client.get(f"/organiser/ondersteuning/{request.id}").get_data(as_text=True)
    emails = page.split('id="emails"')[1]
    assert emails.count("<td>In de wachtrij</td>") == 2
    deliver()
    page = organiser_client.get(f"/organiser/ondersteuning/{request.id}").get_data(as_text=True)
    emails = page.split('id="emails"')[1]
    assert emails.count("<td>Verstuurd</td>") == 2
    assert not re.search(r"<td>(pending|sending|sent|failed|skipped)\b", emails)
