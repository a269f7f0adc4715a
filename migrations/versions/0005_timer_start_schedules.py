"""timer start schedules: processes drawn with a timer start event are started by the worker

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 13:10:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('timer_start',
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('process_key', sa.String(length=200), nullable=False),
    sa.Column('next_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('every_seconds', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id'],
                            name=op.f('fk_timer_start_definition_id_process_definition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('definition_id', 'element_id', name=op.f('pk_timer_start'))
    )
    with op.batch_alter_table('timer_start', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timer_start_next_at'), ['next_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_start_process_key'), ['process_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('timer_start', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_start_process_key'))
        batch_op.drop_index(batch_op.f('ix_timer_start_next_at'))
    op.drop_table('timer_start')
