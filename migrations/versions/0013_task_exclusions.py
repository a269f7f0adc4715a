"""task exclusions: users who may never work on a task (excludedUsers), as a list on the task and as
task_candidate rows the inbox subtracts

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 15:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('excluded_users', sa.JSON(), server_default=sa.text("'[]'"),
                                      nullable=False))
    with op.batch_alter_table('task_candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('excluded_user', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_task_candidate_excluded_task', ['excluded_user', 'task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_candidate', schema=None) as batch_op:
        batch_op.drop_index('ix_task_candidate_excluded_task')
        batch_op.drop_column('excluded_user')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('excluded_users')
