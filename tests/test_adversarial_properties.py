"""Property tests of the registration form over arbitrary text (hypothesis).

Whatever is typed, the answer is a registration (302) or a Dutch error page
(422): never a 500, and a refused form stores nothing. The number of examples
is bounded so the suite stays quick; the database is emptied before each one.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from helpers import ENDS, STARTS, form_data
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.registration.models import Registration

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    # The app and frozen clock are set up once per test; each example empties the tables itself.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

DUTCH = ["'t Hart", "van 't Hof", "d'Ancona", "IJsbrand", "Özdemir", "Zoë", "Ruud-Jan", "El Idrissi", "de Vries"]
any_text = st.one_of(
    st.sampled_from(DUTCH),
    st.text(),  # any code point: emoji, right-to-left, control characters, NUL
    st.text(alphabet=st.characters(codec="utf-8"), min_size=90, max_size=400),  # around the length limits
    st.sampled_from(["", "   ", "\t", "👩‍🏫🇳🇱", "<b>x</b>", "a" * 5000, "\x00", "\r\n", "Anna\u202eredoR"]),
)
FIELDS = ["first_name", "tussenvoegsel", "last_name", "organisation", "role_other", "question", "email", "role"]


def empty_tables() -> None:
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    create_event(slug="samen-onderwijs-versnellen", title="Samen onderwijs versnellen",
                 starts_at=STARTS, ends_at=ENDS, capacity=100)
    db.session.commit()


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def check_one_submission(client, data: dict) -> None:
    empty_tables()
    response = client.post("/events/samen-onderwijs-versnellen", data=data)
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:
        assert '<html lang="nl">' in response.get_data(as_text=True)
        assert (count(Registration), count(OutgoingMail)) == (0, 0)
        return
    [registration] = db.session.scalars(select(Registration)).all()
    for field in ("first_name", "tussenvoegsel", "last_name", "organisation", "question"):
        assert getattr(registration, field) == (data.get(field) or "").strip(), field
    assert count(OutgoingMail) == 1


@pytest.fixture
def client(app):
    return app.test_client()


@SETTINGS
@given(field=st.sampled_from(FIELDS), value=any_text)
@example(field="last_name", value="'t Hart")
@example(field="first_name", value="🙂" * 100)
@example(field="first_name", value="🙂" * 101)
def test_one_field_with_any_text(client, field, value):
    overrides = {field: value}
    if field == "role_other":
        overrides["role"] = "Anders"
    check_one_submission(client, form_data(**overrides))


@SETTINGS
@given(st.fixed_dictionaries({name: any_text for name in FIELDS[:6]}))
def test_every_field_with_any_text_at_once(client, values):
    check_one_submission(client, form_data(role="Anders", **values))


@SETTINGS
@given(st.dictionaries(st.text(max_size=20), st.text(max_size=50), max_size=8))
def test_any_form_keys_at_all(client, data):
    empty_tables()
    response = client.post("/events/samen-onderwijs-versnellen", data=data)
    assert response.status_code in (302, 422)
    if response.status_code == 422:
        assert count(Registration) == 0


def test_a_huge_form_is_refused_in_dutch(client, event):
    response = client.post("/events/samen-onderwijs-versnellen", data=form_data(question="x" * 2_000_000))
    assert response.status_code == 413
    assert "Het formulier bevatte te veel gegevens." in response.get_data(as_text=True)
    assert count(Registration) == 0
