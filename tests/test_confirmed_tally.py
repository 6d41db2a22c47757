"""Each event's tally of confirmed registrations (ConfirmedTally, kept by triggers) is what counting gives.

Every sign-up decides between a place and the waiting list from the tally, so
after anything that adds, cancels, promotes, imports, erases or moves
registrations, by the app or by a statement of someone else's, the tally's sum
must equal the count of the event's confirmed registrations. Runs on SQLite and
on PostgreSQL (TEST_DATABASE_URL), where the triggers differ. Sign-ups side by
side on many connections are checked in test_concurrency.py.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from helpers import ENDS, STARTS, add_confirmed, page_text, post_registration
from webinar.events.editing import update_event
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.organiser.registrations_services import add_registration, promote
from webinar.privacy.services import erase_own_registration
from webinar.registration.capacity import confirmed_count, places_left
from webinar.registration.models import ConfirmedTally, Registration, RegistrationStatus
from webinar.registration.services import Details, EmailTaken, cancel_registration, normalize_email, register

PEOPLE = [f"persoon{n}@example.org" for n in range(6)]


def counted() -> dict[int, int]:
    """Confirmed registrations per event, counted."""
    return dict(db.session.execute(
        select(Registration.event_id, func.count()).where(Registration.status == RegistrationStatus.confirmed)
        .group_by(Registration.event_id)).all())


def tallied() -> dict[int, int]:
    """Confirmed registrations per event, from the tally (events whose sum is 0 left out, as counting does)."""
    sums = db.session.execute(
        select(ConfirmedTally.event_id, func.sum(ConfirmedTally.confirmed)).group_by(ConfirmedTally.event_id)).all()
    return {event_id: total for event_id, total in sums if total}


def details(email: str) -> Details:
    return Details(first_name="Fenna", tussenvoegsel="", last_name="de Jong", email=email,
                   organisation="OBS De Linde", role="Schoolleider")


def find(event_id: int, email: str) -> Registration | None:
    return db.session.scalar(select(Registration).where(
        Registration.event_id == event_id, Registration.email_normalized == normalize_email(email)))


def two_events():
    events = [create_event(slug=f"bijeenkomst-{n}", title=f"Bijeenkomst {n}", starts_at=STARTS, ends_at=ENDS,
                           capacity=2) for n in range(2)]
    db.session.commit()
    return events


# --- what the app and others do to registrations ----------------------------------------------------


def sign_up(event, email):
    register(event, details(email), commit=True)  # as the public form does: on PostgreSQL the shared way


def organiser_adds(event, email):
    try:
        add_registration(event, details(email))
    except EmailTaken:  # registered already: the organiser is told so, and nothing changes
        db.session.rollback()


def cancel(event, email):
    if (found := find(event.id, email)) is not None:
        cancel_registration(found)


def organiser_promotes(event, email):
    if (found := find(event.id, email)) is not None:
        promote(found)


def erase(event, email):
    if (found := find(event.id, email)) is not None:
        erase_own_registration(found)


def more_places(event, email):
    update_event(event, {"capacity": event.capacity + 1})


def fewer_places(event, email):
    update_event(event, {"capacity": max(event.capacity - 1, 1)})


def everyone_waits(event, email):
    """A statement of someone else's, changing many rows at once."""
    db.session.execute(text("UPDATE registration SET status = 'waitlisted' WHERE event_id = :e AND status = 'confirmed'"),
                       {"e": event.id})


def moved_to_the_other_event(event, email):
    """A statement of someone else's: the registration moved to the other event, if the address is free there."""
    db.session.execute(text(
        "UPDATE registration SET event_id = (SELECT min(id) FROM event WHERE id <> :e) WHERE event_id = :e "
        "AND email_normalized = :m AND NOT EXISTS (SELECT 1 FROM registration other "
        "WHERE other.event_id <> :e AND other.email_normalized = :m)"), {"e": event.id, "m": email})


def details_changed(event, email):
    db.session.execute(text("UPDATE registration SET organisation = 'Het Kompas' WHERE event_id = :e"),
                       {"e": event.id})


STEPS = [sign_up, organiser_adds, cancel, organiser_promotes, erase, more_places, fewer_places, everyone_waits,
         moved_to_the_other_event, details_changed]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 1), st.sampled_from(PEOPLE)),
                      min_size=1, max_size=25))
def test_the_tally_is_the_count_after_anything_done_to_registrations(app, steps):
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    events = two_events()
    for step, which, email in steps:
        step(events[which], email)
        db.session.commit()
        assert tallied() == counted(), (step.__name__, which, email)


def test_a_rolled_back_sign_up_leaves_the_tally_as_it_was(app, event):
    register(event, details("anna@example.org"))
    db.session.commit()
    register(event, details("bert@example.org"))
    db.session.flush()
    assert confirmed_count(event) == 2  # its own transaction sees its own sign-up
    db.session.rollback()
    assert confirmed_count(event) == 1 == counted()[event.id]


def test_the_page_shows_the_places_the_tally_gives(client, event):
    event.capacity = 3
    db.session.commit()
    post_registration(client, event, email="anna@example.org")
    post_registration(client, event, email="bert@example.org")
    cancel_registration(find(event.id, "anna@example.org"))
    db.session.commit()
    assert places_left(event) == 2
    assert "Nog 2 plaatsen vrij" in page_text(client.get(f"/events/{event.slug}"))


def test_an_import_of_many_rows_counts_them_all(app, event):
    event.capacity = None
    db.session.commit()
    add_confirmed(event.id, 1500, STARTS)  # one statement per row
    organiser_adds(event, "laat@example.org")
    db.session.commit()
    assert confirmed_count(event) == 1501 == counted()[event.id]


def test_a_drift_is_seen_by_the_check(app, event):
    """Negative control: with the trigger that follows changes of status gone, the check above fails."""
    register(event, details("anna@example.org"))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE registration DISABLE TRIGGER registration_confirmed_update"))
    else:
        db.session.execute(text("DROP TRIGGER registration_confirmed_update"))
    everyone_waits(event, None)
    assert tallied() != counted()
    db.session.rollback()  # the trigger comes back with the transaction's end
    assert tallied() == counted() == {event.id: 1}
    everyone_waits(event, None)
    db.session.commit()
    assert tallied() == counted() == {}
