"""inbox: candidate indexes that cover the task id; candidates of closed tasks are dropped

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 14:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task_candidate', schema=None) as batch_op:
        batch_op.drop_index('ix_task_candidate_user')
        batch_op.drop_index('ix_task_candidate_group')
        batch_op.create_index('ix_task_candidate_user_task', ['user_name', 'task_id'], unique=False)
        batch_op.create_index('ix_task_candidate_group_task', ['group_name', 'task_id'], unique=False)
    # the engine now keeps candidates of open tasks only
    op.execute(sa.text("DELETE FROM task_candidate WHERE task_id IN "
                       "(SELECT id FROM human_task WHERE status <> 'open')"))


def downgrade() -> None:
    with op.batch_alter_table('task_candidate', schema=None) as batch_op:
        batch_op.drop_index('ix_task_candidate_group_task')
        batch_op.drop_index('ix_task_candidate_user_task')
        batch_op.create_index('ix_task_candidate_group', ['group_name'], unique=False)
        batch_op.create_index('ix_task_candidate_user', ['user_name'], unique=False)
