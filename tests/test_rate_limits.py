"""Rate limits per client address, counted in memory or in Redis.

The test configuration turns rate limiting off, so that the rest of the suite
may send many requests from 127.0.0.1 (the concurrency tests do); these tests
turn it on with small limits. Each test runs once with in-memory counts and
once with the local Redis (redis://127.0.0.1:6379, or TEST_REDIS_URL) under a
key prefix of its own, so parallel runs never share counters; without Redis
that half is skipped, unless REQUIRE_REDIS=1.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from limits import parse_many
from sqlalchemy import func, select

from helpers import (
    ORGANISER_EMAIL,
    ORGANISER_PASSWORD,
    app_in_context,
    form_data,
    make_app,
    request_data,
    stored,
)
from config import Config
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.organiser.broadcast_services import Selection, save_draft
from webinar.registration.models import Registration
from webinar.security import RATE_LIMITS

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
EVENT = "/events/samen-onderwijs-versnellen"
SCHOOL = "192.0.2.10"
OTHER_SCHOOL = "192.0.2.20"
LIMITS = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_REGISTRATION": "3 per minute",
    "RATELIMIT_LOST_LINK": "2 per minute",
    "RATELIMIT_TOKEN": "4 per minute",
    "RATELIMIT_LOGIN": "8 per minute",
    "RATELIMIT_SUPPORT": "2 per minute",
    "RATELIMIT_MESSAGE_TEST": "2 per minute",
    "RATELIMIT_PASSWORD_RESET": "2 per minute",
}


def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but no Redis at {REDIS_URL}: {error}")
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    return client


@pytest.fixture(params=["memory", "redis"])
def storage(request):
    """Settings for one storage; for Redis a key prefix of this test's own, removed afterwards."""
    if request.param == "memory":
        yield {"RATELIMIT_STORAGE_URI": "memory://"}
        return
    client = redis_client()
    prefix = f"webinar-test-{os.getpid()}-{uuid.uuid4().hex}"
    try:
        yield {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix, "redis": client}
    finally:
        keys = list(client.scan_iter(f"*{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def app(schema, frozen, storage):
    settings = {k: v for k, v in storage.items() if k != "redis"}
    with app_in_context(schema, **LIMITS, **settings) as app:
        yield app


def from_address(app, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def registered() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Registration))


def register(client, n: int):
    return client.post(EVENT, data=form_data(email=f"persoon{n}@example.org"))


def test_registrations_from_one_address_are_limited_with_a_dutch_page(app, event):
    school = from_address(app, SCHOOL)
    assert [register(school, n).status_code for n in range(3)] == [302, 302, 302]
    refused = register(school, 3)
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "U hebt dit in korte tijd te vaak geprobeerd." in page
    assert '<html lang="nl">' in page
    assert int(refused.headers["Retry-After"]) > 0
    assert registered() == 3
    assert school.get(EVENT).status_code == 200  # reading the page is not limited
    assert register(from_address(app, OTHER_SCHOOL), 4).status_code == 302
    assert registered() == 4


@pytest.mark.parametrize("storage", ["memory"], indirect=True)  # Redis expires keys by its own clock
def test_the_limit_lifts_after_its_window(app, event, frozen):
    school = from_address(app, SCHOOL)
    for n in range(3):
        register(school, n)
    assert register(school, 3).status_code == 429
    frozen.shift(timedelta(seconds=61))
    assert register(school, 3).status_code == 302


def test_lost_link_is_limited(app, event):
    school = from_address(app, SCHOOL)
    ask = lambda: school.post(f"{EVENT}/link-kwijt", data={"lost_email": "anna@example.org"})  # noqa: E731
    assert [ask().status_code for _ in range(2)] == [302, 302]
    assert ask().status_code == 429


def test_token_pages_share_one_budget(app, event):
    guesser = from_address(app, SCHOOL)
    codes = [guesser.get(path).status_code for path in ("/r/gok1", "/j/gok2", "/r/gok3/afmelden", "/j/gok4")]
    assert codes == [404, 404, 404, 404]
    assert guesser.get("/r/gok5").status_code == 429
    assert guesser.post("/r/gok6/afmelden").status_code == 429
    assert from_address(app, OTHER_SCHOOL).get("/r/gok7").status_code == 404


def test_login_is_limited_and_the_account_lockout_still_works(app, organiser):
    attacker = from_address(app, SCHOOL)
    wrong = {"email": ORGANISER_EMAIL, "password": "fout wachtwoord 123"}
    for _ in range(5):
        assert "Inloggen lukt niet" in attacker.post("/organiser/login", data=wrong).get_data(as_text=True)
    # Five failures lock the account, also for the right password (and still under the rate limit).
    right = {"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD}
    assert from_address(app, OTHER_SCHOOL).post("/organiser/login", data=right).status_code == 200
    for _ in range(3):  # eight attempts in all: the limit
        attacker.post("/organiser/login", data=wrong)
    assert attacker.post("/organiser/login", data=wrong).status_code == 429
    assert attacker.get("/organiser/login").status_code == 200  # the page itself stays readable


def test_asking_for_password_links_is_limited(app, organiser):
    client = from_address(app, SCHOOL)
    for _ in range(2):
        assert client.post("/organiser/wachtwoord-vergeten", data={"email": ORGANISER_EMAIL}).status_code == 302
    refused = client.post("/organiser/wachtwoord-vergeten", data={"email": "iemand.anders@example.org"})
    assert refused.status_code == 429 and "Even wachten" in refused.get_data(as_text=True)
    assert from_address(app, OTHER_SCHOOL).get("/organiser/wachtwoord-vergeten").status_code == 200
    db.session.rollback()
    # the second came too soon: no second link, only the row that keeps its answer as slow as the first
    assert db.session.scalars(select(OutgoingMail.status).order_by(OutgoingMail.id)).all() == [
        MailStatus.pending, MailStatus.skipped]


def test_sending_support_requests_is_limited_but_adding_school_rows_is_not(app):
    board = from_address(app, SCHOOL)
    for _ in range(4):
        assert board.post("/ondersteuning", data=request_data(kind="board", actie="school_toevoegen")).status_code == 200
    sent = [board.post("/ondersteuning", data=request_data(key=f"{n:032x}")).status_code for n in range(2)]
    assert sent == [302, 302]
    refused = board.post("/ondersteuning", data=request_data(key="f" * 32))
    assert refused.status_code == 429
    assert "U hebt dit in korte tijd te vaak geprobeerd." in refused.get_data(as_text=True)
    assert len(stored()) == 2
    assert from_address(app, OTHER_SCHOOL).post("/ondersteuning", data=request_data(key="e" * 32)).status_code == 302
    assert len(stored()) == 3


def test_test_messages_to_typed_addresses_are_limited(app, event, organiser):
    organiser_client = from_address(app, SCHOOL)
    organiser_client.post("/organiser/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    draft = save_draft(event, organiser, selection=Selection(), subject="Onderwerp", body="Tekst")
    db.session.commit()
    url = f"/organiser/events/{event.slug}/berichten/{draft.id}/test"
    codes = [organiser_client.post(url, data={"address": f"collega{n}@example.org"}).status_code for n in range(3)]
    assert codes == [302, 302, 429]
    db.session.rollback()
    tests = db.session.scalars(select(OutgoingMail.recipient).where(OutgoingMail.kind == "broadcast")).all()
    assert sorted(tests) == ["collega0@example.org", "collega1@example.org"]
    assert organiser_client.get(f"/organiser/events/{event.slug}/berichten/{draft.id}/voorbeeld").status_code == 200


@pytest.mark.parametrize("storage", ["redis"], indirect=True)
def test_two_servers_share_the_counts_in_redis(app, event, storage, schema):
    assert not list(storage["redis"].scan_iter(f"*{storage['RATELIMIT_KEY_PREFIX']}*"))
    settings = {k: v for k, v in storage.items() if k != "redis"}
    second = make_app(schema, **LIMITS, **settings)
    register(from_address(app, SCHOOL), 0)
    register(from_address(second, SCHOOL), 1)
    register(from_address(app, SCHOOL), 2)
    assert list(storage["redis"].scan_iter(f"*{storage['RATELIMIT_KEY_PREFIX']}*"))
    assert register(from_address(second, SCHOOL), 3).status_code == 429
    with second.app_context():
        db.engine.dispose()
    assert registered() == 3


def test_an_unreachable_redis_does_not_stop_registrations(schema, frozen, event_free):
    with app_in_context(schema, **LIMITS, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1") as app:
        event_free()
        school = from_address(app, SCHOOL)
        codes = [register(school, n).status_code for n in range(4)]
        # Counted in memory instead, so the limit still holds.
        assert codes == [302, 302, 302, 429]
        assert registered() == 3


@pytest.fixture
def event_free():
    """Creates the usual event inside whatever app context is current."""
    from helpers import ENDS, STARTS
    from webinar.events.services import create_event

    def make():
        create_event(slug="samen-onderwijs-versnellen", title="Samen onderwijs versnellen",
                     starts_at=STARTS, ends_at=ENDS, capacity=100)
        db.session.commit()
    return make


def test_turned_off_nothing_is_limited(schema, frozen, event_free):
    with app_in_context(schema, **{**LIMITS, "RATELIMIT_ENABLED": False}) as app:
        event_free()
        school = from_address(app, SCHOOL)
        assert {register(school, n).status_code for n in range(6)} == {302}


@pytest.mark.parametrize("name", sorted(RATE_LIMITS))
def test_the_default_limits_are_valid(name):
    assert parse_many(getattr(Config, RATE_LIMITS[name].setting))


def test_every_personal_link_page_counts_against_the_token_budget(app):
    token_rules = {rule.endpoint for rule in app.url_map.iter_rules() if "<token>" in rule.rule}
    assert token_rules >= {"registration.manage", "registration.cancel", "registration.download",
                           "attendance.join", "organiser.accept_invitation"}
    for endpoint in token_rules:
        rule = next(app.url_map.iter_rules(endpoint))
        with app.test_request_context(rule.build({"token": "x"})[1]):
            assert RATE_LIMITS["token"].applies(), endpoint
    with app.test_request_context("/events/samen-onderwijs-versnellen"):
        assert not RATE_LIMITS["token"].applies()
