"""Privacy: the statement, `flask privacy purge`, and registrants removing their own data."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from helpers import ENDS, NOW, ORGANISER_EMAIL, ORGANISER_PASSWORD, deliver, post_registration
from webinar.audit import AuditEntry
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.privacy import steps
from webinar.registration.models import AccessToken, Registration, RegistrationStatus
from webinar.support.models import SupportStatus
from webinar.support.services import RequestDetails, SchoolDetails, submit_request

DASHBOARD = "/organiser/events/samen-onderwijs-versnellen"

FENNA = dict(first_name="Fenna", tussenvoegsel="", last_name="Zwanenburg",
             email="Fenna.Zwanenburg@example.org", role="Schoolleider", organisation_type="School",
             organisation="OBS Het Kwartelnest", question="Hoe pakt Wijkschool Oostvaarders dit aan?")
JOOST = dict(first_name="Joost", tussenvoegsel="ter", last_name="Kamphorst",
             email="joost.terkamphorst@example.org", role="Schoolbestuurder", organisation_type="Schoolbestuur",
             organisation="Stichting Peelrandscholen")
RIA = dict(first_name="Ria", tussenvoegsel="", last_name="Oudeweg", email="ria.oudeweg@example.org",
           role="Anders", role_other="Intern begeleider", organisation="Basisschool De Wilgenkamp")
#: what must be gone after the purge, in any case
FENNA_AND_JOOST = ["fenna.zwanenburg@example.org", "Fenna", "Zwanenburg", "Oostvaarders",
                   "joost.terkamphorst@example.org", "Joost", "Kamphorst"]
#: their organisations: no personal data, kept with the anonymous counts only
THEIR_ORGANISATIONS = ["Kwartelnest", "Peelrandscholen"]


def database_dump() -> str:
    """Every row of every table as text: SQLite's own dump, or each PostgreSQL row cast to text."""
    raw = db.engine.raw_connection()
    try:
        connection = raw.driver_connection
        if db.engine.dialect.name == "sqlite":
            return "\n".join(connection.iterdump())
        cursor = connection.cursor()
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        lines = []
        for (table,) in cursor.fetchall():
            quoted = '"' + table.replace('"', '""') + '"'
            cursor.execute(f"SELECT CAST(t AS text) FROM {quoted} AS t")
            lines += [f"{table}: {row}" for (row,) in cursor.fetchall()]
        return "\n".join(lines)
    finally:
        raw.close()


def found(dump: str, words: list[str]) -> list[str]:
    return [word for word in words if word.lower() in dump.lower()]


def registration(email: str) -> Registration | None:
    return db.session.scalar(select(Registration).where(Registration.email_normalized == email.lower()))


def manage_path(smtp, address: str) -> str:
    text_part = smtp.to(address)[0].get_body(("plain",)).get_content()
    return re.search(r"http://webinar\.test(/r/[A-Za-z0-9_-]+)", text_part).group(1)


@pytest.fixture
def later_event(app):
    """A second meeting half a year later, whose data must survive the first one's purge."""
    event = create_event(slug="tweede-bijeenkomst", title="Tweede bijeenkomst", starts_at=ENDS + timedelta(days=180),
                         ends_at=ENDS + timedelta(days=180, hours=1), capacity=10)
    db.session.commit()
    return event


@pytest.fixture
def lived_in(client, event, later_event, organiser_client, smtp):
    """Registrations with mail sent, attendance, an organiser's cancellation and an export searched by name."""
    event.capacity = 1
    db.session.commit()
    for person in (FENNA, JOOST):
        assert post_registration(client, event, **person).status_code == 302
    assert post_registration(client, later_event, **RIA).status_code == 302
    deliver()
    fenna, joost = registration(FENNA["email"]), registration(JOOST["email"])
    assert joost.status == RegistrationStatus.waitlisted
    client.post(f"{DASHBOARD}/aanwezigheid/{fenna.id}", data={"aanwezig": "ja"})
    client.post(f"{DASHBOARD}/aanmeldingen/{joost.id}/annuleren")
    assert client.get(f"{DASHBOARD}/registrations.csv?q=Zwanenburg").status_code == 200
    return event


def test_purge_leaves_no_trace_of_the_people_anywhere_in_the_database(lived_in, runner, frozen):
    before = database_dump()
    assert found(before, FENNA_AND_JOOST + THEIR_ORGANISATIONS) == FENNA_AND_JOOST + THEIR_ORGANISATIONS  # can fail
    frozen.move_to(ENDS + timedelta(days=90, minutes=1))
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "Samen onderwijs versnellen (dinsdag 25 mei 2027): 2 aanmeldingen" in result.output
    after = database_dump()
    assert found(after, FENNA_AND_JOOST) == []
    for organisation in THEIR_ORGANISATIONS:
        lines = [line for line in after.splitlines() if organisation.lower() in line.lower()]
        assert lines and all("event_statistic" in line for line in lines), lines
    summaries = db.session.scalars(select(AuditEntry.summary).order_by(AuditEntry.id)).all()
    # the entries stay, without names or organisations
    assert "Aanmelding van [verwijderd] ([verwijderd]) geannuleerd" in summaries
    assert any("q=[verwijderd]" in line for line in summaries)
    assert found(after, ["ria.oudeweg@example.org", "Oudeweg", "Wilgenkamp"]) == [
        "ria.oudeweg@example.org", "Oudeweg", "Wilgenkamp"]  # the later event keeps its data


def test_nothing_is_purged_before_the_configured_days_have_passed(lived_in, runner, frozen, app):
    app.config["PRIVACY_PURGE_DAYS"] = 30
    frozen.move_to(ENDS + timedelta(days=29, hours=23))
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0
    assert "Geen bijeenkomsten met persoonsgegevens ouder dan 30 dagen na afloop." in result.output
    assert registration(FENNA["email"]) is not None
    frozen.move_to(ENDS + timedelta(days=30, minutes=1))
    assert "2 aanmeldingen" in runner.invoke(args=["privacy", "purge"]).output
    assert registration(FENNA["email"]) is None


def test_dashboard_keeps_the_counts_after_the_purge_and_a_second_run_changes_nothing(
        lived_in, runner, frozen, client):
    before = client.get(DASHBOARD).get_data(as_text=True)
    assert "persoonsgegevens van de aangemelden worden vanaf maandag 23 augustus 2027 verwijderd" in before
    frozen.move_to(ENDS + timedelta(days=91))
    assert runner.invoke(args=["privacy", "purge"]).exit_code == 0
    again = runner.invoke(args=["privacy", "purge"])
    assert again.exit_code == 0
    assert "aanmeldingen" not in again.output
    client.post("/organiser/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    page = client.get(DASHBOARD).get_data(as_text=True)
    assert "persoonsgegevens van de aangemelden zijn op dinsdag 24 augustus 2027 verwijderd" in page
    for tile in ("count-confirmed", "count-cancelled", "count-joined"):
        assert re.search(rf'id="{tile}">(\d+)<', page).group(1) == re.search(rf'id="{tile}">(\d+)<', before).group(1)
    assert re.search(r'id="count-confirmed">1<', page) and re.search(r'id="count-joined">1<', page)
    assert "<title>Schoolleider: 1</title>" in page and "<title>School: 1</title>" in page
    assert client.get(f"{DASHBOARD}/aanmeldingen").status_code == 200
    book = load_workbook(BytesIO(client.get(f"{DASHBOARD}/registrations.xlsx").data))
    summary = [[cell for cell in row if cell is not None] for row in book["Samenvatting"].iter_rows(values_only=True)]
    kept = summary[summary.index(["Bewaard na het verwijderen van de persoonsgegevens (zonder filters)"]):]
    # each count split by status (bevestigd, wachtlijst, afgemeld) and how many joined
    assert ["Schoolleider", 1, 1, 0, 0, 1] in kept and ["Schoolbestuurder", 1, 0, 0, 1, 0] in kept
    assert ["afgemeld", 1, 0, 0, 1, 0] in kept


def test_a_cancelled_event_is_purged_the_configured_days_after_the_cancellation(
        client, event, runner, frozen, smtp):
    post_registration(client, event, **FENNA)
    assert runner.invoke(args=["events", "cancel", "--slug", event.slug, "--yes"]).exit_code == 0
    frozen.move_to(NOW + timedelta(days=90, minutes=-1))  # long before the planned end + 90 days
    assert "Geen bijeenkomsten" in runner.invoke(args=["privacy", "purge"]).output
    assert registration(FENNA["email"]) is not None
    frozen.move_to(NOW + timedelta(days=90, minutes=1))
    assert "1 aanmelding," in runner.invoke(args=["privacy", "purge"]).output
    assert registration(FENNA["email"]) is None


def test_the_purge_also_removes_support_requests_closed_long_enough_ago(app, runner, frozen):
    school = SchoolDetails(name="OBS Het Kwartelnest", brin="12AB", sector="po", reason="risico",
                           judgement_date=None, risk_description="Dalende resultaten", half_days=4)
    details = RequestDetails(requester_name="Fenna Zwanenburg", requester_position="Directeur",
                             requester_email="fenna.zwanenburg@example.org", requester_phone="030 123 45 67",
                             board_name="", help_types=["schoolscan"], help_text="", schools=[school])
    request = submit_request(details, "f" * 32, NOW)
    request.status, request.closed_at = SupportStatus.done, NOW
    db.session.commit()
    frozen.move_to(NOW + timedelta(days=app.config["SUPPORT_PURGE_DAYS"], minutes=1))
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0
    assert "afgesloten ondersteuningsvragen: 1 verwijderd" in result.output
    assert found(database_dump(), ["fenna.zwanenburg@example.org", "Zwanenburg", "Kwartelnest"]) == []


def test_a_failing_step_makes_the_command_fail_but_the_rest_is_done(
        lived_in, runner, frozen, monkeypatch):
    def broken(now):
        raise RuntimeError("de opslag is onbereikbaar")

    monkeypatch.setattr(steps, "STEPS", [("proef", lambda now: 3), ("kapot", broken)])
    frozen.move_to(ENDS + timedelta(days=91))
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 1
    assert "proef: 3 verwijderd" in result.output
    assert "kapot: mislukt: RuntimeError: de opslag is onbereikbaar" in result.output
    assert registration(FENNA["email"]) is None  # the events were still purged


def test_privacy_statement_names_the_configured_days(client, app):
    app.config["PRIVACY_PURGE_DAYS"] = 60
    page = client.get("/privacy").get_data(as_text=True)
    assert "60 dagen na afloop van de bijeenkomst" in page
    for heading in ("Wat we bewaren", "Waarom", "Wie ze ziet", "Hoe lang", "Uw rechten"):
        assert f">{heading}</h2>" in page


def test_registrants_delete_their_own_data_and_the_next_waiting_person_gets_the_place(
        organiser_client, event, smtp):
    client = organiser_client
    event.capacity = 1
    db.session.commit()
    post_registration(client, event, **FENNA)
    post_registration(client, event, **JOOST)
    deliver()
    client.get(f"{DASHBOARD}/registrations.csv?q=fenna")  # the audit log keeps the search
    path = manage_path(smtp, FENNA["email"])
    client.post(f"/events/{event.slug}/link-kwijt", data={"lost_email": FENNA["email"]})  # queued, pending
    asked = client.get(f"{path}/verwijderen")
    assert "Ja, verwijder mijn aanmelding en gegevens" in asked.get_data(as_text=True)
    assert registration(FENNA["email"]) is not None  # a GET changes nothing
    done = client.post(f"{path}/verwijderen")
    assert done.status_code == 302 and done.headers["Location"] == f"/events/{event.slug}"
    assert "Uw aanmelding en al uw gegevens zijn verwijderd" in client.get(done.headers["Location"]).get_data(
        as_text=True)
    assert client.get(path).status_code == 404
    assert client.post(f"{path}/verwijderen").status_code == 404
    joost = registration(JOOST["email"])
    assert joost.status == RegistrationStatus.confirmed
    assert set(db.session.scalars(select(AccessToken.registration_id))) == {joost.id}
    pending = db.session.scalars(select(OutgoingMail.recipient).where(OutgoingMail.status == MailStatus.pending))
    assert list(pending) == [JOOST["email"]]  # the promotion; nothing left for Fenna
    received = len(smtp.to(FENNA["email"]))
    deliver()
    assert len(smtp.to(FENNA["email"])) == received
    assert found(database_dump(), ["fenna.zwanenburg@example.org", "Fenna", "Zwanenburg", "Kwartelnest"]) == []


def test_a_cancelled_registrant_can_still_delete_their_data(client, event, smtp):
    post_registration(client, event, **FENNA)
    deliver()
    path = manage_path(smtp, FENNA["email"])
    client.post(f"{path}/afmelden")
    assert "Mijn aanmelding en gegevens verwijderen" in client.get(path).get_data(as_text=True)
    assert client.post(f"{path}/verwijderen").status_code == 302
    assert db.session.scalar(select(Registration.id)) is None
    assert db.session.execute(text("SELECT COUNT(*) FROM outgoing_mail")).scalar() == 0
