"""event drafts: published or not, registration closed by hand, the former link names of an event

Revision ID: 0011_event_drafts
Revises: 0009_programme
Create Date: 2026-12-02 06:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_event_drafts'
down_revision = '0009_programme'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, as in 0007 (a batch would copy the event table that registrations refer to).
# Every event from before was public the moment it was saved: it counts as published then.
def upgrade():
    op.add_column('event', sa.Column('published_at', sa.DateTime(), nullable=True))
    op.add_column('event', sa.Column('registration_closed_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE event SET published_at = created_at")
    op.create_table(
        'event_former_slug',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=80), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('slug'),
    )
    op.create_index('ix_event_former_slug_event_id', 'event_former_slug', ['event_id'])


def downgrade():
    op.drop_index('ix_event_former_slug_event_id', table_name='event_former_slug')
    op.drop_table('event_former_slug')
    op.drop_column('event', 'registration_closed_at')
    op.drop_column('event', 'published_at')
