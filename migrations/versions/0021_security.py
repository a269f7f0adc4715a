"""security settings: login attempts for rate limiting, TOTP second factor, password change dates

Login attempts say which factor was checked (password or TOTP code); a user may hold one TOTP credential; the
date a password was last set ends the browser sessions opened before it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26 20:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.db

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('totp_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_used_step', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_totp_credential_user_id_app_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_totp_credential')),
    sa.UniqueConstraint('user_id', name=op.f('uq_totp_credential_user_id'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('factor', sa.String(length=10), server_default='password', nullable=False))
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_changed_at', core.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('password_changed_at')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_column('factor')
    op.drop_table('totp_credential')
