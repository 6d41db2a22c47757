"""The programme overview (/organiser/programma) against meetings counted by hand.

The fixture: three meetings in the school year 2026/27, a cancelled one and
one in the school year before; fifteen registrations in the three, with the
same school spelled four ways, and three support requests. Every expected
figure below is counted from the table in `meetings`' docstring.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select

from helpers import login, read_with_exceljs, support_details
from webinar.attendance.models import Attendance, AttendanceSource, WalkIn
from webinar.audit import AuditEntry
from webinar.database import utcnow
from webinar.dutch import AMSTERDAM
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.registration.models import Registration, RegistrationStatus
from webinar.support.services import SchoolDetails, submit_request

PAGE = "/organiser/programma"
SCHOOL_YEAR = "van=2026-08-01&tot=2027-07-31"


def amsterdam(year, month, day, hour=16, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


def meeting(slug, day: datetime, minutes: int, *, certificate_percent: int | None = None, cancelled=False):
    event = create_event(slug=slug, title=slug.replace("-", " ").capitalize(), starts_at=day,
                         ends_at=day + timedelta(minutes=minutes), capacity=None)
    if certificate_percent is not None:
        event.certificate_enabled, event.certificate_min_percent = True, certificate_percent
    if cancelled:
        event.cancelled_at = day - timedelta(days=7)
    return event


def sign(event, name, organisation, role, kind, sector="", *, brin="", status="confirmed", came=None):
    """A registration (stored directly: the meetings are over), with attendance.

    `came`: ("report", minutes), ("link", minutes after the start of the first click) or ("manual",).
    """
    email = f"{name.lower()}@example.org"
    registration = Registration(
        event_id=event.id, status=RegistrationStatus(status), first_name=name, last_name="Proef", email=email,
        email_normalized=email, organisation=organisation, organisation_type=kind, sector=sector, brin=brin,
        role=role, privacy_accepted_at=event.starts_at - timedelta(days=10),
        created_at=event.starts_at - timedelta(days=10))
    db.session.add(registration)
    db.session.flush()
    if came:
        source, *rest = came
        joined = event.starts_at + timedelta(minutes=rest[0] if source == "link" else 0)
        db.session.add(Attendance(registration_id=registration.id, first_joined_at=joined, last_joined_at=joined,
                                  source=AttendanceSource(source),
                                  minutes_present=rest[0] if source == "report" else None))
    return registration


def ask_support(school: str, brin: str, sector: str, received: datetime, key: str):
    details = support_details(schools=[SchoolDetails(name=school, brin=brin, sector=sector, reason="risico",
                                                     judgement_date=None, risk_description="Dalende resultaten",
                                                     half_days=4)])
    submit_request(details, key, received)


@pytest.fixture
def meetings(app):
    """Three meetings in the school year, by hand:

    | #  | meeting              | who   | organisation         | type      | sector | role        | status  | attendance      |
    |----|----------------------|-------|----------------------|-----------|--------|-------------|---------|-----------------|
    | 1  | oktober (60', min 45)| anna  | OBS De Linde         | School    | po     | Schoolleider| conf.   | report 50' ✓    |
    | 2  | oktober              | bram  | "obs de linde "      | School    | -      | Schoolleider| conf.   | link +30' (30') |
    | 3  | oktober              | carla | Stichting Primair    | Bestuur   | po     | Bestuurder  | conf.   | -               |
    | 4  | oktober              | dirk  | Gemeente Zwolle      | Gemeente  | -      | Beleid      | cancel. | -               |
    | 5  | februari (75', 50%:38)| anna | O.B.S. De Linde      | School    | po     | Schoolleider| conf.   | by hand ✓       |
    | 6  | februari             | carla | Stichting Primair    | Bestuur   | po     | Bestuurder  | conf.   | report 40' ✓    |
    | 7  | februari             | eva   | Het Baken (12AB)     | School    | vo     | Schoolleider| conf.   | report 20'      |
    | 8  | februari             | frank | CSG Het Baken (12AB) | School    | vo     | HRM'er      | waiting | -               |
    | 9  | februari             | gert  | Gemeente Zwolle      | Gemeente  | -      | Beleid      | conf.   | link +0' ✓      |
    | 10 | april (60', min 45)  | anna  | OBS De Linde         | School    | po     | Schoolleider| conf.   | report 60' ✓    |
    | 11 | april                | bram  | OBS de Linde         | School    | po     | Schoolleider| conf.   | report 44'      |
    | 12 | april                | eva   | Het Baken (12AB)     | School    | vo     | Schoolleider| conf.   | report 45' ✓    |
    | 13 | april                | hanna | De Regenboog         | School    | so_vso | Anders      | conf.   | -               |
    | 14 | april                | ivo   | Samenwerkingsverband Zuid | Swv  | meerdere | Anders    | waiting | -               |
    | 15 | april                | jan   | stichting primair    | Bestuur   | po     | Bestuurder  | cancel. | -               |

    ✓: present at least the minimum. Also: a cancelled meeting in March (2 registrations), a meeting in June
    2026 (anna joined: the school year before), and support requests from Het Baken (12AB, vo; March 2027),
    obs De Linde (no BRIN; March 2027) and CBS Zwolle-Zuid (July 2026, before the period).
    """
    october = meeting("oktober", amsterdam(2026, 10, 6), 60)
    february = meeting("februari", amsterdam(2027, 2, 9), 75, certificate_percent=50)
    april = meeting("april", amsterdam(2027, 4, 13), 60)
    march = meeting("maart-geannuleerd", amsterdam(2027, 3, 2), 60, cancelled=True)
    june = meeting("juni-vorig-jaar", amsterdam(2026, 6, 10), 60)
    db.session.flush()
    sign(october, "Anna", "OBS De Linde", "Schoolleider", "School", "po", came=("report", 50))
    sign(october, "Bram", "obs de linde ", "Schoolleider", "School", came=("link", 30))
    sign(october, "Carla", "Stichting Primair", "Schoolbestuurder", "Schoolbestuur", "po")
    sign(october, "Dirk", "Gemeente Zwolle", "Beleidsadviseur gemeente", "Gemeente", status="cancelled")
    sign(february, "Anna", "O.B.S. De Linde", "Schoolleider", "School", "po", came=("manual",))
    sign(february, "Carla", "Stichting Primair", "Schoolbestuurder", "Schoolbestuur", "po", came=("report", 40))
    sign(february, "Eva", "Het Baken", "Schoolleider", "School", "vo", brin="12AB", came=("report", 20))
    sign(february, "Frank", "CSG Het Baken", "HRM'er", "School", "vo", brin="12AB", status="waitlisted")
    sign(february, "Gert", "Gemeente Zwolle", "Beleidsadviseur gemeente", "Gemeente", came=("link", 0))
    sign(april, "Anna", "OBS De Linde", "Schoolleider", "School", "po", came=("report", 60))
    sign(april, "Bram", "OBS de Linde", "Schoolleider", "School", "po", came=("report", 44))
    sign(april, "Eva", "Het Baken", "Schoolleider", "School", "vo", brin="12AB", came=("report", 45))
    sign(april, "Hanna", "De Regenboog", "Anders", "School", "so_vso")
    sign(april, "Ivo", "Samenwerkingsverband Zuid", "Anders", "Samenwerkingsverband", "meerdere",
         status="waitlisted")
    sign(april, "Jan", "stichting primair", "Schoolbestuurder", "Schoolbestuur", "po", status="cancelled")
    sign(march, "Kees", "OBS De Linde", "Schoolleider", "School", "po")
    sign(march, "Lies", "Het Baken", "Schoolleider", "School", "vo", brin="12AB")
    sign(june, "Anna", "OBS De Linde", "Schoolleider", "School", "po", came=("report", 60))
    ask_support("Het Baken", "12AB", "vo", amsterdam(2027, 3, 15), "a" * 32)
    ask_support("obs De Linde", "", "po", amsterdam(2027, 3, 16), "b" * 32)
    ask_support("CBS Zwolle-Zuid", "34CD", "po", amsterdam(2026, 7, 1), "c" * 32)
    db.session.commit()
    return october, february, april


# --- reading the page -------------------------------------------------------------


def cells(row_html: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row_html, re.S)]


def table(page: str, table_id: str) -> list[list[str]]:
    """The body rows of the table with this id, as text cells."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [cells(row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def tiles(page: str) -> dict[str, str]:
    return dict(re.findall(r'<dd id="count-([a-z-]+)">([^<]*)</dd>', page))


def overview(client, query: str = SCHOOL_YEAR) -> str:
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


#: (label, aangemeld, wachtlijst, afgemeld, deelgenomen, minimaal aanwezig), counted from the fixture's table
BY_ROLE = [["Schoolleider", "7", "0", "0", "7", "4"], ["Schoolbestuurder", "2", "0", "1", "1", "1"],
           ["Anders", "1", "1", "0", "0", "0"], ["Beleidsadviseur gemeente", "1", "0", "1", "1", "1"],
           ["HRM'er", "0", "1", "0", "0", "0"]]
BY_TYPE = [["School", "8", "1", "0", "7", "4"], ["Schoolbestuur", "2", "0", "1", "1", "1"],
           ["Gemeente", "1", "0", "1", "1", "1"], ["Samenwerkingsverband", "0", "1", "0", "0", "0"]]
# bram's first registration gave no sector: De Linde's other registrations and its request say po
BY_SECTOR = [["Primair onderwijs (po)", "7", "0", "1", "6", "4"], ["Voortgezet onderwijs (vo)", "2", "1", "0", "2", "1"],
             ["(Voortgezet) speciaal onderwijs (so/vso)", "1", "0", "0", "0", "0"],
             ["Meerdere sectoren", "0", "1", "0", "0", "0"], ["Onbekend", "1", "0", "1", "1", "1"]]
#: name, key, type, sector, the five counts, support requests; most registered first, then most registrations
BY_ORGANISATION = [
    ["OBS De Linde", "obs de linde", "School", "Primair onderwijs (po)", "5", "0", "0", "5", "3", "1"],
    ["Het Baken", "het baken", "School", "Voortgezet onderwijs (vo)", "2", "1", "0", "2", "1", "1"],
    ["Stichting Primair", "stichting primair", "Schoolbestuur", "Primair onderwijs (po)", "2", "0", "1", "1", "1", "0"],
    ["Gemeente Zwolle", "gemeente zwolle", "Gemeente", "Onbekend", "1", "0", "1", "1", "1", "0"],
    ["De Regenboog", "de regenboog", "School", "(Voortgezet) speciaal onderwijs (so/vso)", "1", "0", "0", "0", "0", "0"],
    ["Samenwerkingsverband Zuid", "samenwerkingsverband zuid", "Samenwerkingsverband", "Meerdere sectoren",
     "0", "1", "0", "0", "0", "0"],
]
BY_MEETING = [["Oktober", "dinsdag 6 oktober 2026", "3", "0", "1", "2", "1", "45 min."],
              ["Februari", "dinsdag 9 februari 2027", "4", "1", "0", "4", "3", "38 min."],
              ["April", "dinsdag 13 april 2027", "4", "1", "1", "3", "2", "45 min."]]


def test_the_overview_counts_the_meetings_of_the_period_as_counted_by_hand(organiser_client, meetings):
    page = overview(organiser_client)
    assert tiles(page) == {"events": "3", "aangemeld": "11", "wachtlijst": "2", "afgemeld": "2",
                           "deelgenomen": "9", "aanwezig": "6", "support": "2"}
    assert table(page, "bijeenkomsten") == BY_MEETING
    assert table(page, "per-rol-cijfers") == BY_ROLE
    assert table(page, "per-soort-cijfers") == BY_TYPE
    assert table(page, "per-sector-cijfers") == BY_SECTOR
    assert table(page, "per-organisatie") == BY_ORGANISATION
    # anna joined all three (and one in June 2026, outside the period); bram and eva two each
    assert table(page, "terugkerend") == [["2", "2"], ["3", "1"]]
    assert table(page, "beide") == [["OBS De Linde", "obs de linde", "", "5", "1"], ["Het Baken", "het baken", "12AB", "2", "1"]]
    assert "Maart geannuleerd, dinsdag 2 maart 2027: 2 aanmeldingen" in html.unescape(page)
    assert 'id="verwijderd"' not in page


def test_the_default_period_is_the_current_school_year(organiser_client, meetings):
    page = overview(organiser_client, "")
    assert "Periode: <strong>01-08-2026 t/m 31-07-2027</strong>" in page
    assert tiles(page)["aangemeld"] == "11"


def test_a_shorter_period_counts_only_its_meetings(organiser_client, meetings):
    page = overview(organiser_client, "van=2027-01-01&tot=2027-03-31")
    assert table(page, "bijeenkomsten") == [BY_MEETING[1]]
    assert tiles(page)["support"] == "2"
    assert table(page, "terugkerend") == [["Niemand kwam naar meer dan één bijeenkomst."]]
    # the days are Amsterdam days: a meeting at 00.30 on 1 April (22.30 UTC on 31 March) is not in March
    create_event(slug="nacht", title="Nacht", starts_at=amsterdam(2027, 4, 1, 0, 30), ends_at=amsterdam(2027, 4, 1, 1, 30))
    db.session.commit()
    assert tiles(overview(organiser_client, "van=2027-01-01&tot=2027-03-31"))["events"] == "1"
    assert tiles(overview(organiser_client, "van=2027-04-01&tot=2027-04-01"))["events"] == "1"


def test_a_draft_in_the_period_is_not_counted(organiser_client, meetings):
    before = tiles(overview(organiser_client))
    draft = create_event(slug="concept", title="Concept", starts_at=amsterdam(2027, 2, 9),
                         ends_at=amsterdam(2027, 2, 9, 17), draft=True)
    db.session.flush()
    sign(draft, "Zara", "OBS De Linde", "Schoolleider", "School", "po")
    db.session.commit()
    assert tiles(overview(organiser_client)) == before
    draft.published_at = utcnow()
    db.session.commit()
    published = tiles(overview(organiser_client))
    assert (published["events"], published["aangemeld"]) == ("4", "12")


def test_the_charts_carry_the_dashboards_text_alternatives(organiser_client, meetings):
    page = html.unescape(overview(organiser_client))
    assert ('<desc id="per-rol-desc">Schoolleider: 7; Schoolbestuurder: 2; Anders: 1; '
            "Beleidsadviseur gemeente: 1; HRM'er: 0</desc>") in page
    assert "<title>Primair onderwijs (po): 7</title>" in page
    assert table(page, "per-sector-tabel")[0] == ["Primair onderwijs (po)", "7"]
    assert 'aria-labelledby="per-soort per-soort-desc"' in page


def test_the_organisations_corrected_sector_and_type_win(organiser_client, meetings):
    page = organiser_client.get("/organiser/organisaties").get_data(as_text=True)
    ref = re.search(r'value="([^"]+)" id="groep-\d+">\s*<label[^>]*>Stichting Primair kiezen', page).group(1)
    response = organiser_client.post(f"/organiser/organisaties/corrigeren?groep={ref}", data={
        "name": "Stichting Primair", "organisation_type": "Schoolbestuur", "brin": "", "board_name": "",
        "sector": "meerdere"})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = overview(organiser_client)
    assert table(page, "per-sector-cijfers")[0] == ["Primair onderwijs (po)", "5", "0", "0", "5", "3"]
    assert ["Meerdere sectoren", "2", "1", "1", "1", "1"] in table(page, "per-sector-cijfers")
    assert table(page, "per-organisatie")[2][:4] == ["Stichting Primair", "stichting primair", "Schoolbestuur",
                                                     "Meerdere sectoren"]


def test_the_overview_links_to_the_organisations_page_and_is_in_the_nav(organiser_client, meetings):
    page = overview(organiser_client)
    assert page.count('href="/organiser/organisaties"') >= 3  # the nav, the sector note, the organisations
    assert '<a href="/organiser/programma">Programma</a>' in organiser_client.get("/organiser/").get_data(as_text=True)


# --- after the privacy purge -------------------------------------------------------


def test_after_the_purge_the_figures_come_from_the_kept_counts(organiser_client, meetings, runner, frozen):
    frozen.move_to(amsterdam(2027, 6, 1, 3, 0))  # october and february are 90 days over, april not yet
    login(organiser_client)  # the session ran out meanwhile
    # a walk-in of a purged meeting is no registration, before the purge or after it
    db.session.add(WalkIn(event_id=meetings[0].id, key="gast@example.org", name="Gast Zonder Aanmelding",
                          email="gast@example.org", minutes_present=60))
    db.session.commit()
    before = overview(organiser_client)
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    left = db.session.scalars(select(Registration.event_id).distinct()).all()
    assert sorted(left) == [meetings[2].id]  # the negative control: the people of two meetings are gone
    after = overview(organiser_client)
    for view in ("bijeenkomsten", "per-rol-cijfers", "per-soort-cijfers", "per-sector-cijfers",
                 "per-organisatie", "beide"):
        expected = table(before, view)
        if view == "bijeenkomsten":  # the purged meetings say so
            expected = [[row[0] + (" (persoonsgegevens verwijderd)" if i < 2 else ""), *row[1:]]
                        for i, row in enumerate(expected)]
        assert table(after, view) == expected, view
    assert tiles(after) == tiles(before)
    assert table(after, "terugkerend") == [["Niemand kwam naar meer dan één bijeenkomst."]]
    notice = " ".join(html.unescape(re.search(r'<p class="notice" id="verwijderd">(.*?)</p>', after, re.S).group(1)).split())
    assert notice.startswith("Van 2 van de 3 bijeenkomsten in deze periode zijn de persoonsgegevens verwijderd.")
    assert "niet bij de terugkerende deelnemers" in notice
    assert "geteld over de 1 bijeenkomsten waarvan de persoonsgegevens er nog zijn" in " ".join(html.unescape(after).split())


def test_every_meeting_purged_keeps_every_figure(organiser_client, meetings, runner, frozen):
    before = overview(organiser_client)
    frozen.move_to(amsterdam(2027, 7, 20, 3, 0))
    login(organiser_client)
    assert runner.invoke(args=["privacy", "purge"]).exit_code == 0
    db.session.rollback()
    assert db.session.scalar(select(func.count(Registration.id))) == 0
    after = overview(organiser_client)
    assert tiles(after) == tiles(before)
    for view in ("per-rol-cijfers", "per-soort-cijfers", "per-sector-cijfers", "per-organisatie", "beide"):
        assert table(after, view) == table(before, view), view
    assert "Maart geannuleerd, dinsdag 2 maart 2027: 2 aanmeldingen" in html.unescape(after)


# --- exports -------------------------------------------------------------------------


def sheet_rows(book, name) -> list[list]:
    return [list(row) for row in book[name].iter_rows(values_only=True)]


def test_the_xlsx_has_a_sheet_per_view_with_numbers_as_numbers(organiser_client, meetings):
    response = organiser_client.get(f"{PAGE}.xlsx?{SCHOOL_YEAR}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=programma-2026-08-01-2027-07-31.xlsx"
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Totalen", "Bijeenkomsten", "Per rol", "Per soort organisatie", "Per sector",
                               "Per organisatie", "Terugkerend", "Ook ondersteuning", "Geannuleerd"]
    totals = sheet_rows(book, "Totalen")
    assert totals[1] == [datetime(2026, 8, 1), datetime(2027, 7, 31), 3, 11, 2, 2, 9, 6, 2, 0]
    assert sheet_rows(book, "Per rol")[1:] == [[row[0], *map(int, row[1:])] for row in BY_ROLE]
    assert sheet_rows(book, "Per sector")[1:] == [[row[0], *map(int, row[1:])] for row in BY_SECTOR]
    organisations = sheet_rows(book, "Per organisatie")
    assert organisations[0] == ["Organisatie", "Sleutel", "BRIN", "Soort organisatie", "Sector", "Aangemeld",
                                "Wachtlijst", "Afgemeld", "Deelgenomen", "Minimaal aanwezig", "Ondersteuningsaanvragen"]
    assert organisations[1] == ["OBS De Linde", "obs de linde", None, "School", "Primair onderwijs (po)", 5, 0, 0, 5, 3, 1]
    assert sheet_rows(book, "Terugkerend")[1:] == [[2, 2], [3, 1]]
    assert sheet_rows(book, "Bijeenkomsten")[1] == ["Oktober", datetime(2026, 10, 6, 16, 0), 3, 0, 1, 2, 1, 45, "nee"]
    assert all(book[name].auto_filter.ref for name in book.sheetnames)
    # a second reader, ExcelJS, sees the same cells, the counts as numbers and no formula
    for sheet in read_with_exceljs(response.get_data()):
        kinds = {kind for row in sheet["rows"] for kind, _ in row}
        assert kinds <= {"string", "number", "date", "empty"}, (sheet["name"], kinds)
        assert [[value for _, value in row] for row in sheet["rows"]] == [
            [value.isoformat() if isinstance(value, datetime) else value for value in row]
            for row in sheet_rows(book, sheet["name"])], sheet["name"]
    per_role = next(sheet for sheet in read_with_exceljs(response.get_data()) if sheet["name"] == "Per rol")
    assert per_role["rows"][1] == [["string", "Schoolleider"], ["number", 7], ["number", 0], ["number", 0],
                                   ["number", 7], ["number", 4]]


def read_csv(response, delimiter=";") -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def test_the_csv_holds_every_figure_as_one_row(organiser_client, meetings):
    response = organiser_client.get(f"{PAGE}.csv?{SCHOOL_YEAR}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = read_csv(response)
    assert rows[0] == ["Van", "Tot", "Overzicht", "Waarde", "Telling", "Aantal"]
    assert {row[0] + row[1] for row in rows[1:]} == {"01-08-202631-07-2027"}
    figures = {(view, label, measure): int(count) for _, _, view, label, measure, count in rows[1:]}
    assert figures["totaal", "alle bijeenkomsten", "aangemeld"] == 11
    assert figures["totaal", "alle bijeenkomsten", "aanwezig"] == 6
    for view, expected in (("rol", BY_ROLE), ("soort organisatie", BY_TYPE), ("sector", BY_SECTOR)):
        for label, *counts in expected:
            assert [figures[view, label, measure] for measure in
                    ("aangemeld", "wachtlijst", "afgemeld", "deelgenomen", "aanwezig")] == list(map(int, counts))
    assert figures["organisatie", "OBS De Linde", "deelgenomen"] == 5
    assert figures["organisatie", "Het Baken", "ondersteuningsaanvragen"] == 1
    assert figures["terugkerend", "2 bijeenkomsten", "personen"] == 2
    assert figures["ook ondersteuning", "Het Baken", "deelgenomen"] == 2
    assert figures["bijeenkomst", "Februari (09-02-2027)", "aanwezig"] == 3
    assert figures["geannuleerd", "Maart geannuleerd (02-03-2027)", "aanmeldingen"] == 2
    commas = read_csv(organiser_client.get(f"{PAGE}.csv?{SCHOOL_YEAR}&scheidingsteken=komma"), ",")
    assert commas == rows


def test_no_cell_of_either_export_runs_as_a_formula(organiser_client, app):
    october = meeting("oktober", amsterdam(2026, 10, 6), 60)
    db.session.flush()
    sign(october, "Anna", "=HYPERLINK(\"http://x\",\"klik\")", "Schoolleider", "School", "po", came=("manual",))
    sign(october, "Bram", "@SUM(1+1)", "Schoolleider", "School", "po")
    db.session.commit()
    rows = read_csv(organiser_client.get(f"{PAGE}.csv?{SCHOOL_YEAR}"))
    labels = {row[3] for row in rows if row[2] == "organisatie"}
    assert labels == {"'=HYPERLINK(\"http://x\",\"klik\")", "'@SUM(1+1)"}
    xlsx = organiser_client.get(f"{PAGE}.xlsx?{SCHOOL_YEAR}").get_data()
    names = {row[0] for row in sheet_rows(load_workbook(io.BytesIO(xlsx)), "Per organisatie")[1:]}
    assert names == {"=HYPERLINK(\"http://x\",\"klik\")", "@SUM(1+1)"}
    sheet = next(sheet for sheet in read_with_exceljs(xlsx) if sheet["name"] == "Per organisatie")
    assert {row[0][0] for row in sheet["rows"]} == {"string"}


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_every_export_is_audited(organiser_client, meetings, extension):
    organiser_client.get(f"{PAGE}.{extension}?{SCHOOL_YEAR}")
    db.session.rollback()
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == f"export.{extension}"
    assert entry.summary.startswith("Programma-overzicht 01-08-2026 t/m 31-07-2027 geëxporteerd (")
    assert entry.event_id is None


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(("query", "message"), [
    ("van=2027-08-01&tot=2027-01-01", "De begindatum ligt na de einddatum."),
    ("van=2027-02-31", "De begindatum ‘2027-02-31’ is geen datum."),
    ("tot=morgen", "De einddatum ‘morgen’ is geen datum."),
    ("van=31-02-2027", "De begindatum ‘31-02-2027’ is geen datum."),
    ("tot=9999-12-31", "Kies een einddatum tussen 2000 en 2100."),
    ("van=0001-01-01", "Kies een begindatum tussen 2000 en 2100."),
    ("van=1-2-3-4", "De begindatum ‘1-2-3-4’ is geen datum."),
], ids=["from-after-to", "no-such-day", "a-word", "no-such-day-dutch", "far-future", "year-one", "four-parts"])
@pytest.mark.parametrize("suffix", ["", ".csv", ".xlsx"], ids=["page", "csv", "xlsx"])
def test_a_wrong_period_gets_a_dutch_message_and_no_file(organiser_client, meetings, query, message, suffix):
    response = organiser_client.get(f"{PAGE}{suffix}?{query}")
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert message in html.unescape(response.get_data(as_text=True))
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action.like("export.%"))) == 0


def test_a_dutch_date_is_understood(organiser_client, meetings):
    page = overview(organiser_client, "van=01-01-2027&tot=31-3-2027")
    assert "Periode: <strong>01-01-2027 t/m 31-03-2027</strong>" in page


# --- speed -------------------------------------------------------------------------


def statements_while(client, url: str) -> int:
    """How many SQL statements the request sends."""
    count = 0

    def counted(*args):
        nonlocal count
        count += 1

    engine = db.engine
    sqlalchemy_event.listen(engine, "before_cursor_execute", counted)
    try:
        assert client.get(url).status_code == 200
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", counted)
    return count


def test_the_number_of_queries_does_not_grow_with_the_meetings(organiser_client, meetings):
    few = statements_while(organiser_client, f"{PAGE}?{SCHOOL_YEAR}")
    for number in range(12):
        extra = meeting(f"extra-{number}", amsterdam(2026, 11, 2 + number), 60, cancelled=number % 4 == 0)
        db.session.flush()
        for person in range(5):
            sign(extra, f"Extra{number}x{person}", f"School {person}", "Schoolleider", "School",
                 came=("report", 50) if person % 2 else None)
    db.session.commit()
    many = statements_while(organiser_client, f"{PAGE}?{SCHOOL_YEAR}")
    assert many == few, (few, many)
    assert few <= 15
    assert statements_while(organiser_client, f"{PAGE}.xlsx?{SCHOOL_YEAR}") <= few + 3


def test_a_period_is_not_read_from_the_wall_clock(organiser_client, meetings, frozen):
    frozen.move_to(amsterdam(2027, 8, 1, 9, 0))  # the next school year: none of the meetings
    assert utcnow().date() == date(2027, 8, 1)
    login(organiser_client)
    assert tiles(overview(organiser_client, ""))["events"] == "0"
