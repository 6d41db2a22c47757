"""mail workers' heartbeat; bounced mail and unreachable addresses

Revision ID: 0016_mail_watch
Revises: 0015_account_security
Create Date: 2026-12-02 09:30:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0016_mail_watch'
down_revision = '0015_account_security'
branch_labels = None
depends_on = None


# Plain ALTER TABLE for the new columns (SQLite adds a column in place): a batch copy of the
# registration table would drop it, and with foreign keys on, that deletes the rows that point at it.
def upgrade():
    op.create_table(
        'mail_worker',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen', sa.DateTime(), nullable=False),
        sa.Column('last_sent', sa.Integer(), nullable=False),
        sa.Column('total_sent', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('host', 'pid', name='uq_mail_worker_host_pid'),
    )
    op.create_index('ix_mail_worker_last_seen', 'mail_worker', ['last_seen'])
    op.create_index('ix_outgoing_mail_message_id', 'outgoing_mail', ['message_id'])
    op.add_column('registration', sa.Column('unreachable_at', sa.DateTime(), nullable=True))
    op.add_column('registration', sa.Column('unreachable_reason', sa.Text(), nullable=False, server_default=''))


def downgrade():
    op.drop_column('registration', 'unreachable_reason')
    op.drop_column('registration', 'unreachable_at')
    op.drop_index('ix_outgoing_mail_message_id', table_name='outgoing_mail')
    op.drop_index('ix_mail_worker_last_seen', table_name='mail_worker')
    op.drop_table('mail_worker')
