"""The optional sector of a registration: the public form, the organiser's form and the CSV import."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import select

from helpers import REGISTRATIONS_URL, form_data, page_text, post_registration
from webinar.extensions import db
from webinar.registration.models import Registration, TokenPurpose
from webinar.registration.tokens import issue_token


def sectors() -> dict[str, str]:
    db.session.rollback()
    return dict(db.session.execute(select(Registration.email_normalized, Registration.sector)).all())


def test_the_public_form_offers_the_sector_and_stores_it(client, event):
    page = html.unescape(client.get(f"/events/{event.slug}").get_data(as_text=True))
    assert '<label for="sector">Sector (niet verplicht)</label>' in page
    for key, label in [("", "Geen keuze"), ("po", "Primair onderwijs (po)"), ("vo", "Voortgezet onderwijs (vo)"),
                       ("so_vso", "(Voortgezet) speciaal onderwijs (so/vso)"), ("meerdere", "Meerdere sectoren")]:
        assert f'<option value="{key}">{label}</option>' in page
    assert post_registration(client, event, email="vo@example.org", sector="vo").status_code == 302
    assert post_registration(client, event, email="geen@example.org").status_code == 302  # it stays optional
    assert sectors() == {"vo@example.org": "vo", "geen@example.org": ""}


def test_a_sector_not_on_the_list_is_refused_in_dutch(client, event):
    response = post_registration(client, event, sector="hbo")
    assert response.status_code == 422
    assert "Kies een sector uit de lijst." in page_text(response)
    assert sectors() == {}


def test_the_registrant_can_change_the_sector_and_download_it(client, event):
    post_registration(client, event, sector="po")
    registration = db.session.scalars(select(Registration)).one()
    token = issue_token(registration, TokenPurpose.manage)
    db.session.commit()
    assert client.post(f"/r/{token}", data=form_data(sector="meerdere", privacy=None)).status_code == 302
    assert sectors() == {"anna.vandenberg@example.org": "meerdere"}
    assert client.get(f"/r/{token}/gegevens.json").get_json()["aanmelding"]["sector"] == "meerdere"


def test_the_organiser_adds_a_registration_with_a_sector(organiser_client, event):
    response = organiser_client.post(f"{REGISTRATIONS_URL}/nieuw",
                                     data=form_data(email="hand@example.org", sector="so_vso", privacy=None))
    assert response.status_code == 302
    assert sectors() == {"hand@example.org": "so_vso"}


@pytest.mark.parametrize(("written", "stored"), [
    ("po", "po"), ("VO", "vo"), ("so/vso", "so_vso"), ("SO-VSO", "so_vso"), ("Meerdere sectoren", "meerdere"),
    ("Primair onderwijs (po)", "po"), ("", ""),
], ids=["po", "upper-case", "slash", "hyphen", "several", "label", "empty"])
def test_the_import_reads_the_sector_column(organiser_client, event, written, stored):
    content = f"voornaam;achternaam;e-mailadres;organisatie;rol;sector\nAnna;Berg;a@example.org;OBS De Linde;Schoolleider;{written}\n"
    response = organiser_client.post(f"{REGISTRATIONS_URL}/importeren",
                                     data={"file": (io.BytesIO(content.encode()), "lijst.csv")},
                                     content_type="multipart/form-data")
    assert response.status_code == 200, page_text(response)[:300]
    assert sectors() == {"a@example.org": stored}


def test_the_import_refuses_an_unknown_sector_with_a_reason(organiser_client, event):
    content = "voornaam;achternaam;e-mailadres;organisatie;rol;sector\nAnna;Berg;a@example.org;OBS De Linde;Schoolleider;mbo\n"
    response = organiser_client.post(f"{REGISTRATIONS_URL}/importeren",
                                     data={"file": (io.BytesIO(content.encode()), "lijst.csv")},
                                     content_type="multipart/form-data")
    assert "Onbekende sector ‘mbo’; kies uit po, vo, so/vso of meerdere" in page_text(response)
    assert sectors() == {}
