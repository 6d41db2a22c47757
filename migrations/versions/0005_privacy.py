"""privacy: anonymous counts per event, and when an event's personal data was removed

Revision ID: 0005_privacy
Revises: 0004_support_requests
Create Date: 2026-11-22 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_privacy'
down_revision = '0004_support_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_statistic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('organisation_type', sa.String(length=50), nullable=False),
    sa.Column('joined', sa.Boolean(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_statistic_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_statistic')),
    sa.UniqueConstraint('event_id', 'status', 'role', 'organisation_type', 'joined', name='uq_event_statistic_group')
    )
    with op.batch_alter_table('event_statistic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_statistic_event_id'), ['event_id'], unique=False)

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personal_data_purged_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('personal_data_purged_at')

    with op.batch_alter_table('event_statistic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_statistic_event_id'))

    op.drop_table('event_statistic')
