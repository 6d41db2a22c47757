"""organiser accounts: password reset links, two-factor authentication, recovery codes, sessions

Revision ID: 0015_account_security
Revises: 0014_organiser_roles
Create Date: 2026-12-02 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_account_security'
down_revision = '0014_organiser_roles'
branch_labels = None
depends_on = None


def _organiser_fk(table):
    return (sa.Column('organiser_id', sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f(f'fk_{table}_organiser_id_organiser'),
                                    ondelete='CASCADE'))


def upgrade():
    # Plain ADD COLUMN (no batch copy of the organiser table, which many tables refer to).
    op.add_column('organiser', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    op.add_column('organiser', sa.Column('totp_enabled_at', sa.DateTime(), nullable=True))
    op.add_column('organiser', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.add_column('organiser', sa.Column('failed_codes', sa.Integer(), nullable=False, server_default='0'))

    op.create_table(
        'password_reset',
        sa.Column('id', sa.Integer(), nullable=False),
        *_organiser_fk('password_reset'),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['requested_by_id'], ['organiser.id'],
                                name=op.f('fk_password_reset_requested_by_id_organiser'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_token_hash')),
    )
    op.create_index(op.f('ix_password_reset_organiser_id'), 'password_reset', ['organiser_id'])

    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        *_organiser_fk('recovery_code'),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
    )
    op.create_index(op.f('ix_recovery_code_organiser_id'), 'recovery_code', ['organiser_id'])

    op.create_table(
        'organiser_session',
        sa.Column('id', sa.Integer(), nullable=False),
        *_organiser_fk('organiser_session'),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('user_agent', sa.String(length=300), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organiser_session')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_organiser_session_key_hash')),
    )
    op.create_index(op.f('ix_organiser_session_organiser_id'), 'organiser_session', ['organiser_id'])


def downgrade():
    op.drop_index(op.f('ix_organiser_session_organiser_id'), table_name='organiser_session')
    op.drop_table('organiser_session')
    op.drop_index(op.f('ix_recovery_code_organiser_id'), table_name='recovery_code')
    op.drop_table('recovery_code')
    op.drop_index(op.f('ix_password_reset_organiser_id'), table_name='password_reset')
    op.drop_table('password_reset')
    for column in ('failed_codes', 'totp_last_step', 'totp_enabled_at', 'totp_secret'):
        op.drop_column('organiser', column)
