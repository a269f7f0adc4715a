"""The demo company 北京华信商贸有限公司: loading it twice adds nothing, and its books balance."""
from __future__ import annotations

from sqlalchemy import func, select

from core.db import Base
from erp.crm.models import Customer
from erp.crm.validation import normalise_credit_code
from erp.demo import load_demo
from erp.demo_erp import load, opening_stock_value
from erp.finance import queries as books
from erp.identity.queries import groups_of
from erp.identity.services import user_by_name
from erp.inventory import queries as stock

TABLES = ("crm_customer", "crm_contact", "crm_lead", "crm_opportunity", "crm_stage_change", "crm_activity",
          "crm_satisfaction_survey", "product", "price_list", "price_list_item", "warehouse", "stock_level",
          "stock_move", "reorder_point", "account", "journal_entry", "journal_line")


def _counts(session) -> dict[str, int]:
    tables = Base.metadata.tables
    return {name: session.scalar(select(func.count()).select_from(tables[name])) for name in TABLES}


def test_loading_twice_adds_nothing(tx):
    with tx() as session:
        load(session)
    with tx() as session:
        first = _counts(session)
    with tx() as session:
        assert load(session).endswith("nothing new")
    with tx() as session:
        assert _counts(session) == first
    assert first["crm_customer"] == 8 and first["product"] == 12 and first["warehouse"] == 2


def test_the_books_balance_and_match_the_stock(tx):
    with tx() as session:
        load(session)
    with tx() as session:
        assert books.trial_balance(session)["balanced"]
        assert books.balance_sheet(session)["balanced"]
        inventory = {row["code"]: row["balance"] for row in books.trial_balance(session)["accounts"]}["1405"]
        assert inventory == stock.stock_value(session)
        assert opening_stock_value() > inventory  # some was sold
        assert books.ar_aging(session)["totals"]["total"] > 0


def test_one_product_is_below_its_reorder_point(tx):
    with tx() as session:
        load(session)
    with tx() as session:
        assert [(r.sku, r.warehouse) for r in stock.below_reorder_point(session)] == [("HX-APP-002", "BJ01")]


def test_customers_have_valid_credit_codes(tx):
    with tx() as session:
        load(session)
    with tx() as session:
        for customer in session.scalars(select(Customer)):
            assert normalise_credit_code(customer.tax_number) == customer.tax_number


def test_the_whole_demo_loads_twice_with_the_erp_users(tx, product_engine, monkeypatch):
    # the approvals in flight are the approval diagram's business (tested with it); here: users and the company
    monkeypatch.setattr("erp.demo.APPROVALS", [])
    with tx() as session:
        load_demo(session, product_engine)
    with tx() as session:
        first = _counts(session)
        load_demo(session, product_engine)
    with tx() as session:
        assert _counts(session) == first
        assert set(user_by_name(session, "zhaoqiang").roles) == {"employee", "sales"}
        assert set(user_by_name(session, "sunmei").roles) == {"employee", "finance"}
        assert set(user_by_name(session, "wangjun").roles) == {"employee", "warehouse"}
        assert "sales" in groups_of(session, "zhaoqiang")
        assert books.trial_balance(session)["balanced"]
