"""The organiser login tells nothing: equal work for every failure, no guessable passwords,
sessions that end, and a `next=` that stays inside the organiser area."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpers import NOW, ORGANISER_EMAIL, login, median_seconds
from webinar.extensions import db
from webinar.organiser import services
from webinar.organiser.models import Invitation
from webinar.organiser.passwords import check_password
from webinar.organiser.services import create_organiser, invite, mint_invitation_token

GENERIC_ERROR = "Inloggen lukt niet met dit e-mailadres en wachtwoord."
GUESSABLE = "Dit wachtwoord is te makkelijk te raden: het bevat"
HINT = "woorden die niets met elkaar te maken hebben"

# -- the same work for every failed login ---------------------------------------------

ROUNDS = 9


def _timed_logins(app, organiser) -> dict[str, float]:
    """Median seconds of a failed login for an unknown, a known and a locked account."""
    locked = create_organiser("gesloten@example.org", "gesloten account wolk tegel")
    locked.locked_until = NOW + timedelta(days=1)
    db.session.commit()
    clients = {name: app.test_client() for name in ("unknown", "known", "locked")}

    def attempt(name: str, email: str):
        def run():
            # Each case has its own address, so the per-address limit stays out of the way.
            response = login(clients[name], email, "fout wachtwoord 123",
                             environ_base={"REMOTE_ADDR": f"10.0.0.{len(name)}"})
            assert GENERIC_ERROR in response.get_data(as_text=True)
            # Keep the known account on the wrong-password path, short of its lockout.
            organiser.failed_logins = 0
            db.session.commit()
        return run

    attempts = {"unknown": attempt("unknown", "onbekend@example.org"),
                "known": attempt("known", ORGANISER_EMAIL),
                "locked": attempt("locked", "gesloten@example.org")}
    median_seconds(attempts, rounds=1)  # warm-up: the first unknown login makes the dummy hash
    return median_seconds(attempts, rounds=ROUNDS)


@pytest.mark.slow
@pytest.mark.xdist_group("serial")  # compares times: never beside another timing test
def test_a_failed_login_takes_as_long_for_unknown_known_and_locked_accounts(app, organiser):
    medians = _timed_logins(app, organiser)
    assert 0.5 < medians["unknown"] / medians["known"] < 2, medians
    assert 0.5 < medians["locked"] / medians["known"] < 2, medians


@pytest.mark.slow
@pytest.mark.xdist_group("serial")
def test_without_the_dummy_check_the_timing_test_sees_unknown_accounts(app, organiser, monkeypatch):
    """Negative control: the old login skipped the password check for unknown addresses."""
    monkeypatch.setattr(services, "check_password",
                        lambda stored, password: stored is not None and check_password(stored, password))
    medians = _timed_logins(app, organiser)
    assert medians["unknown"] / medians["known"] < 0.5, medians


# -- one password rule wherever a password is set --------------------------------------

NEWCOMER, NEWCOMER_NAME = "nieuw@example.org", "Nieuwe Collega"

REFUSED = [
    ("kort", "Een wachtwoord heeft minstens 12 tekens."),
    ("aaaaaaaaaaaa", f"{GUESSABLE} een herhaling"),
    ("123456789012", f"{GUESSABLE} een veelgebruikt wachtwoord en een reeks"),
    ("qwertyuiop12", f"{GUESSABLE} een veelgebruikt wachtwoord"),
    ("Wachtwoord123!", f"{GUESSABLE} een veelgebruikt wachtwoord"),
    ("welkom123456", f"{GUESSABLE} een veelgebruikt wachtwoord"),
    ("01-01-1980abc", f"{GUESSABLE} een datum of jaartal"),
    (NEWCOMER, f"{GUESSABLE} uw naam of e-mailadres"),
    ("nieuwecollega", f"{GUESSABLE} uw naam of e-mailadres"),
    (NEWCOMER_NAME, f"{GUESSABLE} uw naam of e-mailadres"),
]
ACCEPTED = ["tulp gieter sokken radio", "een lang en geheim wachtwoord", "Zeilboot#Kerstbal#Asperge"]


def _by_command(app, password: str) -> str:
    result = app.test_cli_runner().invoke(
        args=["organisers", "create", NEWCOMER, "--name", NEWCOMER_NAME, "--password-stdin"],
        input=password + "\n")
    return result.output


def _by_invitation(app, password: str) -> str:
    inviter = create_organiser("uitnodiger@example.org", "uitnodiger wolk tegel fiets")
    token = mint_invitation_token(invite(inviter, NEWCOMER))
    db.session.commit()
    response = app.test_client().post(f"/organiser/uitnodiging/{token}",
                                      data={"name": NEWCOMER_NAME, "password": password})
    return response.get_data(as_text=True)


def _by_changing(app, password: str) -> str:
    create_organiser(NEWCOMER, "het eerste wachtwoord wolk", name=NEWCOMER_NAME)
    db.session.commit()
    client = app.test_client()
    assert login(client, NEWCOMER, "het eerste wachtwoord wolk").status_code == 302
    response = client.post("/organiser/wachtwoord", data={"current": "het eerste wachtwoord wolk", "new": password})
    return response.get_data(as_text=True)


PATHS = {"command": _by_command, "invitation": _by_invitation, "change": _by_changing}


def _can_log_in(app, password: str) -> bool:
    return login(app.test_client(), NEWCOMER, password).status_code == 302


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("password", "message"), REFUSED, ids=[p for p, _ in REFUSED])
def test_a_guessable_password_is_refused_in_dutch(app, path, password, message):
    shown = PATHS[path](app, password)
    assert message in shown
    if message.startswith(GUESSABLE):
        assert HINT in shown
    assert not _can_log_in(app, password)
    if path == "invitation":
        assert db.session.scalar(select(Invitation.accepted_at)) is None  # the link still works
    if path == "change":
        assert _can_log_in(app, "het eerste wachtwoord wolk")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("password", ACCEPTED)
def test_a_strong_password_is_accepted(app, path, password):
    shown = PATHS[path](app, password)
    assert GUESSABLE not in shown and "minstens 12" not in shown
    assert _can_log_in(app, password)


def test_the_password_forms_explain_the_rule(app, organiser, organiser_client):
    hint = "Minstens 12 tekens en niet te raden: bijvoorbeeld een paar woorden die niets met elkaar te maken hebben."
    assert hint in organiser_client.get("/organiser/wachtwoord").get_data(as_text=True)
    token = mint_invitation_token(invite(organiser, NEWCOMER))
    db.session.commit()
    assert hint in app.test_client().get(f"/organiser/uitnodiging/{token}").get_data(as_text=True)


# -- a session ends after ORGANISER_SESSION_HOURS, however active ----------------------

EXPIRED = "U was langer dan 12 uur ingelogd en bent daarom uitgelogd. Log opnieuw in."


def test_an_active_session_still_ends_after_twelve_hours(organiser_client, frozen):
    for minutes in range(20, 12 * 60 + 1, 20):  # active every 20 minutes: never idle
        frozen.move_to(NOW + timedelta(minutes=minutes))
        assert organiser_client.get("/organiser/").status_code == 200, f"after {minutes} minutes"
    frozen.move_to(NOW + timedelta(hours=12, minutes=20))
    response = organiser_client.get("/organiser/audit")
    assert response.headers["Location"] == "/organiser/login?next=/organiser/audit"
    assert EXPIRED in organiser_client.get(response.headers["Location"]).get_data(as_text=True)
    assert organiser_client.get("/organiser/").status_code == 302
    assert login(organiser_client).status_code == 302  # a new login starts a new twelve hours
    assert organiser_client.get("/organiser/").status_code == 200


def test_the_session_length_is_a_setting(app, organiser_client, frozen):
    app.config["ORGANISER_SESSION_HOURS"] = 1
    frozen.move_to(NOW + timedelta(minutes=25))
    assert organiser_client.get("/organiser/").status_code == 200
    frozen.move_to(NOW + timedelta(minutes=50))
    assert organiser_client.get("/organiser/").status_code == 200
    frozen.move_to(NOW + timedelta(minutes=75))
    response = organiser_client.get("/organiser/", follow_redirects=True)
    assert "U was langer dan 1 uur ingelogd" in response.get_data(as_text=True)


# -- next= never leads out of the organiser area ---------------------------------------

NEXT_TARGETS = [
    ("/organiser/audit", "/organiser/audit"),
    ("/organiser/events/samen/../../audit", "/organiser/audit"),
    ("/organiser/events/samen/", "/organiser/events/samen/"),
    ("/organiser/audit?x=https://evil.example", "/organiser/audit"),
    ("/organiser", "/organiser/"),
    ("/organiser/../../x", "/organiser/"),
    ("/organiser/../events/x", "/organiser/"),
    ("/organiserx/audit", "/organiser/"),
    ("/events/x", "/organiser/"),
    ("//evil.example", "/organiser/"),
    ("//evil.example/organiser/", "/organiser/"),
    ("///evil.example/organiser/", "/organiser/"),
    ("https://evil.example/organiser", "/organiser/"),
    ("https:/organiser/audit", "/organiser/"),
    ("javascript:alert(1)//organiser/", "/organiser/"),
    ("/organiser%2F..%2F..", "/organiser/"),
    ("/organiser/%2e%2e/%2e%2e/x", "/organiser/"),
    ("/organiser/%252e%252e/%252e%252e/x", "/organiser/"),
    ("%2F%2Fevil.example/organiser/", "/organiser/"),
    ("/\\evil.example/organiser/", "/organiser/"),
    ("\\\\evil.example/organiser/", "/organiser/"),
    ("/organiser/\\..\\..\\x", "/organiser/"),
    ("/organiser/%5c..%5c..%5cx", "/organiser/"),
    ("/\t/evil.example/organiser/", "/organiser/"),
    ("/organiser/\n/x", "/organiser/"),
    (" //evil.example/organiser/", "/organiser/"),
    ("/organiser@evil.example", "/organiser/"),
    ("", "/organiser/"),
]


@pytest.mark.parametrize(("target", "location"), NEXT_TARGETS, ids=[repr(t) for t, _ in NEXT_TARGETS])
def test_next_after_login_stays_in_the_organiser_area(client, organiser, target, location):
    response = login(client, query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == location
    assert re.fullmatch(r"/organiser/[\w/-]*", response.headers["Location"])
