"""moved mail: the start and end the registrant last knew

Revision ID: 0006_moved_mail_previous_time
Revises: 0005_privacy
Create Date: 2026-11-30 01:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_moved_mail_previous_time'
down_revision = '0005_privacy'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_starts_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('previous_ends_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_column('previous_ends_at')
        batch_op.drop_column('previous_starts_at')
