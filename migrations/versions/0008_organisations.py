"""organisations that can be counted: BRIN and board on a registration, the organiser's corrections

Revision ID: 0008_organisations
Revises: 0007_certificates
Create Date: 2026-12-02 03:25:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_organisations'
down_revision = '0007_certificates'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, as in 0007: rows from before keep "" (no BRIN, no board, and
# their organisation type stays "" until corrected).
def upgrade():
    op.add_column('registration', sa.Column('brin', sa.String(length=6), nullable=False, server_default=''))
    op.add_column('registration', sa.Column('board_name', sa.String(length=200), nullable=False,
                                            server_default=''))
    op.create_table(
        'organisation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('organisation_type', sa.String(length=50), nullable=False),
        sa.Column('brin', sa.String(length=6), nullable=False),
        sa.Column('board_name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'organisation_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=220), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_organisation_key_organisation_id', 'organisation_key', ['organisation_id'])


def downgrade():
    op.drop_index('ix_organisation_key_organisation_id', table_name='organisation_key')
    op.drop_table('organisation_key')
    op.drop_table('organisation')
    op.drop_column('registration', 'board_name')
    op.drop_column('registration', 'brin')
