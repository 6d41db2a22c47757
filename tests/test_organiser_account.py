"""The organiser's account page: where they are logged in (and logging out elsewhere), two-factor, recent actions."""

from __future__ import annotations

import re
from datetime import timedelta

from helpers import NOW, login
from helpers import page_text as page_source
from webinar.extensions import db
from webinar.organiser.models import OrganiserSession

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1"


def page_text(response) -> str:
    """What a reader sees: the page without its tags, runs of white space as one space."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_source(response)).split())


def logged_in(app, agent: str, address: str):
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    assert login(client).status_code == 302
    return client


def test_the_page_lists_each_browser_and_logging_out_elsewhere_ends_the_others(app, organiser, frozen):
    laptop = logged_in(app, FIREFOX, "192.0.2.10")
    frozen.move_to(NOW + timedelta(minutes=5))
    phone = logged_in(app, PHONE, "198.51.100.7")
    page = page_text(laptop.get("/organiser/account"))
    assert "Firefox/128.0 (dit apparaat) 192.0.2.10 zaterdag 1 mei 2027 om 12.00 uur zaterdag 1 mei 2027 om 12.05 uur" \
        in page  # "last seen" moved with the visit of the account page
    assert "iPhone" in page and "198.51.100.7" in page
    assert "Staat uit" in page
    done = laptop.post("/organiser/account/elders-uitloggen", follow_redirects=True)
    assert "U bent uitgelogd op 1 andere apparaten." in page_text(done)
    assert phone.get("/organiser/").headers["Location"].startswith("/organiser/login")
    assert laptop.get("/organiser/").status_code == 200
    page = page_text(laptop.get("/organiser/account"))
    assert "iPhone" not in page
    assert "account.sessions uitgelogd op 1 andere apparaten" in page  # the recent actions


def test_logging_out_ends_the_session_on_the_server(app, organiser):
    client = logged_in(app, FIREFOX, "192.0.2.10")
    client.post("/organiser/logout")
    db.session.rollback()
    assert [row.ended_at is not None for row in db.session.query(OrganiserSession)] == [True]


def test_a_copied_cookie_of_an_ended_session_does_not_come_back(app, organiser):
    client = logged_in(app, FIREFOX, "192.0.2.10")
    cookie = client.get_cookie("session").value
    other = logged_in(app, PHONE, "198.51.100.7")
    other.post("/organiser/account/elders-uitloggen")
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/organiser/").headers["Location"].startswith("/organiser/login")


def test_a_session_unused_for_a_month_is_forgotten_at_the_next_login(app, organiser, frozen):
    logged_in(app, FIREFOX, "192.0.2.10")
    frozen.move_to(NOW + timedelta(days=29))
    logged_in(app, PHONE, "198.51.100.7")
    frozen.move_to(NOW + timedelta(days=31))
    logged_in(app, PHONE, "198.51.100.8")
    db.session.rollback()
    assert sorted(row.address for row in db.session.query(OrganiserSession)) == ["198.51.100.7", "198.51.100.8"]
