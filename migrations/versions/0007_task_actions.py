"""task actions: transfer, delegate, add signer, return, withdraw, copy, drafts and involvement

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('delegation_state', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('follow_up_at', core.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('return_to', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('signers_after', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('pending_data', sa.JSON(), nullable=True))

    op.create_table('task_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('user_name', sa.String(length=200), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_task_draft_task_id_human_task'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_draft')),
    sa.UniqueConstraint('task_id', 'user_name', name=op.f('uq_task_draft_task_id'))
    )

    op.create_table('task_involvement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('user_name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('by_user', sa.String(length=200), nullable=True),
    sa.Column('at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('read_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_task_involvement_task_id_human_task'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_task_involvement_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_involvement'))
    )
    with op.batch_alter_table('task_involvement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_involvement_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_involvement_task_id'), ['task_id'], unique=False)
        batch_op.create_index('ix_task_involvement_user_kind', ['user_name', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_involvement', schema=None) as batch_op:
        batch_op.drop_index('ix_task_involvement_user_kind')
        batch_op.drop_index(batch_op.f('ix_task_involvement_task_id'))
        batch_op.drop_index(batch_op.f('ix_task_involvement_instance_id'))
    op.drop_table('task_involvement')
    op.drop_table('task_draft')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('pending_data')
        batch_op.drop_column('signers_after')
        batch_op.drop_column('return_to')
        batch_op.drop_column('follow_up_at')
        batch_op.drop_column('delegation_state')
        batch_op.drop_column('owner')
