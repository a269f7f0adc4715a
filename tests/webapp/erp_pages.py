"""Helpers for the ERP page tests: the demo company loaded into the test database, and amounts as pages show them."""
from __future__ import annotations

from decimal import Decimal

from erp.demo_erp import load
from tests.conftest import load_once


def load_company(database) -> None:
    """The demo company (erp.demo_erp: products, stock, customers, suppliers, the books), see load_once."""
    with database.transaction() as session:
        load_once(session, "company", load)


def shown(amount) -> str:
    """An amount the way the `money` filter shows it (the same in zh-CN and en)."""
    return f"¥{Decimal(amount):,.2f}"
