"""finance: chart of accounts, journal entries and lines, entry numbering

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 14:50:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('normal_side', sa.String(length=6), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('postable', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.CheckConstraint("type IN ('asset', 'liability', 'equity', 'cost', 'revenue', 'expense')", name=op.f('ck_account_type')),
    sa.CheckConstraint("normal_side IN ('debit', 'credit')", name=op.f('ck_account_normal_side')),
    sa.ForeignKeyConstraint(['parent_id'], ['account.id'], name=op.f('fk_account_parent_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('code', name=op.f('uq_account_code'))
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_parent_id'), ['parent_id'], unique=False)

    op.create_table('journal_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('source_type', sa.String(length=60), nullable=True),
    sa.Column('source_id', sa.String(length=100), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['reverses_id'], ['journal_entry.id'], name=op.f('fk_journal_entry_reverses_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entry')),
    sa.UniqueConstraint('number', name=op.f('uq_journal_entry_number')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_journal_entry_reverses_id'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_entry_entry_date'), ['entry_date'], unique=False)
        batch_op.create_index('ix_journal_entry_source', ['source_type', 'source_id'], unique=False)

    op.create_table('journal_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('debit', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('credit', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('partner_type', sa.String(length=20), nullable=True),
    sa.Column('partner_code', sa.String(length=60), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.CheckConstraint('debit >= 0 AND credit >= 0', name=op.f('ck_journal_line_non_negative')),
    sa.CheckConstraint('(debit = 0 OR credit = 0) AND (debit <> 0 OR credit <> 0)', name=op.f('ck_journal_line_one_side')),
    sa.CheckConstraint("partner_type IS NULL OR partner_type IN ('customer', 'supplier')", name=op.f('ck_journal_line_partner_type')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_journal_line_account_id_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_journal_line_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_line'))
    )
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_line_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_line_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_journal_line_partner', ['partner_type', 'partner_code'], unique=False)

    op.create_table('journal_sequence',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_journal_sequence'))
    )


def downgrade() -> None:
    op.drop_table('journal_sequence')
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_line_partner')
        batch_op.drop_index(batch_op.f('ix_journal_line_entry_id'))
        batch_op.drop_index(batch_op.f('ix_journal_line_account_id'))

    op.drop_table('journal_line')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_source')
        batch_op.drop_index(batch_op.f('ix_journal_entry_entry_date'))

    op.drop_table('journal_entry')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_parent_id'))

    op.drop_table('account')
