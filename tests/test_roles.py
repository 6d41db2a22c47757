"""Roles: the table of who may do what, the role of a new account, and the refusal in Dutch."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from webinar.extensions import db
from webinar.organiser.models import Organiser
from webinar.organiser.roles import (
    ACCOUNTS_MANAGE,
    ALL_PERMISSIONS,
    AUDIT_VIEW,
    EVENTS_EDIT,
    EVENTS_VIEW,
    EXPORT,
    PERMISSIONS,
    ROLES,
    SUPPORT_VIEW,
    may,
    requires,
)
from webinar.organiser.services import create_organiser


def test_every_role_has_a_label_and_a_set_of_permissions():
    assert set(ROLES) == set(PERMISSIONS) == {"beheerder", "organisator", "contactpersoon", "adviseur"}


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        ("beheerder", ALL_PERMISSIONS, set()),
        ("organisator", {EVENTS_EDIT, EXPORT}, {ACCOUNTS_MANAGE, AUDIT_VIEW, SUPPORT_VIEW}),
        ("contactpersoon", {EXPORT}, {EVENTS_EDIT, SUPPORT_VIEW, ACCOUNTS_MANAGE}),
        # an adviseur exports support requests; EXPORT reaches no meeting without EVENTS_VIEW
        ("adviseur", {SUPPORT_VIEW, EXPORT}, {EVENTS_VIEW, EVENTS_EDIT, ACCOUNTS_MANAGE}),
    ],
)
def test_what_each_role_may_do(role, allowed, refused):
    account = Organiser(email="a@example.org", role=role)
    assert all(may(account, permission) for permission in allowed)
    assert not any(may(account, permission) for permission in refused)


def test_an_unknown_role_may_do_nothing_and_an_unknown_permission_is_a_bug():
    assert not any(may(Organiser(email="a@example.org", role="gast"), p) for p in ALL_PERMISSIONS)
    with pytest.raises(KeyError):
        may(Organiser(email="a@example.org", role="beheerder"), "events.delete")
    with pytest.raises(KeyError):
        requires("events.delete")


def test_an_account_made_by_the_command_is_a_beheerder_unless_told_otherwise(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["organisers", "create", "eerste@example.org", "--password-stdin"],
                          input="Lange-zin-voor-het-wachtwoord-1\n")
    second = runner.invoke(args=["organisers", "create", "tweede@example.org", "--password-stdin",
                                 "--role", "contactpersoon"], input="Lange-zin-voor-het-wachtwoord-2\n")
    third = runner.invoke(args=["organisers", "create", "derde@example.org", "--password-stdin",
                                "--role", "gast"], input="Lange-zin-voor-het-wachtwoord-3\n")
    assert first.exit_code == 0 and "beheerder" in first.output
    assert second.exit_code == 0 and "contactpersoon" in second.output
    assert third.exit_code != 0
    roles = dict(db.session.execute(select(Organiser.email, Organiser.role)).all())
    assert roles == {"eerste@example.org": "beheerder", "tweede@example.org": "contactpersoon"}


def test_a_service_call_with_an_unknown_role_stores_nothing(app):
    with pytest.raises(ValueError, match="Onbekende rol"):
        create_organiser("x@example.org", "Lange-zin-voor-het-wachtwoord-4", role="gast")
    db.session.rollback()
    assert db.session.scalar(select(Organiser).where(Organiser.email == "x@example.org")) is None


def test_a_refused_action_answers_403_in_dutch(app: Flask, client):
    account = create_organiser("lezer@example.org", "Lange-zin-voor-het-wachtwoord-5", role="contactpersoon")
    db.session.commit()
    assert account.role == "contactpersoon"
    client.post("/organiser/login", data={"email": "lezer@example.org",
                                         "password": "Lange-zin-voor-het-wachtwoord-5"})
    response = client.get("/organiser/audit")
    assert response.status_code == 403
    assert "Geen toegang" in response.get_data(as_text=True)
