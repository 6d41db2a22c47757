"""messages to any group (roles, statuses, organisation types, joined); a note with a support status mail

Revision ID: 0013_messages_support
Revises: 0012_walk_ins
Create Date: 2026-12-02 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_messages_support'
down_revision = '0012_walk_ins'
branch_labels = None
depends_on = None

#: the old one-group segments as the new selection: (statuses, joined)
_SEGMENTS = {
    'confirmed': (['confirmed'], ''),
    'role': (['confirmed'], ''),
    'waitlisted': (['waitlisted'], ''),
    'joined': (['confirmed'], 'ja'),
    'not_joined': (['confirmed'], 'nee'),
}

_old = sa.table('broadcast', sa.column('id', sa.Integer), sa.column('segment', sa.String),
                sa.column('role', sa.String))
_new = sa.table('broadcast', sa.column('id', sa.Integer), sa.column('roles', sa.JSON),
                sa.column('statuses', sa.JSON), sa.column('joined', sa.String))


# Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy of the
# table would drop the old one, and with foreign keys on, that deletes the
# outbox rows that point at it.
def upgrade():
    op.add_column('broadcast', sa.Column('roles', sa.JSON(), nullable=False, server_default='[]'))
    op.add_column('broadcast', sa.Column('statuses', sa.JSON(), nullable=False, server_default='["confirmed"]'))
    op.add_column('broadcast', sa.Column('organisation_types', sa.JSON(), nullable=False, server_default='[]'))
    op.add_column('broadcast', sa.Column('joined', sa.String(length=3), nullable=False, server_default=''))
    connection = op.get_bind()
    for row in connection.execute(sa.select(_old.c.id, _old.c.segment, _old.c.role)).all():
        statuses, joined = _SEGMENTS.get(row.segment, (['confirmed'], ''))
        roles = [row.role] if row.segment == 'role' and row.role else []
        connection.execute(_new.update().where(_new.c.id == row.id)
                           .values(roles=roles, statuses=statuses, joined=joined))
    op.drop_column('broadcast', 'segment')
    op.drop_column('broadcast', 'role')
    op.add_column('support_request', sa.Column('status_note', sa.Text(), nullable=False, server_default=''))


def downgrade():
    op.drop_column('support_request', 'status_note')
    op.add_column('broadcast', sa.Column('segment', sa.String(length=30), nullable=False, server_default='confirmed'))
    op.add_column('broadcast', sa.Column('role', sa.String(length=100), nullable=False, server_default=''))
    connection = op.get_bind()
    for row in connection.execute(sa.select(_new.c.id, _new.c.roles, _new.c.statuses, _new.c.joined)).all():
        if row.statuses == ['waitlisted']:
            segment = 'waitlisted'
        elif row.joined:
            segment = 'joined' if row.joined == 'ja' else 'not_joined'
        else:
            segment = 'role' if row.roles else 'confirmed'
        connection.execute(_old.update().where(_old.c.id == row.id)
                           .values(segment=segment, role=row.roles[0] if row.roles else ''))
    for name in ('joined', 'organisation_types', 'statuses', 'roles'):
        op.drop_column('broadcast', name)
