"""diagram drafts kept by the modeler (saving affects nothing running) and the record of instances moved between versions

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-26 20:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import core.db  # noqa: F401

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
