"""A bank statement (CSV, UTF-8 with BOM or GB18030) pays the invoices its memos name; the rest is reported."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import InvalidInput
from erp.finance.queries import trial_balance
from erp.sales import fulfilment, services
from erp.sales.models import Payment
from erp.sales.payments import import_bank_statement, invoice_status
from tests.sales_data import customer, shop

M = Decimal


@pytest.fixture
def invoiced(tx):
    """Two invoices, INV-2026-00001 (113.00) and INV-2026-00002 (226.00)."""
    with tx() as session:
        shop(session)
        customer(session)
        for qty in ("10", "20"):
            order = services.create_order(session, customer="C001", lines=[{"sku": "A", "quantity": qty}])
            services.reserve_order(session, order)
            fulfilment.deliver(session, order)
            fulfilment.invoice_order(session, order, issue_date=date(2026, 3, 2))
    return tx


STATEMENT = (
    "交易日期,金额,付款人,摘要\n"
    "2026-03-10,113.00,北京华联商贸有限公司,货款 INV-2026-00001\n"
    "2026/03/11,\"1,00.00\",北京华联商贸有限公司,inv-2026-00002 部分付款\n"
    "2026-03-12,500.00,某某公司,货款\n"
    "2026-03-12,-20.00,银行,手续费 INV-2026-00001\n"
    "20260313,50.00,北京华联商贸有限公司,INV-2026-00099\n"
    "\n"
)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_matched_rows_record_payments_and_the_rest_is_reported(invoiced, encoding):
    with invoiced() as session:
        result = import_bank_statement(session, STATEMENT.encode(encoding), by="cashier")
        assert [(m["row"], m["invoice"], m["amount"], m["status"]) for m in result["matched"]] == [
            (2, "INV-2026-00001", M("113.00"), "paid"), (3, "INV-2026-00002", M("100.00"), "partially_paid")]
        assert [(u["row"], u["reason"]) for u in result["unmatched"]] == [
            (4, "no invoice number in the memo"), (5, "not an incoming payment"),
            (6, "no invoice INV-2026-00099")]
        assert invoice_status(session, "INV-2026-00002") == "partially_paid"
        assert {r["code"]: r["balance"] for r in trial_balance(session)["accounts"]}["1002"] == M("213.00")


def test_english_headers_and_a_plain_utf8_file(invoiced):
    text = "Date,Amount,Payer,Memo\n2026-03-10,226.00,Hualian,payment for INV-2026-00002\n"
    with invoiced() as session:
        result = import_bank_statement(session, text.encode("utf-8"))
        assert [m["status"] for m in result["matched"]] == ["paid"] and result["unmatched"] == []


def test_a_statement_without_the_needed_columns_is_refused(invoiced):
    with invoiced() as session, pytest.raises(InvalidInput) as refused:
        import_bank_statement(session, "日期,付款人\n2026-03-10,某\n".encode("gb18030"))
    assert "amount" in str(refused.value) and "memo" in str(refused.value)


def test_a_long_payer_and_memo_are_cut_to_fit_and_the_row_still_matches(invoiced):
    memo = "货款 INV-2026-00001 " + "备注" * 400
    data = f"交易日期,金额,付款人,摘要\n2026-03-20,10.00,{'北京' * 150},{memo}\n".encode()
    with invoiced() as session:
        result = import_bank_statement(session, data)
        assert len(result["matched"]) == 1
        payment = session.scalars(select(Payment)).one()
        assert len(payment.payer) == 200 and len(payment.memo) == 500
