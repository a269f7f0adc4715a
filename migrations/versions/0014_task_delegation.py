"""standing task delegation (代理): a user's new tasks go to a colleague from one date to another; each inbox row
remembers whom its delegate stands in for

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'task_delegation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delegator', sa.String(length=100), nullable=False),
        sa.Column('delegate', sa.String(length=100), nullable=False),
        sa.Column('process_key', sa.String(length=200), nullable=True),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', core.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_task_delegation_delegator', 'task_delegation', ['delegator', 'ended_at'], unique=False)
    op.create_index('ix_task_delegation_period', 'task_delegation', ['starts_on', 'ends_on'], unique=False)
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_behalf_of', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('on_behalf_of')
    op.drop_index('ix_task_delegation_period', table_name='task_delegation')
    op.drop_index('ix_task_delegation_delegator', table_name='task_delegation')
    op.drop_table('task_delegation')
