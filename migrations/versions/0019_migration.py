"""data migration: saved column mappings, staged runs with their rows (the dry run), and the legacy keys of
imported records

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26 18:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('migration_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('updated_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_migration_mapping')),
    sa.UniqueConstraint('entity', 'name', name='uq_migration_mapping_entity_name')
    )
    op.create_table('migration_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('mapping_id', sa.Integer(), nullable=True),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('source_name', sa.String(length=500), nullable=False),
    sa.Column('source_kind', sa.String(length=10), nullable=False),
    sa.Column('encoding', sa.String(length=20), nullable=True),
    sa.Column('delimiter', sa.String(length=5), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('reconciliation', sa.JSON(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('approved_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('imported_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("source_kind IN ('csv', 'xlsx', 'sql')", name=op.f('ck_migration_run_source_kind_known')),
    sa.CheckConstraint("status IN ('validated', 'approved', 'importing', 'imported', 'reconciled', 'signed_off', 'failed', 'superseded')", name=op.f('ck_migration_run_status_known')),
    sa.ForeignKeyConstraint(['mapping_id'], ['migration_mapping.id'], name=op.f('fk_migration_run_mapping_id_migration_mapping'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_migration_run'))
    )
    with op.batch_alter_table('migration_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_migration_run_entity'), ['entity'], unique=False)
        batch_op.create_index(batch_op.f('ix_migration_run_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_migration_run_status'), ['status'], unique=False)

    op.create_table('migration_external_ref',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('target_id', sa.String(length=100), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['migration_run.id'], name=op.f('fk_migration_external_ref_run_id_migration_run'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_migration_external_ref')),
    sa.UniqueConstraint('entity', 'external_id', name='uq_migration_external_ref_entity_external_id')
    )
    with op.batch_alter_table('migration_external_ref', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_migration_external_ref_run_id'), ['run_id'], unique=False)

    op.create_table('migration_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('imported', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('target_id', sa.String(length=100), nullable=True),
    sa.Column('batch', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('ok', 'warning', 'error')", name=op.f('ck_migration_row_status_known')),
    sa.ForeignKeyConstraint(['run_id'], ['migration_run.id'], name=op.f('fk_migration_row_run_id_migration_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_migration_row'))
    )
    with op.batch_alter_table('migration_row', schema=None) as batch_op:
        batch_op.create_index('ix_migration_row_pending', ['run_id', 'imported', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('migration_row', schema=None) as batch_op:
        batch_op.drop_index('ix_migration_row_pending')

    op.drop_table('migration_row')
    with op.batch_alter_table('migration_external_ref', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_migration_external_ref_run_id'))

    op.drop_table('migration_external_ref')
    with op.batch_alter_table('migration_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_migration_run_status'))
        batch_op.drop_index(batch_op.f('ix_migration_run_instance_id'))
        batch_op.drop_index(batch_op.f('ix_migration_run_entity'))

    op.drop_table('migration_run')
    op.drop_table('migration_mapping')
