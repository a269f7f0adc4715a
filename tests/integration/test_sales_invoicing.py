"""Invoices, payments and credit notes: what each posts, the invoice's status, the credit exposure, overdue
invoices for dunning, and the operators the order-to-cash diagram calls."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from engine.operators import OperatorContext
from erp.finance.models import JournalEntry
from erp.finance.queries import ar_aging, trial_balance
from erp.inventory.queries import available
from erp.sales import fulfilment, payments, services, tasks
from erp.sales.queries import credit_exposure, open_invoices, order_detail, overdue_invoices
from erp.wiring import build_registry
from tests.sales_data import customer, shop
from tests.stock_data import assert_stock_consistent

M = Decimal
DAY = date(2026, 3, 2)


def balances(session) -> dict:
    return {r["code"]: r["balance"] for r in trial_balance(session)["accounts"]}


def delivered_order(session, lines=None):
    order = services.create_order(session, customer="C001", order_date=DAY, lines=lines or [
        {"sku": "A", "quantity": "30"}, {"sku": "B", "quantity": "4"}])
    services.reserve_order(session, order)
    fulfilment.deliver(session, order, delivery_date=DAY)
    return order


@pytest.fixture
def shop_tx(tx):
    with tx() as session:
        shop(session)
        customer(session, terms=45)
    return tx


def test_an_invoice_posts_receivable_revenue_and_output_vat_due_after_the_terms(shop_tx):
    with shop_tx() as session:
        order = delivered_order(session)
        invoice = fulfilment.invoice_order(session, order, issue_date=DAY)
        assert invoice.number == "INV-2026-00001" and invoice.due_date == date(2026, 4, 16)
        assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (M("522.00"), M("58.98"), M("580.98"))
        entry = session.get(JournalEntry, invoice.journal_entry_id)
        assert [(x.account.code, x.debit, x.credit, x.partner_code, x.due_date) for x in entry.lines] == [
            ("1122", M("580.98"), M("0.00"), "C001", date(2026, 4, 16)),
            ("5001", M("0.00"), M("522.00"), None, None), ("222102", M("0.00"), M("58.98"), None, None)]
        assert order.status == "invoiced" and payments.invoice_status(session, invoice.number) == "open"
        with pytest.raises(InvalidInput):
            fulfilment.invoice_order(session, order)


def test_only_delivered_quantities_are_invoiced(shop_tx):
    with shop_tx() as session:
        order = services.create_order(session, customer="C001", lines=[{"sku": "A", "quantity": "30"}])
        services.reserve_order(session, order)
        fulfilment.deliver(session, order, [{"sku": "A", "quantity": "10"}])
        first = fulfilment.invoice_order(session, order, kind="ordinary")
        assert first.gross_total == M("113.00") and order.status == "partially_delivered"
        fulfilment.deliver(session, order)
        second = fulfilment.invoice_order(session, order)
        assert second.gross_total == M("226.00") and order.status == "invoiced"


def test_partial_then_over_payment_leaves_an_unapplied_credit(shop_tx):
    with shop_tx() as session:
        invoice = fulfilment.invoice_order(session, delivered_order(session), issue_date=DAY)
        first = payments.record_payment(session, invoice.number, "300.00", received_on=date(2026, 3, 20))
        assert first.applied == M("300.00") and invoice.status == "partially_paid"
        second = payments.record_payment(session, invoice.number, "300.00", received_on=date(2026, 3, 25))
        assert (second.applied, second.unapplied) == (M("280.98"), M("19.02"))
        assert payments.invoice_status(session, invoice.number) == "paid"
        assert balances(session)["1122"] == M("-19.02") and balances(session)["1002"] == M("600.00")
        assert ar_aging(session, date(2026, 4, 1))["partners"][0]["unapplied"] == M("19.02")
        with pytest.raises(InvalidInput):
            payments.record_payment(session, invoice.number, "0")


def test_a_partial_credit_note_with_goods_returned_reverses_revenue_vat_and_cost(shop_tx):
    with shop_tx() as session:
        order = delivered_order(session)
        invoice = fulfilment.invoice_order(session, order, issue_date=DAY)
        before = balances(session)
        note = fulfilment.credit_note(session, invoice.number, [{"sku": "A", "quantity": "5"}], return_to_stock=True,
                                      warehouse="BJ-01", issue_date=date(2026, 3, 5), reason="质量问题")
        assert (note.net_total, note.vat_total, note.gross_total, note.return_cost) == (
            M("50.00"), M("6.50"), M("56.50"), M("30.00"))
        after = balances(session)
        assert after["1122"] == before["1122"] - M("56.50") and after["5001"] == before["5001"] - M("50.00")
        assert after["222102"] == before["222102"] - M("6.50") and after["5401"] == before["5401"] - M("30.00")
        assert available(session, "A") == M("75")
        rest = fulfilment.credit_note(session, invoice, issue_date=date(2026, 3, 6))
        assert note.gross_total + rest.gross_total == invoice.gross_total and invoice.status == "paid"
        assert balances(session)["1122"] == M("0.00")
        with pytest.raises(InvalidInput):
            fulfilment.credit_note(session, invoice)
        assert [n["number"] for n in order_detail(session, order)["credit_notes"]] == [note.number, rest.number]
        assert_stock_consistent(session)


def test_the_credit_exposure_adds_open_receivables_and_open_orders(shop_tx):
    with shop_tx() as session:
        invoice = fulfilment.invoice_order(session, delivered_order(session), issue_date=DAY)
        payments.record_payment(session, invoice.number, "80.98", received_on=DAY)
        services.create_order(session, customer="C001", lines=[{"sku": "S", "quantity": "2"}])  # 424.00 gross
        exposure = credit_exposure(session, "C001", as_of=date(2026, 5, 1))
        assert exposure["open_receivable"] == M("500.00") and exposure["open_orders"] == M("424.00")
        assert exposure["exposure"] == M("924.00") and exposure["overdue"] == M("500.00")
        assert exposure["within_limit"] and exposure["available"] == M("99076.00")


def test_overdue_invoices_for_dunning_at_7_15_and_30_days(shop_tx):
    with shop_tx() as session:
        invoice = fulfilment.invoice_order(session, delivered_order(session), issue_date=DAY)  # due 16 April
        assert overdue_invoices(session, date(2026, 4, 16)) == []
        assert [r["days_overdue"] for r in overdue_invoices(session, date(2026, 4, 23), 7)] == [7]
        assert overdue_invoices(session, date(2026, 4, 23), 15) == []
        assert len(overdue_invoices(session, date(2026, 5, 16), 30)) == 1
        payments.record_payment(session, invoice.number, invoice.gross_total)
        assert overdue_invoices(session, date(2026, 5, 16), 30) == [] and open_invoices(session) == []


def test_the_operators_run_order_to_cash(shop_tx):
    registry = build_registry()
    with shop_tx() as session:
        customer(session, code="C002", name_zh="上海东方贸易有限公司", credit_limit="500.00")
        quotation = services.create_quotation(session, customer="C002", lines=[{"sku": "A", "quantity": "50"}])
        services.set_quotation_status(session, quotation, "sent")
        ctx = OperatorContext(session, 1, quotation.number, "task", {}, "wang")
        call = lambda name, **kw: registry.get(name)(ctx, **kw)  # noqa: E731
        order = call("sales.create_order", quotation=quotation.number)["order"]
        credit = call("sales.check_credit", order=order)
        assert credit["exposure"] == "565.00" and credit["limit"] == "500.00" and credit["passed"] is False
        assert call("sales.reserve_order", order=order)["backordered"] is False
        assert call("sales.deliver", order=order, lines=[{"sku": "A", "quantity": "20"}])["fully_delivered"] is False
        assert call("sales.deliver", order=order)["status"] == "delivered"
        billed = call("sales.invoice_order", order=order)
        assert billed["gross_total"] == "565.00" and billed["status"] == "invoiced"
        assert call("sales.close_order", order=order) == {"order": order, "status": "closed"}
        assert tasks.check_credit(ctx, customer="C002")["open_orders"] == "0.00"
