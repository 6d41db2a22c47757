"""support requests

Revision ID: 0004_support_requests
Revises: 0003
Create Date: 2026-11-22 13:57:34.464190

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_support_requests'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('support_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_key', sa.String(length=64), nullable=False),
    sa.Column('requester_name', sa.String(length=200), nullable=False),
    sa.Column('requester_position', sa.String(length=200), nullable=False),
    sa.Column('requester_email', sa.String(length=254), nullable=False),
    sa.Column('requester_phone', sa.String(length=50), nullable=False),
    sa.Column('board_name', sa.String(length=200), nullable=False),
    sa.Column('help_types', sa.String(length=500), nullable=False),
    sa.Column('help_text', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('new', 'in_progress', 'adviser_assigned', 'planned', 'done', 'declined', name='support_status', native_enum=False, length=20), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('adviser', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('privacy_accepted_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('status_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_request')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_support_request_submission_key'))
    )
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_request_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_request_status'), ['status'], unique=False)

    op.create_table('support_school',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('brin', sa.String(length=6), nullable=False),
    sa.Column('sector', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('judgement_date', sa.Date(), nullable=True),
    sa.Column('risk_description', sa.Text(), nullable=False),
    sa.Column('half_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['support_request.id'], name=op.f('fk_support_school_request_id_support_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_school'))
    )
    with op.batch_alter_table('support_school', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_school_request_id'), ['request_id'], unique=False)

    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('support_request_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outgoing_mail_support_request_id'), ['support_request_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outgoing_mail_support_request_id_support_request'), 'support_request', ['support_request_id'], ['id'], ondelete='CASCADE')



def downgrade():
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outgoing_mail_support_request_id_support_request'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_support_request_id'))
        batch_op.drop_column('support_request_id')

    with op.batch_alter_table('support_school', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_school_request_id'))

    op.drop_table('support_school')
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_request_status'))
        batch_op.drop_index(batch_op.f('ix_support_request_closed_at'))

    op.drop_table('support_request')

