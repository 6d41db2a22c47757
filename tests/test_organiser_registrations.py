"""The organiser's registrations: table, detail, edit, cancel, promote, add by hand, CSV import."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, insert, select

from helpers import ENDS, NOW, ORGANISER_EMAIL, ORGANISER_PASSWORD, deliver, form_data, post_registration
from webinar.attendance.models import Attendance
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.organiser.models import AuditEntry
from webinar.registration import services as registration_services
from webinar.registration.models import Registration, RegistrationStatus
from webinar.registration.services import Details, register

BASE = "/organiser/events/samen-onderwijs-versnellen/aanmeldingen"
CONFIRMATION = "Aanmelding bevestigd: Samen onderwijs versnellen"


def person(event, first, last, tussenvoegsel="", *, email=None, organisation="OBS De Linde",
           role="Schoolleider", role_other="") -> Registration:
    """Register someone through the real service and commit."""
    details = Details(first_name=first, tussenvoegsel=tussenvoegsel, last_name=last,
                      email=email or f"{first}.{last}@example.org".lower().replace(" ", ""),
                      organisation=organisation, role=role, role_other=role_other)
    registration = register(event, details).registration
    db.session.commit()
    return registration


def names(response) -> list[str]:
    """The names in the table, in the order the organiser sees them."""
    body = response.get_data(as_text=True)
    return [html.unescape(name) for name in re.findall(r'<th scope="row"><a href="[^"]+">(.*?)</a></th>', body)]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flash_after(response, client) -> str:
    """Follow the redirect and return the page's flashed messages."""
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return " ".join(html.unescape(m) for m in re.findall(r'<div class="notice[^"]*" role="status">(.*?)</div>', page))


def log_in(client) -> None:
    response = client.post("/organiser/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    assert response.status_code == 302


def reload(registration: Registration) -> Registration:
    db.session.rollback()
    return db.session.get(Registration, registration.id)


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def kinds_for(registration: Registration) -> list[str]:
    return list(db.session.scalars(
        select(OutgoingMail.kind).where(OutgoingMail.registration_id == registration.id).order_by(OutgoingMail.id)))


@pytest.fixture
def people(event):
    """Four registrants, added out of alphabetical order."""
    return {
        "dijk": person(event, "Jan", "Dijk", "van", organisation="Stichting Primair", role="Schoolbestuurder"),
        "berg": person(event, "Anna", "Berg", "van den", email="anna.vandenberg@example.org"),
        "vries": person(event, "Mirjam", "Vries", "de", organisation="Gemeente Zwolle", role="HRM'er"),
        "bakker": person(event, "Piet", "Bakker", organisation="Het Kompas"),
    }


# The table


def test_table_sorts_by_last_name_ignoring_tussenvoegsels(organiser_client, people):
    response = organiser_client.get(BASE)
    assert response.status_code == 200
    assert names(response) == ["Bakker, Piet", "Berg, Anna van den", "Dijk, Jan van", "Vries, Mirjam de"]
    assert "4 aanmeldingen" in text(response)


def test_a_tussenvoegsel_typed_into_the_last_name_is_ignored_too(organiser_client, event, people):
    person(event, "Kees", "van der Meer", email="kees@example.org")
    person(event, "Els", "De Groot", email="els@example.org")
    person(event, "Tom", "Vandenbroucke", email="tom@example.org")  # no tussenvoegsel: under V
    person(event, "Ria", "Ter Horst", email="ria@example.org")
    assert names(organiser_client.get(BASE)) == [
        "Bakker, Piet", "Berg, Anna van den", "Dijk, Jan van", "De Groot, Els", "Ter Horst, Ria",
        "van der Meer, Kees", "Vandenbroucke, Tom", "Vries, Mirjam de",
    ]


@pytest.mark.parametrize("query, expected", [
    ("berg", ["Berg, Anna van den"]),
    ("Anna van den Berg", ["Berg, Anna van den"]),
    ("Piet Bakker", ["Bakker, Piet"]),
    ("bakker piet", ["Bakker, Piet"]),
    ("_", []),  # a LIKE wildcard is searched for as itself
    ("PIET.bakker@", ["Bakker, Piet"]),
    ("gemeente zwolle", ["Vries, Mirjam de"]),
    ("kompas", ["Bakker, Piet"]),
    ("niemand", []),
])
def test_search_by_name_email_or_organisation(organiser_client, people, query, expected):
    response = organiser_client.get(BASE, query_string={"q": query})
    assert names(response) == expected
    if not expected:
        assert "Geen aanmeldingen gevonden met deze zoekopdracht." in text(response)


def test_filters_by_role_status_and_attendance(organiser_client, event, people):
    event.capacity = 4
    db.session.commit()
    waiting = person(event, "Wim", "Wachter")
    db.session.add(Attendance(registration_id=people["berg"].id, first_joined_at=NOW, last_joined_at=NOW))
    db.session.commit()
    assert names(organiser_client.get(BASE, query_string={"rol": "HRM'er"})) == ["Vries, Mirjam de"]
    assert names(organiser_client.get(BASE, query_string={"status": "wachtlijst"})) == ["Wachter, Wim"]
    assert len(names(organiser_client.get(BASE, query_string={"status": "aangemeld"}))) == 4
    registration_services.cancel_registration(waiting)
    db.session.commit()
    assert names(organiser_client.get(BASE, query_string={"status": "afgemeld"})) == ["Wachter, Wim"]
    joined = organiser_client.get(BASE, query_string={"deelgenomen": "ja"})
    assert names(joined) == ["Berg, Anna van den"]
    assert re.search(r"Berg, Anna van den</a></th>.*?<td>ja</td>", joined.get_data(as_text=True), re.S)
    assert "Berg, Anna van den" not in names(organiser_client.get(BASE, query_string={"deelgenomen": "nee"}))
    both = organiser_client.get(BASE, query_string={"rol": "Schoolleider", "deelgenomen": "nee"})
    assert names(both) == ["Bakker, Piet", "Wachter, Wim"]
    page = text(both)
    assert '<option value="Schoolleider" selected>' in page and '<option value="nee" selected>' in page


def test_pagination_shows_fifty_a_page_and_keeps_the_filters(organiser_client, event):
    event.capacity = None
    db.session.commit()
    for number in range(1, 121):
        person(event, "Lid", f"Persoon {number:03}", email=f"lid{number}@example.org")
    first = organiser_client.get(BASE, query_string={"q": "example.org", "status": "aangemeld"})
    assert len(names(first)) == 50
    assert "120 aanmeldingen gevonden · pagina 1 van 3" in text(first)
    links = [urlsplit(html.unescape(href)) for href in re.findall(r'href="([^"]+)"', first.get_data(as_text=True))]
    to_page_two = [parse_qs(link.query) for link in links if parse_qs(link.query).get("pagina") == ["2"]]
    assert to_page_two and all(q["q"] == ["example.org"] and q["status"] == ["aangemeld"] for q in to_page_two)
    third = organiser_client.get(BASE, query_string={"q": "example.org", "status": "aangemeld", "pagina": 3})
    assert names(third)[0] == "Persoon 101, Lid" and len(names(third)) == 20
    assert names(organiser_client.get(BASE, query_string={"pagina": 99})) == names(third)  # beyond the end
    assert len(names(organiser_client.get(BASE, query_string={"pagina": "twee"}))) == 50


def test_thousands_of_rows_page_by_page(organiser_client, event):
    rows = [dict(event_id=event.id, status=RegistrationStatus.confirmed, first_name="Lid", tussenvoegsel="",
                 last_name=f"Persoon {n:04}", email=f"lid{n}@example.org", email_normalized=f"lid{n}@example.org",
                 organisation="OBS De Linde", organisation_type="School", role="Leraar", role_other="",
                 question="", privacy_accepted_at=NOW) for n in range(1, 2501)]
    db.session.execute(insert(Registration), rows)
    db.session.commit()
    first = organiser_client.get(BASE)
    assert "2.500 aanmeldingen · pagina 1 van 50" in text(first)
    assert len(names(first)) == 50
    pager = re.search(r'<nav class="pagination".*?</nav>', text(first), re.S).group(0)
    assert len(re.findall(r"<a ", pager)) <= 10 and "…" in pager  # not fifty links
    middle = organiser_client.get(BASE, query_string={"pagina": 25})
    assert names(middle)[0] == "Persoon 1201, Lid" and "pagina 25 van 50" in text(middle)
    assert names(organiser_client.get(BASE, query_string={"pagina": 50}))[-1] == "Persoon 2500, Lid"


def test_download_links_carry_the_filters(organiser_client, event, people):
    body = text(organiser_client.get(BASE, query_string={"q": "berg", "rol": "Schoolleider"}))
    for label, extra in (("Download CSV", {}), ("Download Excel", {}), ("CSV met komma's", {"scheidingsteken": ["komma"]})):
        href = re.search(rf'<a href="([^"]+)">{label}</a>', body).group(1)
        assert parse_qs(urlsplit(href).query) == {"q": ["berg"], "rol": ["Schoolleider"], **extra}
        assert organiser_client.get(href).status_code == 200
    commas = re.search(r'<a href="([^"]+)">CSV met komma\'s</a>', body).group(1)
    assert organiser_client.get(commas).get_data().decode("utf-8-sig").startswith("Voornaam,Tussenvoegsel,")


# One registration


def test_detail_shows_details_attendance_and_mails(organiser_client, event, people, smtp):
    anna = people["berg"]
    deliver()
    mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.registration_id == anna.id))
    db.session.add(OutgoingMail(kind="reminder", dedupe_key="x", event_id=event.id, registration_id=anna.id,
                                recipient=anna.email, status=MailStatus.failed, last_error="550 mailbox unavailable"))
    db.session.add(Attendance(registration_id=anna.id, first_joined_at=NOW, last_joined_at=NOW, join_count=2))
    db.session.commit()
    assert mail.kind == "confirmation" and mail.status == MailStatus.sent
    page = text(organiser_client.get(f"{BASE}/{anna.id}"))
    assert "<h1>Anna van den Berg</h1>" in page
    for fact in ("anna.vandenberg@example.org", "OBS De Linde", "Schoolleider", "Status: <strong>Aangemeld</strong>"):
        assert fact in page
    assert re.search(r"Aantal keer binnengekomen</dt><dd>2</dd>", page)
    assert re.search(r"<td>Bevestiging</td>\s*<td>verstuurd</td>\s*<td>zaterdag 1 mei 2027 om 12.00 uur</td>", page)
    assert re.search(r"<td>Herinnering</td>\s*<td>mislukt</td>\s*<td>–</td>\s*<td>550 mailbox unavailable</td>", page)


def test_detail_of_another_events_registration_is_not_found(organiser_client, event, people):
    assert organiser_client.get(f"{BASE}/{people['berg'].id + 1000}").status_code == 404
    assert organiser_client.get(f"/organiser/events/bestaat-niet/aanmeldingen/{people['berg'].id}").status_code == 404


def test_edit_changes_details_without_mail(organiser_client, people):
    anna = people["berg"]
    before = kinds_for(anna)
    response = organiser_client.post(f"{BASE}/{anna.id}/bewerken",
                                     data=form_data(first_name="Anne", organisation="IKC De Linde"))
    assert "De gegevens van Anne van den Berg zijn opgeslagen." in flash_after(response, organiser_client)
    anna = reload(anna)
    assert (anna.first_name, anna.organisation) == ("Anne", "IKC De Linde")
    assert kinds_for(anna) == before
    summary = db.session.scalar(select(AuditEntry.summary))
    assert summary == f"aanmelding {anna.id} gewijzigd: voornaam, organisatie, soort organisatie"


def test_edit_refuses_an_address_someone_else_uses(organiser_client, people):
    anna = people["berg"]
    response = organiser_client.post(f"{BASE}/{anna.id}/bewerken", data=form_data(email="piet.bakker@example.org"))
    assert response.status_code == 422
    assert "Dit e-mailadres is al aangemeld voor deze bijeenkomst." in text(response)
    assert reload(anna).email == "anna.vandenberg@example.org"
    assert audit_actions() == []


# Cancelling and promoting


@pytest.fixture
def full_event(event):
    """One place: Anna has it, Bert waits."""
    event.capacity = 1
    db.session.commit()
    anna = person(event, "Anna", "Berg", "van den", email="anna@example.org")
    bert = person(event, "Bert", "Bakker", email="bert@example.org")
    assert bert.status == RegistrationStatus.waitlisted
    return anna, bert


def test_cancel_gives_the_place_to_the_first_waiting(organiser_client, smtp, full_event):
    anna, bert = full_event
    message = flash_after(organiser_client.post(f"{BASE}/{anna.id}/annuleren"), organiser_client)
    assert "Anna van den Berg is afgemeld" in message and "Van de wachtlijst kreeg Bert Bakker" in message
    assert reload(anna).status == RegistrationStatus.cancelled
    assert reload(bert).status == RegistrationStatus.confirmed
    deliver()
    assert [m["Subject"].strip() for m in smtp.to("anna@example.org")] == [
        "Afmelding bevestigd: Samen onderwijs versnellen"]
    assert [m["Subject"].strip() for m in smtp.to("bert@example.org")] == [
        "Er is een plaats vrij: u bent aangemeld voor Samen onderwijs versnellen"]
    assert audit_actions() == ["registration.cancel"]
    again = flash_after(organiser_client.post(f"{BASE}/{anna.id}/annuleren"), organiser_client)
    assert "was al afgemeld" in again and audit_actions() == ["registration.cancel"]


def test_promote_goes_past_the_limit_and_says_so(organiser_client, smtp, full_event):
    anna, bert = full_event
    page = text(organiser_client.get(f"{BASE}/{bert.id}"))
    assert "nummer 1 op de wachtlijst" in page and "Plaats geven" in page
    message = flash_after(organiser_client.post(f"{BASE}/{bert.id}/plaats-geven"), organiser_client)
    assert "Bert Bakker heeft een plaats gekregen" in message
    assert "er zijn nu 2 aanmeldingen voor 1 plaats" in message
    assert reload(bert).status == RegistrationStatus.confirmed
    assert reload(anna).status == RegistrationStatus.confirmed
    deliver()
    assert [m["Subject"].strip() for m in smtp.to("bert@example.org")] == [
        "Er is een plaats vrij: u bent aangemeld voor Samen onderwijs versnellen"]
    assert audit_actions() == ["registration.promote"]
    again = flash_after(organiser_client.post(f"{BASE}/{bert.id}/plaats-geven"), organiser_client)
    assert "staat niet op de wachtlijst" in again and audit_actions() == ["registration.promote"]


def test_nothing_changes_after_the_event(organiser_client, frozen, full_event):
    anna, bert = full_event
    frozen.move_to(ENDS + timedelta(hours=1))
    log_in(organiser_client)  # the session ran out while time moved on
    assert "voorbij" in flash_after(organiser_client.post(f"{BASE}/{bert.id}/plaats-geven"), organiser_client)
    assert "voorbij" in flash_after(organiser_client.post(f"{BASE}/{anna.id}/annuleren"), organiser_client)
    assert reload(anna).status == RegistrationStatus.confirmed
    assert reload(bert).status == RegistrationStatus.waitlisted
    assert audit_actions() == []


# Adding by hand


def test_add_by_hand_sends_the_confirmation(organiser_client, smtp, event):
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(email="nieuw@example.org", privacy=None))
    assert "Anna van den Berg is aangemeld en krijgt een bevestiging per e-mail." in flash_after(
        response, organiser_client)
    [registration] = db.session.scalars(select(Registration)).all()
    assert response.headers["Location"] == f"{BASE}/{registration.id}"
    assert registration.status == RegistrationStatus.confirmed
    deliver()
    assert [m["Subject"].strip() for m in smtp.to("nieuw@example.org")] == [CONFIRMATION]
    assert audit_actions() == ["registration.add"]


def test_add_by_hand_works_after_registration_closed(organiser_client, smtp, client, event):
    event.registration_closes_at = NOW - timedelta(hours=1)
    db.session.commit()
    assert post_registration(client, event, email="publiek@example.org").status_code == 409
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(email="laat@example.org"))
    assert response.status_code == 302
    [registration] = db.session.scalars(select(Registration)).all()
    assert (registration.email, registration.status) == ("laat@example.org", RegistrationStatus.confirmed)
    deliver()
    assert [m["Subject"].strip() for m in smtp.to("laat@example.org")] == [CONFIRMATION]


def test_add_by_hand_puts_people_on_the_waiting_list_when_full(organiser_client, full_event):
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(email="derde@example.org", first_name="Cor"))
    assert "De bijeenkomst is vol: Cor van den Berg staat op de wachtlijst" in flash_after(response, organiser_client)


def test_add_by_hand_refuses_a_registered_address_and_a_cancelled_event(organiser_client, event, people):
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(email="Piet.Bakker@example.org"))
    assert response.status_code == 422
    assert "Dit e-mailadres is al aangemeld voor deze bijeenkomst." in text(response)
    assert kinds_for(people["bakker"]) == ["confirmation"]  # no "registered again" mail either
    event.cancelled_at = NOW
    db.session.commit()
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(email="nieuw@example.org"))
    assert response.status_code == 422 and "voorbij of geannuleerd" in text(response)
    assert db.session.scalar(select(func.count(Registration.id))) == 4
    assert audit_actions() == []


def test_add_by_hand_shows_the_forms_dutch_errors(organiser_client, event):
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(first_name="", email="geen-adres"))
    assert response.status_code == 422
    assert "Vul uw voornaam in." in text(response) and "Vul een geldig e-mailadres in" in text(response)


# Importing a CSV file


def upload(client, content: bytes, filename="lijst.csv"):
    return client.post(f"{BASE}/importeren", data={"file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def report_rows(response, table: str) -> dict[int, list[str]]:
    body = response.get_data(as_text=True)
    section = re.search(rf'<table class="data" id="{table}">(.*?)</table>', body, re.S)
    if section is None:
        return {}
    rows = re.findall(r'<tr><th scope="row">(\d+)</th>(.*?)</tr>', section.group(1))
    return {int(n): [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", cells)] for n, cells in rows}


MIXED = (
    "Voornaam;Tussenvoegsel;Achternaam;E-mailadres;Organisatie;Rol;Soort organisatie;Telefoon\n"
    "Anna;van den;Berg;anna@example.org;OBS De Linde;schoolleider;school;0612345678\n"
    "Bert;;Bakker;bert@;OBS De Linde;Schoolleider;;\n"
    ";;Dijk;dijk@example.org;OBS De Linde;Schoolleider;;\n"
    "Piet;;Bakker;piet.bakker@example.org;Het Kompas;Schoolleider;;\n"
    "Daan;;Dekker;daan@example.org;Stichting Noord;Intern begeleider;Schoolbestuur;\n"
    "Anna;;Anders;ANNA@example.org;OBS De Linde;Schoolleider;;\n"
    ";;;;;;;\n"
    "Eva;;Evers;eva@example.org;;Schoolleider;;\n"
    "Fien;;Fransen;fien@example.org;OBS De Linde;Schoolleider;Bakkerij;\n"
)


def test_import_takes_good_rows_and_reports_the_rest(organiser_client, smtp, event, people):
    response = upload(organiser_client, "\ufeff".encode() + MIXED.encode())
    assert response.status_code == 200
    page = text(response)
    assert "Import klaar: 2 overgenomen, 6 geweigerd." in page
    assert "kennen we niet en zijn overgeslagen: Telefoon." in page
    assert report_rows(response, "geweigerd") == {
        3: ["Bert Bakker", "Ongeldig e-mailadres ‘bert@’"],
        4: ["Dijk", "Voornaam ontbreekt"],
        5: ["Piet Bakker", "Staat al aangemeld (aangemeld)"],
        7: ["Anna Anders", "Dit e-mailadres staat al in rij 2"],
        9: ["Eva Evers", "Organisatie ontbreekt"],
        10: ["Fien Fransen", "Onbekende soort organisatie ‘Bakkerij’; kies uit "
             "Schoolbestuur, School, Gemeente, Samenwerkingsverband, Anders"],
    }
    assert report_rows(response, "overgenomen") == {
        2: ["Anna van den Berg", "anna@example.org", "Aangemeld"],
        6: ["Daan Dekker", "daan@example.org", "Aangemeld"],
    }
    stored = {r.email: r for r in db.session.scalars(select(Registration))}
    assert set(stored) == {p.email for p in people.values()} | {"anna@example.org", "daan@example.org"}
    assert (stored["anna@example.org"].role, stored["anna@example.org"].organisation_type) == ("Schoolleider", "School")
    assert stored["daan@example.org"].role_label == "Anders: Intern begeleider"
    deliver()
    assert [m["Subject"].strip() for m in smtp.to("anna@example.org")] == [CONFIRMATION]
    assert [m["Subject"].strip() for m in smtp.to("daan@example.org")] == [CONFIRMATION]
    assert kinds_for(people["bakker"]) == ["confirmation"]  # his own; the import sent him nothing
    assert audit_actions() == ["registration.import"]


def test_import_with_commas_and_a_full_event(organiser_client, event):
    event.capacity = 1
    db.session.commit()
    content = ("voornaam,achternaam,e-mailadres,organisatie,rol\n"
               "Anna,Berg,anna@example.org,OBS De Linde,Schoolleider\n"
               '"Bert, jr.",Bakker,bert@example.org,"School ""Het Kompas""",HRM\'er\n').encode()
    response = upload(organiser_client, content)
    assert report_rows(response, "overgenomen") == {
        2: ["Anna Berg", "anna@example.org", "Aangemeld"],
        3: ["Bert, jr. Bakker", "bert@example.org", "Op de wachtlijst"],
    }
    assert db.session.scalar(select(Registration.organisation).where(Registration.email == "bert@example.org")) \
        == 'School "Het Kompas"'


@pytest.mark.parametrize("content, message", [
    (b"voornaam;e-mailadres\nAnna;anna@example.org\n",
     "Deze kolommen ontbreken in de kopregel: achternaam, organisatie, rol."),
    ("voornaam;achternaam;e-mailadres;organisatie;rol\nJosé;Berg;j@example.org;X;Schoolleider\n".encode("cp1252"),
     "Het bestand is geen UTF-8."),
    (b"", "Het bestand is leeg."),
    (b"voornaam;achternaam;e-mailadres;organisatie;rol\n", "Het bestand bevat geen rijen onder de kopregel."),
])
def test_import_refuses_files_it_cannot_read(organiser_client, event, content, message):
    response = upload(organiser_client, content)
    assert response.status_code == 422
    assert message in text(response)
    assert db.session.scalar(select(func.count(Registration.id))) == 0


def test_import_needs_a_file_and_refuses_large_ones(organiser_client, app, event):
    response = organiser_client.post(f"{BASE}/importeren", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Kies een CSV-bestand." in text(response)

    def body(size: int) -> bytes:
        # Encoded by hand: the test client would spool a large upload to a file it never closes.
        return (b'--grens\r\nContent-Disposition: form-data; name="file"; filename="groot.csv"\r\n\r\n'
                + b"x" * size + b"\r\n--grens--\r\n")

    limit = app.config["IMPORT_MAX_BYTES"]
    read = organiser_client.post(f"{BASE}/importeren", data=body(2 * 1024 * 1024),
                                 content_type="multipart/form-data; boundary=grens")
    assert read.status_code == 422 and "kon niet als CSV-bestand worden gelezen" in text(read)  # read, not refused
    too_large = organiser_client.post(f"{BASE}/importeren", data=body(limit),
                                      content_type="multipart/form-data; boundary=grens")
    assert too_large.status_code == 413 and "Te veel gegevens" in text(too_large)


def test_a_row_that_cannot_be_stored_is_refused_and_the_rest_is_stored(organiser_client, event, monkeypatch):
    event.capacity = None
    db.session.commit()
    rows = "".join(f"Lid;Persoon {n};lid{n}@example.org;OBS De Linde;Schoolleider\n" for n in range(1, 1201))  # 6 groups
    content = ("voornaam;achternaam;e-mailadres;organisatie;rol\n" + rows).encode()
    queue = registration_services.notify_registered_many

    def fails_for_lid_700(registrations):
        if any(registration.email == "lid700@example.org" for registration in registrations):
            raise RuntimeError("de schijf is vol")
        return queue(registrations)

    monkeypatch.setattr(registration_services, "notify_registered_many", fails_for_lid_700)
    response = upload(organiser_client, content)
    assert response.status_code == 200
    assert "Import klaar: 1199 overgenomen, 1 geweigerd." in text(response)
    assert "Bij het opslaan ging iets mis." in text(response)
    assert report_rows(response, "geweigerd") == {
        701: ["Lid Persoon 700", "Niet opgeslagen door een storing; importeer het bestand opnieuw"]}
    stored = set(db.session.scalars(select(Registration.email)))
    assert len(stored) == 1199 and "lid700@example.org" not in stored
    per_address = dict(db.session.execute(
        select(OutgoingMail.recipient, func.count(OutgoingMail.id)).group_by(OutgoingMail.recipient)).all())
    assert per_address == {address: 1 for address in stored}
    assert audit_actions() == ["registration.import"]

    monkeypatch.undo()  # the fault is gone
    again = upload(organiser_client, content)  # the organiser imports the same file again, as told
    assert "Import klaar: 1 overgenomen, 1199 geweigerd." in text(again)
    assert db.session.scalar(select(func.count(OutgoingMail.id))) == 1200


# Only for organisers


@pytest.mark.parametrize("method, path", [
    ("get", ""), ("get", "/{id}"), ("get", "/{id}/bewerken"), ("post", "/{id}/bewerken"),
    ("post", "/{id}/annuleren"), ("post", "/{id}/plaats-geven"),
    ("get", "/nieuw"), ("post", "/nieuw"), ("get", "/importeren"), ("post", "/importeren"),
])
def test_anonymous_visitors_are_sent_to_the_login_and_change_nothing(client, full_event, method, path):
    anna, bert = full_event
    mails = db.session.scalar(select(func.count(OutgoingMail.id)))
    data = form_data(email="iemand@example.org", first_name="Inbreker")
    if path == "/importeren":
        data = {"file": (io.BytesIO(b"voornaam;achternaam;e-mailadres;organisatie;rol\n"
                                    b"Ina;Breker;ina@example.org;X;Schoolleider\n"), "lijst.csv")}
    url = BASE + path.format(id=bert.id)
    response = client.get(url) if method == "get" else client.post(url, data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/organiser/login")
    assert reload(anna).status == RegistrationStatus.confirmed
    bert = reload(bert)
    assert (bert.status, bert.first_name) == (RegistrationStatus.waitlisted, "Bert")
    assert db.session.scalar(select(func.count(Registration.id))) == 2
    assert db.session.scalar(select(func.count(OutgoingMail.id))) == mails
    assert audit_actions() == []
