"""The import runner: every entity upserted by its legacy id in batches, re-imports that only update,
resuming after a stop or a killed process, error rows left out, and the migration error rate KPI."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, InvalidInput
from erp.catalog.models import PriceListItem, Product
from erp.crm.models import Contact, Customer
from erp.crm.services import create_customer
from erp.finance.models import JournalEntry
from erp.finance.queries import ap_aging, ar_aging, trial_balance
from erp.inventory.queries import stock
from erp.migration.importer import run_import
from erp.migration.models import MigrationRow
from erp.projects.kpis import history
from erp.purchasing.models import Supplier
from erp.sales.models import SalesOrder
from tests.migration_import_data import basics, credit_code, customer_rows, ref_count, run_of, stage
from tests.projects_data import project

ROOT = Path(__file__).resolve().parents[2]


def balances(session) -> dict[str, Decimal]:
    return {a["code"]: a["debit"] - a["credit"] for a in trial_balance(session)["accounts"]}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_customers_are_created_then_updated_by_legacy_id_and_error_rows_are_left_out(database, tx):
    rows = customer_rows(3) + [{"external_id": "K09999", "name_zh": "", "tax_number": "not a code"}]
    run_id = stage(tx, "customers", rows)
    result = run_import(database, run_id, batch_size=2)
    assert result == {"imported": 3, "skipped": 1, "batches": 2}
    with tx() as session:
        assert count(session, Customer) == 3 and ref_count(session, "customers") == 3
        bad = session.scalar(select(MigrationRow).where(MigrationRow.run_id == run_id,
                                                        MigrationRow.status == "error"))
        assert not bad.imported and bad.target_id is None
        codes = {r.target_id for r in session.scalars(select(MigrationRow).where(MigrationRow.imported.is_(True)))}
        assert codes == set(session.scalars(select(Customer.code)))
    run = run_of(tx, run_id)
    assert (run.status, run.imported) == ("imported", 3) and run.imported_at is not None

    again = stage(tx, "customers", customer_rows(3, credit_limit="80000.00"))
    assert run_import(database, again)["imported"] == 3
    with tx() as session:
        assert count(session, Customer) == 3 and ref_count(session, "customers") == 3
        assert set(session.scalars(select(Customer.credit_limit))) == {Decimal("80000.00")}
    assert run_import(database, again) == {"imported": 0, "skipped": 0, "batches": 0}


def test_a_likely_duplicate_does_not_stop_an_import_validation_allowed(database, tx):
    with tx() as session:
        existing = create_customer(session, name_zh="上海星河贸易有限公司", tax_number=credit_code(7), by="tester")
        existing_code = existing.code
    rows = [{"external_id": "A1", "name_zh": "上海星河贸易有限公司", "tax_number": credit_code(7), "tier": "A"},
            {"external_id": "A2", "name_zh": "上海星河贸易有限责任公司", "phone": "13812345678"}]
    run_id = stage(tx, "customers", rows)
    run_import(database, run_id)
    with tx() as session:
        assert count(session, Customer) == 2
        assert session.scalar(select(Customer.tier).where(Customer.code == existing_code)) == "A"
        targets = dict(session.execute(select(MigrationRow.row_no, MigrationRow.target_id)
                                       .where(MigrationRow.run_id == run_id)).all())
        assert targets[2] == existing_code and targets[3] != existing_code


def test_contacts_products_and_suppliers_are_upserted(database, tx):
    run_import(database, stage(tx, "customers", customer_rows(1)))
    contacts = [{"external_id": "P1", "customer": "K00001", "contact_name": "王芳", "mobile": "13912345678",
                 "is_primary": "yes"}]
    products = [{"external_id": "G1", "sku": "RICE-5KG", "name_zh": "大米 5kg", "unit": "袋", "unit_en": "bag",
                 "vat_rate": "0.09", "list_price": "45.00"}]
    suppliers = [{"external_id": "V1", "name_zh": "天津粮油供应有限公司", "tax_number": credit_code(501),
                  "payment_terms_days": "45", "contact_name": "赵强", "mobile": "13711112222"}]
    for _ in range(2):
        for entity, rows in (("contacts", contacts), ("products", products), ("suppliers", suppliers)):
            assert run_import(database, stage(tx, entity, rows))["imported"] == 1
        contacts[0]["title"], products[0]["list_price"], suppliers[0]["payment_terms_days"] = "经理", "48.00", "60"
    with tx() as session:
        contact = session.scalar(select(Contact))
        assert (count(session, Contact), contact.contact_name, contact.title, contact.is_primary) == \
            (1, "王芳", "经理", True)
        assert count(session, Product) == 1 and session.scalar(select(Product.vat_rate)) == Decimal("0.09")
        assert [i.unit_price for i in session.scalars(select(PriceListItem))] == [Decimal("48.00")]
        supplier = session.scalar(select(Supplier))
        assert (count(session, Supplier), supplier.payment_terms_days, len(supplier.contacts)) == (1, 60, 1)


def _products(database, tx, *skus):
    rows = [{"external_id": f"G-{sku}", "sku": sku, "name_zh": f"商品{sku}", "unit": "个", "list_price": "10.00"}
            for sku in skus]
    run_import(database, stage(tx, "products", rows))


def test_stock_on_hand_becomes_the_migrated_quantity_and_its_value_goes_to_the_books(database, tx):
    basics(tx)
    _products(database, tx, "A", "B")
    rows = [{"external_id": "S1", "sku": "G-A", "warehouse": "BJ-01", "quantity": "10", "unit_cost": "2.50"},
            {"external_id": "S2", "sku": "B", "warehouse": "BJ-01", "quantity": "4", "unit_cost": "10.00"}]
    run_import(database, stage(tx, "stock", rows))
    with tx() as session:
        assert {(r.sku, r.on_hand, r.value) for r in stock(session)} == \
            {("A", Decimal("10.000"), Decimal("25.00")), ("B", Decimal("4.000"), Decimal("40.00"))}
        assert balances(session)["1405"] == Decimal("65.00") and balances(session)["3104"] == Decimal("-65.00")
    rows[0]["quantity"] = "6"
    run_import(database, stage(tx, "stock", rows))
    with tx() as session:
        assert {(r.sku, r.on_hand) for r in stock(session)} == {("A", Decimal("6.000")), ("B", Decimal("4.000"))}
        assert balances(session)["1405"] == Decimal("55.00") and trial_balance(session)["balanced"]
        assert ref_count(session, "stock") == 2


def test_open_sales_orders_are_grouped_by_legacy_order_number(database, tx):
    run_import(database, stage(tx, "customers", customer_rows(2)))
    _products(database, tx, "A", "B")
    rows = [{"external_id": "L1", "order_external_id": "O1", "customer": "K00001", "order_date": "2026-11-02",
             "sku": "A", "quantity": "3", "unit_price": "12.00"},
            {"external_id": "L2", "order_external_id": "O2", "customer": "K00002", "sku": "B", "quantity": "1"},
            {"external_id": "L3", "order_external_id": "O1", "customer": "K00001", "order_date": "2026-11-02",
             "sku": "G-B", "quantity": "2", "unit_price": "9.50"}]
    for _ in range(2):
        run_import(database, stage(tx, "sales_orders", rows), batch_size=1)
    with tx() as session:
        orders = {o.customer_id: o for o in session.scalars(select(SalesOrder))}
        assert len(orders) == 2 and ref_count(session, "sales_orders") == 2
        first = session.scalar(select(SalesOrder).join(Customer).where(Customer.code == "C-000001"))
        assert (first.status, first.order_date, len(first.lines)) == ("open", date(2026, 11, 2), 2)
        assert sorted(line.unit_price for line in first.lines) == [Decimal("9.50"), Decimal("12.00")]


def test_open_receivables_and_payables_are_posted_against_the_opening_account(database, tx):
    basics(tx)
    run_import(database, stage(tx, "customers", customer_rows(2)))
    run_import(database, stage(tx, "suppliers", [{"external_id": "V1", "name_zh": "天津粮油供应有限公司"}]))
    receivables = [{"external_id": "R1", "customer": "K00001", "document_no": "INV-1", "document_date": "2026-10-01",
                    "due_date": "2026-10-31", "amount": "1130.00"},
                   {"external_id": "R2", "customer": "K00002", "document_date": "2026-10-15",
                    "due_date": "2026-11-14", "amount": "565.00"}]
    payables = [{"external_id": "Q1", "supplier": "V1", "document_date": "2026-10-20", "due_date": "2026-11-19",
                 "amount": "300.00"}]
    for _ in range(2):
        run_import(database, stage(tx, "receivables", receivables))
        run_import(database, stage(tx, "payables", payables))
    with tx() as session:
        assert balances(session)["1122"] == Decimal("1695.00") and balances(session)["2202"] == Decimal("-300.00")
        assert balances(session)["3104"] == Decimal("-1395.00") and trial_balance(session)["balanced"]
        aging = {p["partner_code"]: p for p in ar_aging(session, date(2026, 11, 20))["partners"]}
        assert (aging["C-000001"]["1-30"], aging["C-000002"]["1-30"]) == (Decimal("1130.00"), Decimal("565.00"))
        assert ap_aging(session, date(2026, 11, 20))["partners"][0]["partner_code"] == "S-000001"
        assert count(session, JournalEntry) == 3


def test_opening_balances_are_one_entry_and_an_unbalanced_set_is_refused(database, tx):
    basics(tx)
    rows = [{"external_id": "B1", "account": "1002", "debit": "5000.00"},
            {"external_id": "B2", "account": "1001", "debit": "200.00"},
            {"external_id": "B3", "account": "3001", "credit": "5200.00"}]
    run_import(database, stage(tx, "opening_balances", rows), batch_size=1)
    run_import(database, stage(tx, "opening_balances", rows))
    with tx() as session:
        assert count(session, JournalEntry) == 1
        assert balances(session)["1002"] == Decimal("5000.00") and balances(session)["3001"] == Decimal("-5200.00")
    unbalanced = stage(tx, "opening_balances", [{"external_id": "B9", "account": "1002", "debit": "1.00"},
                                                {"external_id": "B10", "account": "3001", "credit": "2.00"}])
    with pytest.raises(InvalidInput, match="do not balance"):
        run_import(database, unbalanced)
    with tx() as session:
        assert count(session, JournalEntry) == 1
    assert run_of(tx, unbalanced).status == "failed"


def test_a_stopped_import_resumes_with_the_first_row_not_imported(database, tx):
    run_id = stage(tx, "customers", customer_rows(7))
    seen = []
    first = run_import(database, run_id, batch_size=2, stop_after_batches=2, progress=lambda d, t: seen.append((d, t)))
    assert first == {"imported": 4, "skipped": 0, "batches": 2} and seen == [(2, 7), (4, 7)]
    assert run_of(tx, run_id).status == "importing"
    assert run_import(database, run_id, batch_size=2) == {"imported": 3, "skipped": 0, "batches": 2}
    with tx() as session:
        assert count(session, Customer) == 7 and ref_count(session, "customers") == 7
        batches = session.scalars(select(MigrationRow.batch).where(MigrationRow.run_id == run_id)
                                  .order_by(MigrationRow.id)).all()
        assert batches == [1, 1, 2, 2, 3, 3, 4]
    assert run_of(tx, run_id).status == "imported"


def test_only_an_approved_run_is_imported(database, tx):
    run_id = stage(tx, "customers", customer_rows(1), approve=False)
    with pytest.raises(Conflict):
        run_import(database, run_id)


KILLED_IMPORT = """
import pathlib, sys, time
from core.db import Database
from erp.migration.importer import run_import

def progress(done, total):
    pathlib.Path(sys.argv[3]).write_text(f"{done}/{total}")
    time.sleep(120)  # killed here, after the first batch committed

run_import(Database(sys.argv[1]), int(sys.argv[2]), batch_size=2, progress=progress)
"""


def test_an_import_killed_after_a_batch_resumes_and_imports_every_row_once(database, database_url, tx, tmp_path):
    basics(tx)
    run_import(database, stage(tx, "customers", customer_rows(5)))
    rows = [{"external_id": f"R{n}", "customer": f"K0000{n}", "document_date": "2026-10-01", "amount": f"{n}00.00"}
            for n in range(1, 6)]
    run_id = stage(tx, "receivables", rows)
    marker = tmp_path / "first-batch"
    child = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, database_url, str(run_id), str(marker)],
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the child never finished a batch"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert marker.read_text() == "2/5"
    with tx() as session:
        assert balances(session)["1122"] == Decimal("300.00")
    assert run_of(tx, run_id).status == "importing"

    assert run_import(database, run_id, batch_size=2)["imported"] == 3
    with tx() as session:
        assert balances(session)["1122"] == Decimal("1500.00") and trial_balance(session)["balanced"]
        assert ref_count(session, "receivables") == 5
        assert session.scalar(select(func.count()).select_from(MigrationRow).where(
            MigrationRow.run_id == run_id, MigrationRow.imported.is_(True))) == 5
        assert count(session, JournalEntry) == 3
    assert run_of(tx, run_id).imported == 5


def test_the_error_rate_is_recorded_for_every_active_project(database, tx):
    with tx() as session:
        project(session, code="ERP-A").status = "active"
        project(session, code="ERP-B")
    rows = customer_rows(3) + [{"external_id": "BAD", "name_zh": ""}]
    run_import(database, stage(tx, "customers", rows))
    with tx() as session:
        assert [v for _, v in history(session, "ERP-A", "migration_error_rate")] == [Decimal("25.0000")]
        assert history(session, "ERP-B", "migration_error_rate") == []
