"""Two-factor authentication: a grace login that leads to setting it up, codes from the app (RFC 6238) that
work once, ten single-use recovery codes, a lock-out after wrong codes, and mail when it is weakened."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from config import Config, ProductionConfig
from helpers import NOW, ORGANISER_EMAIL, app_in_context, audit_actions, deliver, login
from webinar.extensions import db
from webinar.organiser.models import Organiser, RecoveryCode
from webinar.organiser.services import create_organiser

SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')
CODES = re.compile(r"<li><code>([0-9a-f-]{23})</code></li>")


@pytest.fixture
def app(schema, frozen):
    """The app as in production: a second factor for every organiser who sees personal data."""
    with app_in_context(schema, ORGANISER_2FA_REQUIRED="personal-data") as app:
        yield app


def code_at(secret: str, moment) -> str:
    return pyotp.TOTP(secret).at(moment)


def set_up(client) -> tuple[str, list[str]]:
    """Log in (a grace login), scan the QR code's secret, confirm with a code: the secret and recovery codes."""
    assert login(client).headers["Location"] == "/organiser/account/tweestaps"
    secret = SECRET.search(client.get("/organiser/account/tweestaps").get_data(as_text=True)).group(1)
    page = client.post("/organiser/account/tweestaps", data={"code": code_at(secret, NOW)}).get_data(as_text=True)
    return secret, CODES.findall(page)


def password_then_code(client, code: str):
    assert login(client).headers["Location"] == "/organiser/login/code"
    return client.post("/organiser/login/code", data={"code": code})


def test_a_grace_login_leads_to_setting_up_and_nowhere_else(client, organiser):
    assert login(client).headers["Location"] == "/organiser/account/tweestaps"
    assert client.get("/organiser/").headers["Location"] == "/organiser/account/tweestaps"
    page = client.get("/organiser/account/tweestaps").get_data(as_text=True)
    assert "<svg" in page and "QR-code voor uw authenticator-app" in page
    secret = SECRET.search(page).group(1)
    wrong = client.post("/organiser/account/tweestaps", data={"code": "000000"})
    assert "Deze code klopt niet" in wrong.get_data(as_text=True)
    assert client.get("/organiser/").status_code == 302  # still nowhere else
    done = client.post("/organiser/account/tweestaps", data={"code": code_at(secret, NOW)})
    codes = CODES.findall(done.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert client.get("/organiser/").status_code == 200
    assert "account.2fa_on" in audit_actions()
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept


def test_a_code_works_once_and_the_next_one_after_it(app, organiser):
    secret, _ = set_up(app.test_client())
    second, third = app.test_client(), app.test_client()
    # The code of the set-up was used: not again within its window.
    assert "al gebruikt" in password_then_code(second, code_at(secret, NOW)).get_data(as_text=True)
    later = NOW + timedelta(seconds=30)
    assert password_then_code(second, code_at(secret, later)).headers["Location"] == "/organiser/"
    assert "al gebruikt" in password_then_code(third, code_at(secret, later)).get_data(as_text=True)
    assert third.get("/organiser/").status_code == 302


def test_a_code_of_a_minute_ago_is_refused(app, organiser, frozen):
    secret, _ = set_up(app.test_client())
    frozen.move_to(NOW + timedelta(minutes=2))
    client = app.test_client()
    assert "klopt niet" in password_then_code(client, code_at(secret, NOW + timedelta(seconds=30))).get_data(as_text=True)


def test_a_recovery_code_works_once_and_is_mailed_and_audited(app, organiser, smtp):
    _, codes = set_up(app.test_client())
    client = app.test_client()
    assert password_then_code(client, codes[3].upper().replace("-", "")).headers["Location"] == "/organiser/"
    assert "account.2fa_recovery" in audit_actions()
    deliver()
    notice = smtp.to(ORGANISER_EMAIL)[0].get_body(("plain",)).get_content()
    assert "herstelcodes" in notice and "nog 9 over" in notice
    assert "al gebruikt" in password_then_code(app.test_client(), codes[3]).get_data(as_text=True)


def test_wrong_codes_lock_the_account_as_wrong_passwords_do(app, organiser, frozen):
    secret, _ = set_up(app.test_client())
    client = app.test_client()
    login(client)
    for _ in range(5):
        client.post("/organiser/login/code", data={"code": "123456"})
    later = NOW + timedelta(seconds=30)
    refused = client.post("/organiser/login/code", data={"code": code_at(secret, later)})
    assert "Te veel onjuiste codes" in refused.get_data(as_text=True)
    assert login(app.test_client()).status_code == 200  # the password alone is refused too
    frozen.move_to(NOW + timedelta(minutes=16))
    moment = NOW + timedelta(minutes=16)
    assert password_then_code(app.test_client(), code_at(secret, moment)).headers["Location"] == "/organiser/"


def test_turning_it_off_needs_the_password_and_is_mailed(app, organiser, smtp):
    client = app.test_client()
    set_up(client)
    refused = client.post("/organiser/account/tweestaps/uit", data={"password": "fout"}, follow_redirects=True)
    assert "tweestapsverificatie staat nog aan" in refused.get_data(as_text=True)
    off = client.post("/organiser/account/tweestaps/uit", data={"password": "een lang en geheim wachtwoord"})
    # Required for this organiser: turning it off means linking a (new) app at once.
    assert off.headers["Location"] == "/organiser/account/tweestaps"
    assert client.get("/organiser/").headers["Location"] == "/organiser/account/tweestaps"
    assert db.session.get(Organiser, organiser.id).totp_secret is None
    assert "account.2fa_off" in audit_actions()
    deliver()
    assert "Tweestapsverificatie is uitgezet." in smtp.to(ORGANISER_EMAIL)[0].get_body(("plain",)).get_content()


def test_the_code_step_expires(app, organiser, frozen):
    secret, _ = set_up(app.test_client())
    client = app.test_client()
    login(client)
    moment = NOW + timedelta(minutes=6)
    frozen.move_to(moment)
    assert client.post("/organiser/login/code", data={"code": code_at(secret, moment)}).headers["Location"] == "/organiser/login"


@pytest.mark.parametrize(("setting", "where"), [("off", "/organiser/"), ("everyone", "/organiser/account/tweestaps")])
def test_the_setting_decides_who_must_set_it_up(schema, frozen, setting, where):
    with app_in_context(schema, ORGANISER_2FA_REQUIRED=setting) as app:
        create_organiser(ORGANISER_EMAIL, "een lang en geheim wachtwoord")
        db.session.commit()
        assert login(app.test_client()).headers["Location"] == where


def test_production_asks_for_it_by_default():
    assert Config.ORGANISER_2FA_REQUIRED == ProductionConfig.ORGANISER_2FA_REQUIRED == "personal-data"


def test_new_recovery_codes_replace_the_old_ones(app, organiser):
    client = app.test_client()
    _, old = set_up(client)
    assert "herstelcodes zijn niet veranderd" in client.post(
        "/organiser/account/herstelcodes", data={"password": "fout"}, follow_redirects=True).get_data(as_text=True)
    new = CODES.findall(client.post("/organiser/account/herstelcodes",
                                    data={"password": "een lang en geheim wachtwoord"}).get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert "account.2fa_codes" in audit_actions()
    assert "al gebruikt" in password_then_code(app.test_client(), old[0]).get_data(as_text=True)
    assert password_then_code(app.test_client(), new[0]).headers["Location"] == "/organiser/"


def stored_secret() -> str:
    db.session.rollback()
    return db.session.scalar(select(Organiser.totp_secret))


def test_the_secret_is_stored_encrypted_and_still_checks_codes(app, organiser, frozen):
    secret, _ = set_up(app.test_client())
    stored = stored_secret()
    assert stored.startswith("fernet:") and secret not in stored
    frozen.move_to(NOW + timedelta(seconds=30))
    assert password_then_code(app.test_client(), code_at(secret, NOW + timedelta(seconds=30))).headers[
        "Location"] == "/organiser/"


def test_a_new_key_put_first_still_reads_secrets_of_the_old_one(app, organiser, frozen):
    from cryptography.fernet import Fernet
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["TOTP_KEYS"] = old
    secret, _ = set_up(app.test_client())
    app.config["TOTP_KEYS"] = f"{new},{old}"  # the replacement: new secrets with the new key
    later = NOW + timedelta(seconds=30)
    frozen.move_to(later)
    assert password_then_code(app.test_client(), code_at(secret, later)).headers["Location"] == "/organiser/"
    app.config["TOTP_KEYS"] = new  # negative control: without the old key the code cannot be checked
    refused = password_then_code(app.test_client(), code_at(secret, later + timedelta(seconds=30)))
    assert "kunnen nu niet worden gecontroleerd" in refused.get_data(as_text=True)


def test_a_lost_key_refuses_app_codes_without_a_lock_out_and_leaves_the_recovery_codes(app, organiser, frozen):
    secret, codes = set_up(app.test_client())
    app.config["SECRET_KEY"] = "een-andere-sleutel"  # TOTP_KEYS empty: the key came from SECRET_KEY
    client = app.test_client()
    login(client)
    for step in range(1, 7):  # more than MAX_FAILED_CODES
        page = client.post("/organiser/login/code", data={"code": code_at(secret, NOW + timedelta(seconds=30 * step))})
        assert "kunnen nu niet worden gecontroleerd" in page.get_data(as_text=True)
    assert db.session.get(Organiser, organiser.id).locked_until is None
    assert password_then_code(app.test_client(), codes[0]).headers["Location"] == "/organiser/"
