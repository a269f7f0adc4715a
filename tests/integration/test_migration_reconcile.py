"""Reconciliation after an import: clean when the system holds what the source said, and a planted
difference (a lost reference, a changed stock level, a changed ledger balance) is found and listed."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from core.errors import Conflict
from erp.finance.services import post_entry
from erp.inventory.services import adjust
from erp.migration.importer import run_import
from erp.migration.models import ExternalRef, MigrationRun
from erp.migration.reconcile import reconcile
from tests.migration_import_data import basics, customer_rows, stage


def reconciled(tx, run_id: int) -> dict:
    with tx() as session:
        return reconcile(session, session.get(MigrationRun, run_id))


def checks(result: dict) -> dict[str, tuple[str, str, str]]:
    return {c["name"]: (c["source"], c["system"], c["difference"]) for c in result["checks"]}


def test_imported_customers_reconcile_and_a_lost_reference_is_listed(database, tx):
    run_id = stage(tx, "customers", customer_rows(3) + [{"external_id": "BAD", "name_zh": ""}])
    run_import(database, run_id)
    result = reconciled(tx, run_id)
    assert result["ok"] and result["differences"] == [] and checks(result)["records"] == ("3", "3", "0")
    with tx() as session:
        run = session.get(MigrationRun, run_id)
        assert run.status == "reconciled" and run.reconciliation == result
        session.execute(delete(ExternalRef).where(ExternalRef.external_id == "K00002"))
    result = reconciled(tx, run_id)
    assert not result["ok"] and checks(result)["records"] == ("3", "2", "-1")
    assert [(d["external_id"], d["row_no"], d["message"]) for d in result["differences"]] == \
        [("K00002", 3, "no reference to the imported record")]


def test_a_changed_stock_level_is_found_in_quantity_and_value(database, tx):
    basics(tx)
    products = [{"external_id": f"G{n}", "sku": f"SKU-{n}", "name_zh": f"商品{n}", "unit": "个"} for n in (1, 2)]
    run_import(database, stage(tx, "products", products))
    rows = [{"external_id": "S1", "sku": "G1", "warehouse": "BJ-01", "quantity": "10", "unit_cost": "2.50"},
            {"external_id": "S2", "sku": "SKU-2", "warehouse": "BJ-01", "quantity": "3", "unit_cost": "7.00"}]
    run_id = stage(tx, "stock", rows)
    run_import(database, run_id)
    result = reconciled(tx, run_id)
    assert result["ok"], result
    assert checks(result)["stock_value"] == ("46.00", "46.00", "0.00")
    with tx() as session:
        adjust(session, "SKU-1", "BJ-01", 8, "盘亏", by="tester")
    result = reconciled(tx, run_id)
    assert not result["ok"]
    assert checks(result)["stock_quantity"] == ("13.000", "11.000", "-2.000")
    assert [(d["external_id"], d["source"], d["system"]) for d in result["differences"]] == \
        [("S1", "10.000", "8.000")]


def test_receivables_reconcile_with_the_partners_balances(database, tx):
    basics(tx)
    run_import(database, stage(tx, "customers", customer_rows(2)))
    rows = [{"external_id": "R1", "customer": "K00001", "document_date": "2026-10-01", "amount": "100.00"},
            {"external_id": "R2", "customer": "C-000002", "document_date": "2026-10-02", "amount": "50.00"}]
    run_id = stage(tx, "receivables", rows)
    run_import(database, run_id)
    result = reconciled(tx, run_id)
    assert result["ok"] and checks(result)["1122_balance"] == ("150.00", "150.00", "0.00")
    with tx() as session:
        post_entry(session, date=date(2026, 10, 3), user="tester", description="收款",
                   lines=[{"account": "1002", "debit": "20.00"},
                          {"account": "1122", "credit": "20.00", "partner_type": "customer",
                           "partner_code": "C-000002"}])
    result = reconciled(tx, run_id)
    assert not result["ok"] and result["differences"][0]["partner_code"] == "C-000002"
    assert checks(result)["1122_balance"][2] == "-20.00"


def test_opening_balances_reconcile_with_the_trial_balance(database, tx):
    basics(tx)
    rows = [{"external_id": "B1", "account": "1002", "debit": "900.00"},
            {"external_id": "B2", "account": "3001", "credit": "900.00"}]
    run_id = stage(tx, "opening_balances", rows)
    run_import(database, run_id)
    result = reconciled(tx, run_id)
    assert result["ok"], result
    assert checks(result)["trial_balance_balanced"] == ("1", "1", "0")
    assert Decimal(checks(result)["opening_debits"][1]) == Decimal("900.00")


def test_a_run_not_imported_is_not_reconciled(database, tx):
    run_id = stage(tx, "customers", customer_rows(1))
    with tx() as session, pytest.raises(Conflict):
        reconcile(session, session.get(MigrationRun, run_id))
    with tx() as session:
        assert session.scalar(select(MigrationRun.status).where(MigrationRun.id == run_id)) == "approved"
