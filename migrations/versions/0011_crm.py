"""crm: customers, contacts, leads, opportunities and their stage history, activities, satisfaction surveys

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 14:50:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.create_table('crm_customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('tax_number', sa.String(length=18), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('province', sa.String(length=100), nullable=True),
    sa.Column('tier', sa.String(length=1), nullable=False),
    sa.Column('credit_limit', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('sales_rep', sa.String(length=100), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('segment', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_customer')),
    sa.UniqueConstraint('code', name=op.f('uq_crm_customer_code'))
    )
    with op.batch_alter_table('crm_customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_customer_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_customer_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_customer_sales_rep'), ['sales_rep'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_customer_tax_number'), ['tax_number'], unique=False)

    op.create_table('crm_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('mobile', sa.String(length=11), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('wechat_id', sa.String(length=100), nullable=True),
    sa.Column('is_primary', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name=op.f('fk_crm_contact_customer_id_crm_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_contact'))
    )
    with op.batch_alter_table('crm_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_contact_customer_id'), ['customer_id'], unique=False)

    op.create_table('crm_opportunity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('expected_revenue', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('expected_close', sa.Date(), nullable=True),
    sa.Column('lost_reason', sa.Text(), nullable=True),
    sa.Column('owner', sa.String(length=100), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name=op.f('fk_crm_opportunity_customer_id_crm_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_opportunity'))
    )
    with op.batch_alter_table('crm_opportunity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_opportunity_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_crm_opportunity_stage_owner', ['stage', 'owner'], unique=False)

    op.create_table('crm_satisfaction_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('nps', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('surveyed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name=op.f('fk_crm_satisfaction_survey_customer_id_crm_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_satisfaction_survey'))
    )
    with op.batch_alter_table('crm_satisfaction_survey', schema=None) as batch_op:
        batch_op.create_index('ix_crm_satisfaction_survey_customer_day', ['customer_id', 'surveyed_on'], unique=False)

    op.create_table('crm_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('due_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('done_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name=op.f('fk_crm_activity_customer_id_crm_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'], name=op.f('fk_crm_activity_opportunity_id_crm_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_activity'))
    )
    with op.batch_alter_table('crm_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_activity_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_crm_activity_follow_up', ['done_at', 'reminded_at', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_activity_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_activity_owner'), ['owner'], unique=False)

    op.create_table('crm_lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('converted_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name=op.f('fk_crm_lead_customer_id_crm_customer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'], name=op.f('fk_crm_lead_opportunity_id_crm_opportunity'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_lead'))
    )
    with op.batch_alter_table('crm_lead', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_lead_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_lead_status'), ['status'], unique=False)

    op.create_table('crm_stage_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('from_stage', sa.String(length=20), nullable=True),
    sa.Column('to_stage', sa.String(length=20), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=True),
    sa.Column('changed_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'], name=op.f('fk_crm_stage_change_opportunity_id_crm_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_stage_change'))
    )
    with op.batch_alter_table('crm_stage_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_stage_change_opportunity_id'), ['opportunity_id'], unique=False)

def downgrade() -> None:
    with op.batch_alter_table('crm_stage_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_stage_change_opportunity_id'))

    op.drop_table('crm_stage_change')
    with op.batch_alter_table('crm_lead', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_lead_status'))
        batch_op.drop_index(batch_op.f('ix_crm_lead_owner'))

    op.drop_table('crm_lead')
    with op.batch_alter_table('crm_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_activity_owner'))
        batch_op.drop_index(batch_op.f('ix_crm_activity_opportunity_id'))
        batch_op.drop_index('ix_crm_activity_follow_up')
        batch_op.drop_index(batch_op.f('ix_crm_activity_customer_id'))

    op.drop_table('crm_activity')
    with op.batch_alter_table('crm_satisfaction_survey', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_satisfaction_survey_customer_day')

    op.drop_table('crm_satisfaction_survey')
    with op.batch_alter_table('crm_opportunity', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_opportunity_stage_owner')
        batch_op.drop_index(batch_op.f('ix_crm_opportunity_customer_id'))

    op.drop_table('crm_opportunity')
    with op.batch_alter_table('crm_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_contact_customer_id'))

    op.drop_table('crm_contact')
    with op.batch_alter_table('crm_customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_customer_tax_number'))
        batch_op.drop_index(batch_op.f('ix_crm_customer_sales_rep'))
        batch_op.drop_index(batch_op.f('ix_crm_customer_phone'))
        batch_op.drop_index(batch_op.f('ix_crm_customer_name_key'))

    op.drop_table('crm_customer')
