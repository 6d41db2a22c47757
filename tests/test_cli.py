"""The flask commands of the outside contract."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from helpers import free_port, post_registration
from webinar.demo import DEMO_SLUG, next_may_25_tuesday
from webinar.events.models import Event
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.mailing.sink import start_sink
from webinar.organisations.grouping import organisation_groups
from webinar.organiser.models import Organiser
from webinar.registration.models import Registration


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 22), date(2027, 5, 25)),
        (date(2027, 5, 25), date(2027, 5, 25)),
        (date(2027, 5, 26), date(2032, 5, 25)),
    ],
)
def test_next_tuesday_25_may(today, expected):
    assert next_may_25_tuesday(today) == expected
    assert expected.weekday() == 1


def test_demo_seeds_the_meeting_and_an_organiser_once(runner, frozen):
    frozen.move_to(datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc))
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "dinsdag 25 mei 2027, 16.00–17.15 uur" in result.output
    assert "organisator@example.org" in result.output
    event = db.session.scalar(select(Event).where(Event.slug == DEMO_SLUG))
    assert event.starts_at == datetime(2027, 5, 25, 14, 0, tzinfo=timezone.utc)
    assert event.ends_at == datetime(2027, 5, 25, 15, 15, tzinfo=timezone.utc)
    assert "Schoolbestuurder" in event.roles and "HRM'er" in event.roles
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert "wachtwoord" not in again.output
    assert len(db.session.scalars(select(Event)).all()) == 1


def test_demo_registrants_carry_a_type_and_some_a_brin_and_board_and_group_into_organisations(runner, frozen):
    frozen.move_to(datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc))
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0  # again: nobody twice
    registrations = db.session.scalars(select(Registration)).all()
    assert len(registrations) == 10
    assert all(r.organisation_type for r in registrations) and all(r.email.endswith("@example.org") for r in registrations)
    assert sum(bool(r.brin) for r in registrations) == 4 and sum(bool(r.board_name) for r in registrations) == 4
    assert db.session.scalars(select(OutgoingMail)).all() == []
    groups = {group.name: len(group.registration_ids) for group in organisation_groups()}
    # "CBS 't Kompas" and "C.B.S. Het Kompas" are left for the organiser to merge
    assert groups["OBS De Linde"] == 2 and groups["CBS 't Kompas"] == 1 and len(groups) == 9


def test_the_demo_page_addresses_the_reader_as_u(runner, client, frozen):
    frozen.move_to(datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc))
    assert runner.invoke(args=["demo"]).exit_code == 0
    page = client.get(f"/events/{DEMO_SLUG}").get_data(as_text=True)
    assert "waar zet u als school of bestuur op in" in page
    assert not re.findall(r"\b(?:je|jij|jou|jouw|jezelf)\b", page, flags=re.IGNORECASE)


def test_events_create_reads_amsterdam_time(runner):
    result = runner.invoke(args=[
        "events", "create", "--slug", "najaar", "--title", "Najaarsbijeenkomst",
        "--starts", "2027-11-02 16:00", "--ends", "2027-11-02 17:15",
        "--join-url", "https://meet.example.org/najaar", "--capacity", "40",
    ])
    assert result.exit_code == 0, result.output
    assert "dinsdag 2 november 2027, 16.00–17.15 uur" in result.output
    event = db.session.scalar(select(Event).where(Event.slug == "najaar"))
    assert event.starts_at == datetime(2027, 11, 2, 15, 0, tzinfo=timezone.utc)  # CET
    assert (event.capacity, event.meeting_url) == (40, "https://meet.example.org/najaar")


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        ("2027-11-02", "2027-11-02 17:15", "gebruik de vorm JJJJ-MM-DD UU:MM"),
        ("2027-11-02 18:00", "2027-11-02 17:15", "Het einde moet na het begin liggen."),
    ],
)
def test_events_create_refuses_bad_input(runner, starts, ends, message):
    result = runner.invoke(args=[
        "events", "create", "--slug", "x", "--title", "X", "--starts", starts, "--ends", ends,
    ])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalars(select(Event)).all() == []


def test_organisers_create_from_stdin(runner):
    result = runner.invoke(
        args=["organisers", "create", "Mieke@Example.org", "--password-stdin"],
        input="een lang genoeg wachtwoord\n",
    )
    assert result.exit_code == 0, result.output
    organiser = db.session.scalar(select(Organiser))
    assert organiser.email == "mieke@example.org"
    assert organiser.check_password("een lang genoeg wachtwoord")
    assert "een lang genoeg" not in organiser.password_hash


def test_organisers_create_refuses_a_short_password(runner):
    result = runner.invoke(args=["organisers", "create", "a@example.org", "--password-stdin"], input="kort\n")
    assert result.exit_code != 0
    assert "minstens 12 tekens" in result.output
    assert db.session.scalars(select(Organiser)).all() == []


def test_send_due_and_status(runner, client, event, smtp):
    post_registration(client, event)
    assert "confirmation   pending  1" in runner.invoke(args=["mail", "status"]).output
    result = runner.invoke(args=["mail", "send-due"])
    assert result.exit_code == 0, result.output
    assert "verstuurd 1" in result.output
    assert "confirmation   sent     1" in runner.invoke(args=["mail", "status"]).output
    assert len(smtp.messages) == 1


def test_send_due_exits_non_zero_when_the_server_is_unreachable(runner, client, event, app):
    post_registration(client, event)
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    app.extensions["mail"].port = app.config["MAIL_PORT"]
    result = runner.invoke(args=["mail", "send-due"])
    assert result.exit_code == 1
    assert "mailserver onbereikbaar" in result.output


def test_development_sink_keeps_every_message_as_eml(runner, client, event, app, tmp_path):
    port = free_port()
    sink = start_sink(tmp_path, "127.0.0.1", port)
    try:
        app.extensions["mail"].port = port
        post_registration(client, event)
        runner.invoke(args=["mail", "send-due"])
    finally:
        sink.stop()
    [saved] = list(tmp_path.glob("*.eml"))
    content = saved.read_text()
    assert "Subject:" in content and "Aanmelding bevestigd" in content
    assert "To: anna.vandenberg@example.org" in content
