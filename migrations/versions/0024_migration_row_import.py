"""a staged row's import marks in a narrow table of their own

Marking a staged row imported rewrote the whole row (its raw cells, values and reasons): one narrow row per
imported row, written with its batch, costs a fraction of that.

No foreign key to migration_row: PostgreSQL would check one per mark written (erp.migration.models).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-27 05:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('migration_row_import',
    sa.Column('row_id', sa.Integer(), nullable=False),
    sa.Column('batch', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('row_id', name=op.f('pk_migration_row_import'))
    )
    op.execute("INSERT INTO migration_row_import (row_id, batch, target_id) "
               "SELECT id, COALESCE(batch, 0), target_id FROM migration_row WHERE imported")
    with op.batch_alter_table('migration_row', schema=None) as batch_op:
        batch_op.drop_index('ix_migration_row_pending')
        batch_op.drop_column('imported')
        batch_op.drop_column('target_id')
        batch_op.drop_column('batch')
        batch_op.create_index('ix_migration_row_pending', ['run_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('migration_row', schema=None) as batch_op:
        batch_op.drop_index('ix_migration_row_pending')
        batch_op.add_column(sa.Column('imported', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('target_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('batch', sa.Integer(), nullable=True))
        batch_op.create_index('ix_migration_row_pending', ['run_id', 'imported', 'id'], unique=False)
    op.execute("UPDATE migration_row SET imported = true, "
               "target_id = (SELECT target_id FROM migration_row_import WHERE row_id = migration_row.id), "
               "batch = (SELECT batch FROM migration_row_import WHERE row_id = migration_row.id) "
               "WHERE id IN (SELECT row_id FROM migration_row_import)")
    op.drop_table('migration_row_import')
