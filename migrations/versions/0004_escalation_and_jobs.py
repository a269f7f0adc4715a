"""escalation policies, periodic jobs and their runs; reminders and escalation on human tasks;
managers and group leads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 12:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('escalation_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=200), nullable=True),
    sa.Column('element_id', sa.String(length=200), nullable=True),
    sa.Column('remind_before_minutes', sa.Integer(), nullable=False),
    sa.Column('notify_manager', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('raise_priority_by', sa.Integer(), nullable=False),
    sa.Column('reassign_to', sa.String(length=200), nullable=True),
    sa.Column('repeat_after_minutes', sa.Integer(), nullable=True),
    sa.Column('max_level', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('updated_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_policy')),
    sa.UniqueConstraint('process_key', 'element_id', name='uq_escalation_policy_scope')
    )
    op.create_table('scheduled_job',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('schedule', sa.String(length=100), nullable=False),
    sa.Column('default_schedule', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('updated_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduled_job'))
    )
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_name', sa.String(length=200), nullable=False),
    sa.Column('slot', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('started_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['job_name'], ['scheduled_job.name'], name=op.f('fk_job_run_job_name_scheduled_job'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run')),
    sa.UniqueConstraint('job_name', 'slot', name='uq_job_run_slot')
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_job_started', ['job_name', 'started_at'], unique=False)
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', core.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalation_level', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('escalated_at', core.db.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manager', sa.String(length=100), nullable=True))
    with op.batch_alter_table('group_membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_lead', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('group_membership', schema=None) as batch_op:
        batch_op.drop_column('is_lead')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('manager')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('escalation_level')
        batch_op.drop_column('reminded_at')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('ix_job_run_job_started')
    op.drop_table('job_run')
    op.drop_table('scheduled_job')
    op.drop_table('escalation_policy')
