"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from helpers import post_registration
from webinar.extensions import db
from webinar.events.models import Event
from webinar.mailing.models import OutgoingMail
from webinar.registration.capacity import places_left
from webinar.registration.models import Registration, confirmed_of


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_schema_is_at_the_latest_revision(app):
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    assert current == "0019_confirmed_tally"


def outbox_columns() -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("outgoing_mail")}


def test_the_previous_time_columns_go_down_and_up_again_keeping_the_outbox(client, event):
    post_registration(client, event)
    db.session.commit()
    db.session.close()
    downgrade(revision="0005_privacy")
    assert not outbox_columns() & {"previous_starts_at", "previous_ends_at"}
    upgrade()
    assert {"previous_starts_at", "previous_ends_at"} <= outbox_columns()
    assert db.session.scalars(select(OutgoingMail.kind)).all() == ["confirmation"]


def event_columns() -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("event")}


def test_the_certificate_columns_go_down_and_up_again_keeping_events_and_registrations(client, event):
    slug = event.slug
    post_registration(client, event)
    db.session.commit()
    db.session.close()
    downgrade(revision="0006_moved_mail_previous_time")
    assert not event_columns() & {"certificate_enabled", "certificate_min_percent"}
    upgrade()
    assert {"certificate_enabled", "certificate_min_percent"} <= event_columns()
    found = db.session.scalars(select(Event)).one()
    assert (found.slug, found.certificate_enabled, found.certificate_min_percent) == (slug, False, 75)
    assert len(db.session.scalars(select(Registration)).all()) == 1


def test_registrations_from_before_keep_no_type_after_the_organisation_columns_go_down_and_up(client, event):
    post_registration(client, event, organisation_type="School", brin="12AB", board_name="Stichting Lindeboom")
    db.session.commit()
    db.session.close()
    downgrade(revision="0007_certificates")
    assert not {column["name"] for column in inspect(db.engine).get_columns("registration")} & {"brin", "board_name"}
    assert not inspect(db.engine).has_table("organisation")
    with db.engine.begin() as connection:  # a row as registered before the type was asked
        connection.execute(text("UPDATE registration SET organisation_type = ''"))
    upgrade()
    found = db.session.scalars(select(Registration)).one()
    assert (found.organisation, found.organisation_type, found.brin, found.board_name) == ("OBS De Linde", "", "", "")
    assert inspect(db.engine).has_table("organisation_key")


def test_the_programme_columns_go_down_and_up_again_merging_the_kept_counts(client, event):
    from webinar.privacy.models import EventStatistic

    for organisation, count in (("OBS De Linde", 3), ("Het Baken", 2)):
        db.session.add(EventStatistic(event_id=event.id, status="confirmed", role="Schoolleider",
                                      organisation_type="School", joined=True, sector="po",
                                      organisation_key=f"naam:{organisation.lower()}", organisation_name=organisation,
                                      present=True, count=count))
    db.session.commit()
    db.session.close()
    downgrade(revision="0008_organisations")
    # two rows that differed only in the organisation become one, with both counts
    rows = db.session.execute(text("SELECT status, role, organisation_type, joined, count FROM event_statistic")).all()
    assert [tuple(row) for row in rows] == [("confirmed", "Schoolleider", "School", True, 5)]
    assert "sector" not in {column["name"] for column in inspect(db.engine).get_columns("registration")}
    db.session.close()
    upgrade()
    kept = db.session.scalars(select(EventStatistic)).one()
    assert (kept.count, kept.sector, kept.organisation_key, kept.present) == (5, "", "", False)


def test_events_from_before_drafts_come_back_published(client, event):
    post_registration(client, event)
    db.session.commit()
    db.session.close()
    downgrade(revision="0009_programme")
    assert not event_columns() & {"published_at", "registration_closed_at"}
    assert not inspect(db.engine).has_table("event_former_slug")
    upgrade()
    found = db.session.scalars(select(Event)).one()
    assert found.published_at == found.created_at and found.registration_closed_at is None
    assert client.get(f"/events/{found.slug}").status_code == 200
    assert len(db.session.scalars(select(Registration)).all()) == 1


def test_messages_keep_whom_they_went_to_when_the_selection_columns_go_down_and_up(organiser_client, event):
    from webinar.organiser.broadcast_services import Selection, save_draft
    from webinar.organiser.models import Broadcast, Organiser

    post_registration(organiser_client, event)
    organiser = db.session.scalars(select(Organiser)).one()
    for selection in (Selection(roles=("Schoolleider",)), Selection(statuses=("waitlisted",)),
                      Selection(joined="nee"), Selection()):
        save_draft(event, organiser, selection=selection, subject="Onderwerp", body="Tekst")
    db.session.commit()
    db.session.close()
    downgrade(revision="0012_walk_ins")
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT segment, role FROM broadcast ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [("role", "Schoolleider"), ("waitlisted", ""), ("not_joined", ""),
                                            ("confirmed", "")]
    upgrade()
    found = [Selection.of(broadcast) for broadcast in db.session.scalars(select(Broadcast).order_by(Broadcast.id))]
    assert found == [Selection(roles=("Schoolleider",)), Selection(statuses=("waitlisted",)), Selection(joined="nee"),
                     Selection()]
    assert db.session.scalars(select(OutgoingMail.kind)).all() == ["confirmation"]  # the outbox survived


def test_two_factor_secrets_from_before_are_encrypted_by_the_upgrade_and_read_back_by_the_downgrade(app, organiser):
    import pyotp

    from webinar.organiser.models import Organiser
    from webinar.organiser.two_factor import check_code

    secret = pyotp.random_base32(32)
    organiser_id = organiser.id
    db.session.close()
    downgrade(revision="0017_api")
    with db.engine.begin() as connection:  # as the version before stored it: the secret itself
        connection.execute(text("UPDATE organiser SET totp_secret = :secret, totp_enabled_at = created_at"),
                           {"secret": secret})
    upgrade()
    stored = db.session.get(Organiser, organiser_id)
    assert stored.totp_secret.startswith("fernet:") and secret not in stored.totp_secret
    assert check_code(stored, pyotp.TOTP(secret).now()) == "app"
    db.session.close()
    downgrade(revision="0017_api")
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT totp_secret FROM organiser")).scalar() == secret
    upgrade()


def test_the_tally_is_counted_from_the_registrations_there_when_it_comes(app, event, full_event):
    """Down to 0018 (no tally, no triggers), registrations change, and up again: the tally counts what is there."""
    anna, bert = (registration.id for registration in full_event)
    event_id = event.id
    db.session.close()
    downgrade(revision="0018_totp_sealed")
    assert "event_confirmed" not in inspect(db.engine).get_table_names()
    with db.engine.begin() as connection:  # as a version without the tally would: no trigger sees it
        connection.execute(text("UPDATE registration SET status = 'confirmed' WHERE id = :id"), {"id": bert})
    upgrade()
    assert places_left(db.session.get(Event, event_id)) == 0
    assert db.session.scalar(select(confirmed_of(event_id))) == 2
    with db.engine.begin() as connection:  # and the triggers follow changes from now on
        connection.execute(text("UPDATE registration SET status = 'cancelled' WHERE id = :id"), {"id": anna})
    db.session.rollback()  # a fresh read (SQLite keeps the snapshot of the read transaction before)
    assert db.session.scalar(select(confirmed_of(event_id))) == 1
