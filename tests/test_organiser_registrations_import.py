"""Organisers import registrants from a CSV file: good rows stored, the rest reported."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from helpers import (
    CONFIRMATION_SUBJECT as CONFIRMATION,
    REGISTRATIONS_URL as BASE,
    audit_actions,
    deliver,
    kinds_for,
    page_text as text,
)
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.registration import services as registration_services
from webinar.registration.models import Registration


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
