"""The table the bare baseline inserts into: `registration`'s columns, keys and indexes, nothing else.

The app's `registration` table also carries the triggers that keep each
event's confirmed tally (migration 0019), which are the app's work: a
baseline inserting there would pay for them too. So the baseline stores its
rows in a table of its own with the same shape (the same columns, primary
key, unique address per event and index on event and status), created next
to the app's by the benchmarks that run it.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKeyConstraint, Integer, Index, MetaData, PrimaryKeyConstraint, Table, UniqueConstraint

NAME = "baseline_registration"


def create_baseline_table(engine) -> None:
    """Create NAME in the migrated database behind `engine`, if it is not there yet."""
    metadata = MetaData()
    # As migrated, with the defaults the database fills in; the id numbered on its own.
    source = Table("registration", metadata, autoload_with=engine)
    table = Table(
        NAME, metadata,
        Column("id", Integer, primary_key=True),
        *(column._copy() for column in source.columns if column.name != "id"),
        PrimaryKeyConstraint("id", name=f"pk_{NAME}"),
        ForeignKeyConstraint(["event_id"], ["event.id"], name=f"fk_{NAME}_event_id_event"),
        UniqueConstraint("event_id", "email_normalized", name=f"uq_{NAME}_event_email"),
        Index(f"ix_{NAME}_event_status", "event_id", "status", "created_at"),
    )
    table.create(engine, checkfirst=True)
