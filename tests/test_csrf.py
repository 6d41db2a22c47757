"""With CSRF protection on, as in production: a POST without the form's token is refused.

The test configuration turns CSRF off so that other tests can post forms
directly; this module turns it back on.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from helpers import ORGANISER_EMAIL, ORGANISER_PASSWORD, app_in_context, deliver, form_data
from test_registration import manage_link
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.organiser.models import LoginAttempt
from webinar.registration.models import Registration, RegistrationStatus

EVENT = "/events/samen-onderwijs-versnellen"
REFUSED = "Het formulier was verlopen. Ga terug, laad de pagina opnieuw en probeer het nog eens."


@pytest.fixture
def app(schema, frozen):
    with app_in_context(schema, WTF_CSRF_ENABLED=True) as app:
        yield app


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_registration_without_a_token_is_refused_in_dutch_and_stores_nothing(client, event):
    response = client.post(EVENT, data=form_data())
    assert response.status_code == 400
    assert REFUSED in response.get_data(as_text=True)
    assert count(Registration) == 0
    assert count(OutgoingMail) == 0


def test_a_wrong_token_is_refused_too(client, event):
    client.get(EVENT)
    response = client.post(EVENT, data=form_data(csrf_token="vervalst"))
    assert response.status_code == 400
    assert count(Registration) == 0


def test_with_the_token_from_the_page_it_works(client, event):
    response = client.post(EVENT, data=form_data(csrf_token=csrf_token(client, EVENT)))
    assert response.status_code == 302
    assert count(Registration) == 1


def test_a_token_from_another_session_is_refused(app, client, event):
    stolen = csrf_token(app.test_client(), EVENT)
    client.get(EVENT)
    assert client.post(EVENT, data=form_data(csrf_token=stolen)).status_code == 400
    assert count(Registration) == 0


def test_cancelling_without_a_token_changes_nothing(client, event, smtp):
    client.post(EVENT, data=form_data(csrf_token=csrf_token(client, EVENT)))
    deliver()
    link = manage_link(smtp.messages[0])
    response = client.post(f"{link}/afmelden")
    assert response.status_code == 400
    assert REFUSED in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(Registration.status)) == RegistrationStatus.confirmed
    assert count(OutgoingMail) == 1


def test_deleting_ones_data_without_a_token_changes_nothing(client, event, smtp):
    client.post(EVENT, data=form_data(csrf_token=csrf_token(client, EVENT)))
    deliver()
    link = manage_link(smtp.messages[0])
    response = client.post(f"{link}/verwijderen")
    assert response.status_code == 400
    assert REFUSED in response.get_data(as_text=True)
    db.session.rollback()
    assert count(Registration) == 1
    assert client.get(link).status_code == 200
    erase = client.post(f"{link}/verwijderen", data={"csrf_token": csrf_token(client, f"{link}/verwijderen")})
    assert erase.status_code == 302
    assert count(Registration) == 0


def test_organiser_login_without_a_token_is_refused_and_not_counted(client, organiser):
    response = client.post("/organiser/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    assert response.status_code == 400
    assert REFUSED in response.get_data(as_text=True)
    assert count(LoginAttempt) == 0
    assert client.get("/organiser/").status_code == 302  # not logged in
