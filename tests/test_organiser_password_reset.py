"""A forgotten password: a single-use link by e-mail, valid half an hour, that tells nobody whether an account
exists, ends every session, and is audited; an administrator can send one too."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpers import NOW, ORGANISER_EMAIL, audit_actions, deliver, login, median_seconds, outbox
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.organiser import password_reset
from webinar.organiser.account_views import RESET_SENT
from webinar.organiser.services import create_organiser

NEW_PASSWORD = "zeilboot kerstbal asperge"
RESET_LINK = re.compile(r"http://webinar\.test(/organiser/wachtwoord-herstellen/[A-Za-z0-9_-]+)")


def ask_for_link(client, email: str):
    return client.post("/organiser/wachtwoord-vergeten", data={"email": email}, follow_redirects=True)


def link_in_mail(smtp, email: str = ORGANISER_EMAIL) -> str:
    deliver()
    messages = smtp.to(email)
    assert len(messages) == 1
    return RESET_LINK.search(messages[0].get_body(("plain",)).get_content()).group(1)


def test_the_login_page_offers_a_new_password(client):
    page = client.get("/organiser/login").get_data(as_text=True)
    assert 'href="/organiser/wachtwoord-vergeten"' in page and "Wachtwoord vergeten?" in page


def test_a_new_password_by_mail_ends_every_session(app, organiser, organiser_client, smtp):
    other = app.test_client()
    response = ask_for_link(other, "  Organisator@Example.org ")
    assert RESET_SENT in response.get_data(as_text=True)
    link = link_in_mail(smtp)
    assert organiser_client.get("/organiser/").status_code == 200  # asking changes nothing yet
    assert "organisator@example.org" in other.get(link).get_data(as_text=True)
    done = other.post(link, data={"new": NEW_PASSWORD}, follow_redirects=True)
    assert "Uw nieuwe wachtwoord is ingesteld" in done.get_data(as_text=True)
    assert organiser_client.get("/organiser/").headers["Location"].startswith("/organiser/login")
    assert login(app.test_client()).status_code == 200  # the old password no longer works
    assert login(app.test_client(), ORGANISER_EMAIL, NEW_PASSWORD).status_code == 302
    assert other.get(link).status_code == 404  # single use
    assert "account.password_reset" in audit_actions()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, organiser):
    for address in ("onbekend@example.org", ORGANISER_EMAIL):
        page = ask_for_link(client, address).get_data(as_text=True)
        assert RESET_SENT in page
    assert [row.recipient for row in outbox() if row.status == MailStatus.pending] == [ORGANISER_EMAIL]
    [nothing] = [row for row in outbox() if row.status == MailStatus.skipped]
    assert nothing.recipient == "" and nothing.last_error == password_reset.NO_LINK  # no address kept


def test_the_link_lasts_half_an_hour(client, organiser, smtp, frozen):
    ask_for_link(client, ORGANISER_EMAIL)
    link = link_in_mail(smtp)
    frozen.move_to(NOW + timedelta(minutes=29))
    assert client.get(link).status_code == 200
    frozen.move_to(NOW + timedelta(minutes=31))
    assert client.get(link).status_code == 404
    assert client.post(link, data={"new": NEW_PASSWORD}).status_code == 404
    assert login(client).status_code == 302  # the password is unchanged


def test_a_mail_still_waiting_after_half_an_hour_is_not_sent(client, organiser, smtp, frozen):
    ask_for_link(client, ORGANISER_EMAIL)
    frozen.move_to(NOW + timedelta(minutes=31))
    deliver()
    assert smtp.messages == []
    assert outbox()[0].status == MailStatus.skipped


def test_a_guessable_password_is_refused_and_the_link_still_works(client, organiser, smtp):
    ask_for_link(client, ORGANISER_EMAIL)
    link = link_in_mail(smtp)
    refused = client.post(link, data={"new": "welkom123456"})
    assert refused.status_code == 200
    assert "te makkelijk te raden" in refused.get_data(as_text=True)
    assert login(client).status_code == 302
    assert client.get(link).status_code == 200


@pytest.mark.parametrize(("email", "message"), [("", "Vul uw e-mailadres in."),
                                                ("geen adres", "Dat is geen geldig e-mailadres.")])
def test_bad_input_is_explained_and_sends_nothing(client, organiser, email, message):
    response = client.post("/organiser/wachtwoord-vergeten", data={"email": email})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert outbox() == []


def test_a_second_request_within_minutes_sends_no_second_mail(client, organiser):
    ask_for_link(client, ORGANISER_EMAIL)
    ask_for_link(client, ORGANISER_EMAIL)
    assert [row.status for row in outbox()] == [MailStatus.pending, MailStatus.skipped]


def test_an_administrator_sends_a_colleague_a_link(app, organiser, organiser_client, smtp):
    colleague = create_organiser("collega@example.org", "collega wolk tegel fiets", name="Kees Collega")
    db.session.commit()
    response = organiser_client.post(f"/organiser/accounts/{colleague.id}/wachtwoord-link", follow_redirects=True)
    assert "is gestuurd aan collega@example.org" in response.get_data(as_text=True)
    link = link_in_mail(smtp, "collega@example.org")
    assert "Mieke Organisator stuurt u een link" in smtp.to("collega@example.org")[0].get_body(("plain",)).get_content()
    assert "account.reset_link" in audit_actions()
    client = app.test_client()
    client.post(link, data={"new": NEW_PASSWORD})
    assert login(client, "collega@example.org", NEW_PASSWORD).status_code == 302


def test_a_link_for_nobody_is_not_found(organiser_client):
    assert organiser_client.post("/organiser/accounts/999/wachtwoord-link").status_code == 404
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0


# -- the same time for known and unknown addresses -----------------------------------------

ROUNDS = 15


def _timed_requests(app) -> dict[str, float]:
    clients = {"unknown": app.test_client(), "known": app.test_client()}

    def attempt(name: str, email: str):
        def run():
            assert RESET_SENT in ask_for_link(clients[name], email).get_data(as_text=True)
            # Keep the known address on the path that queues a mail.
            db.session.execute(OutgoingMail.__table__.delete())
            db.session.execute(password_reset.PasswordReset.__table__.delete())
            db.session.commit()
        return run

    attempts = {"unknown": attempt("unknown", "onbekend@example.org"), "known": attempt("known", ORGANISER_EMAIL)}
    median_seconds(attempts, rounds=1)
    return median_seconds(attempts, rounds=ROUNDS)


@pytest.mark.slow
@pytest.mark.xdist_group("serial")  # compares times: never beside another timing test
def test_asking_takes_about_as_long_for_known_and_unknown_addresses(app, organiser):
    medians = _timed_requests(app)
    assert 0.5 < medians["unknown"] / medians["known"] < 2, medians
