"""organiser roles: beheerder, organisator, contactpersoon, adviseur; the role an invitation gives

Revision ID: 0014_organiser_roles
Revises: 0013_messages_support
Create Date: 2026-12-02 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_organiser_roles'
down_revision = '0013_messages_support'
branch_labels = None
depends_on = None


# Every account made before roles existed could do everything: it stays a
# beheerder, so nobody loses access on upgrade. Plain ADD COLUMN works in place
# on SQLite and PostgreSQL alike.
def upgrade():
    op.add_column('organiser', sa.Column('role', sa.String(length=20), nullable=False, server_default='beheerder'))
    op.add_column('invitation', sa.Column('role', sa.String(length=20), nullable=False, server_default='beheerder'))


def downgrade():
    with op.batch_alter_table('invitation') as batch_op:
        batch_op.drop_column('role')
    with op.batch_alter_table('organiser') as batch_op:
        batch_op.drop_column('role')
