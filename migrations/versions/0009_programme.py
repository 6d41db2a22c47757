"""programme overview: a sector on registrations and organisations; the anonymous counts keep sector,
organisation and presence

Revision ID: 0009_programme
Revises: 0008_organisations
Create Date: 2026-12-02 06:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_programme'
down_revision = '0008_organisations'
branch_labels = None
depends_on = None

OLD_GROUP = ['event_id', 'status', 'role', 'organisation_type', 'joined']
NEW_GROUP = OLD_GROUP + ['sector', 'organisation_key', 'organisation_name', 'present']


# Rows from before keep "" (sector unknown, no organisation) and present false: counts
# kept before this revision knew neither.
def upgrade():
    op.add_column('registration', sa.Column('sector', sa.String(length=10), nullable=False, server_default=''))
    op.add_column('organisation', sa.Column('sector', sa.String(length=10), nullable=False, server_default=''))
    with op.batch_alter_table('event_statistic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sector', sa.String(length=10), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('organisation_key', sa.String(length=220), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('organisation_name', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('present', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint('uq_event_statistic_group', type_='unique')
        batch_op.create_unique_constraint('uq_event_statistic_group', NEW_GROUP)


def downgrade():
    # counts that differ only in the dropped columns become one row again
    statistic = sa.table('event_statistic', *(sa.column(name) for name in OLD_GROUP + ['count']))
    merged = op.get_bind().execute(
        sa.select(*(statistic.c[name] for name in OLD_GROUP), sa.func.sum(statistic.c['count']))
        .group_by(*(statistic.c[name] for name in OLD_GROUP))).all()
    op.execute(statistic.delete())
    with op.batch_alter_table('event_statistic', schema=None) as batch_op:
        batch_op.drop_constraint('uq_event_statistic_group', type_='unique')
        batch_op.drop_column('present')
        batch_op.drop_column('organisation_name')
        batch_op.drop_column('organisation_key')
        batch_op.drop_column('sector')
        batch_op.create_unique_constraint('uq_event_statistic_group', OLD_GROUP)
    if merged:
        op.bulk_insert(statistic, [dict(zip(OLD_GROUP + ['count'], row)) for row in merged])
    op.drop_column('organisation', 'sector')
    op.drop_column('registration', 'sector')
