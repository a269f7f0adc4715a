"""After a realistic month of buying, the books balance, goods received not invoiced (2241) is back to 0
for what was fully invoiced, the payable per supplier equals its open invoices, and hledger agrees."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from erp.finance.export import journal_text
from erp.finance.models import Account, JournalLine
from erp.finance.queries import trial_balance
from erp.purchasing import invoicing, matching, payments, queries, receiving
from erp.purchasing.models import SupplierInvoice
from tests.integration.test_finance_reports import _hledger, hledger_balances
from tests.purchasing_data import goods, order, supplier

M = Decimal


def a_month_of_buying(session) -> None:
    goods(session)
    supplier(session)
    supplier(session, "S-000002", name_zh="天津标准件厂", email="sales@tjbz.cn", terms=60)
    first = order(session, [{"sku": "A", "quantity": "1000", "estimated_unit_price": "0.37"},
                            {"sku": "B", "quantity": "30", "estimated_unit_price": "12.35"}],
                  order_date=date(2026, 3, 2))
    receiving.receive(session, first, [{"sku": "A", "quantity": "333", "rejected": "7"}],
                      received_on=date(2026, 3, 5))
    receiving.receive(session, first, [{"sku": "A", "quantity": "667"}, {"sku": "B", "quantity": "30"}],
                      received_on=date(2026, 3, 9))
    bill = invoicing.record_supplier_invoice(session, first, supplier_number="04470001", issue_date=date(2026, 3, 10),
                                             lines=[{"sku": "A", "quantity": "1000", "unit_price": "0.37"},
                                                    {"sku": "B", "quantity": "30", "unit_price": "12.60"}])
    matching.three_way_match(session, bill)  # B is 2 % over: accepted
    invoicing.resolve_exception(session, bill, "accept")
    invoicing.approve_for_payment(session, bill)
    payments.pay_supplier(session, bill, "200.00", paid_on=date(2026, 3, 20))
    payments.pay_supplier(session, bill, paid_on=date(2026, 3, 25))
    second = order(session, [{"sku": "A", "quantity": "50", "estimated_unit_price": "0.40"}],
                   supplier_code="S-000002", order_date=date(2026, 3, 12))
    receiving.receive(session, second, [{"sku": "A", "quantity": "50"}], received_on=date(2026, 3, 16))
    wrong = invoicing.record_supplier_invoice(session, second, supplier_number="T-1", issue_date=date(2026, 3, 17),
                                              lines=[{"sku": "A", "quantity": "50", "unit_price": "0.50"}])
    matching.three_way_match(session, wrong)
    invoicing.resolve_exception(session, wrong, "dispute")
    right = invoicing.record_supplier_invoice(session, second, supplier_number="T-2", issue_date=date(2026, 3, 19),
                                              kind="ordinary",
                                              lines=[{"sku": "A", "quantity": "50", "unit_price": "0.41"}])
    matching.three_way_match(session, right)
    invoicing.record_supplier_credit(session, right, supplier_number="T-2R", net="0.30", issue_date=date(2026, 3, 21))
    third = order(session, [{"sku": "B", "quantity": "10", "estimated_unit_price": "12.00"}],
                  supplier_code="S-000002", order_date=date(2026, 3, 23))
    receiving.receive(session, third, [{"sku": "B", "quantity": "4"}], received_on=date(2026, 3, 30))


def test_the_books_balance_and_hledger_agrees_after_a_month_of_buying(tx, tmp_path):
    hledger = _hledger()
    with tx() as session:
        a_month_of_buying(session)
    with tx(readonly=True) as session:
        journal, tb = journal_text(session), trial_balance(session)
        ap = dict(session.execute(
            select(JournalLine.partner_code, func.sum(JournalLine.credit) - func.sum(JournalLine.debit))
            .join(Account, Account.id == JournalLine.account_id).where(Account.code == "2202")
            .group_by(JournalLine.partner_code)).all())
        open_invoices = {}
        for invoice in session.scalars(select(SupplierInvoice).where(SupplierInvoice.status != "disputed")):
            code = queries.find_supplier(session, invoice.supplier_id).code
            open_invoices[code] = open_invoices.get(code, M("0.00")) + invoice.outstanding
        payable = {x["supplier"]: x["outstanding"] for x in queries.payables(session)}
    ours = {r["code"]: r["debit"] - r["credit"] for r in tb["accounts"]}
    assert tb["balanced"]
    assert ours["2241"] == -M("48.00")  # only the third order's 4 B received and not invoiced
    assert {k: M(str(v)) for k, v in ap.items()} == open_invoices == {"S-000001": M("0.00"), "S-000002": M("22.83")}
    assert payable == {"S-000002": M("22.83")}
    theirs, total = hledger_balances(hledger, journal, tmp_path)
    assert theirs == ours and total == M("0.00")
    assert "supplier S-000002" in journal
