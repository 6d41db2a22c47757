"""api tokens: personal, hashed, with scopes and an expiry

Revision ID: 0017_api
Revises: 0014_organiser_roles
Create Date: 2026-12-02 09:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_api'
down_revision = '0014_organiser_roles'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organiser_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=12), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_api_token_organiser_id_organiser'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash')),
    )
    with op.batch_alter_table('api_token') as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_organiser_id'), ['organiser_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_token') as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_organiser_id'))
    op.drop_table('api_token')
