"""The registrations pages are for organisers only."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from helpers import REGISTRATIONS_URL as BASE, audit_actions, form_data, reload_registration as reload
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.registration.models import Registration, RegistrationStatus


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
