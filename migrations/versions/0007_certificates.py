"""certificates of attendance: switched on per event, with the minimum presence

Revision ID: 0007_certificates
Revises: 0006_moved_mail_previous_time
Create Date: 2026-12-02 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_certificates'
down_revision = '0006_moved_mail_previous_time'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: on SQLite a batch copies the event table, which
# registrations refer to, and dropping the old copy breaks their foreign keys.
def upgrade():
    op.add_column('event', sa.Column('certificate_enabled', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column('event', sa.Column('certificate_min_percent', sa.Integer(), nullable=False,
                                     server_default='75'))


def downgrade():
    op.drop_column('event', 'certificate_min_percent')
    op.drop_column('event', 'certificate_enabled')
