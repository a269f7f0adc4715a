"""projects: the implementation project with its phases and gate reviews, work packages, tasks, milestones,
members, requirements, training, communication plan, change requests, budget lines, baselines, timesheets,
expenses and KPIs

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 18:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('goals', sa.Text(), nullable=True),
    sa.Column('scope', sa.Text(), nullable=True),
    sa.Column('sponsor', sa.String(length=100), nullable=True),
    sa.Column('manager', sa.String(length=100), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('planned_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("status IN ('planning', 'active', 'closed')", name=op.f('ck_project_status_known')),
    sa.CheckConstraint('planned_end >= start_date', name=op.f('ck_project_dates_ordered')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('code', name=op.f('uq_project_code'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_manager'), ['manager'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_status'), ['status'], unique=False)

    op.create_table('project_baseline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_baseline_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_baseline')),
    sa.UniqueConstraint('project_id', 'version', name=op.f('uq_project_baseline_project_id'))
    )
    with op.batch_alter_table('project_baseline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_baseline_project_id'), ['project_id'], unique=False)

    op.create_table('project_communication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('audience_group', sa.String(length=100), nullable=False),
    sa.Column('cadence', sa.String(length=20), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('next_on', sa.Date(), nullable=False),
    sa.CheckConstraint("cadence IN ('weekly', 'biweekly', 'monthly')", name=op.f('ck_project_communication_cadence_known')),
    sa.CheckConstraint("kind IN ('meeting', 'report', 'email')", name=op.f('ck_project_communication_kind_known')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_project_communication_weekday_range')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_communication_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_communication'))
    )
    with op.batch_alter_table('project_communication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_communication_next_on'), ['next_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_communication_project_id'), ['project_id'], unique=False)

    op.create_table('project_kpi',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=30), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=10), nullable=False),
    sa.Column('target', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('warning', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('critical', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('direction', sa.String(length=20), nullable=False),
    sa.CheckConstraint("direction IN ('higher_is_better', 'lower_is_better')", name=op.f('ck_project_kpi_direction_known')),
    sa.CheckConstraint("key IN ('spi', 'cpi', 'open_high_risks', 'overdue_tasks', 'uat_pass_rate', 'migration_error_rate', 'training_completion')", name=op.f('ck_project_kpi_key_known')),
    sa.CheckConstraint("unit IN ('ratio', 'count', 'percent')", name=op.f('ck_project_kpi_unit_known')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_kpi_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_kpi')),
    sa.UniqueConstraint('project_id', 'key', name=op.f('uq_project_kpi_project_id'))
    )
    with op.batch_alter_table('project_kpi', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_kpi_project_id'), ['project_id'], unique=False)

    op.create_table('project_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('group_name', sa.String(length=100), nullable=False),
    sa.Column('allocation_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('hourly_rate', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint("role IN ('project_manager', 'technical_expert', 'business_analyst', 'tester', 'user_representative')", name=op.f('ck_project_member_role_known')),
    sa.CheckConstraint('allocation_percent >= 0 AND allocation_percent <= 100', name=op.f('ck_project_member_allocation_range')),
    sa.CheckConstraint('hourly_rate >= 0', name=op.f('ck_project_member_rate_nonnegative')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_member_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_member')),
    sa.UniqueConstraint('project_id', 'username', 'role', name=op.f('uq_project_member_project_id'))
    )
    with op.batch_alter_table('project_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_member_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_member_username'), ['username'], unique=False)

    op.create_table('project_phase',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=False),
    sa.Column('planned_end', sa.Date(), nullable=False),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('gate_decision', sa.String(length=20), nullable=True),
    sa.Column('gate_reasons', sa.Text(), nullable=True),
    sa.Column('gate_decided_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("gate_decision IS NULL OR gate_decision IN ('approved', 'rejected')", name=op.f('ck_project_phase_gate_decision_known')),
    sa.CheckConstraint("key IN ('understanding', 'preparation', 'execution', 'go_live', 'optimisation')", name=op.f('ck_project_phase_key_known')),
    sa.CheckConstraint("status IN ('not_started', 'in_progress', 'gate_review', 'done')", name=op.f('ck_project_phase_status_known')),
    sa.CheckConstraint('seq BETWEEN 1 AND 5', name=op.f('ck_project_phase_seq_range')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_phase_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_phase')),
    sa.UniqueConstraint('key', 'project_id', name=op.f('uq_project_phase_key')),
    sa.UniqueConstraint('project_id', 'seq', name=op.f('uq_project_phase_project_id'))
    )
    with op.batch_alter_table('project_phase', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_phase_project_id'), ['project_id'], unique=False)

    op.create_table('project_requirement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=True),
    sa.Column('traces', sa.JSON(), nullable=False),
    sa.CheckConstraint("priority IN ('must', 'should', 'could', 'wont')", name=op.f('ck_project_requirement_priority_known')),
    sa.CheckConstraint("status IN ('proposed', 'approved', 'implemented', 'verified', 'rejected')", name=op.f('ck_project_requirement_status_known')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_requirement_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_requirement')),
    sa.UniqueConstraint('project_id', 'code', name=op.f('uq_project_requirement_project_id'))
    )
    with op.batch_alter_table('project_requirement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_requirement_project_id'), ['project_id'], unique=False)

    op.create_table('project_training_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('audience', sa.Text(), nullable=True),
    sa.Column('trainer', sa.String(length=100), nullable=True),
    sa.Column('starts_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('duration_hours', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.CheckConstraint('duration_hours > 0', name=op.f('ck_project_training_session_duration_positive')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_training_session_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_training_session'))
    )
    with op.batch_alter_table('project_training_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_training_session_project_id'), ['project_id'], unique=False)

    op.create_table('project_budget_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.CheckConstraint("category IN ('labour', 'software', 'hardware', 'consulting', 'training', 'travel', 'other')", name=op.f('ck_project_budget_line_category_known')),
    sa.ForeignKeyConstraint(['phase_id'], ['project_phase.id'], name=op.f('fk_project_budget_line_phase_id_project_phase'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_budget_line_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_budget_line'))
    )
    with op.batch_alter_table('project_budget_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_budget_line_phase_id'), ['phase_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_budget_line_project_id'), ['project_id'], unique=False)

    op.create_table('project_change_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('cost_impact', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('days_impact', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=True),
    sa.Column('requested_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('baseline_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('submitted', 'approved', 'rejected', 'implemented')", name=op.f('ck_project_change_request_status_known')),
    sa.ForeignKeyConstraint(['baseline_id'], ['project_baseline.id'], name=op.f('fk_project_change_request_baseline_id_project_baseline'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_change_request_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_change_request')),
    sa.UniqueConstraint('number', name=op.f('uq_project_change_request_number'))
    )
    with op.batch_alter_table('project_change_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_change_request_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_change_request_status'), ['status'], unique=False)

    op.create_table('project_kpi_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('measured_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.CheckConstraint("source IN ('computed', 'manual', 'migration')", name=op.f('ck_project_kpi_value_source_known')),
    sa.ForeignKeyConstraint(['kpi_id'], ['project_kpi.id'], name=op.f('fk_project_kpi_value_kpi_id_project_kpi'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_kpi_value'))
    )
    with op.batch_alter_table('project_kpi_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_kpi_value_kpi_id'), ['kpi_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_kpi_value_measured_at'), ['measured_at'], unique=False)

    op.create_table('project_milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('achieved_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['phase_id'], ['project_phase.id'], name=op.f('fk_project_milestone_phase_id_project_phase'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_milestone_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_milestone'))
    )
    with op.batch_alter_table('project_milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_milestone_project_id'), ['project_id'], unique=False)

    op.create_table('project_training_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('attended', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['project_training_session.id'], name=op.f('fk_project_training_attendance_session_id_project_training_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_training_attendance')),
    sa.UniqueConstraint('session_id', 'username', name=op.f('uq_project_training_attendance_session_id'))
    )
    with op.batch_alter_table('project_training_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_training_attendance_session_id'), ['session_id'], unique=False)

    op.create_table('project_work_package',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('stream', sa.String(length=20), nullable=True),
    sa.Column('planned_start', sa.Date(), nullable=False),
    sa.Column('planned_end', sa.Date(), nullable=False),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('budget', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('percent_complete', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('depends_on_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('not_started', 'in_progress', 'done')", name=op.f('ck_project_work_package_status_known')),
    sa.CheckConstraint("stream IS NULL OR stream IN ('configuration', 'data_migration', 'training', 'testing')", name=op.f('ck_project_work_package_stream_known')),
    sa.CheckConstraint('budget >= 0', name=op.f('ck_project_work_package_budget_nonnegative')),
    sa.CheckConstraint('percent_complete >= 0 AND percent_complete <= 100', name=op.f('ck_project_work_package_percent_range')),
    sa.CheckConstraint('planned_end >= planned_start', name=op.f('ck_project_work_package_dates_ordered')),
    sa.ForeignKeyConstraint(['depends_on_id'], ['project_work_package.id'], name=op.f('fk_project_work_package_depends_on_id_project_work_package'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['phase_id'], ['project_phase.id'], name=op.f('fk_project_work_package_phase_id_project_phase'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_work_package_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_work_package')),
    sa.UniqueConstraint('project_id', 'code', name=op.f('uq_project_work_package_project_id'))
    )
    with op.batch_alter_table('project_work_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_work_package_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_work_package_phase_id'), ['phase_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_work_package_project_id'), ['project_id'], unique=False)

    op.create_table('project_expense',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('work_package_id', sa.Integer(), nullable=True),
    sa.Column('phase_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.CheckConstraint("category IN ('labour', 'software', 'hardware', 'consulting', 'training', 'travel', 'other')", name=op.f('ck_project_expense_category_known')),
    sa.ForeignKeyConstraint(['phase_id'], ['project_phase.id'], name=op.f('fk_project_expense_phase_id_project_phase'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_expense_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_package_id'], ['project_work_package.id'], name=op.f('fk_project_expense_work_package_id_project_work_package'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_expense'))
    )
    with op.batch_alter_table('project_expense', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_expense_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_expense_spent_on'), ['spent_on'], unique=False)

    op.create_table('project_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_package_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('assignee', sa.String(length=100), nullable=True),
    sa.Column('planned_start', sa.Date(), nullable=False),
    sa.Column('planned_end', sa.Date(), nullable=False),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('percent_complete', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('deliverable', sa.Text(), nullable=True),
    sa.Column('depends_on_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'done')", name=op.f('ck_project_task_status_known')),
    sa.CheckConstraint('percent_complete >= 0 AND percent_complete <= 100', name=op.f('ck_project_task_percent_range')),
    sa.CheckConstraint('planned_end >= planned_start', name=op.f('ck_project_task_dates_ordered')),
    sa.ForeignKeyConstraint(['depends_on_id'], ['project_task.id'], name=op.f('fk_project_task_depends_on_id_project_task'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['work_package_id'], ['project_work_package.id'], name=op.f('fk_project_task_work_package_id_project_work_package'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_task'))
    )
    with op.batch_alter_table('project_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_task_assignee'), ['assignee'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_task_work_package_id'), ['work_package_id'], unique=False)

    op.create_table('project_timesheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('work_package_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('hours > 0 AND hours <= 24', name=op.f('ck_project_timesheet_hours_range')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_timesheet_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_package_id'], ['project_work_package.id'], name=op.f('fk_project_timesheet_work_package_id_project_work_package'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_timesheet'))
    )
    with op.batch_alter_table('project_timesheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_timesheet_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_timesheet_username'), ['username'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_timesheet_work_date'), ['work_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_timesheet_work_package_id'), ['work_package_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('project_timesheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_timesheet_work_package_id'))
        batch_op.drop_index(batch_op.f('ix_project_timesheet_work_date'))
        batch_op.drop_index(batch_op.f('ix_project_timesheet_username'))
        batch_op.drop_index(batch_op.f('ix_project_timesheet_project_id'))

    op.drop_table('project_timesheet')
    with op.batch_alter_table('project_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_task_work_package_id'))
        batch_op.drop_index(batch_op.f('ix_project_task_assignee'))

    op.drop_table('project_task')
    with op.batch_alter_table('project_expense', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_expense_spent_on'))
        batch_op.drop_index(batch_op.f('ix_project_expense_project_id'))

    op.drop_table('project_expense')
    with op.batch_alter_table('project_work_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_work_package_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_work_package_phase_id'))
        batch_op.drop_index(batch_op.f('ix_project_work_package_owner'))

    op.drop_table('project_work_package')
    with op.batch_alter_table('project_training_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_training_attendance_session_id'))

    op.drop_table('project_training_attendance')
    with op.batch_alter_table('project_milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_milestone_project_id'))

    op.drop_table('project_milestone')
    with op.batch_alter_table('project_kpi_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_kpi_value_measured_at'))
        batch_op.drop_index(batch_op.f('ix_project_kpi_value_kpi_id'))

    op.drop_table('project_kpi_value')
    with op.batch_alter_table('project_change_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_change_request_status'))
        batch_op.drop_index(batch_op.f('ix_project_change_request_project_id'))

    op.drop_table('project_change_request')
    with op.batch_alter_table('project_budget_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_budget_line_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_budget_line_phase_id'))

    op.drop_table('project_budget_line')
    with op.batch_alter_table('project_training_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_training_session_project_id'))

    op.drop_table('project_training_session')
    with op.batch_alter_table('project_requirement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_requirement_project_id'))

    op.drop_table('project_requirement')
    with op.batch_alter_table('project_phase', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_phase_project_id'))

    op.drop_table('project_phase')
    with op.batch_alter_table('project_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_member_username'))
        batch_op.drop_index(batch_op.f('ix_project_member_project_id'))

    op.drop_table('project_member')
    with op.batch_alter_table('project_kpi', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_kpi_project_id'))

    op.drop_table('project_kpi')
    with op.batch_alter_table('project_communication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_communication_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_communication_next_on'))

    op.drop_table('project_communication')
    with op.batch_alter_table('project_baseline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_baseline_project_id'))

    op.drop_table('project_baseline')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_status'))
        batch_op.drop_index(batch_op.f('ix_project_manager'))

    op.drop_table('project')
