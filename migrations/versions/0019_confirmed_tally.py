"""confirmed registrations per event, kept by triggers on registration (the places left without counting)

Revision ID: 0019_confirmed_tally
Revises: 0018_totp_sealed
Create Date: 2026-12-02 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_confirmed_tally'
down_revision = '0018_totp_sealed'
branch_labels = None
depends_on = None

#: PostgreSQL: one function for the three statement triggers (a trigger with transition tables takes one kind of
#: statement). A statement's changes are summed per event, and written in the order of the events, to the row of
#: this server process's slot: an import of 10,000 rows writes one row, and sign-ups on other connections do not
#: wait for each other. The slot count is ConfirmedTally.SLOTS.
POSTGRESQL_FUNCTION = """
CREATE FUNCTION event_confirmed_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO event_confirmed AS tally (event_id, slot, confirmed)
        SELECT event_id, pg_backend_pid() % 16, count(*) FROM new_rows WHERE status = 'confirmed'
        GROUP BY event_id ORDER BY event_id
        ON CONFLICT (event_id, slot) DO UPDATE SET confirmed = tally.confirmed + excluded.confirmed;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO event_confirmed AS tally (event_id, slot, confirmed)
        SELECT event_id, pg_backend_pid() % 16, -count(*) FROM old_rows WHERE status = 'confirmed'
        GROUP BY event_id ORDER BY event_id
        ON CONFLICT (event_id, slot) DO UPDATE SET confirmed = tally.confirmed + excluded.confirmed;
    ELSE
        INSERT INTO event_confirmed AS tally (event_id, slot, confirmed)
        SELECT event_id, pg_backend_pid() % 16, sum(change) FROM (
            SELECT event_id, 1 AS change FROM new_rows WHERE status = 'confirmed'
            UNION ALL
            SELECT event_id, -1 FROM old_rows WHERE status = 'confirmed'
        ) AS changes
        GROUP BY event_id HAVING sum(change) <> 0 ORDER BY event_id
        ON CONFLICT (event_id, slot) DO UPDATE SET confirmed = tally.confirmed + excluded.confirmed;
    END IF;
    RETURN NULL;
END
$$
"""
POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER registration_confirmed_insert AFTER INSERT ON registration "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION event_confirmed_tally()",
    "CREATE TRIGGER registration_confirmed_update AFTER UPDATE ON registration "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION event_confirmed_tally()",
    "CREATE TRIGGER registration_confirmed_delete AFTER DELETE ON registration "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION event_confirmed_tally()",
]

#: SQLite: row triggers (it has no others); one writer at a time, so one slot
_ADD = ("INSERT INTO event_confirmed (event_id, slot, confirmed) SELECT {row}.event_id, 0, {change} "
        "WHERE {row}.status = 'confirmed' "
        "ON CONFLICT (event_id, slot) DO UPDATE SET confirmed = confirmed + excluded.confirmed;")
SQLITE_TRIGGERS = [
    "CREATE TRIGGER registration_confirmed_insert AFTER INSERT ON registration "
    f"WHEN new.status = 'confirmed' BEGIN {_ADD.format(row='new', change=1)} END",
    "CREATE TRIGGER registration_confirmed_update AFTER UPDATE OF status, event_id ON registration "
    "WHEN old.status = 'confirmed' OR new.status = 'confirmed' "
    f"BEGIN {_ADD.format(row='old', change=-1)} {_ADD.format(row='new', change=1)} END",
    "CREATE TRIGGER registration_confirmed_delete AFTER DELETE ON registration "
    f"WHEN old.status = 'confirmed' BEGIN {_ADD.format(row='old', change=-1)} END",
]
TRIGGERS = ("registration_confirmed_insert", "registration_confirmed_update", "registration_confirmed_delete")


def upgrade():
    op.create_table(
        'event_confirmed',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('slot', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('confirmed', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_confirmed_event_id_event'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('event_id', 'slot', name=op.f('pk_event_confirmed')),
    )
    # The triggers first, then the count of what is there: on PostgreSQL creating a trigger keeps writers out of
    # the table until this transaction commits, so no registration is missed or counted twice.
    if op.get_bind().dialect.name == 'postgresql':
        # Each sign-up writes a new version of one of these rows. Room left on the page lets the new version
        # stay there (a HOT update, no new index entry), and the table is vacuumed after every 200 of them, so
        # reading an event's rows stays a page or two however many sign-ups came.
        op.execute("ALTER TABLE event_confirmed SET (fillfactor = 50, autovacuum_vacuum_threshold = 200, "
                   "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 0)")
        op.execute(POSTGRESQL_FUNCTION)
        for trigger in POSTGRESQL_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    op.execute("INSERT INTO event_confirmed (event_id, slot, confirmed) "
               "SELECT event_id, 0, count(*) FROM registration WHERE status = 'confirmed' GROUP BY event_id")


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON registration" if postgresql else f"DROP TRIGGER {trigger}")
    if postgresql:
        op.execute("DROP FUNCTION event_confirmed_tally()")
    op.drop_table('event_confirmed')
