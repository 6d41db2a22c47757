"""The accounts page: a beheerder sees every account, changes roles, switches accounts off and on, invites in a role."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpers import login, page_text
from webinar.audit import AuditEntry
from webinar.extensions import db
from webinar.organiser.accounts_services import AccountRefused, change_role, set_active
from webinar.organiser.models import Organiser
from webinar.organiser.services import create_organiser

PASSWORD = "een lange zin als wachtwoord"


@pytest.fixture
def colleague(app, organiser):
    """An organisator next to the `organiser` fixture (a beheerder)."""
    account = create_organiser("kees@example.org", PASSWORD, name="Kees Collega", role="organisator")
    db.session.commit()
    return account


def _reload(account: Organiser) -> Organiser:
    db.session.rollback()
    return db.session.get(Organiser, account.id)


def _audit() -> list[tuple[str, str]]:
    db.session.rollback()
    return db.session.execute(select(AuditEntry.action, AuditEntry.summary).order_by(AuditEntry.id)).all()


def test_the_page_lists_every_account_with_its_role_last_login_and_state(app, organiser_client, colleague):
    page = page_text(organiser_client.get("/organiser/accounts"))
    assert "Kees Collega" in page and "kees@example.org" in page and "nog nooit" in page
    assert '<option selected value="organisator">Organisator</option>' in page
    assert "Mieke Organisator <small>(u)</small>" in page  # one's own row has no buttons
    assert page.count("Uitzetten") == 1


def test_a_new_role_counts_from_the_next_page_and_is_audited(app, organiser_client, colleague):
    kees = app.test_client()
    login(kees, "kees@example.org", PASSWORD)
    assert kees.get("/organiser/events/nieuw").status_code == 200
    response = organiser_client.post(f"/organiser/accounts/{colleague.id}/rol",
                                     data={f"a{colleague.id}-role": "contactpersoon"})
    assert response.headers["Location"] == "/organiser/accounts"
    assert _reload(colleague).role == "contactpersoon"
    assert kees.get("/organiser/events/nieuw").status_code == 403
    assert kees.get("/organiser/").status_code == 200
    assert _audit()[-1] == ("account.role",
                            "Rol van Kees Collega (kees@example.org) gewijzigd van organisator naar contactpersoon")


def test_an_unknown_role_changes_nothing(app, organiser_client, colleague):
    response = organiser_client.post(f"/organiser/accounts/{colleague.id}/rol", data={f"a{colleague.id}-role": "baas"})
    assert "Kies een van de rollen." in page_text(organiser_client.get(response.headers["Location"]))
    assert _reload(colleague).role == "organisator"
    assert [action for action, _ in _audit()] == []


def test_a_switched_off_account_is_logged_out_at_once_and_can_come_back(app, organiser_client, colleague):
    kees = app.test_client()
    login(kees, "kees@example.org", PASSWORD)
    organiser_client.post(f"/organiser/accounts/{colleague.id}/uitzetten")
    assert not _reload(colleague).active
    assert kees.get("/organiser/").status_code == 302  # to the login page
    assert login(kees, "kees@example.org", PASSWORD).status_code == 200  # refused
    assert "nee, uitgezet" in page_text(organiser_client.get("/organiser/accounts"))
    organiser_client.post(f"/organiser/accounts/{colleague.id}/aanzetten")
    assert _reload(colleague).active and _reload(colleague).role == "organisator"
    assert login(kees, "kees@example.org", PASSWORD).status_code == 302
    assert _audit()[-2:] == [("account.deactivate", "Account van Kees Collega (kees@example.org) uitgezet"),
                             ("account.reactivate", "Account van Kees Collega (kees@example.org) weer actief gemaakt")]


@pytest.mark.parametrize(("path", "data"), [("uitzetten", {}), ("rol", {"a{id}-role": "contactpersoon"})])
def test_a_beheerder_cannot_change_their_own_account(app, organiser_client, organiser, path, data):
    data = {key.format(id=organiser.id): value for key, value in data.items()}
    response = organiser_client.post(f"/organiser/accounts/{organiser.id}/{path}", data=data)
    assert "Vraag een andere beheerder." in page_text(organiser_client.get(response.headers["Location"]))
    account = _reload(organiser)
    assert account.active and account.role == "beheerder"
    assert _audit() == []


def test_the_last_active_beheerder_stays(app, organiser, colleague):
    """The service refuses, whoever asks: the page never offers it, but two beheerders at once could."""
    with pytest.raises(AccountRefused, match="minstens één actieve beheerder"):
        set_active(colleague, organiser, False)
    with pytest.raises(AccountRefused, match="minstens één actieve beheerder"):
        change_role(colleague, organiser, "organisator")
    second = create_organiser("tweede@example.org", PASSWORD, role="beheerder")
    assert set_active(colleague, organiser, False)
    with pytest.raises(AccountRefused):
        change_role(colleague, second, "adviseur")


def test_the_invitation_form_offers_every_role_and_the_page_shows_it_open(app, organiser_client, smtp):
    form = page_text(organiser_client.get("/organiser/uitnodigen"))
    assert all(f'value="{role}"' in form for role in ("beheerder", "organisator", "contactpersoon", "adviseur"))
    response = organiser_client.post("/organiser/uitnodigen", data={"email": "nieuw@example.org", "role": "adviseur"})
    page = page_text(organiser_client.get(response.headers["Location"]))
    assert "nieuw@example.org, als adviseur" in page
    assert _audit()[-1] == ("account.invite", "Uitnodiging aan nieuw@example.org als adviseur")


def test_an_invitation_without_a_role_is_refused(app, organiser_client):
    response = organiser_client.post("/organiser/uitnodigen", data={"email": "nieuw@example.org"})
    assert "Kies een rol." in page_text(response)
    assert _audit() == []
