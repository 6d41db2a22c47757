"""walk-ins: people in a meeting report who matched no registration, and their links to registrants

Revision ID: 0012_walk_ins
Revises: 0011_event_drafts
Create Date: 2026-12-02 06:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_walk_ins'
down_revision = '0011_event_drafts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'walk_in',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=340), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('first_joined_at', sa.DateTime(), nullable=True),
        sa.Column('last_joined_at', sa.DateTime(), nullable=True),
        sa.Column('minutes_present', sa.Integer(), nullable=True),
        sa.Column('registration_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id', 'key', name='uq_walk_in_event_key'),
    )
    op.create_index('ix_walk_in_event_id', 'walk_in', ['event_id'])
    op.create_index('ix_walk_in_registration_id', 'walk_in', ['registration_id'])


def downgrade():
    op.drop_index('ix_walk_in_registration_id', table_name='walk_in')
    op.drop_index('ix_walk_in_event_id', table_name='walk_in')
    op.drop_table('walk_in')
