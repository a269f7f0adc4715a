"""personal information protection: data classification, the consent ledger, requests from people about their information, security incidents

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-26 20:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import core.db  # noqa: F401

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
