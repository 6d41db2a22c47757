"""Two beheerders who switch each other off at the same moment: one of them stays.

On SQLite every POST's write transaction runs alone (BEGIN IMMEDIATE), so the
race needs PostgreSQL (TEST_DATABASE_URL), where it runs in READ COMMITTED.
The negative control counts the beheerders without locking them: then both
succeed and nobody is left to manage accounts, which shows the test can fail.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from helpers import make_app
from webinar.database import begin_write
from webinar.extensions import db
from webinar.organiser import accounts_services
from webinar.organiser.accounts_services import AccountRefused, set_active
from webinar.organiser.models import Organiser
from webinar.organiser.services import create_organiser

pytestmark = pytest.mark.slow

PASSWORD = "een lange zin als wachtwoord"
#: how long each switch waits after its check, so that the two overlap
HOLD_SECONDS = 0.3


def _race(schema: str) -> list[str]:
    """Ana switches Bob off while Bob switches Ana off; what each got ('ok' or 'refused')."""
    results: dict[str, str] = {}

    def switch(actor: str, target: str, delay: float) -> None:
        time.sleep(delay)
        app = make_app(schema)  # its own connections; app_in_context would empty the tables when done
        with app.app_context():
            try:
                begin_write()
                accounts = {a.email: a for a in db.session.scalars(select(Organiser))}
                set_active(accounts[actor], accounts[target], False)
                db.session.commit()
                results[actor] = "ok"
            except AccountRefused:
                db.session.rollback()
                results[actor] = "refused"
            finally:
                db.session.remove()
                db.engine.dispose()

    threads = [threading.Thread(target=switch, args=("ana@example.org", "bob@example.org", 0)),
               threading.Thread(target=switch, args=("bob@example.org", "ana@example.org", HOLD_SECONDS / 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(results.values())


@pytest.fixture
def two_beheerders(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the race needs PostgreSQL (TEST_DATABASE_URL): SQLite runs one write at a time")
    for email in ("ana@example.org", "bob@example.org"):
        create_organiser(email, PASSWORD, role="beheerder")
    db.session.commit()


def _active_beheerders() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Organiser.id)).where(Organiser.role == "beheerder",
                                                                    Organiser.active.is_(True)))


def _slow(check):
    def slowly(leaving):
        check(leaving)
        time.sleep(HOLD_SECONDS)
    return slowly


def test_one_beheerder_stays_when_two_switch_each_other_off(app, schema, two_beheerders, monkeypatch):
    monkeypatch.setattr(accounts_services, "_keep_a_manager", _slow(accounts_services._keep_a_manager))
    assert _race(schema) == ["ok", "refused"]
    assert _active_beheerders() == 1


def test_negative_control_without_the_lock_both_leave(app, schema, two_beheerders, monkeypatch):
    def count_without_lock(leaving):
        others = db.session.scalar(select(func.count(Organiser.id)).where(
            Organiser.role == "beheerder", Organiser.active.is_(True), Organiser.id != leaving.id))
        if not others:
            raise AccountRefused("geen beheerder over")

    both_checked = threading.Barrier(2)

    def check_then_wait_for_the_other(leaving):
        # Without the lock nothing keeps the two apart: each waits until the other has checked too,
        # so the overlap does not depend on how fast the machine starts the second app.
        count_without_lock(leaving)
        both_checked.wait(timeout=20)

    monkeypatch.setattr(accounts_services, "_keep_a_manager", check_then_wait_for_the_other)
    assert _race(schema) == ["ok", "ok"]
    assert _active_beheerders() == 0
