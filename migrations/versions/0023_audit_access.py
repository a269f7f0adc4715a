"""audit of every business change and the access log of personal information

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-26 20:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

#: the logs no one may change, and may delete from only once older than six months (Cybersecurity Law art. 21)
LOGS = ('audit_log', 'audit_change', 'access_log')

APPEND_ONLY = """
CREATE FUNCTION erp_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION '% entries cannot be changed', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.at >= now() - interval '180 days' THEN
        RAISE EXCEPTION '% entries are kept at least 180 days', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END
$$
"""


def upgrade() -> None:
    op.create_table('audit_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=60), nullable=True),
    sa.Column('target_id', sa.String(length=200), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_change'))
    )
    with op.batch_alter_table('audit_change', schema=None) as batch_op:
        batch_op.create_index('ix_audit_change_target', ['target_type', 'target_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_change_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_change_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_change_at'), ['at'], unique=False)

    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('how', sa.String(length=10), nullable=False),
    sa.Column('entity', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.String(length=200), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index('ix_access_log_entity', ['entity', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_log_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_log_at'), ['at'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY)
        for table in LOGS:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION erp_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in LOGS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS erp_log_append_only()")
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_at'))
        batch_op.drop_index(batch_op.f('ix_access_log_actor'))
        batch_op.drop_index('ix_access_log_entity')
    op.drop_table('access_log')
    with op.batch_alter_table('audit_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_change_at'))
        batch_op.drop_index(batch_op.f('ix_audit_change_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_change_action'))
        batch_op.drop_index('ix_audit_change_target')
    op.drop_table('audit_change')
