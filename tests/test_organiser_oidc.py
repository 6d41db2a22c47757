"""Signing in with the organisation's account, against a real OpenID Connect provider on loopback
(the certified `oidc-provider` npm package, tests/js/oidc_provider.mjs).

Only an invited organiser whose address the provider verified gets in; a token for another client, a
forged signature, a replayed answer, an unverified address or an address never invited are refused.
The provider's tokens carry real times, so these tests run on the real clock.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import func, select

from helpers import app_in_context, audit_actions, openid_provider
from webinar.extensions import db
from webinar.organiser.models import Organiser
from webinar.organiser.oidc import NOT_INVITED
from webinar.organiser.services import create_organiser

pytestmark = pytest.mark.slow

BASE_URL = "http://webinar.test"
CLIENT_ID, CLIENT_SECRET = "webinar", "een-geheim-van-de-test"
REFUSED = "Inloggen met het account van uw organisatie is niet gelukt."
ANNA = "anna.organisator@example.org"


@pytest.fixture(scope="module")
def issuer():
    with openid_provider(CLIENT_ID, CLIENT_SECRET, f"{BASE_URL}/organiser/login/organisatie/terug") as url:
        yield url


@pytest.fixture
def app(schema, issuer):
    with app_in_context(schema, OIDC_ISSUER=issuer, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET,
                        BASE_URL=BASE_URL) as app:
        create_organiser(ANNA, "anna wolk tegel fiets", name="Anna Organisator")
        db.session.commit()
        yield app


def provider_answer(client, name: str) -> str:
    """Start signing in at the app, log in at the provider as `name`: the app's URL the provider sends back to."""
    location = client.get("/organiser/login/organisatie").headers["Location"]
    browser = requests.Session()
    while not location.startswith(BASE_URL):
        response = browser.get(location, allow_redirects=False, timeout=10)
        if response.status_code == 200:  # the provider's login form
            action = re.search(r'action="([^"]+)"', response.text).group(1)
            response = browser.post(urljoin(location, action), data={"prompt": "login", "login": name, "password": "x"},
                                    allow_redirects=False, timeout=10)
        location = urljoin(location, response.headers["Location"])
    return location.removeprefix(BASE_URL)


def sign_in(client, name: str):
    return client.get(provider_answer(client, name), follow_redirects=True)


def logged_in(client) -> bool:
    return client.get("/organiser/").status_code == 200


def test_an_invited_organiser_signs_in(app, client):
    assert "Inloggen met uw organisatie-account" in client.get("/organiser/login").get_data(as_text=True)
    page = sign_in(client, ANNA)
    assert page.request.path == "/organiser/"
    assert logged_in(client)
    assert "account.login_oidc" in audit_actions()


@pytest.mark.parametrize(("name", "message"), [
    (f"andere-client:{ANNA}", REFUSED),  # a well-signed token, for another audience
    (f"vervalst:{ANNA}", REFUSED),  # signed with a key that is not the provider's
    (f"onbevestigd:{ANNA}", "Uw organisatie bevestigt uw e-mailadres niet."),
    ("nooit.uitgenodigd@example.org", NOT_INVITED),
], ids=["wrong-audience", "bad-signature", "unverified-email", "never-invited"])
def test_a_doubtful_answer_is_refused(app, client, name, message):
    page = sign_in(client, name)
    assert page.request.path == "/organiser/login"
    assert message in page.get_data(as_text=True)
    assert not logged_in(client)
    assert db.session.scalar(select(func.count()).select_from(Organiser)) == 1  # nobody was added


def test_a_token_signed_again_by_the_provider_is_accepted(app, client):
    """Control for the two above: re-signing a token, as the provider script does for them, spoils nothing."""
    assert sign_in(client, f"opnieuw-getekend:{ANNA}").request.path == "/organiser/"


def test_a_replayed_answer_is_refused(app, client):
    answer = provider_answer(client, ANNA)
    assert client.get(answer).status_code == 302 and logged_in(client)
    for replaying in (client, app.test_client()):
        page = replaying.get(answer, follow_redirects=True)
        assert REFUSED in page.get_data(as_text=True)
    assert not logged_in(app.test_client())


def test_with_two_factor_the_code_is_still_asked(schema, issuer):
    with app_in_context(schema, OIDC_ISSUER=issuer, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET,
                        BASE_URL=BASE_URL, ORGANISER_2FA_REQUIRED="everyone") as app:
        create_organiser(ANNA, "anna wolk tegel fiets")
        db.session.commit()
        client = app.test_client()
        assert sign_in(client, ANNA).request.path == "/organiser/account/tweestaps"


def test_it_is_off_by_default(schema):
    with app_in_context(schema) as app:
        client = app.test_client()
        assert "organisatie-account" not in client.get("/organiser/login").get_data(as_text=True)
        assert client.get("/organiser/login/organisatie").status_code == 404
        assert client.get("/organiser/login/organisatie/terug?code=x&state=y").status_code == 404
