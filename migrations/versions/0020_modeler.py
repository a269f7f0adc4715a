"""diagram drafts kept by the modeler (saving affects nothing running) and the record of instances moved between versions

Moves between versions are recorded in history_event (kind "migrated"); only the drafts need a table.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-26 20:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('diagram_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('process_key', sa.String(length=200), nullable=True),
    sa.Column('base_definition_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=True),
    sa.Column('updated_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('bpmn', 'dmn')", name=op.f('ck_diagram_draft_kind_known')),
    sa.ForeignKeyConstraint(['base_definition_id'], ['process_definition.id'],
                            name=op.f('fk_diagram_draft_base_definition_id_process_definition'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_diagram_draft'))
    )
    with op.batch_alter_table('diagram_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diagram_draft_base_definition_id'), ['base_definition_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_diagram_draft_process_key'), ['process_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('diagram_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diagram_draft_process_key'))
        batch_op.drop_index(batch_op.f('ix_diagram_draft_base_definition_id'))

    op.drop_table('diagram_draft')
