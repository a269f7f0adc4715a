"""After a realistic month of selling, hledger reads the exported journal and agrees with our books, and
the receivable equals invoices − payments − credit notes."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from erp.finance.export import journal_text
from erp.finance.queries import trial_balance
from erp.inventory.services import receive
from erp.sales import fulfilment, payments, services
from erp.sales.queries import credit_exposure
from tests.integration.test_finance_reports import _hledger, hledger_balances
from tests.sales_data import customer, shop

M = Decimal


def a_month_of_sales(session) -> None:
    shop(session, {"A": 100, "B": 10})
    customer(session)
    customer(session, code="C002", name_zh="天津滨海物流有限公司", terms=15)
    q = services.create_quotation(session, customer="C001", quote_date=date(2026, 3, 2), discount_percent="3",
                                  lines=[{"sku": "A", "quantity": "40", "discount_percent": "2.5"},
                                         {"sku": "B", "quantity": "15"}, {"sku": "S", "quantity": "1"}])
    services.set_quotation_status(session, q, "sent")
    services.set_quotation_status(session, q, "accepted")
    first = services.create_order_from_quotation(session, q, order_date=date(2026, 3, 3))
    services.reserve_order(session, first)  # B short by 5, S has no stock: backordered
    fulfilment.deliver(session, first, delivery_date=date(2026, 3, 4))
    fulfilment.invoice_order(session, first, issue_date=date(2026, 3, 5))
    receive(session, "B", "BJ-01", 8, unit_cost="43.37")
    receive(session, "S", "BJ-01", 1, unit_cost="120.00")
    services.reserve_order(session, first)
    fulfilment.deliver(session, first, delivery_date=date(2026, 3, 12))
    later = fulfilment.invoice_order(session, first, issue_date=date(2026, 3, 12), kind="ordinary")
    payments.record_payment(session, "INV-2026-00001", "300.00", received_on=date(2026, 3, 20))
    fulfilment.credit_note(session, later, [{"sku": "B", "quantity": "2"}], return_to_stock=True, warehouse="BJ-01",
                           issue_date=date(2026, 3, 22))
    payments.record_payment(session, later.number, "9999.99", received_on=date(2026, 3, 25))  # over-payment
    second = services.create_order(session, customer="C002", order_date=date(2026, 3, 26),
                                   lines=[{"sku": "A", "quantity": "7", "unit_price": "9.99"}])
    services.reserve_order(session, second)
    fulfilment.deliver(session, second, delivery_date=date(2026, 3, 27))
    fulfilment.invoice_order(session, second, issue_date=date(2026, 3, 27))
    services.close_order(session, first)


def test_hledger_agrees_with_the_books_after_a_month_of_sales(tx, tmp_path):
    hledger = _hledger()
    with tx() as session:
        a_month_of_sales(session)
    with tx(readonly=True) as session:
        journal, tb = journal_text(session), trial_balance(session)
        exposure = credit_exposure(session, "C001")
    ours = {r["code"]: r["debit"] - r["credit"] for r in tb["accounts"]}
    theirs, total = hledger_balances(hledger, journal, tmp_path)
    assert theirs == ours and total == M("0.00") and tb["balanced"]
    assert set(ours) == {"1002", "1122", "1405", "222102", "5001", "5401"}
    assert -ours["5001"] > 0 and ours["1405"] < 0  # receipts come from purchasing, which posts nothing here
    assert exposure["open_receivable"] < 0  # C001 over-paid: an unapplied credit
    assert "sales_invoice/INV-2026-00001" in journal and "customer C002" in journal
