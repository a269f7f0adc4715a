"""Purchase orders through receipts, supplier invoices with the three-way match and its resolutions, and
payments until the order closes."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as M

import pytest
from sqlalchemy import select

from core.errors import InvalidInput
from erp.finance.models import JournalEntry
from erp.inventory.queries import stock
from erp.purchasing import invoicing, matching, payments, receiving
from erp.purchasing.models import SupplierInvoice
from notifications.models import OutboxMessage
from tests.purchasing_data import goods, order, supplier
from tests.stock_data import snapshot

A10 = [{"sku": "A", "quantity": "10", "unit_price": "10.00"}]


def an_order(session, **kwargs):
    goods(session)
    supplier(session)
    return order(session, [{"sku": "A", "quantity": "10", "estimated_unit_price": "10.00"},
                           {"sku": "B", "quantity": "4", "estimated_unit_price": "25.00"}], **kwargs)


def test_partial_receipts_then_the_rest_rejected_goods_stay_out_of_stock(tx):
    with tx() as session:
        po = an_order(session)
        assert (po.number[:3], po.gross_total) == ("PO-", M("113.00") + M("109.00"))
        first = receiving.receive(session, po, [{"sku": "A", "quantity": "6", "rejected": "1"}])
        assert (po.status, first.value) == ("partially_received", M("60.00"))
        before = snapshot(session)
        with pytest.raises(InvalidInput, match="only 4.000 outstanding"):
            receiving.receive(session, po, [{"sku": "A", "quantity": "5"}])
        with pytest.raises(InvalidInput):
            receiving.receive(session, po, [{"sku": "C", "quantity": "1"}])
        assert snapshot(session) == before
        status = receiving.receipt_status(session, po)
        assert status["outstanding_lines"] == [{"sku": "A", "quantity": M(4)}, {"sku": "B", "quantity": M(4)}]
        receiving.receive(session, po, [{"sku": "A", "quantity": "4"}, {"sku": "B", "quantity": "4"}])
        assert po.status == "received" and receiving.receipt_status(session, po)["fully_received"]
        assert {(r.sku, r.on_hand, r.average_cost) for r in stock(session)} == {("A", M(10), M(10)),
                                                                                 ("B", M(4), M(25))}


def test_chasing_a_late_supplier_mails_it_copies_the_buyer_and_escalates_from_level_two(tx):
    with tx() as session:
        po = an_order(session, expected_date=date(2026, 3, 9), buyer=None)
        assert receiving.receipt_status(session, po, 0)["next_chase_at"] == "2026-03-10T09:00:00+08:00"
        assert receiving.receipt_status(session, po, 2)["next_chase_at"] == "2026-03-16T09:00:00+08:00"
        first = receiving.chase_supplier(session, po, 1)
        assert first["sent_to"] == ["sales@jinggong.cn"]
        po.buyer = "wangfang"
        from erp.identity.services import ensure_user
        ensure_user(session, "wangfang", "王芳", email="wangfang@example.cn")
        second = receiving.chase_supplier(session, po, 2)
        assert second["sent_to"] == ["sales@jinggong.cn", "wangfang", "wangfang"]
        assert receiving.chase_supplier(session, po, 2)["sent_to"] == []  # written once
        kinds = session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
        assert kinds == ["purchase_delivery_reminder"] * 3 + ["purchase_delivery_escalation"]


def received(session, **kwargs):
    po = an_order(session, **kwargs)
    receiving.receive(session, po, [{"sku": "A", "quantity": "10"}, {"sku": "B", "quantity": "4"}])
    return po


@pytest.mark.parametrize("price, ok", [("10.00", True), ("10.10", True), ("10.50", False)])
def test_the_match_allows_a_price_within_the_tolerance(tx, price, ok):
    with tx() as session:
        po = received(session)
        bill = invoicing.record_supplier_invoice(session, po, supplier_number="0001",
                                                 lines=[{"sku": "A", "quantity": "10", "unit_price": price}])
        result = matching.three_way_match(session, bill, price_tolerance_percent=M("2"))
        assert result["ok"] is ok and bill.status == ("matched" if ok else "exception")
        assert result["lines"][0]["status"] == ("ok" if ok else "price_mismatch")
        assert result["price_difference"] == M(price) * 10 - M("100.00")
        assert bill.match["lines"][0]["po_price"] == "10.00"


def test_more_invoiced_than_received_is_a_quantity_mismatch(tx):
    with tx() as session:
        po = an_order(session)
        receiving.receive(session, po, [{"sku": "A", "quantity": "6"}])
        bill = invoicing.record_supplier_invoice(session, po, supplier_number="0001", lines=A10)
        result = matching.three_way_match(session, bill)
        assert [x["status"] for x in result["lines"]] == ["quantity_mismatch"]
        assert result["lines"][0]["quantity_diff"] == M(4)
        bill_b = invoicing.record_supplier_invoice(session, po, supplier_number="0002",
                                                   lines=[{"sku": "B", "quantity": "4", "unit_price": "25"}])
        assert matching.three_way_match(session, bill_b)["lines"][0]["status"] == "not_received"


def test_a_supplier_number_is_recorded_once_and_lines_must_be_on_the_order(tx):
    with tx() as session:
        po = received(session)
        invoicing.record_supplier_invoice(session, po, supplier_number="0001",
                                          lines=[{"sku": "A", "quantity": "5", "unit_price": "10"}])
        with pytest.raises(InvalidInput, match="already recorded"):
            invoicing.record_supplier_invoice(session, po, supplier_number="0001",
                                              lines=[{"sku": "A", "quantity": "5", "unit_price": "10"}])
        with pytest.raises(InvalidInput, match="not on"):
            invoicing.record_supplier_invoice(session, po, supplier_number="0002",
                                              lines=[{"sku": "Z", "quantity": "5", "unit_price": "10"}])


def test_an_accepted_exception_is_approved_and_paid_in_two_parts_and_the_order_closes(tx):
    with tx() as session:
        po = received(session)
        bill = invoicing.record_supplier_invoice(session, po, supplier_number="0001", issue_date=date(2026, 3, 5),
                                                 lines=[{"sku": "A", "quantity": "10", "unit_price": "10.50"},
                                                        {"sku": "B", "quantity": "4", "unit_price": "25"}])
        assert bill.due_date == date(2026, 4, 4)
        matching.three_way_match(session, bill)
        with pytest.raises(InvalidInput):
            payments.pay_supplier(session, bill)
        invoicing.resolve_exception(session, bill, "accept", note="涨价已确认")
        invoicing.approve_for_payment(session, bill)
        payments.pay_supplier(session, bill, "100.00", paid_on=date(2026, 3, 20))
        assert (bill.status, bill.outstanding, po.status) == ("partially_paid", bill.gross_total - 100, "received")
        with pytest.raises(InvalidInput, match="outstanding"):
            payments.pay_supplier(session, bill, "9999.00")
        payments.pay_supplier(session, bill, paid_on=date(2026, 4, 1), reference="BANK-77")
        assert (bill.status, bill.outstanding, po.status) == ("paid", M("0.00"), "closed")


def test_a_disputed_invoice_is_reversed_and_a_corrected_one_recorded(tx):
    with tx() as session:
        po = received(session)
        bill = invoicing.record_supplier_invoice(session, po, supplier_number="0001", lines=[
            {"sku": "A", "quantity": "10", "unit_price": "11.00"}])
        matching.three_way_match(session, bill)
        invoicing.resolve_exception(session, bill, "dispute", note="单价高于订单价")
        entry = session.get(JournalEntry, bill.journal_entry_id)
        assert bill.status == "disputed" and entry.reversed_by is not None
        assert po.lines[0].invoiced == 0
        mail = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "purchase_dispute"))
        assert mail.recipient_email == "sales@jinggong.cn" and "0001" in mail.subject
        corrected = invoicing.record_supplier_invoice(session, po, supplier_number="0002", lines=A10)
        assert matching.three_way_match(session, corrected)["ok"]


def test_a_credit_note_reduces_what_we_owe_and_the_invoice_is_accepted(tx):
    with tx() as session:
        po = received(session)
        bill = invoicing.record_supplier_invoice(session, po, supplier_number="0001", lines=[
            {"sku": "A", "quantity": "10", "unit_price": "10.50"}])
        matching.three_way_match(session, bill)
        invoicing.resolve_exception(session, bill, "credit_note")
        assert bill.status == "exception"
        credit = invoicing.record_supplier_credit(session, bill, supplier_number="R-0001", net="5.00",
                                                  reason="按订单价")
        assert (credit.number[:4], credit.vat, credit.gross) == ("SCN-", M("0.65"), M("5.65"))
        assert (bill.status, bill.outstanding) == ("accepted", M("118.65") - M("5.65"))
        with pytest.raises(InvalidInput):
            invoicing.record_supplier_credit(session, bill, supplier_number="R-0002", net="500")


def test_a_refused_invoice_writes_nothing(tx):
    with tx() as session:
        po = received(session)
        with pytest.raises(InvalidInput):
            invoicing.record_supplier_invoice(session, po, supplier_number="0001", lines=[
                {"sku": "A", "quantity": "11", "unit_price": "10"}])
        assert session.scalar(select(SupplierInvoice.id)) is None and po.lines[0].invoiced == 0
