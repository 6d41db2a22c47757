"""two-factor secrets encrypted in the database (Fernet, keys from TOTP_KEYS or derived from SECRET_KEY)

Revision ID: 0018_totp_sealed
Revises: 0017_api
Create Date: 2026-12-02 13:30:00

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0018_totp_sealed'
down_revision = '0017_api'
branch_labels = None
depends_on = None

organiser = sa.table('organiser', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))


def upgrade():
    from webinar.organiser.two_factor import SEALED, seal

    with op.batch_alter_table('organiser') as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255))
    connection = op.get_bind()
    for row in connection.execute(sa.select(organiser.c.id, organiser.c.totp_secret)
                                  .where(organiser.c.totp_secret.is_not(None))).all():
        if not row.totp_secret.startswith(SEALED):
            connection.execute(organiser.update().where(organiser.c.id == row.id)
                               .values(totp_secret=seal(row.totp_secret, current_app.config)))


def downgrade():
    from webinar.organiser.two_factor import unseal

    connection = op.get_bind()
    for row in connection.execute(sa.select(organiser.c.id, organiser.c.totp_secret)
                                  .where(organiser.c.totp_secret.is_not(None))).all():
        # a secret no key reads can only be dropped: that organiser links the app again
        connection.execute(organiser.update().where(organiser.c.id == row.id)
                           .values(totp_secret=unseal(row.totp_secret, current_app.config)))
    with op.batch_alter_table('organiser') as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64))
