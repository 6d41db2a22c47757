"""The event page as each visitor gets it: the same page for all but their token and the places left, never stale.

The page is rendered once and kept; these tests check that what visitors get
is the page as it would be rendered afresh, that their tokens are their own,
and that any change (by an organiser here, by another process, or by the
clock) shows at once. CSRF protection is on, as in production.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from helpers import EVENT_FORM, ORGANISER_EMAIL, ORGANISER_PASSWORD, STARTS, app_in_context, form_data
from webinar.events.lookup import event_or_404
from webinar.events.models import Event
from webinar.extensions import db
from webinar.registration import views
from webinar.registration.event_page import KeptPages

EVENT = "/events/samen-onderwijs-versnellen"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def app(schema, frozen):
    with app_in_context(schema, WTF_CSRF_ENABLED=True) as app:
        yield app


def send(client, method: str, path: str, **kwargs):
    """One request in an app context of its own, as a server gives each request (so a fresh token)."""
    with client.application.app_context():
        return client.open(path, method=method, **kwargs)


def open_page(app, path: str = EVENT):
    """A new visitor (own cookies) opens the page: (client, page, the page's CSRF token)."""
    client = app.test_client()
    response = send(client, "GET", path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return client, page, TOKEN.search(page).group(1)


def without_token(page: str, token: str) -> str:
    assert page.count(token) == 2  # the registration form and the lost-link form
    return page.replace(token, "<token>")


def rendered_afresh(monkeypatch):
    """From now on the view renders every page afresh, as for a visitor with a notice, instead of keeping it."""
    monkeypatch.setattr(views, "kept_event_page",
                        lambda slug, render: views.render_event_page(event_or_404(slug))[0])


def register(client, page_token: str, email: str) -> int:
    return send(client, "POST", EVENT, data=form_data(email=email, csrf_token=page_token)).status_code


def test_every_visitor_gets_the_page_as_rendered_afresh_but_with_their_own_token(app, event, monkeypatch):
    first, first_page, first_token = open_page(app)
    second, second_page, second_token = open_page(app)
    rendered_afresh(monkeypatch)
    _, fresh_page, fresh_token = open_page(app)
    assert len({first_token, second_token, fresh_token}) == 3
    assert without_token(first_page, first_token) == without_token(fresh_page, fresh_token)
    assert without_token(second_page, second_token) == without_token(fresh_page, fresh_token)
    assert "Nog 100 plaatsen vrij" in fresh_page


def test_each_visitors_token_works_for_their_own_registration_only(app, event):
    anna, _, anna_token = open_page(app)
    bert, _, bert_token = open_page(app)
    assert register(bert, anna_token, "bert@example.org") == 400
    assert register(anna, anna_token, "anna@example.org") == 302
    assert register(bert, bert_token, "bert@example.org") == 302


def test_the_places_left_are_counted_for_each_visitor(app, event, monkeypatch):
    anna, _, anna_token = open_page(app)
    assert register(anna, anna_token, "anna@example.org") == 302
    _, page, token = open_page(app)
    assert "Nog 99 plaatsen vrij" in page
    rendered_afresh(monkeypatch)
    _, fresh_page, fresh_token = open_page(app)
    assert without_token(page, token) == without_token(fresh_page, fresh_token)


def test_the_last_place_taken_turns_the_page_into_the_waiting_list(app, event):
    event.capacity = 2
    db.session.commit()
    assert "Nog 2 plaatsen vrij" in open_page(app)[1]
    for email in ("anna@example.org", "bert@example.org"):
        client, page, token = open_page(app)
        assert register(client, token, email) == 302
        if email == "anna@example.org":
            assert "Nog 1 plaats vrij" in open_page(app)[1]
    page = open_page(app)[1]
    assert "Vol: aanmelden voor de wachtlijst" in page
    assert "Aanmelden voor de wachtlijst</button>" in page


def test_an_organisers_change_shows_at_once(app, event, organiser):
    assert "HRM&#39;er" in open_page(app)[1]
    organiser = log_in(app)
    editor = send(organiser, "GET", f"/organiser/events/{event.slug}/bewerken").get_data(as_text=True)
    form = dict(EVENT_FORM, slug=event.slug, title="Samen verder versnellen", starts_at="2027-05-25T16:00",
                ends_at="2027-05-25T17:15", capacity="50", roles="Schoolleider\nIntern begeleider",
                csrf_token=TOKEN.search(editor).group(1))
    assert send(organiser, "POST", f"/organiser/events/{event.slug}/bewerken", data=form).status_code == 302
    page = open_page(app)[1]
    assert "<h1>Samen verder versnellen</h1>" in page
    assert "Nog 50 plaatsen vrij" in page
    assert 'value="Intern begeleider"' in page and "HRM&#39;er" not in page


def test_a_change_made_by_another_process_shows_at_once(app, event):
    assert "Een online bijeenkomst over het NPO." in open_page(app)[1]
    with db.engine.begin() as connection:  # as another app server or a script would
        connection.execute(update(Event).where(Event.id == event.id).values(summary="Over lerende scholen."))
    page = open_page(app)[1]
    assert "Over lerende scholen." in page and "over het NPO" not in page


def test_the_page_follows_the_clock(app, event, frozen):
    assert 'name="first_name"' in open_page(app)[1]
    frozen.move_to(STARTS + timedelta(minutes=1))
    page = open_page(app)[1]
    assert "Aanmelden is gesloten." in page and 'name="first_name"' not in page


def test_what_one_visitor_typed_or_got_wrong_is_not_shown_to_the_next(app, event):
    client, _, token = open_page(app)
    response = send(client, "POST", EVENT, data=form_data(first_name="Zeldzaam", email="geen adres", csrf_token=token))
    assert response.status_code == 422
    assert "Zeldzaam" in response.get_data(as_text=True)
    page = open_page(app)[1]
    assert "Zeldzaam" not in page and "Controleer uw gegevens" not in page
    assert "<title>Samen onderwijs versnellen" in page


@pytest.mark.parametrize(("reloading", "renders"), [(False, 1), (True, 3)], ids=["kept", "templates-reloaded"])
def test_the_page_is_rendered_once_unless_templates_are_reloaded_from_disk(app, event, monkeypatch, reloading, renders):
    rendered = []
    render = views._render_event_page
    monkeypatch.setattr(views, "_render_event_page", lambda *args, **kwargs: rendered.append(1) or render(*args, **kwargs))
    app.jinja_env.auto_reload = reloading  # as TEMPLATES_AUTO_RELOAD or debug mode set it
    pages = {without_token(page, token) for _, page, token in (open_page(app) for _ in range(3))}
    assert len(rendered) == renders and len(pages) == 1


def test_the_least_recently_used_page_is_dropped_when_more_are_kept():
    rendered = []
    pages = KeptPages(size=2)

    def get(key, state=("v1",)):
        return pages.get(key, state, lambda: rendered.append(key) or f"page {key} {state[0]}")

    assert [get("a"), get("b"), get("a"), get("c")] == ["page a v1", "page b v1", "page a v1", "page c v1"]
    assert get("b") == "page b v1" and rendered == ["a", "b", "c", "b"]  # b went when c came
    assert get("a", ("v2",)) == "page a v2"  # a new state renders anew


def log_in(app):
    """A new client, logged in as the organiser."""
    client, _, token = open_page(app, "/organiser/login")
    response = send(client, "POST", "/organiser/login",
                    data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client

